"""`registry-server health`: asks a running registry, over gRPC's standard health service,
whether it serves. A container's HEALTHCHECK runs it beside the registry, so it reads the
registry's own settings: the address it listens on and, with mutual TLS, the network's CA
and the registry's certificate, whose host name the answer must come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc

from registry_server.config import RegistryConfig

# A registry listening on every interface is asked on the loopback one.
LOOPBACK = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "[::]": "[::1]"}


class HealthCheckError(Exception):
    """The registry could not be asked, or answered that it does not serve; the message says
    which, and what to look at."""


@dataclass(frozen=True)
class ProbeTLS:
    """What the probe needs to be let in by a registry with mutual TLS."""

    credentials: grpc.ChannelCredentials
    server_name: str  # a name in the registry's certificate, checked against its answer

    @classmethod
    def from_settings(cls, settings: RegistryConfig) -> ProbeTLS | None:
        """None for a plaintext registry; raises HealthCheckError when the registry has
        mutual TLS and the probe has no client certificate of its own."""
        if settings.tls_cert is None or settings.client_ca is None:
            return None
        if settings.health_cert is None or settings.health_key is None:
            raise HealthCheckError(
                "the registry has mutual TLS, so the health check needs a client "
                "certificate of the network: set health_cert and health_key "
                "(REGISTRY_HEALTH_CERT, REGISTRY_HEALTH_KEY), e.g. one made by "
                "`deploy/pki.py partner registry-health`"
            )
        try:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=settings.client_ca.read_bytes(),
                private_key=settings.health_key.read_bytes(),
                certificate_chain=settings.health_cert.read_bytes(),
            )
            certificate = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
        except OSError as exc:
            raise HealthCheckError(f"cannot read {exc.filename}: {exc.strerror}") from None
        return cls(credentials, _first_name(certificate))


def _first_name(certificate: x509.Certificate) -> str:
    """The first host name or address the registry's certificate is issued for."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = None
    hosts = (
        [
            *names.get_values_for_type(x509.DNSName),
            *map(str, names.get_values_for_type(x509.IPAddress)),
        ]
        if names
        else []
    )
    if not hosts:
        raise HealthCheckError(
            "the registry's certificate (tls_cert) names no host; issue "
            "it with `deploy/pki.py server --host NAME`"
        )
    return hosts[0]


def local_address(listen: str) -> str:
    """Where a process beside the registry reaches it: its listen address, with every
    interface replaced by loopback."""
    host, _, port = listen.rpartition(":")
    return f"{LOOPBACK.get(host, host)}:{port}"


def check(address: str, tls: ProbeTLS | None, timeout: float) -> None:
    """Returns when the registry at address answers SERVING; raises HealthCheckError
    otherwise."""
    if tls is None:
        channel = grpc.insecure_channel(address)
    else:
        channel = grpc.secure_channel(
            address, tls.credentials, options=[("grpc.ssl_target_name_override", tls.server_name)]
        )
    with channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its stubs' types name no methods
        try:
            answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as error:
            raise HealthCheckError(f"{address}: {error.code().name}: {error.details()}") from None
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        raise HealthCheckError(f"{address} answers {status}")


def probe(settings: RegistryConfig, address: str | None, timeout: float) -> str:
    """Checks the registry these settings describe (at address, if given); returns the
    address it answered SERVING on."""
    where = address or local_address(settings.listen)
    check(where, ProbeTLS.from_settings(settings), timeout)
    return where

"""Who is calling: the role and name in the client certificate's URI SAN, and the
authorisation matrix that says which role may call which RPC.

The interceptor resolves the caller once per call, refuses a certificate the operator
revoked (registry_server/revocation.py) and what the matrix does not allow, and leaves the
caller in a context variable for the servicers (which check ownership: an institution
publishes and reads the checkpoint of itself only).
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import grpc
from cryptography import x509

from registry_server.pki import ROLES, URN_PREFIX, serial_text
from registry_server.revocation import RevokedSerials
from registry_server.rpc import Behaviour, Context, Continuation, Handler

DEVELOPMENT = "development"  # a plaintext server (no TLS): only for a single machine


@dataclass(frozen=True)
class Caller:
    role: str
    name: str

    def __str__(self) -> str:
        return f"{self.role} {self.name}".strip()


@dataclass(frozen=True)
class Ambiguous:
    """A certificate naming more than one role of the network: refused, never resolved to
    whichever comes first."""

    uris: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"the client certificate names {len(self.uris)} roles of this network "
            f"({', '.join(self.uris)}); a certificate must name exactly one: issue one "
            "certificate per role (deploy/pki.py)"
        )


caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("caller")

EVERYONE = frozenset({"institution", "partner", "operator", DEVELOPMENT})
MATRIX: dict[str, frozenset[str]] = {
    "/registry.v1.PublicationService/Publish": frozenset({"institution", DEVELOPMENT}),
    "/registry.v1.PublicationService/GetCheckpoint": frozenset({"institution", DEVELOPMENT}),
    "/registry.v1.PublicationService/PublishStatusList": frozenset({"institution", DEVELOPMENT}),
    "/registry.v1.DirectoryService/": EVERYONE,
    "/registry.v1.EquivalenceService/": EVERYONE,
    "/registry.v1.AuditService/": EVERYONE,
    "/registry.v1.BilateralService/Act": frozenset({"institution", DEVELOPMENT}),
    "/registry.v1.BilateralService/ListBilateralEvents": frozenset({"institution", DEVELOPMENT}),
    "/registry.v1.BilateralService/GetBilateralAgreement": EVERYONE,
    "/registry.v1.AdminService/": frozenset({"operator"}),
    "/grpc.health.v1.Health/": EVERYONE,
    "/grpc.reflection.v1alpha.ServerReflection/": EVERYONE,
}


def allowed_roles(method: str) -> frozenset[str]:
    """Roles allowed to call method; exact entries win over service-wide ones."""
    if method in MATRIX:
        return MATRIX[method]
    service = method[: method.rfind("/") + 1]
    return MATRIX.get(service, frozenset())


def peer_certificate(context: Context) -> bytes | None:
    """The PEM of the client certificate gRPC verified for this call's connection."""
    return next(iter(context.auth_context().get("x509_pem_cert") or ()), None)


def caller_of(context: Context, tls: bool) -> Caller | Ambiguous | None:
    """The caller named by the verified client certificate; None when it names no role,
    Ambiguous when it names more than one."""
    if not tls:
        return Caller(DEVELOPMENT, "")
    pem = peer_certificate(context)
    return None if pem is None else _caller_in(pem)


@lru_cache(maxsize=1024)
def serial_of(pem: bytes) -> int:
    """A verified certificate's serial number, cached by its bytes like _caller_in."""
    return x509.load_pem_x509_certificate(pem).serial_number


@lru_cache(maxsize=1024)
def _caller_in(pem: bytes) -> Caller | Ambiguous | None:
    """The caller a verified certificate names. Cached by the certificate's bytes: parsing it
    cost ~33 µs, on every call of every client; the same bytes always name the same caller
    (gRPC has verified the chain by then; what the caller may do is decided on every call,
    by the matrix and, for a publication, the directory)."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        uris = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        return None
    callers: dict[Caller, str] = {}
    for uri in uris:
        if uri.startswith(URN_PREFIX):
            role, _, name = uri.removeprefix(URN_PREFIX).partition(":")
            if role in ROLES and name:
                callers.setdefault(Caller(role, name), uri)
    if len(callers) > 1:
        return Ambiguous(tuple(callers.values()))
    return next(iter(callers), None)


async def revoked_serial(context: Context, revoked: RevokedSerials) -> int | None:
    """The serial of the call's client certificate if the operator revoked it, else None."""
    pem = peer_certificate(context)
    if pem is None:
        return None
    serial = serial_of(pem)
    return serial if serial in await revoked.current() else None


class AuthorisationInterceptor(grpc.aio.ServerInterceptor):
    """Enforces revocation and MATRIX on every call before the servicer runs. revoked: the
    deny list (a registry with TLS has one)."""

    def __init__(self, tls: bool, revoked: RevokedSerials | None = None) -> None:
        self.tls = tls
        self.revoked = revoked

    async def intercept_service(
        self,
        continuation: Continuation,
        details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(details)
        if handler is None:
            return handler
        method = details.method
        roles = allowed_roles(method)
        tls, revoked = self.tls, self.revoked

        async def admit(context: Context) -> None:
            serial = None if revoked is None else await revoked_serial(context, revoked)
            if serial is not None:
                # UNAUTHENTICATED, not PERMISSION_DENIED: the certificate no longer proves
                # who is calling, whatever it names; the fix is a new certificate, not
                # another role. Agents do not retry it.
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    f"the client certificate (serial {serial_text(serial)}) "
                    "was revoked by the network's operator; ask the operator "
                    "for a new one (deploy/pki.py) and install it in its place",
                )
                return
            who = caller_of(context, tls)
            if who is None:
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "the client certificate names no role of this network; use "
                    "a certificate issued by the network's CA (deploy/pki.py)",
                )
                return
            if isinstance(who, Ambiguous):
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(who))
                return
            if who.role not in roles:
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"{who} may not call {method}; it is for "
                    f"{', '.join(sorted(roles)) or 'nobody'}",
                )
            caller.set(who)

        return _wrap(handler, admit)


async def _stream(result: Any) -> AsyncIterator[Any]:
    """Items of a streaming handler, whether it yields them or writes them with
    context.write (as the health service's Watch does)."""
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
    else:
        await result


def _wrap(handler: Handler, admit: Callable[[Context], Awaitable[None]]) -> Handler:
    """The same handler, with admit() run first in the call's own context."""
    if handler.unary_unary:
        inner_uu = cast(Behaviour, handler.unary_unary)

        async def unary_unary(request: Any, context: Context) -> Any:
            await admit(context)
            return await inner_uu(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        inner_us = cast(Behaviour, handler.unary_stream)

        async def unary_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            await admit(context)
            async for item in _stream(inner_us(request, context)):
                yield item

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_stream:
        inner_ss = cast(Behaviour, handler.stream_stream)

        async def stream_stream(requests: Any, context: Context) -> AsyncIterator[Any]:
            await admit(context)
            async for item in _stream(inner_ss(requests, context)):
                yield item

        return grpc.stream_stream_rpc_method_handler(
            stream_stream, handler.request_deserializer, handler.response_serializer
        )
    inner_su = cast(Behaviour, handler.stream_unary)

    async def stream_unary(requests: Any, context: Context) -> Any:
        await admit(context)
        return await inner_su(requests, context)

    return grpc.stream_unary_rpc_method_handler(
        stream_unary, handler.request_deserializer, handler.response_serializer
    )

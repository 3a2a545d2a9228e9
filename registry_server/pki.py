"""The network's own certificate authority: the CA, the registry's server certificate and a
client certificate for each institution, partner and operator.

Roles travel in the certificate as a URI subject alternative name, read by
registry_server/identity.py:
  urn:credit-registry:institution:<institution id>   publishes its own records
  urn:credit-registry:partner:<name>                  reads equivalences
  urn:credit-registry:operator:<name>                 administers the directory
Run through deploy/pki.py (see docs/operations.md, "Certificates").
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

URN_PREFIX = "urn:credit-registry:"
ROLES = ("institution", "partner", "operator")
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def serial_text(serial: int) -> str:
    """A certificate's serial as `openssl x509 -noout -serial` prints it (without 'serial=');
    `registry-server certificates revoke` reads it back."""
    digits = format(serial, "X")
    return digits.zfill(len(digits) + len(digits) % 2)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create_ca(directory: Path, name: str = "Credit Registry Network CA", days: int = 3650) -> Path:
    """Write ca.pem and ca-key.pem (0600) in directory; refuses to overwrite a CA."""
    if (directory / CA_KEY).exists():
        raise SystemExit(f"{directory / CA_KEY} exists already; a network has one CA")
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(directory / CA_KEY, _key_pem(key), 0o600)
    _write(directory / CA_CERT, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return directory / CA_CERT


def _issue(
    directory: Path,
    stem: str,
    common_name: str,
    sans: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    days: int,
) -> tuple[Path, Path]:
    ca_cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
    ca_key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path, key_path


def issue_server(directory: Path, hosts: list[str], days: int = 825) -> tuple[Path, Path]:
    """registry.pem / registry-key.pem for the given host names and IP addresses."""
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(URN_PREFIX + "registry")]
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    return _issue(directory, "registry", hosts[0], sans, ExtendedKeyUsageOID.SERVER_AUTH, days)


def issue_client(directory: Path, role: str, name: str, days: int = 825) -> tuple[Path, Path]:
    """<role>-<name>.pem / -key.pem carrying urn:credit-registry:<role>:<name>."""
    if role not in ROLES:
        raise SystemExit(f"role '{role}' is not one of {', '.join(ROLES)}")
    uri = f"{URN_PREFIX}{role}:{name}"
    return _issue(
        directory,
        f"{role}-{name}",
        name,
        [x509.UniformResourceIdentifier(uri)],
        ExtendedKeyUsageOID.CLIENT_AUTH,
        days,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pki", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dir", type=Path, required=True, help="where the CA and certificates live"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ca = commands.add_parser("ca", help="create the network's CA")
    ca.add_argument("--name", default="Credit Registry Network CA")
    server = commands.add_parser("server", help="the registry's server certificate")
    server.add_argument(
        "--host",
        action="append",
        required=True,
        help="a DNS name or IP address clients use (repeatable)",
    )
    for role in ROLES:
        client = commands.add_parser(role, help=f"a client certificate for a {role}")
        client.add_argument("name", help="institution id, partner or operator name")
    args = parser.parse_args(argv)
    if args.command == "ca":
        print(create_ca(args.dir, args.name))
        return 0
    if args.command == "server":
        certificate, key = issue_server(args.dir, args.host)
    else:
        certificate, key = issue_client(args.dir, args.command, args.name)
    serial = x509.load_pem_x509_certificate(certificate.read_bytes()).serial_number
    print(certificate, key)
    print(f"serial={serial_text(serial)}")  # keep it: revoking names the certificate by it
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Test certificates: a private CA (as a company's TLS-inspecting proxy has) and server
certificates it signs, made with the ``openssl`` command."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerCertificate:
    """A server's PEM certificate (with the chain) and key, and the PKCS#12 of both."""

    cert: Path
    key: Path
    pkcs12: Path
    password: str


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str = "knit test CA") -> Path:
    """A self-signed CA in ``folder``; returns its certificate (its key sits beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "ca.pem", folder / "ca.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", str(key), "-out", str(cert),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert


def server_certificate(ca: Path, folder: Path, hosts: list[str],
                       password: str = "knit-test") -> ServerCertificate:
    """A certificate signed by ``ca`` for ``hosts`` (names or IP addresses)."""
    folder.mkdir(parents=True, exist_ok=True)
    key, request, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    names = ",".join(f"IP:{h}" if h.replace(".", "").isdigit() else f"DNS:{h}" for h in hosts)
    extensions = folder / "server.ext"
    extensions.write_text(f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={hosts[0]}",
             "-keyout", str(key), "-out", str(request))
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca.with_suffix(".key")),
             "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert))
    pkcs12 = folder / "server.p12"
    _openssl("pkcs12", "-export", "-in", str(cert), "-inkey", str(key), "-certfile", str(ca),
             "-name", "server", "-passout", f"pass:{password}", "-out", str(pkcs12))
    return ServerCertificate(cert, key, pkcs12, password)

"""TLS for a local cluster's web endpoints (``knit cluster up --https``).

A company cluster often serves its REST APIs over HTTPS only (``yarn.http.policy=
HTTPS_ONLY``) with certificates from a private CA. ``--https`` makes the same here: a CA
of the cluster's own (``DIR/tls/ca.pem``, the one file to give clients), a server
certificate it signs for every daemon's address, Hadoop's ``ssl-server.xml`` (the
keystore, private to the owner) and ``ssl-client.xml`` (the truststore). Everything is
made with the JDK's ``keytool``, so no other tool is needed.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ClusterError
from ..java import java_executable

FOLDER = "tls"
#: The CA's certificate in FOLDER (PEM): the one file clients are given.
CA_FILE = "ca.pem"
VALID_DAYS = "3650"


@dataclass(frozen=True)
class ClusterTls:
    """The cluster's CA and stores (all in ``folder``)."""

    folder: Path
    password: str

    @property
    def ca_pem(self) -> Path:
        """The CA certificate, PEM: what clients are told to trust."""
        return self.folder / CA_FILE

    @property
    def keystore(self) -> Path:
        return self.folder / "server.p12"

    @property
    def truststore(self) -> Path:
        return self.folder / "truststore.p12"

    def ssl_server(self) -> dict[str, str]:
        """``ssl-server.xml``: the daemons' certificate and key."""
        return {
            "ssl.server.keystore.type": "pkcs12",
            "ssl.server.keystore.location": str(self.keystore),
            "ssl.server.keystore.password": self.password,
            "ssl.server.keystore.keypassword": self.password,
            "ssl.server.truststore.type": "pkcs12",
            "ssl.server.truststore.location": str(self.truststore),
            "ssl.server.truststore.password": self.password,
        }

    def ssl_client(self) -> dict[str, str]:
        """``ssl-client.xml``: whom Hadoop's own HTTPS clients trust (the cluster's CA)."""
        return {
            "ssl.client.truststore.type": "pkcs12",
            "ssl.client.truststore.location": str(self.truststore),
            "ssl.client.truststore.password": self.password,
        }


def create(folder: Path, hosts: list[str]) -> ClusterTls:
    """A new CA and a server certificate for ``hosts`` (IP addresses or names)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # ca.pem is for everyone; the keystore is the owner's alone
    for old in folder.iterdir():
        old.unlink()
    tls = ClusterTls(folder, secrets.token_hex(16))
    ca_store, request, signed = folder / "ca.p12", folder / "server.csr", folder / "server.pem"
    names = ",".join(dict.fromkeys(
        f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}" for host in hosts))
    _keytool(tls, "-genkeypair", "-alias", "ca", "-dname", "CN=knit local cluster CA",
             "-keyalg", "RSA", "-keysize", "2048", "-ext", "bc:c", "-keystore", ca_store)
    _keytool(tls, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca_store,
             "-file", tls.ca_pem)
    _keytool(tls, "-genkeypair", "-alias", "server", "-dname", f"CN={hosts[0]}",
             "-keyalg", "RSA", "-keysize", "2048", "-keystore", tls.keystore)
    _keytool(tls, "-certreq", "-alias", "server", "-keystore", tls.keystore, "-file", request)
    _keytool(tls, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca_store, "-infile", request,
             "-outfile", signed, "-ext", f"SAN={names}", "-ext", "eku=serverAuth")
    _keytool(tls, "-importcert", "-noprompt", "-alias", "ca", "-file", tls.ca_pem,
             "-keystore", tls.keystore)
    _keytool(tls, "-importcert", "-alias", "server", "-file", signed, "-keystore", tls.keystore)
    _keytool(tls, "-importcert", "-noprompt", "-alias", "ca", "-file", tls.ca_pem,
             "-keystore", tls.truststore)
    for made in (ca_store, request, signed):
        made.unlink()
    tls.keystore.chmod(0o600)
    tls.ca_pem.chmod(0o644)
    tls.truststore.chmod(0o644)
    return tls


def _keytool(tls: ClusterTls, *args) -> None:
    keytool = Path(java_executable()).with_name("keytool")
    verb = args[0]
    command = [str(keytool), "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC",
               *map(str, args), "-storetype", "PKCS12", "-storepass", tls.password]
    if verb in ("-genkeypair", "-gencert"):  # the verbs that make a certificate
        command += ["-validity", VALID_DAYS]
    if verb == "-genkeypair":
        command += ["-keypass", tls.password]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    except subprocess.CalledProcessError as exc:
        raise ClusterError(f"keytool {verb} failed making the cluster's TLS certificates: "
                           f"{(exc.stderr or exc.stdout).strip()[:300]}") from exc

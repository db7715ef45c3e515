"""A private MIT Kerberos realm for the secure local cluster.

Everything lives under ``DIR/kerberos``: ``krb5.conf`` and ``kdc.conf`` (the
machine's ``/etc/krb5.conf`` is never read or written: tools and JVMs find the
realm through ``KRB5_CONFIG``), the KDC database, one keytab per service and one
for each user, and the user's ticket cache. The KDC (Debian's ``krb5kdc``)
listens on the master address at a free port.

Principals follow a real cluster's conventions on one machine:

- RPC services share one literal host part, ``localhost`` (``nn/localhost``,
  ``dn/localhost``, ``rm/localhost``, ``nm/localhost``), so every NodeManager
  authenticates as the one principal the ResourceManager expects.
- Web endpoints have ``HTTP/ADDRESS`` principals, one per address a daemon binds
  (``HTTP/127.0.0.1``, ``HTTP/127.0.0.10``, ...) and ``HTTP/localhost``: a browser or
  SPNEGO client asks for a ticket to the host it connects to, so each node has its own.
- Users are ``NAME@REALM``; ``auth_to_local`` maps the service principals to the
  cluster's owner (the HDFS superuser and YARN administrator) and users to NAME.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..exceptions import ClusterError, ToolNotFoundError

#: The realm of every local secure cluster.
REALM = "KNIT.LOCAL"
#: The host part of the RPC service principals.
SERVICE_HOST = "localhost"
#: Short names of the RPC services, each with a keytab ``DIR/kerberos/NAME.keytab``.
SERVICES = ("nn", "dn", "rm", "nm")

_TOOLS = {"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server",
          "kinit": "krb5-user"}


def find_tool(name: str) -> str:
    """Path of an MIT Kerberos tool (also looked up in /usr/sbin, off a user's PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise ToolNotFoundError(
            f"`{name}` not found: a secure local cluster needs MIT Kerberos "
            f"(Debian/Ubuntu: `apt-get install {' '.join(sorted(set(_TOOLS.values())))}`)")
    return found


@dataclass(frozen=True)
class Realm:
    """The Kerberos files of one secure local cluster.

    Parameters
    ----------
    folder : Path
        ``DIR/kerberos``.
    host : str
        Address the KDC listens on (the cluster's master).
    port : int
        Its port (UDP and TCP).
    """

    folder: Path
    host: str
    port: int

    @property
    def krb5_conf(self) -> Path:
        return self.folder / "krb5.conf"

    @property
    def kdc_conf(self) -> Path:
        return self.folder / "kdc.conf"

    @property
    def pid_file(self) -> Path:
        return self.folder / "krb5kdc.pid"

    @property
    def http_keytab(self) -> Path:
        return self.keytab("HTTP")

    def keytab(self, name: str) -> Path:
        """``DIR/kerberos/NAME.keytab`` of a service (``nn``, ``HTTP``) or user."""
        return self.folder / f"{name}.keytab"

    def ccache(self, user: str) -> str:
        """The ticket cache the cluster fills for ``user`` at start-up."""
        return f"FILE:{self.folder / f'{user}.ccache'}"

    @staticmethod
    def service_principal(service: str) -> str:
        return f"{service}/{SERVICE_HOST}@{REALM}"

    @staticmethod
    def user_principal(user: str) -> str:
        return f"{user}@{REALM}"

    def environment(self) -> dict[str, str]:
        """What MIT tools need to find this realm (and, for the KDC, its database)."""
        return {"KRB5_CONFIG": str(self.krb5_conf), "KRB5_KDC_PROFILE": str(self.kdc_conf)}

    # ------------------------------------------------------------- creation
    def create(self, http_hosts: list[str], users: list[str]) -> None:
        """Write the configuration, create the database, every principal and keytab.

        An existing realm in ``folder`` is replaced (a cluster starts afresh).
        """
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, mode=0o755)
        self.krb5_conf.write_text(self._krb5_conf())
        self.kdc_conf.write_text(self._kdc_conf())
        (self.folder / "kadm5.acl").write_text("")
        self._run(find_tool("kdb5_util"), "create", "-s", "-r", REALM, "-P", secrets.token_hex(16))
        for service in SERVICES:
            self._add_keytab(self.keytab(service), [self.service_principal(service)])
        self._add_keytab(self.http_keytab, [f"HTTP/{host}@{REALM}" for host in http_hosts])
        for user in users:
            self.add_user(user)

    def add_user(self, user: str) -> Path:
        """Create principal ``user@REALM`` and its keytab (mode 600); returns the keytab."""
        keytab = self.keytab(user)
        self._add_keytab(keytab, [self.user_principal(user)])
        return keytab

    def _add_keytab(self, keytab: Path, principals: list[str]) -> None:
        for principal in principals:
            self.kadmin(f"addprinc -randkey {principal}")
            # -norandkey: exporting must not change the key (that would void other keytabs).
            self.kadmin(f"ktadd -norandkey -k {keytab} {principal}")
        keytab.chmod(0o600)

    def kadmin(self, query: str) -> str:
        """Run one ``kadmin.local`` query on the realm's database (e.g. ``delprinc -force
        bob``, ``cpw -randkey bob``); returns its output."""
        return self._run(find_tool("kadmin.local"), "-q", query)

    def _run(self, *command: str) -> str:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                                env={**os.environ, **self.environment()})
        # kadmin.local reports some failures on stderr with exit status 0.
        failed = result.returncode != 0 or "error" in result.stderr.lower()
        if failed:
            raise ClusterError(f"`{' '.join(command[:3])}` failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    def kinit(self, user: str, cache: str | None = None, lifetime: str | None = None) -> str:
        """Fill a ticket cache (default: ``user``'s) from the user's keytab, with tickets
        for ``lifetime`` (kinit's ``-l``, e.g. ``5s``); returns the cache name."""
        cache = cache or self.ccache(user)
        command = [find_tool("kinit"), "-kt", str(self.keytab(user)), "-c", cache]
        command += ["-l", lifetime] if lifetime else []
        self._run(*command, self.user_principal(user))
        return cache

    def kdc_command(self) -> list[str]:
        """The KDC in the foreground (a daemon of the cluster like the JVMs)."""
        return [find_tool("krb5kdc"), "-n", "-P", str(self.pid_file)]

    # ---------------------------------------------------------------- files
    def _krb5_conf(self) -> str:
        return f"""\
# The realm of the knit secure local cluster in {self.folder.parent}.
[libdefaults]
  default_realm = {REALM}
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  forwardable = true
  ticket_lifetime = 24h
  renew_lifetime = 7d

[realms]
  {REALM} = {{
    kdc = {self.host}:{self.port}
  }}

[domain_realm]
  localhost = {REALM}
"""

    def _kdc_conf(self) -> str:
        return f"""\
[kdcdefaults]
  kdc_listen = {self.host}:{self.port}
  kdc_tcp_listen = {self.host}:{self.port}

[realms]
  {REALM} = {{
    database_name = {self.folder / 'principal'}
    key_stash_file = {self.folder / 'stash'}
    acl_file = {self.folder / 'kadm5.acl'}
    max_life = 24h
    max_renewable_life = 7d
  }}

[logging]
  kdc = FILE:{self.folder.parent / 'logs' / 'kdc.log'}
"""


def auth_to_local(owner: str) -> str:
    """Rules mapping the service principals to ``owner`` and ``NAME@REALM`` to NAME."""
    realm = REALM.replace(".", "[.]")  # a rule's pattern may not hold "(" or "|" groups
    rules = [f"RULE:[2:$1@$0]({service}@{realm})s/.*/{owner}/" for service in (*SERVICES, "HTTP")]
    return "\n".join([*rules, "DEFAULT"])


@contextmanager
def realm_environment(realm: Realm | None) -> Iterator[None]:
    """Let MIT Kerberos in this process find ``realm`` (``KRB5_CONFIG``) for a while.

    libkrb5 reads the variable whenever it starts a context, so SPNEGO calls made
    inside see the cluster's realm; the variable is restored afterwards.
    """
    if realm is None:
        yield
        return
    saved = os.environ.get("KRB5_CONFIG")
    os.environ["KRB5_CONFIG"] = str(realm.krb5_conf)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("KRB5_CONFIG", None)
        else:
            os.environ["KRB5_CONFIG"] = saved

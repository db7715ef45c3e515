"""Kerberos on the client: whose credentials knit uses, checked before anything is
submitted, and SPNEGO for the web APIs.

knit authenticates as one of:

- the ticket cache (``kinit PRINCIPAL`` beforehand; ``KRB5CCNAME`` picks the cache);
- a ``principal`` and ``keytab``: knit logs in from the keytab itself, in the client
  JVM and for SPNEGO, and ships the keytab (mode 600 in HDFS) to the
  ApplicationMaster so a long-running application can fetch new delegation tokens.

``KRB5_CONFIG`` names the realm's configuration for MIT tools, and knit's JVMs read
it too (the JVM by itself only reads ``/etc/krb5.conf``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .exceptions import KerberosError

#: Where a user's keytab-derived tickets live in this process (never a file).
_MEMORY_CACHE = "MEMORY:knit-{0}"


@dataclass(frozen=True)
class Credentials:
    """Who knit acts as on a Kerberized cluster.

    Parameters
    ----------
    principal : str, optional
        ``user@REALM``; with ``keytab``, knit logs in from the keytab. Without a
        keytab, it names the principal whose ticket the cache must hold.
    keytab : str, optional
        Path of the principal's keytab.
    """

    principal: str | None = None
    keytab: str | None = None

    def __post_init__(self):
        if self.keytab is not None and not self.principal:
            raise KerberosError("keytab= needs principal= (the principal the keytab holds)")
        if self.keytab is not None:
            path = Path(self.keytab).expanduser()
            if not path.is_file():
                raise KerberosError(f"keytab {self.keytab} does not exist: give the path of "
                                    f"{self.principal}'s keytab (`ktutil` or your admin makes one)")
            if not os.access(path, os.R_OK):
                raise KerberosError(f"keytab {self.keytab} is not readable by this user")
            object.__setattr__(self, "keytab", str(path.resolve()))

    @property
    def uses_keytab(self) -> bool:
        return self.keytab is not None

    def gateway_key(self) -> tuple:
        """What makes a client JVM's Kerberos login differ (one JVM per login)."""
        return ("kerberos", self.principal, self.keytab, os.environ.get("KRB5_CONFIG"),
                os.environ.get("KRB5CCNAME"))

    def gss_credentials(self):
        """``gssapi.Credentials`` of this login: from the keytab, or the ticket cache.

        Raises
        ------
        KerberosError
            No valid ticket (none, or expired), an unknown principal or a bad keytab,
            or python-gssapi is not installed; the message says what to do.
        """
        gssapi = import_gssapi()
        try:
            if self.uses_keytab:
                name = gssapi.Name(self.principal, gssapi.NameType.kerberos_principal)
                store = {"client_keytab": self.keytab,
                         "ccache": _MEMORY_CACHE.format(abs(hash(self.gateway_key())))}
                creds = gssapi.Credentials(name=name, usage="initiate", store=store)
                _prove(gssapi, creds)  # asks the KDC: a wrong keytab fails here, not later
                return creds
            creds = gssapi.Credentials(usage="initiate")
            remaining = creds.lifetime
        except gssapi.exceptions.GSSError as exc:
            raise KerberosError(self.explain(exc)) from None
        if remaining is not None and remaining <= 0:
            raise KerberosError(self.no_ticket("the ticket has expired"))
        self.check_holder(str(creds.name))
        return creds

    def check_holder(self, holder: str) -> None:
        """Raise :class:`KerberosError` unless a ticket cache holding ``holder``'s
        ticket serves this login (it does when no principal was asked for)."""
        if self.principal and not self.uses_keytab and holder != self.principal:
            raise KerberosError(f"the ticket cache holds {holder}, not {self.principal}: run "
                                f"`kinit {self.principal}` or pass keytab=")

    def no_ticket(self, why: str) -> str:
        """The message for a missing or unusable ticket, with the fix."""
        who = self.principal or "PRINCIPAL"
        cache = os.environ.get("KRB5CCNAME", "the default ticket cache")
        return (f"no Kerberos ticket for {self.principal or 'this user'} ({why}; looked in "
                f"{cache}): run `kinit {who}` or pass principal= and keytab=")

    def explain(self, exc: Exception | str) -> str:
        """One line saying what a login failure means for this login, with the fix."""
        text = str(exc)
        lowered = text.lower()
        if self.uses_keytab:
            if "not found in kerberos database" in lowered or "client not found" in lowered:
                return f"the KDC does not know principal {self.principal} ({_first_line(text)})"
            if any(word in lowered for word in ("preauthentication failed", "pre-authentication",
                                                "integrity", "decrypt", "key version")):
                return (f"keytab {self.keytab} does not hold a valid key for {self.principal} "
                        f"(the KDC refused it: {_first_line(text)}): get a fresh keytab")
            if "no key table entry" in lowered or "no credentials" in lowered \
                    or "unable to obtain password" in lowered:
                return (f"keytab {self.keytab} holds no key for {self.principal}: check the "
                        f"principal's name, or list the keytab with `klist -k {self.keytab}`")
            if "cannot find kdc" in lowered or "cannot contact" in lowered:
                return (f"no KDC answers for {self.principal}'s realm ({_first_line(text)}): "
                        "check KRB5_CONFIG / /etc/krb5.conf")
            return f"cannot log in as {self.principal} from {self.keytab}: {_first_line(text)}"
        if "expired" in lowered:
            return self.no_ticket("the ticket has expired")
        if "no kerberos credentials" in lowered or "no credentials" in lowered:
            return self.no_ticket("none in the cache")
        return self.no_ticket(_first_line(text))


    def tool_environment(self) -> dict[str, str]:
        """Variables under which Hadoop's command-line tools (``yarn logs``) act as this
        login: for a keytab login, a private ticket cache (mode 600, removed when
        Python exits) filled from the keytab; nothing to add for the ticket cache."""
        if not self.uses_keytab:
            return {}
        cache = _TOOL_CACHES.get(self.gateway_key())
        if cache is None:
            folder = tempfile.mkdtemp(prefix="knit-krb5-")  # mode 700
            atexit.register(shutil.rmtree, folder, True)
            cache = f"FILE:{folder}/ccache"
            self.gss_credentials().store(store={"ccache": cache}, overwrite=True)
            _TOOL_CACHES[self.gateway_key()] = cache
        return {"KRB5CCNAME": cache}


#: Ticket caches made for command-line tools, by login.
_TOOL_CACHES: dict[tuple, str] = {}


def _prove(gssapi, creds) -> None:
    """Obtain the TGT now (a keytab login is otherwise lazy)."""
    realm = str(creds.name).rsplit("@", 1)[-1]
    target = gssapi.Name(f"krbtgt/{realm}@{realm}", gssapi.NameType.kerberos_principal)
    gssapi.SecurityContext(name=target, creds=creds, usage="initiate").step()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no details"


def import_gssapi():
    """python-gssapi, or a :class:`KerberosError` saying how to install it."""
    try:
        import gssapi
    except ImportError:
        raise KerberosError(
            "Kerberos needs python-gssapi and requests-gssapi: `pip install knit[kerberos]` "
            "(building gssapi needs the MIT Kerberos headers: Debian/Ubuntu `apt-get install "
            "libkrb5-dev gcc`, or `conda install -c conda-forge python-gssapi`)") from None
    return gssapi


def spnego_auth(credentials: Credentials | None = None):
    """A ``requests`` auth object doing SPNEGO as ``credentials`` (default: the cache).

    The credentials are checked now, so a missing ticket is reported before any call.
    """
    credentials = credentials or Credentials()
    creds = credentials.gss_credentials()
    try:
        from requests_gssapi import HTTPSPNEGOAuth
    except ImportError:
        import_gssapi()
        raise KerberosError("Kerberos needs requests-gssapi: `pip install knit[kerberos]`") from None
    return HTTPSPNEGOAuth(creds=creds, opportunistic_auth=True)


def is_kerberos(conf: dict) -> bool:
    """Whether a Hadoop configuration asks for Kerberos (RPC or web)."""
    return (str(conf.get("hadoop.security.authentication", "simple")).lower() == "kerberos"
            or str(conf.get("hadoop.http.authentication.type", "simple")).lower() == "kerberos")

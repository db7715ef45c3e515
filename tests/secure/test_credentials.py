"""Bad Kerberos credentials: one clear error, before anything is submitted."""

from __future__ import annotations

import getpass
import subprocess
import sys
import time
import uuid

import pytest

from knit import Knit
from knit.exceptions import KerberosError

from .conftest import owner_api

QUIET = {"progress": False}


@pytest.fixture
def app_count(secure_environ):
    api = owner_api(secure_environ)
    return lambda: len(api.apps_info())


def refused(app_count, match: str, **kwargs) -> None:
    """Knit(**kwargs).start() raises KerberosError matching ``match``; nothing submitted."""
    before = app_count()
    with pytest.raises(KerberosError, match=match):
        Knit(**QUIET, **kwargs).start("true")
    assert app_count() == before


def test_no_ticket(secure_environ, app_count, monkeypatch, tmp_path):
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path}/empty")
    refused(app_count, r"no Kerberos ticket .*none in the cache.*run `kinit PRINCIPAL` or pass "
                       r"principal= and keytab=")


def test_expired_ticket(secure_environ, app_count, monkeypatch, tmp_path):
    realm = secure_environ.realm
    cache = realm.kinit(getpass.getuser(), cache=f"FILE:{tmp_path}/short", lifetime="2s")
    time.sleep(3)
    monkeypatch.setenv("KRB5CCNAME", cache)
    refused(app_count, r"no Kerberos ticket .*has expired.*kinit")


def test_a_ticket_of_another_principal(secure_environ, app_count):
    refused(app_count, r"holds .*KNIT.LOCAL, not someone-else@KNIT.LOCAL.*kinit someone-else",
            principal="someone-else@KNIT.LOCAL")


def test_keytab_without_a_key_for_the_principal(secure_environ, app_count):
    keytab = str(secure_environ.realm.keytab(getpass.getuser()))
    refused(app_count, "holds no key for nobody@KNIT.LOCAL", principal="nobody@KNIT.LOCAL",
            keytab=keytab)


def test_stale_keytab(secure_environ, app_count):
    name = f"stale-{uuid.uuid4().hex[:6]}"
    keytab = secure_environ.add_principal(name)
    secure_environ.realm.kadmin(f"cpw -randkey {name}")  # the keytab's key is now old
    refused(app_count, "does not hold a valid key", principal=f"{name}@KNIT.LOCAL",
            keytab=str(keytab))


def test_principal_the_kdc_does_not_know(secure_environ, app_count):
    name = f"gone-{uuid.uuid4().hex[:6]}"
    keytab = secure_environ.add_principal(name)
    secure_environ.realm.kadmin(f"delprinc -force {name}")
    refused(app_count, f"the KDC does not know principal {name}@KNIT.LOCAL",
            principal=f"{name}@KNIT.LOCAL", keytab=str(keytab))


def test_missing_keytab_file(secure_environ):
    with pytest.raises(KerberosError, match="keytab /nonexistent does not exist"):
        Knit(principal="x@KNIT.LOCAL", keytab="/nonexistent", **QUIET)


def test_kerberos_without_gssapi_installed(secure_environ):
    code = ("import sys; sys.modules['gssapi'] = None; sys.modules['requests_gssapi'] = None\n"
            "from knit import Knit\n"
            "from knit.exceptions import KerberosError\n"
            "try:\n    Knit(progress=False)\nexcept KerberosError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "pip install knit[kerberos]" in out and "libkrb5-dev" in out

"""knit behind a company network: a private CA in the trust store, an egress proxy,
HTTPS-only YARN, proxy variables that must never capture the cluster's own traffic.

The CA is made by the test (tests/tls.py), the mirror and the proxy are small servers
on 127.0.0.1 (tests/integration/maven_mirror.py, tests/connect_proxy.py), and the
HTTPS cluster is a real one started with ``knit cluster up --https``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import certifi
import pytest

from knit import jarset
from knit.exceptions import JarDownloadError

from ..connect_proxy import ConnectProxy, dead_port
from ..tls import make_ca, server_certificate
from .maven_mirror import MavenMirror

MIRROR_HOST = "maven.mirror.knit.test"  # a name only the proxy can resolve
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                   "ALL_PROXY", "no_proxy", "NO_PROXY")
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def company_ca(tmp_path):
    """A private CA, and a server certificate it signs for 127.0.0.1 and the mirror's name."""
    ca = make_ca(tmp_path / "ca")
    return ca, server_certificate(ca, tmp_path / "server", ["127.0.0.1", MIRROR_HOST])


@pytest.fixture
def small_lock(tmp_path, monkeypatch):
    """Three small pinned jars in a repository folder, a lock naming them, an empty cache,
    and no trust or proxy variable from the machine."""
    local = dict(zip(jarset.read_lock(), jarset.hadoop_jars()))  # wherever they are now
    pinned = sorted(local, key=lambda jar: jar.size)[:3]
    repo = tmp_path / "repo"
    for jar in pinned:
        (repo / jar.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(local[jar], repo / jar.path)
    lock = tmp_path / "small.lock"
    jarset.write_lock(pinned, lock)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KNIT_JARS_DIR", str(tmp_path / "cache"))
    for name in (*PROXY_VARIABLES, *TRUST_VARIABLES, "KNIT_MAVEN_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    return pinned, lock, repo


def cache_files() -> list[Path]:
    return sorted(path for path in jarset.cache_dir().rglob("*") if path.is_file())


def test_a_mirror_signed_by_a_ca_known_only_through_ssl_cert_file(company_ca, small_lock,
                                                                  monkeypatch):
    ca, cert = company_ca
    pinned, lock, repo = small_lock
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a bundle without the CA
    with MavenMirror(repo, tls=cert) as mirror:
        paths = jarset.hadoop_jars(mirror=mirror.url, lock=lock)
    assert [path.name for path in paths] == [jar.file_name for jar in pinned]
    assert cache_files() == sorted(paths)


def test_a_ca_in_no_store_is_one_line_naming_the_store_and_keeps_nothing(company_ca, small_lock,
                                                                        monkeypatch):
    _, cert = company_ca
    _, lock, repo = small_lock
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    with MavenMirror(repo, tls=cert) as mirror:
        with pytest.raises(JarDownloadError) as info:
            jarset.hadoop_jars(mirror=mirror.url, lock=lock)
    message = str(info.value)
    assert "\n" not in message
    assert "could not be verified against the operating system's trust store" in message
    assert f"SSL_CERT_FILE={certifi.where()}" in message and "update-ca-certificates" in message
    assert cache_files() == []


def test_downloads_go_through_the_https_proxy_and_no_proxy_is_honoured(company_ca, small_lock,
                                                                      monkeypatch):
    ca, cert = company_ca
    pinned, lock, repo = small_lock
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    with MavenMirror(repo, tls=cert, host=MIRROR_HOST) as mirror, \
            ConnectProxy({MIRROR_HOST: "127.0.0.1"}) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        paths = jarset.hadoop_jars(mirror=mirror.url, lock=lock)
        assert len(paths) == 3 and len(mirror.requests) == 3
        assert proxy.requests and all(line.startswith(f"CONNECT {MIRROR_HOST}:{mirror.port} ")
                                      for line in proxy.requests)
        # With the mirror in no_proxy knit goes direct, and this machine cannot resolve it.
        monkeypatch.setenv("no_proxy", "localhost,.mirror.knit.test")
        shutil.rmtree(jarset.cache_dir())
        seen = len(proxy.requests)
        with pytest.raises(JarDownloadError, match="could not download"):
            jarset.hadoop_jars(mirror=mirror.url, lock=lock)
        assert len(proxy.requests) == seen


# ----------------------------------------------------------- proxies and the cluster
def dead_proxy_environment() -> dict[str, str]:
    """Every proxy variable pointing at a port nothing listens on, and no no_proxy."""
    dead = f"http://127.0.0.1:{dead_port()}"
    env = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES}
    env.update({name: dead for name in PROXY_VARIABLES if "no_proxy" not in name.lower()})
    return env


RUN_KILL_LOGS = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from knit import Knit
    from knit.conf import read_conf_dir

    def knit():
        return Knit(autodetect=False, pars=read_conf_dir(Path(sys.argv[1])), progress=False)

    done = knit()
    done.start("echo hello through no proxy", num_containers=1, memory=256)
    finished = done.wait_for_completion(120)
    logs = done.logs()
    sleeper = knit()
    sleeper.start("sleep 600", num_containers=1, memory=256)
    sleeper.kill()
    print(json.dumps({"finished": finished, "final": done.status()["finalStatus"],
                      "stdout": [files.get("stdout", "") for files in logs.values()],
                      "killed": sleeper.status()["state"]}))
""")


def run_kill_logs(conf_dir: Path, env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", RUN_KILL_LOGS, str(conf_dir)], env=env,
                            capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dead_proxies_do_not_capture_the_cluster(cluster_environ):
    """Start, logs and kill from a new process whose every proxy variable is dead."""
    outcome = run_kill_logs(cluster_environ.conf_dir, dead_proxy_environment())
    assert outcome["finished"] is True and outcome["final"] == "SUCCEEDED"
    assert "hello through no proxy\n" in outcome["stdout"]
    assert outcome["killed"] == "KILLED"


@pytest.fixture(scope="module")
def https_cluster(tmp_path_factory):
    """A real cluster serving YARN's web endpoints over HTTPS only, started by
    `knit cluster up --https` with every proxy variable dead."""
    folder = tmp_path_factory.mktemp("https") / "cluster"
    knit = [sys.executable, "-m", "knit", "cluster"]
    env = dead_proxy_environment()
    up = subprocess.run([*knit, "up", "--https", "--free-ports", "--nodemanagers", "1",
                         "--dir", str(folder)], env=env, capture_output=True, text=True,
                        timeout=400)
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        yield folder, env
    finally:
        subprocess.run([*knit, "down", "--dir", str(folder)], capture_output=True, timeout=300)


@pytest.mark.lifecycle
def test_https_resourcemanager_with_its_ca_in_the_trust_store(https_cluster):
    folder, env = https_cluster
    site = (folder / "conf" / "yarn-site.xml").read_text()
    assert "HTTPS_ONLY" in site
    assert oct((folder / "conf" / "ssl-server.xml").stat().st_mode & 0o777) == "0o600"
    trusting = {**env, "SSL_CERT_FILE": str(folder / "tls" / "ca.pem"),
                "HADOOP_CONF_DIR": str(folder / "conf"), "HADOOP_HOME": str(folder / "hadoop"),
                "PATH": f"{folder / 'hadoop' / 'bin'}:{env['PATH']}"}
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        trusting.pop(name, None)
    outcome = run_kill_logs(folder / "conf", trusting)
    assert outcome["finished"] is True and outcome["final"] == "SUCCEEDED"
    assert "hello through no proxy\n" in outcome["stdout"]
    assert outcome["killed"] == "KILLED"


@pytest.mark.lifecycle
def test_https_resourcemanager_without_its_ca_says_so(https_cluster):
    folder, env = https_cluster
    untrusting = {**env, "SSL_CERT_FILE": certifi.where()}
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        untrusting.pop(name, None)
    script = ("import sys; from pathlib import Path; from knit import Knit\n"
              "from knit.conf import read_conf_dir\n"
              "k = Knit(autodetect=False, pars=read_conf_dir(Path(sys.argv[1])), progress=False)\n"
              "k.yarn_api.apps()\n")
    result = subprocess.run([sys.executable, "-c", script, str(folder / "conf")], env=untrusting,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("knit.exceptions.YARNConnectionError: the TLS certificate of 127.0.0.1:")
    assert "could not be verified against the operating system's trust store" in last
    assert "SSL_CERT_FILE" in last

"""knit's HTTP policy as pure functions: what is local, which proxy, whose CAs."""

from __future__ import annotations

import socket

import certifi
import pytest

from knit import sessions


@pytest.fixture(autouse=True)
def no_machine_settings(monkeypatch):
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                 "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                 "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.13", "::1", "[::1]", "localhost",
                                  "LOCALHOST", "node.localhost", socket.gethostname()])
def test_this_machine_is_local(host):
    assert sessions.is_local_host(host)


@pytest.mark.parametrize("host", ["repo.maven.apache.org", "10.0.0.1", "rm.corp", "", None])
def test_other_hosts_are_not_local(host):
    assert not sessions.is_local_host(host)


def test_loopback_is_never_proxied_whatever_the_variables_say(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.corp:3128")
    session = sessions.session()
    for url in ("http://127.0.0.1:8088/ws/v1/cluster", "https://localhost:8090/",
                f"http://{socket.gethostname()}:9870/"):
        assert session.merge_environment_settings(url, {}, None, None, None)["proxies"] == {}
    remote = session.merge_environment_settings("https://repo.example.com/x", {}, None, None, None)
    assert remote["proxies"]["https"] == "http://proxy.corp:3128"


def test_no_proxy_is_honoured_in_either_case(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", ".corp.example,10.1.0.0/16")
    assert sessions.proxies_for("https://rm.corp.example:8090/") == {}
    assert sessions.proxies_for("https://10.1.2.3:8090/") == {}
    assert sessions.proxies_for("https://repo.example.com/")["https"] == "http://proxy.corp:3128"


def test_a_session_without_proxies_ignores_them(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    session = sessions.session(use_proxies=False)
    assert session.merge_environment_settings("https://rm.corp:8090/", {}, None, None,
                                              None)["proxies"] == {}


def test_the_system_store_plus_a_requests_bundle_is_the_default(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    trust = sessions.trust()
    assert trust.verify is True and trust.context is not None
    assert trust.source.startswith("the operating system's trust store")
    assert f"plus REQUESTS_CA_BUNDLE={certifi.where()}" in trust.source


def test_an_explicit_bundle_or_false_replaces_the_policy(tmp_path):
    assert sessions.trust(certifi.where()).verify == certifi.where()
    assert sessions.trust(certifi.where()).context is None
    assert sessions.trust(False).verify is False
    with pytest.raises(FileNotFoundError, match="no such CA bundle"):
        sessions.trust(str(tmp_path / "missing.pem"))


def test_the_tls_failure_message_is_one_line_with_the_fix():
    message = sessions.tls_failure_message("https://rm.corp:8090/ws/v1/", "the CA bundle verify=/x")
    assert "\n" not in message and "rm.corp:8090" in message and "verify=/x" in message
    assert "SSL_CERT_FILE" in message and "REQUESTS_CA_BUNDLE" in message


def test_jvm_proxy_flags_follow_the_variables(monkeypatch):
    assert sessions.java_proxy_options({}) == []
    flags = sessions.java_proxy_options({"HTTPS_PROXY": "http://proxy.corp:3128",
                                         "http_proxy": "proxy.corp:8080",
                                         "no_proxy": ".corp.example,10.0.0.1,*"})
    assert "-Dhttps.proxyHost=proxy.corp" in flags and "-Dhttps.proxyPort=3128" in flags
    assert "-Dhttp.proxyHost=proxy.corp" in flags and "-Dhttp.proxyPort=8080" in flags
    bypass = next(flag for flag in flags if flag.startswith("-Dhttp.nonProxyHosts="))
    hosts = bypass.split("=", 1)[1].split("|")
    assert {"localhost", "127.*", "[::1]", "*.corp.example", "10.0.0.1"} <= set(hosts)
    assert "*" not in hosts

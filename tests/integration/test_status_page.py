"""The ApplicationMaster's status page: YARN's tracking URL, served through the
ResourceManager's web proxy, read-only, and shown in a real browser (headless
Chromium)."""

from __future__ import annotations

import getpass
import http.client
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
import requests

from knit import Knit

from .waiting import wait_for


@pytest.fixture
def service(cluster_environ):
    """A keep-alive application asked for two workers, then scaled to three."""
    k = Knit(progress=False)
    k.start("sleep 600", num_containers=2, memory=128, keep_alive=True)
    try:
        wait_for(lambda: len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) == 2,
                 timeout=90, what="two running workers")
        k.scale(3)
        wait_for(lambda: len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) == 3,
                 timeout=90, what="a third worker")
        yield k
    finally:
        k.kill()


def page(url: str) -> requests.Response:
    return requests.get(url, params={"user.name": getpass.getuser()}, timeout=30)


def test_yarn_links_to_the_page_and_its_proxy_serves_it(service):
    tracking, link = urlsplit(service.status()["trackingUrl"]), urlsplit(service.dashboard_link)
    assert (tracking.port, tracking.path) == (link.port, link.path)  # the RM may name its host
    assert link.path == f"/proxy/{service.app_id}/"
    reply = page(service.dashboard_link)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    doc = lxml.html.fromstring(reply.text)
    assert service.app_id in doc.findtext(".//h1")
    assert doc.get_element_by_id("target").text == "3"
    assert doc.get_element_by_id("live").text == "3"
    assert doc.get_element_by_id("pending").text == "0"
    rows = doc.xpath("//tr[@class='container']")
    assert len(rows) == 3 and {row[1].text for row in rows} == {"RUNNING"}
    nodes = {h.text for h in doc.xpath("//h3")}
    assert nodes == {c["node"] for c in service.worker_containers()}
    links = doc.xpath("//tr[@class='container']//a/@href")
    assert all("/node/containerlogs/container_" in link and link.endswith(getpass.getuser())
               for link in links)
    events = [li.text_content() for li in doc.get_element_by_id("events")]
    assert any("target set to 3" in e for e in events)
    assert len([e for e in events if e.endswith(" started")]) == 3


def test_the_page_changes_nothing_and_outside_the_proxy_redirects_to_it(service):
    host, port = service.am.address.rsplit(":", 1)
    # From an address that is not the ResourceManager's: sent to the proxy.
    direct = http.client.HTTPConnection(host, int(port), timeout=10, source_address=("127.0.0.5", 0))
    direct.request("GET", "/")
    reply = direct.getresponse()
    assert reply.status == 302 and reply.getheader("Location") == service.dashboard_link
    direct.close()
    for method in ("POST", "PUT", "DELETE"):
        reply = requests.request(method, service.dashboard_link,
                                 params={"user.name": getpass.getuser()}, timeout=30)
        assert reply.status_code == 405, (method, reply.text[:500])
    # The control endpoint behind it still wants the secret.
    assert requests.get(f"http://{host}:{port}/containers", timeout=10).status_code == 403
    assert len(service.worker_containers()) == 3


def test_a_browser_shows_the_page(service, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        message = "no chromium: tools/test.sh installs Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = page(service.dashboard_link).url  # with user.name, as a signed-in browser has it
    screenshot = Path(os.environ.get("KNIT_TEST_ARTIFACTS", tmp_path)) / "status-page.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    doc = lxml.html.fromstring(dom)
    assert service.app_id in doc.findtext(".//h1")
    assert len(doc.xpath("//tr[@class='container']")) == 3
    subprocess.run([*common, f"--screenshot={screenshot}", url], capture_output=True,
                   timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000


def test_only_those_yarn_lets_view_the_application_see_its_page(cluster_environ):
    bob = os.environ.get("KNIT_OTHER_USER") or "knit-other"  # the web APIs trust user.name here
    with Knit(progress=False) as private, Knit(progress=False) as shared:
        private.start("sleep 600", keep_alive=True)
        shared.start("sleep 600", keep_alive=True, acls={"view_users": [bob]})

        def status_for(url: str, user: str) -> int:
            return requests.get(url, params={"user.name": user}, timeout=30).status_code

        assert status_for(private.dashboard_link, getpass.getuser()) == 200
        assert status_for(private.dashboard_link, bob) == 403
        assert status_for(shared.dashboard_link, bob) == 200

"""knit's ApplicationMaster client speaks the control API of
``tests/data/control_api.json`` (ControlApiTest.scala replays the same exchanges
against a real ControlServer): each verb sends the recorded request and reads the
recorded reply into its typed result."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from knit.am_client import AMClient, Container, ContainerState, Report
from knit.exceptions import NotFoundError, RequestRefusedError

FIXTURE = json.loads((Path(__file__).parent.parent / "data" / "control_api.json").read_text())
SECRET = "s3cret"


class Replay(BaseHTTPRequestHandler):
    """Answers each request with the next exchange's reply, noting what differed."""

    exchanges: list = []
    mismatches: list = []

    def _answer(self):
        expected = self.exchanges.pop(0)
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        seen = {"method": self.command, "path": url.path, "query": dict(parse_qsl(url.query)),
                "secret": self.headers.get(FIXTURE["secret_header"]), "body": body}
        wanted = {"method": expected["method"], "path": expected["path"],
                  "query": expected["query"], "secret": SECRET, "body": expected.get("body", "")}
        if seen != wanted:
            self.mismatches.append((expected["call"], seen, wanted))
        reply = (expected["reply_bytes"].encode() if "reply_bytes" in expected
                 else json.dumps(expected["reply"]).encode())
        self.send_response(expected["status"])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


class RunningApp:
    """What AMClient asks the ResourceManager: the application runs at ``address``."""

    def __init__(self, address):
        self.address = address

    def status(self, app_id):
        return {"state": "RUNNING", "amRPCAddress": self.address}


@pytest.fixture
def client():
    Replay.exchanges, Replay.mismatches = list(FIXTURE["exchanges"]), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield AMClient(RunningApp(f"127.0.0.1:{server.server_port}"), "application_1_0001", SECRET)
    finally:
        server.shutdown()
        server.server_close()


def test_every_verb_sends_the_recorded_request_and_reads_its_reply(client):
    results = []
    for exchange in FIXTURE["exchanges"]:
        verb = getattr(client, exchange["call"])
        if exchange["status"] == 200 or "returns" in exchange:
            results.append(verb(**exchange["args"]))
        else:
            error = NotFoundError if exchange["status"] == 404 else RequestRefusedError
            with pytest.raises(error, match=exchange["reply"]["error"][:40]):
                verb(**exchange["args"])
            results.append("refused")
    assert Replay.mismatches == []
    assert Replay.exchanges == []
    report, *rest = results
    assert rest == [4, 6, 7, 1, None, "refused", "refused", None, None, None, "tcp://n1:8786",
                    {"scheduler": "tcp://n1:8786"}, True, "refused", True, False, b"c2", None]
    assert isinstance(report, Report)
    assert report.am_container == FIXTURE["am_container"]
    assert (report.attempt, report.target, report.pending, report.restarts,
            report.max_restarts, report.ended_not_listed) == (1, 3, 1, 1, 2, 0)
    assert [c.state for c in report.containers] == [
        ContainerState.RUNNING, ContainerState.ALLOCATED, ContainerState.COMPLETE]
    assert [c.id[-2:] for c in report.live] == ["02", "03"]
    assert report.containers[2] == Container(
        id="container_1700000000000_0001_01_000004", service="worker", state=ContainerState.COMPLETE,
        node="n2:8041", node_http_address="n2:8042", memory_mb=256, vcores=1, exit_status=1)
    assert report.services["worker"].target == 3


def test_the_report_keeps_the_replys_shape_for_the_public_dicts():
    reply = FIXTURE["exchanges"][0]["reply"]
    assert Report.from_reply(reply).as_dict() == reply


def test_an_unknown_container_state_is_an_error_not_a_guess():
    entry = dict(FIXTURE["exchanges"][0]["reply"]["containers"][0], state="PAUSED")
    with pytest.raises(ValueError, match="PAUSED"):
        Container.from_reply(entry)

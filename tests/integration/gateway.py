"""A small HTTPS gateway in front of the ResourceManager, like Knox, for tests.

It listens on 127.0.0.1 with a self-signed certificate, demands HTTP basic auth,
and forwards ``/gateway/default/resourcemanager/...`` to the real RM.
"""

from __future__ import annotations

import base64
import getpass
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

PREFIX = "/gateway/default/resourcemanager"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "gateway.pem", folder / "gateway.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


class Gateway:
    def __init__(self, rm_url: str, folder: Path, user: str, password: str):
        self.cert, key = make_certificate(folder)
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        upstream = requests.Session()
        upstream.trust_env = False
        # Like a real gateway (Knox's doAs), it calls YARN as the person it let in: here
        # the machine user running the tests, whose gateway login is `user`.
        upstream.params = {"user.name": getpass.getuser()}

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="gateway"')
                    self.end_headers()
                    return
                if not self.path.startswith(PREFIX + "/"):
                    self.send_response(404)
                    self.end_headers()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                reply = upstream.request(
                    self.command, rm_url + self.path[len(PREFIX):],
                    data=self.rfile.read(length) if length else None,
                    headers={k: v for k, v in self.headers.items()
                             if k.lower() in ("accept", "content-type")},
                    timeout=30,
                )
                self.send_response(reply.status_code)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            do_GET = do_PUT = do_POST = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Gateway":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

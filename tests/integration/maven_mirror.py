"""A Maven repository served over HTTP (or HTTPS) on 127.0.0.1, as a company mirror
would be."""

from __future__ import annotations

import functools
import ssl
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class MavenMirror:
    """Serve ``root`` (laid out like ``~/.m2/repository``) until closed.

    ``requests`` lists the paths asked for; ``cut_short`` names files whose
    download stops half-way (the full length announced, half the bytes sent).
    With ``tls`` (a :class:`tests.tls.ServerCertificate`) it serves HTTPS, its URL
    naming ``host`` (which the certificate must hold).
    """

    def __init__(self, root: Path, tls=None, host: str = "127.0.0.1"):
        self.requests: list[str] = []
        self.cut_short: set[str] = set()
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                """Quiet."""

            def do_GET(self):
                mirror.requests.append(self.path)
                relative = self.path.lstrip("/")
                if relative in mirror.cut_short:
                    data = (root / relative).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(Handler, directory=str(root)))
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert, tls.key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "MavenMirror":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

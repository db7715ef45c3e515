"""A small HTTP proxy on 127.0.0.1 (CONNECT for HTTPS, absolute URLs for HTTP), as a
company's egress proxy is, recording what it was asked for.

``hosts`` maps names to addresses the proxy resolves them to (a company proxy knows
names the client cannot resolve); everything else is refused with 502.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from urllib.parse import urlsplit


class ConnectProxy:
    def __init__(self, hosts: dict[str, str] | None = None):
        self.requests: list[str] = []
        self.hosts = dict(hosts or {})
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline(8192).decode("latin-1").strip()
                while self.rfile.readline(8192).strip():
                    pass  # headers
                if not line:
                    return
                proxy.requests.append(line)
                method, target, _ = (line.split(" ") + ["", ""])[:3]
                if method == "CONNECT":
                    host, _, port = target.rpartition(":")
                    self._tunnel(host, int(port), b"")
                    return
                parts = urlsplit(target)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                head = f"{method} {path or '/'} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n"
                self._tunnel(parts.hostname, parts.port or 80, head.encode(), reply=False)

            def _tunnel(self, host, port, first: bytes, reply: bool = True):
                address = proxy.hosts.get(host)
                if address is None:
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    return
                with socket.create_connection((address, port), timeout=10) as upstream:
                    if reply:
                        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    upstream.sendall(first)
                    _pump(self.connection, upstream)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "ConnectProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pump(a: socket.socket, b: socket.socket, idle: float = 30.0) -> None:
    """Copy bytes both ways until either side closes or ``idle`` s pass without any."""
    sockets = [a, b]
    while True:
        ready, _, _ = select.select(sockets, [], [], idle)
        if not ready:
            return
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)


def dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

"""The HTTP/1.1 server: keep-alive connections, one daemon thread per connection, two routes.

`/_emulator/...` goes to the control API; every other path is a cloud API call. Replies are written with a
single `send` (status line, headers and body together) and TCP_NODELAY, so a keep-alive client never waits
on Nagle's algorithm and delayed ACKs between a small header write and the body.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import sys
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from emulator.backend import Backend
from emulator.cloud_api import CloudApi, CloudRequest
from emulator.control import ControlApi
from emulator.counters import Counters
from emulator.faults import FaultInjector
from emulator.journal import Journal
from emulator.throttle import Throttle
from emulator.wire import Reply, encode_json

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
IDLE_TIMEOUT_SECONDS = 120.0  # an idle keep-alive connection is closed after this (clients reconnect)
SERVER_HEADER = "tencent-cloud-emulator"
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        cloud: CloudApi,
        control: ControlApi,
        counters: Counters,
    ) -> None:
        self.cloud = cloud
        self.control = control
        self.counters = counters
        super().__init__(address, EmulatorRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        self.counters.connection_accepted()
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients going away mid-reply is routine (timeouts, dropped connections); anything else is a bug.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.debug("connection from %s ended abruptly", client_address, exc_info=True)
        else:
            log.exception("unhandled error on a connection from %s", client_address)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_SECONDS
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def do_PUT(self) -> None:
        self._route()

    def do_PATCH(self) -> None:
        self._route()

    def _route(self) -> None:
        try:
            body = self._read_body()
        except _BodyError as error:
            self.close_connection = True  # the rest of the stream cannot be trusted
            self._send(
                Reply(error.status, encode_json({"Error": {"Code": error.code, "Message": str(error)}}))
            )
            return
        path, _, query = self.path.partition("?")
        if ControlApi.owns(path):
            self._send(self.server.control.handle(self.command, path, body))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.cloud.handle(CloudRequest(self.command, path, query, headers, body))
        if reply is None:
            # An injected drop: close the socket without a byte of reply.
            self.close_connection = True
            return
        self._send(reply)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise _BodyError(400, "InvalidRequest", "Content-Length is not a number") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _BodyError(413, "RequestEntityTooLarge", f"the body must be at most {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "InvalidRequest", "malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyError(
                    413, "RequestEntityTooLarge", f"the body must be at most {MAX_BODY_BYTES} bytes"
                )
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, reply: Reply) -> None:
        reason = _REASONS.get(reply.status, "")
        head = [
            f"HTTP/1.1 {reply.status} {reason}",
            f"Server: {SERVER_HEADER}",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
        ]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
        self.log_request(reply.status, len(reply.body))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # One line per request would cost more than the request at benchmark rates: debug level only.
        if log.isEnabledFor(logging.DEBUG):
            super().log_request(code, size)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def log_error(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _BodyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def create_server(
    backend: Backend,
    host: str = "127.0.0.1",
    port: int = 0,
    throttle: Throttle | None = None,
    faults: FaultInjector | None = None,
) -> EmulatorServer:
    """Wire the emulator around a backend and bind (port 0 picks a free port; read it from `.port`)."""
    counters = Counters()
    throttle = throttle if throttle is not None else Throttle()
    faults = faults if faults is not None else FaultInjector()
    journal = Journal()
    cloud = CloudApi(backend, throttle, faults, counters, journal=journal)
    control = ControlApi(backend, throttle, faults, counters, journal=journal)
    return EmulatorServer((host, port), cloud, control, counters)

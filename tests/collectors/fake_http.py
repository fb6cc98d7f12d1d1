"""A small scriptable JSON server for collector tests: routes, fault injection and a request log.

It listens on 127.0.0.1 on a free port, in a thread, so a collector's ``base_url`` setting can point at
it; nothing in a test touches the network beyond it.

Usage::

    with FakeServer() as server:
        server.route("/api/v1/search_by_date", lambda req: {"hits": [], "page": 0, "nbPages": 0})
        server.fail("/api/v1/search_by_date", "status", status=429, retry_after="2", times=1)
        client = HttpClient(server.url)
        ...
        assert server.requests[0].params["query"] == "acme"

Routes
    ``route(path, handler, method="GET")``: ``handler(request)`` gets a :class:`Request` (method, path,
    ``params`` with the first value of each query parameter, ``multi`` with all of them, headers and the
    decoded JSON ``body`` of a POST) and returns a dict or list (sent as JSON, 200) or a :class:`Reply`
    (status, body as JSON-able data, ``str`` or ``bytes``, headers, content type). A path with no route
    answers 404 with a JSON error.

Faults (``fail(path_prefix, kind, times=1, ...)``), served instead of the route, first in first out, to
requests whose path starts with ``path_prefix``:
    ``status``   answer ``status`` (429 with ``retry_after``, 503, 401, 403 ...) and a JSON error body
                 (``error`` names its ``error`` string; ``headers`` adds rate-limit headers and the like);
    ``badjson``  200 with a truncated JSON body;
    ``html``     200 with an HTML page (``Content-Type: text/html``), as a captive portal or a CDN sends;
    ``empty``    200 with an empty body;
    ``hang``     accept the request and never answer (until the server stops);
    ``huge``     200 with a JSON body of ``size`` bytes (``declare_length=False`` sends no
                 Content-Length, so the client must count while reading).
Each request is logged in ``server.requests`` (faulted ones too, with ``fault`` set to the kind).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    params: dict[str, str]
    multi: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None
    fault: str | None = None


@dataclass
class Reply:
    """An answer: ``body`` is sent as JSON unless it is ``str`` or ``bytes``."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Fault:
    kind: str
    path: str
    times: int = 1
    status: int = 500
    retry_after: str | None = None
    size: int = 0
    declare_length: bool = True
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Any]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, size cap) resets its connection: expected, not worth a traceback.
        pass
HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>"
             "<body><p>Checking your browser before accessing the site.</p></body></html>\n")


class FakeServer:
    """A JSON server on 127.0.0.1 and a free port; ``url`` is its base URL once started."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # set-up -------------------------------------------------------------------------------------
    def route(self, path: str, handler: Handler, method: str = "GET") -> FakeServer:
        self.routes[(method.upper(), path)] = handler
        return self

    def fail(self, path: str, kind: str, times: int = 1, status: int = 500, retry_after: str | None = None,
             size: int = 0, declare_length: bool = True, error: str | None = None,
             headers: dict[str, str] | None = None) -> FakeServer:
        if kind not in {"status", "badjson", "html", "empty", "hang", "huge"}:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self.faults.append(Fault(kind, path, times, status, retry_after, size, declare_length, error,
                                     dict(headers or {})))
        return self

    def paths(self) -> list[str]:
        """The paths requested, in order."""
        return [r.path for r in self.requests]

    # life cycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-http",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # serving ------------------------------------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        multi = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        request = Request(handler.command, parts.path, {k: v[0] for k, v in multi.items()}, multi,
                          dict(handler.headers.items()), body)
        fault = self._take_fault(parts.path)
        with self._lock:
            request.fault = fault.kind if fault else None
            self.requests.append(request)
        if fault is not None:
            reply = self._fault_reply(fault)
            if reply is None:  # hang: keep the connection open without a word until the server stops
                self._stopping.wait()
                return
        else:
            found = self.routes.get((handler.command, parts.path))
            if found is None:
                reply = Reply({"error": f"no route for {handler.command} {parts.path}"}, status=404)
            else:
                result = found(request)
                reply = result if isinstance(result, Reply) else Reply(result)
        self._send(handler, reply)

    def _fault_reply(self, fault: Fault) -> Reply | None:
        if fault.kind == "hang":
            return None
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            body = {"error": fault.error or f"injected HTTP {fault.status}"}
            return Reply(body, status=fault.status, headers={**headers, **fault.headers})
        if fault.kind == "badjson":
            return Reply('{"hits": [{"objectID": "1", "created_at_i": 17')
        if fault.kind == "html":
            return Reply(HTML_PAGE, content_type="text/html; charset=utf-8")
        if fault.kind == "empty":
            return Reply(b"")
        filler = b'{"data": "' + b"x" * max(0, fault.size - 12) + b'"}'
        reply = Reply(filler)
        if not fault.declare_length:
            reply.headers["Transfer-Encoding"] = "chunked"
        return reply

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            payload = reply.body
        elif isinstance(reply.body, str):
            payload = reply.body.encode()
        else:
            payload = json.dumps(reply.body).encode()
        chunked = reply.headers.get("Transfer-Encoding") == "chunked"
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if not chunked:
                handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if chunked:
                for start in range(0, len(payload), 1 << 16):
                    piece = payload[start:start + (1 << 16)]
                    handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                handler.wfile.write(b"0\r\n\r\n")
            else:
                handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a size cap, a timeout): nothing left to tell it

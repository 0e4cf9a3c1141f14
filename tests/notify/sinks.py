"""Local sinks for the notification tests: an HTTP server and an SMTP server on 127.0.0.1, each in a
thread on an ephemeral port. Nothing reaches the internet: the platforms' public hosts are redirected to
the HTTP sink at ``requests.post`` (what apprise's plugins and Muster's signed POSTs call)."""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

PLATFORM_HOSTS = {"qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    original_url: str = ""  # the platform's address the request was meant for (redirected ones)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


@dataclass
class HttpSink:
    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    answer: bytes = b'{"errcode":0,"errmsg":"ok","code":0}'


class _Handler(BaseHTTPRequestHandler):
    sink: HttpSink

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        sink = self.server.sink  # type: ignore[attr-defined]
        sink.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status = sink.statuses.pop(0) if sink.statuses else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(sink.answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    sink = HttpSink(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.sink = sink  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def platforms(http_sink: HttpSink, monkeypatch: pytest.MonkeyPatch) -> HttpSink:
    """Posts to WeCom, DingTalk and Feishu go to the HTTP sink (path and query kept; the original URL is
    recorded); a post to any other non-local host fails the test."""
    real_post = requests.post

    def post(url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if parts.hostname in PLATFORM_HOSTS:
            local = f"{http_sink.url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            before = len(http_sink.received)
            response = real_post(local, *args, **kwargs)
            prepared = requests.Request("POST", url, params=kwargs.get("params")).prepare()
            for r in http_sink.received[before:]:
                r.original_url = prepared.url or url
            return response
        assert parts.hostname == "127.0.0.1", f"a test tried to reach {url}"
        return real_post(url, *args, **kwargs)

    monkeypatch.setattr(requests, "post", post)
    real_session_post = requests.Session.post

    def session_post(self: requests.Session, url: str, *args: Any, **kwargs: Any) -> Any:
        # Muster's own signed POSTs go through a session that checks the peer address; a platform's
        # host redirected to the local sink goes the plain way (the redirect is the test's, not a peer's).
        if urlsplit(url).hostname in PLATFORM_HOSTS:
            return post(url, *args, **kwargs)
        return real_session_post(self, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "post", session_post)
    return http_sink


# ------------------------------------------------------------------------------------------------ SMTP


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for Django's backend: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        self._reply("220 sink ESMTP")
        sender, rcpts = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode("utf-8", "replace").strip()
            verb = cmd[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == "HELO":
                self._reply("250 sink")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].split()[0].strip("<>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                msg = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                sink.messages.append(msg)  # type: ignore[arg-type]
                sink.envelopes.append((sender, rcpts))
                self._reply("250 OK queued")
            elif verb in {"RSET", "NOOP"}:
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
    sink = SmtpSink("127.0.0.1", server.server_address[1])
    server.sink = sink  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

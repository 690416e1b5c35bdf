"""Edge guards. Request bodies over their limit are cut off while they stream in, never read
whole: the gateway's callback endpoint (64 KiB, anonymous) answers 413 after about its limit of
a chunked upload, and a declared Content-Length over the limit is refused before a byte is
read. Every answer carries the security headers."""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from payment_support import free_port, serve

CHUNK = 64 * 1024
PLENTY = 16 * 1024 * 1024  # what a client would send if nobody stopped it


def _stream_chunked(base: str, path: str) -> tuple[int, bytes]:
    """Send a chunked POST until the server answers; returns (bytes sent, the answer)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     .encode())
        sent, piece = 0, f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
        while sent < PLENTY:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                break
            try:
                conn.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        conn.settimeout(10)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = conn.recv(65536)
                if not data:
                    break
                answer += data
            return sent, answer
        except ConnectionResetError:
            return sent, answer


def test_an_oversized_chunked_callback_is_cut_off_at_the_limit(platform: Platform) -> None:
    with serve(create_app(platform), free_port()) as base:
        sent, answer = _stream_chunked(base, "/api/v1/payments/callbacks")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 4 * 1024 * 1024, f"{sent} bytes were accepted before the refusal"


def test_a_declared_length_over_the_limit_is_refused_unread(platform: Platform) -> None:
    with serve(create_app(platform), free_port()) as base:
        url = urlsplit(base)
        with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
            conn.sendall(f"POST /api/v1/users HTTP/1.1\r\nHost: {url.netloc}\r\n"
                         "Content-Type: application/json\r\n"
                         f"Content-Length: {PLENTY}\r\n\r\n".encode())
            answer = b""
            while data := conn.recv(65536):  # the server closes the connection after it
                answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"body_too_large"' in answer and b'"field":"body"' in answer


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/api/v1/listings", "/docs"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in headers  # plain HTTP here
    assert "'unsafe-inline'" not in client.get("/").headers["Content-Security-Policy"].split(
        "script-src")[1].split(";")[0]
    over_tls = TestClient(client.app, base_url="https://testserver")
    assert "max-age" in over_tls.get("/healthz").headers["Strict-Transport-Security"]

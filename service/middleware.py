"""Pure ASGI middleware: request ids, a request body size limit and rejection of NUL bytes in URLs.

Pure ASGI (not BaseHTTPMiddleware) so the body limit holds for streamed bodies too and nothing is buffered
twice.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PROBLEM_BASE, PROBLEM_JSON
from service.security.redaction import redact

access_log = logging.getLogger("werkmatch.access")


async def send_problem(
    send: Send, *, status: int, type_: str, title: str, detail: str, request_id: str
) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + type_,
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


class GuardMiddleware:
    """Assigns a request id, rejects bodies over `max_body_bytes` (413) and NUL bytes in path or query
    (400)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _payload_too_large(self, send: Send, request_id: str) -> None:
        """The 413 problem, for a declared or a streamed body over the limit."""
        await send_problem(
            send,
            status=413,
            type_="payload-too-large",
            title="Payload too large",
            detail=f"The request body exceeds {self.max_body_bytes} bytes.",
            request_id=request_id,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in scope.get("query_string", b""):
            await send_problem(
                send,
                status=400,
                type_="bad-request",
                title="Bad request",
                detail="NUL bytes are not allowed in the URL.",
                request_id=request_id,
            )
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_body_bytes
            except ValueError:
                too_large = True
            if too_large:
                await self._payload_too_large(send, request_id)
                return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
                status_holder["status"] = message["status"]
            await send(message)

        status_holder: dict[str, Any] = {"status": 500}
        started = time.perf_counter()
        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._payload_too_large(send, request_id)
        finally:
            # Method, path and status only: never query strings or bodies (they may carry personal data).
            access_log.info(
                "request_id=%s method=%s path=%s status=%s ms=%.1f",
                request_id,
                scope.get("method"),
                redact(scope.get("path", "")),
                status_holder["status"],
                (time.perf_counter() - started) * 1000,
            )

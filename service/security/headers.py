"""Security headers on every response (pure ASGI, so streamed and error responses get them too)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# HTML (the coach web UI): own scripts and styles only, no framing, no plugins, forms post back to us.
HTML_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Anything else (JSON): nothing may be loaded or framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The interactive docs (development only) load Swagger UI from its CDN.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' https://cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """nosniff, no referrer, no framing, a CSP per content type, and `Cache-Control: no-store` on API
    responses (they may carry personal data; shared caches and browsers must not keep them)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                content_type = headers.get("content-type", "")
                if path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
                    csp = DOCS_CSP
                elif content_type.startswith("text/html"):
                    csp = HTML_CSP
                else:
                    csp = API_CSP
                headers.setdefault("Content-Security-Policy", csp)
                if path.startswith("/api/"):
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Rate limits: a token bucket per API key, and a stricter one per client address for authentication failures.

In-process and in memory: with several uvicorn workers each worker has its own buckets, so the effective limit
is `workers x limit` (documented in README "Security"); put a shared limiter (the reverse proxy) in front when
that matters. Buckets are keyed by a digest of the presented key, never the key itself, and their number is
bounded.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PROBLEM_BASE, PROBLEM_JSON

MAX_BUCKETS = 50_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Named token buckets with one capacity and refill rate; least recently used names are forgotten."""

    def __init__(self, *, per_minute: float, burst: int, clock: object = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _refilled(self, name: str) -> _Bucket:
        now = self._clock()  # type: ignore[operator]
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = _Bucket(tokens=self.capacity, updated=now)
            self._buckets[name] = bucket
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(name)
        return bucket

    def take(self, name: str) -> float:
        """Take one token: 0.0 when granted, else the seconds until one is available."""
        with self._lock:
            bucket = self._refilled(name)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def blocked_for(self, name: str) -> float:
        """Seconds until `name` has a token again, without taking one (0.0: not blocked)."""
        with self._lock:
            if name not in self._buckets:
                return 0.0
            bucket = self._refilled(name)
            return 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / self.rate

    def spend(self, name: str) -> None:
        """Take a token even when none is left (the bucket goes negative: repeated failures block longer)."""
        with self._lock:
            bucket = self._refilled(name)
            bucket.tokens = max(bucket.tokens - 1.0, -self.capacity)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _credential(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            return hashlib.sha256(value).hexdigest()[:32]
    return None


async def _too_many(send: Send, *, retry_after: float, detail: str, request_id: str | None) -> None:
    seconds = max(1, math.ceil(retry_after))
    body: dict[str, object] = {
        "type": PROBLEM_BASE + "too-many-requests",
        "title": "Too many requests",
        "status": 429,
        "detail": detail,
    }
    if request_id:
        body["request_id"] = request_id
    encoded = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(encoded)).encode()),
                (b"retry-after", str(seconds).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


class RateLimitMiddleware:
    """429 + `Retry-After` when a key (or, without a key, a client address) exceeds its bucket; an address
    whose authentication-failure bucket is empty gets 429 for everything until it refills."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        auth_failures_per_minute: int,
        auth_failure_burst: int,
    ) -> None:
        self.app = app
        self.requests = TokenBuckets(per_minute=per_minute, burst=burst)
        self.auth_failures = TokenBuckets(per_minute=auth_failures_per_minute, burst=auth_failure_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        request_id = (scope.get("state") or {}).get("request_id")
        address = _client(scope)
        wait = self.auth_failures.blocked_for(address)
        if wait > 0:
            await _too_many(
                send,
                retry_after=wait,
                request_id=request_id,
                detail="Too many failed authentications from this address; try again later.",
            )
            return
        credential = _credential(scope)
        wait = self.requests.take(f"key:{credential}" if credential else f"addr:{address}")
        if wait > 0:
            await _too_many(
                send,
                retry_after=wait,
                request_id=request_id,
                detail="Rate limit for this API key exceeded; try again later.",
            )
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.auth_failures.spend(address)
            await send(message)

        await self.app(scope, receive, watch)

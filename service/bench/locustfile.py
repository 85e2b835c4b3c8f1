"""Locust scenario for `werkmatch bench --http`: coaches and employers at a given mean arrival rate.

Every simulated user is one coach with an API key of its own (as in a real installation, and so that the
per-key rate limit is not what is measured), and the employer key that goes with it. Task weights give the
mix of issue 7: 70% coach match queries, 20% candidate reads, 10% employer vacancy posts. Each user starts
tasks at WERKMATCH_LOCUST_USER_RATE tasks/s, so users × rate is the offered load.

Arrivals (WERKMATCH_LOCUST_ARRIVALS): ``poisson`` (default) starts each user's tasks at exponentially
distributed intervals (scheduled start to start, so a slow answer does not lower the rate); the sum over users
is then a Poisson stream, the usual model of independent coaches. ``constant`` is locust's
``constant_throughput``: the users, all spawned at once, start a task every 1/rate s and stay in lockstep, so
the server sees a burst of one request per user every 1/rate s (at 20/s: 10 requests every 0.5 s). Latency
then measures the burst (p50 about half of its CPU time) more than the server, and a long pause (such as a
full garbage collection) changes the figures mostly by breaking the lockstep.

Input (written by :mod:`service.bench.loadtest`): WERKMATCH_LOCUST_DATA, a JSON file with ``coach_keys``,
``employer_keys``, ``candidate_ids`` and ``vacancy_payloads``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, constant_throughput, task

from service.bench.loadtest import MATCH, POST, READ

with open(os.environ["WERKMATCH_LOCUST_DATA"], encoding="utf-8") as _handle:
    DATA: dict[str, Any] = json.load(_handle)
USER_RATE = float(os.environ.get("WERKMATCH_LOCUST_USER_RATE", "4"))
ARRIVALS = os.environ.get("WERKMATCH_LOCUST_ARRIVALS", "poisson")
if ARRIVALS not in ("poisson", "constant"):
    raise ValueError(f"WERKMATCH_LOCUST_ARRIVALS must be poisson or constant, not {ARRIVALS!r}")
_USER_NUMBERS = itertools.count()


def poisson_starts(rate: float) -> Callable[[CoachAndEmployer], float]:
    """Wait until the user's next start, drawn at exponential intervals from the previous scheduled start."""

    def wait(user: CoachAndEmployer) -> float:
        now = time.monotonic()
        user.next_start = max(user.next_start, now - 1.0 / rate) + user.rng.expovariate(rate)
        return max(0.0, user.next_start - now)

    return wait


class CoachAndEmployer(FastHttpUser):
    """One coach (match queries, candidate reads) and one employer (vacancy posts)."""

    wait_time = poisson_starts(USER_RATE) if ARRIVALS == "poisson" else constant_throughput(USER_RATE)

    def on_start(self) -> None:
        number = next(_USER_NUMBERS)
        self.rng = random.Random(number)
        self.next_start = time.monotonic()
        if ARRIVALS == "poisson":
            time.sleep(self.rng.expovariate(USER_RATE))  # gevent-patched: the first start is random too
        self.coach = {"Authorization": f"Bearer {DATA['coach_keys'][number % len(DATA['coach_keys'])]}"}
        self.employer = {
            "Authorization": f"Bearer {DATA['employer_keys'][number % len(DATA['employer_keys'])]}"
        }

    @task(7)
    def match(self) -> None:
        candidate = self.rng.choice(DATA["candidate_ids"])
        self.client.get(f"/api/v1/candidates/{candidate}/matches?limit=50", headers=self.coach, name=MATCH)

    @task(2)
    def read(self) -> None:
        candidate = self.rng.choice(DATA["candidate_ids"])
        self.client.get(f"/api/v1/candidates/{candidate}", headers=self.coach, name=READ)

    @task(1)
    def post(self) -> None:
        payload = dict(self.rng.choice(DATA["vacancy_payloads"]))
        payload["external_ref"] = f"bench-{uuid.UUID(int=self.rng.getrandbits(128)).hex[:20]}"
        self.client.post("/api/v1/vacancies", json=payload, headers=self.employer, name=POST)

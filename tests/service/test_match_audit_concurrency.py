"""Match requests and their audit entries: a failed audit write fails the match (nothing returned), and a
parallel mix of matches, reads and vacancy posts leaves one linear, intact chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from service.audit.models import AuditChainHead, AuditEntry
from service.audit.verify import verify_chain
from service.persistence.db import session_scope
from tests.conftest import candidate_payload, create, vacancy_payload

MATCHES = "/api/v1/candidates/{}/matches"


@pytest.fixture
def fatima(client, keys) -> dict:
    create(client, "/api/v1/vacancies", vacancy_payload(), keys["employer_x"])
    return create(client, "/api/v1/candidates", candidate_payload(), keys["coach_a"])


def _actions(session_factory) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


class TestMatchAuditFailsClosed:
    def test_a_failing_audit_write_fails_the_match_and_returns_nothing(
        self, client, keys, fatima, session_factory
    ):
        with session_scope(session_factory) as session:
            session.execute(update(AuditChainHead).values(seq=0))  # the next append collides with seq 1
        response = client.get(MATCHES.format(fatima["id"]), headers=keys["coach_a"].headers)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "Orderpicker" not in response.text
        assert "items" not in response.text
        with session_scope(session_factory) as session:
            last = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
            session.execute(update(AuditChainHead).values(seq=last))
        assert client.get(MATCHES.format(fatima["id"]), headers=keys["coach_a"].headers).status_code == 200

    def test_a_failed_request_records_nothing(self, client, keys, fatima, session_factory):
        before = _actions(session_factory)
        foreign = client.get(MATCHES.format(fatima["id"]), headers=keys["coach_b"].headers)
        assert foreign.status_code == 404
        assert _actions(session_factory) == before


class TestParallelMixKeepsOneChain:
    def test_matches_reads_and_posts_in_parallel(self, client, keys, fatima, session_factory):
        coach, employer = keys["coach_a"], keys["employer_x"]

        def one(n: int) -> int:
            if n % 10 == 0:
                body = vacancy_payload(title=f"Orderpicker {n}")
                return client.post("/api/v1/vacancies", json=body, headers=employer.headers).status_code
            if n % 3 == 0:
                return client.get(f"/api/v1/candidates/{fatima['id']}", headers=coach.headers).status_code
            return client.get(MATCHES.format(fatima["id"]), headers=coach.headers).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(one, range(60)))
        assert set(codes) <= {200, 201}, codes
        actions = _actions(session_factory)
        assert actions.count("candidate.matches") == sum(1 for n in range(60) if n % 10 and n % 3)
        assert actions.count("candidate.read") == sum(1 for n in range(60) if n % 10 and not n % 3)
        with session_factory() as session:
            report = verify_chain(session)
        assert report.intact, report.problems
        assert report.entries == len(actions)

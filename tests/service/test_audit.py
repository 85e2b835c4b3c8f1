"""The audit log: one entry per candidate-revealing response, a verifiable hash chain, scoped reads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text, update

from service.audit.models import AuditChainHead, AuditEntry
from service.audit.recorder import append_entry
from service.audit.verify import verify_chain
from service.persistence.db import begin_write, session_scope
from tests.conftest import REPO_ROOT, candidate_payload

WERKMATCH = [sys.executable, "-m", "scripts.cli"]


def entries(session_factory) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def create_candidate(client, key, **over) -> dict:
    response = client.post("/api/v1/candidates", json=candidate_payload(**over), headers=key.headers)
    assert response.status_code == 201, response.text
    return response.json()


def run_verify(database_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "WERKMATCH_SECRET_KEY": "cli-test-secret-0123456789"}
    return subprocess.run(
        [*WERKMATCH, "audit", "verify", *extra],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestCandidateRoutesWriteEntries:
    def test_create_read_update_list_delete_each_write_one_entry(self, client, keys, session_factory):
        coach = keys["coach_a"]
        created = client.post("/api/v1/candidates", json=candidate_payload(), headers=coach.headers)
        candidate_id = created.json()["id"]
        read = client.get(f"/api/v1/candidates/{candidate_id}", headers=coach.headers)
        replaced = client.put(
            f"/api/v1/candidates/{candidate_id}",
            headers={**coach.headers, "If-Match": '"1"'},
            json=candidate_payload(external_ref="KL-1", given_name="Fatma"),
        )
        listed = client.get("/api/v1/candidates", headers=coach.headers)
        deleted = client.delete(f"/api/v1/candidates/{candidate_id}", headers=coach.headers)
        responses = [created, read, replaced, listed, deleted]
        assert [r.status_code for r in responses] == [201, 200, 200, 200, 204]

        rows = entries(session_factory)
        assert [r.action for r in rows] == [
            "candidate.create",
            "candidate.read",
            "candidate.update",
            "candidate.list",
            "candidate.erase",
        ]
        assert [r.request_id for r in rows] == [r.headers["x-request-id"] for r in responses]
        for row in rows:
            assert row.subjects == [candidate_id]
            assert row.actor_role == "coach"
            assert row.municipality == "GM0153"
            assert row.result == "ok"
            assert row.origin  # the test client's address
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]

    def test_a_list_names_every_candidate_on_the_page_in_one_entry(self, client, keys, session_factory):
        ids = {create_candidate(client, keys["coach_a"])["id"] for _ in range(3)}
        response = client.get("/api/v1/candidates?limit=2", headers=keys["coach_a"].headers)
        page_ids = {item["id"] for item in response.json()["items"]}
        listing = [r for r in entries(session_factory) if r.action == "candidate.list"]
        assert len(listing) == 1
        assert set(listing[0].subjects) == page_ids
        assert page_ids < ids

    @pytest.mark.parametrize("method", ["get", "put", "delete"])
    def test_a_foreign_or_missing_candidate_writes_nothing(self, client, keys, session_factory, method):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        before = len(entries(session_factory))
        for target in (candidate_id, str(uuid.uuid4())):
            kwargs = {"json": candidate_payload(municipality="GM0141")} if method == "put" else {}
            response = getattr(client, method)(
                f"/api/v1/candidates/{target}", headers=keys["coach_b"].headers, **kwargs
            )
            assert response.status_code == 404
        assert len(entries(session_factory)) == before

    def test_no_personal_data_in_the_log(self, client, keys, session_factory):
        create_candidate(client, keys["coach_a"], given_name="Zeynep", family_name="Yilmaz", bsn="123456782")
        with session_factory() as session:
            dump = " ".join(str(tuple(row)) for row in session.execute(text("SELECT * FROM audit_entry")))
        for secret in ("Zeynep", "Yilmaz", "123456782", "7511"):
            assert secret not in dump


class TestFailClosed:
    def test_a_failing_audit_write_fails_the_request_and_returns_nothing(self, client, keys, session_factory):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        # Corrupt the chain head so the next append collides with an existing seq (a unique violation).
        with session_scope(session_factory) as session:
            session.execute(update(AuditChainHead).values(seq=0))
        response = client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        assert response.status_code == 503
        assert "Fatima" not in response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        created = client.post("/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers)
        assert created.status_code == 503
        assert client.get("/api/v1/health").status_code == 200
        with session_scope(session_factory) as session:
            session.execute(update(AuditChainHead).values(seq=1))
        listed = client.get("/api/v1/candidates", headers=keys["coach_a"].headers).json()
        assert [item["id"] for item in listed["items"]] == [candidate_id]  # the failed create left no row


class TestChain:
    def test_parallel_audited_requests_make_one_linear_chain(self, client, keys, session_factory):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]

        def read(_: int) -> int:
            return client.get(
                f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(read, range(40))) == {200}
        with session_factory() as session:
            report = verify_chain(session)
        assert report.intact, report.problems
        assert report.entries == 41

    def test_racing_first_appends_to_an_empty_log_make_one_linear_chain(self, clean_db, session_factory):
        # The empty log has no chain-head row to lock: the first appends serialise on the advisory lock
        # (PostgreSQL) or the IMMEDIATE transaction (SQLite), and every later one on the head row.
        start = threading.Barrier(6)

        def append(n: int) -> None:
            start.wait(timeout=30)
            with session_factory() as session:
                begin_write(session)
                append_entry(
                    session,
                    actor_key_id=None,
                    actor_role="system",
                    action="audit.list",
                    object_type="audit_entry",
                    object_id=str(n),
                    subjects=[],
                )
                session.commit()

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(append, range(6)))
        with session_factory() as session:
            report = verify_chain(session)
            objects = sorted(e.object_id for e in session.scalars(select(AuditEntry)))
        assert report.intact, report.problems
        assert report.entries == 6
        assert objects == [str(n) for n in range(6)]

    def test_verify_detects_an_edited_entry(self, client, keys, session_factory, database_url):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        for _ in range(3):
            client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        assert run_verify(database_url).returncode == 0
        with session_scope(session_factory) as session:
            session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor_role="admin"))
        result = run_verify(database_url)
        assert result.returncode == 1
        assert "seq 2: entry was altered" in result.stderr

    def test_verify_detects_a_deleted_entry(self, client, keys, session_factory, database_url):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        for _ in range(3):
            client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        with session_scope(session_factory) as session:
            session.execute(text("DELETE FROM audit_subject WHERE seq = 3"))
            session.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
        result = run_verify(database_url)
        assert result.returncode == 1
        assert "seq 3: entries missing" in result.stderr

    def test_verify_detects_the_newest_entry_deleted(self, client, keys, session_factory):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        with session_scope(session_factory) as session:
            session.execute(text("DELETE FROM audit_subject WHERE seq = 2"))
            session.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
        with session_factory() as session:
            report = verify_chain(session)
        assert [str(p) for p in report.problems] == ["seq 2: entries missing at the end (seq 2..2 deleted)"]

    def test_verify_detects_a_recomputed_chain_with_an_anchor(self, client, keys, session_factory):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        with session_factory() as session:
            anchor = (1, verify_chain(session).head_hash)
        client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        with session_factory() as session:
            assert verify_chain(session, anchor=anchor).intact
            assert not verify_chain(session, anchor=(1, "f" * 64)).intact

    def test_an_empty_log_verifies(self, client, database_url):
        result = run_verify(database_url)
        assert result.returncode == 0, result.stderr
        assert '"entries": 0' in result.stdout


class TestAuditApi:
    def test_admin_pages_through_the_log_with_filters(self, client, keys):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        for _ in range(4):
            client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        first = client.get(
            "/api/v1/audit?limit=3&action=candidate.read", headers=keys["admin"].headers
        ).json()
        assert [item["action"] for item in first["items"]] == ["candidate.read"] * 3
        second = client.get(
            f"/api/v1/audit?limit=3&action=candidate.read&before_seq={first['next_before_seq']}",
            headers=keys["admin"].headers,
        ).json()
        assert len(second["items"]) == 1
        assert second["next_before_seq"] is None
        by_candidate = client.get(f"/api/v1/audit?candidate_id={candidate_id}", headers=keys["admin"].headers)
        assert len(by_candidate.json()["items"]) == 5
        assert by_candidate.json()["items"][0]["origin"]

    @pytest.mark.parametrize("role", ["coach_a", "employer_x", "batch"])
    def test_only_admins_read_the_whole_log(self, client, keys, role):
        assert client.get("/api/v1/audit", headers=keys[role].headers).status_code == 403

    def test_a_coach_sees_who_looked_at_an_own_candidate(self, client, keys, make_key):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        colleague = make_key("coach", municipalities=("GM0153", "GM0164"))
        client.get(f"/api/v1/candidates/{candidate_id}", headers=colleague.headers)
        trail = client.get(f"/api/v1/candidates/{candidate_id}/audit", headers=keys["coach_a"].headers)
        assert trail.status_code == 200
        items = trail.json()["items"]
        assert [item["action"] for item in items] == ["candidate.read", "candidate.create"]
        assert items[0]["municipality"] == "GM0153"
        assert all(item["origin"] is None for item in items)

    def test_a_coach_of_another_municipality_gets_404(self, client, keys):
        candidate_id = create_candidate(client, keys["coach_a"])["id"]
        foreign = client.get(f"/api/v1/candidates/{candidate_id}/audit", headers=keys["coach_b"].headers)
        missing = client.get(f"/api/v1/candidates/{uuid.uuid4()}/audit", headers=keys["coach_b"].headers)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["detail"] == missing.json()["detail"]

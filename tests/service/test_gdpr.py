"""GDPR: the art. 15 export, erasure that keeps person-free counts (art. 17), retention and audit pruning."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from service.audit.models import AuditEntry
from service.audit.verify import verify_chain
from service.gdpr.models import CandidateTombstone
from service.gdpr.retention import run_retention
from service.persistence.db import begin_write, session_scope
from service.persistence.models import Candidate
from tests.conftest import REPO_ROOT, candidate_payload, vacancy_payload


def setup_candidate_with_proposal(client, keys) -> tuple[str, str]:
    candidate = client.post(
        "/api/v1/candidates",
        json=candidate_payload(bsn="123456782", sectors=["logistiek"]),
        headers=keys["coach_a"].headers,
    ).json()
    vacancy = client.post(
        "/api/v1/vacancies", json=vacancy_payload(), headers=keys["employer_x"].headers
    ).json()
    proposal = client.post(
        f"/api/v1/vacancies/{vacancy['id']}/proposals",
        json={"candidate_id": candidate["id"]},
        headers=keys["coach_a"].headers,
    )
    assert proposal.status_code == 201, proposal.text
    return candidate["id"], vacancy["id"]


class TestExport:
    def test_the_export_holds_profile_matches_proposals_and_audit_but_no_bsn(self, client, keys):
        candidate_id, vacancy_id = setup_candidate_with_proposal(client, keys)
        client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        response = client.get(f"/api/v1/candidates/{candidate_id}/export", headers=keys["coach_a"].headers)
        assert response.status_code == 200
        export = response.json()
        assert export["candidate"]["given_name"] == "Fatima"
        assert export["bsn_on_file"] is True
        assert "123456782" not in response.text
        assert [p["vacancy_id"] for p in export["proposals"]] == [vacancy_id]
        assert export["matches"]["available"] is True
        assert all("explanation" in item for item in export["matches"]["items"])
        assert [e["action"] for e in export["audit"]] == [
            "candidate.create",
            "proposal.create",
            "candidate.read",
        ]
        assert all("origin" not in e for e in export["audit"])

    def test_the_export_is_itself_audited_and_scoped(self, client, keys, session_factory):
        candidate_id, _ = setup_candidate_with_proposal(client, keys)
        assert (
            client.get(
                f"/api/v1/candidates/{candidate_id}/export", headers=keys["coach_b"].headers
            ).status_code
            == 404
        )
        client.get(f"/api/v1/candidates/{candidate_id}/export", headers=keys["coach_a"].headers)
        with session_factory() as session:
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "candidate.export")
                )
                == 1
            )


class TestErasure:
    def test_delete_erases_the_person_and_keeps_the_counts(self, client, keys, session_factory):
        candidate_id, vacancy_id = setup_candidate_with_proposal(client, keys)
        assert (
            client.delete(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers).status_code
            == 204
        )
        assert (
            client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers).status_code
            == 404
        )
        with session_factory() as session:
            assert session.scalar(select(func.count()).select_from(Candidate)) == 0
            tombstone = session.scalars(select(CandidateTombstone)).one()
            assert (tombstone.municipality, tombstone.sectors, tombstone.reason) == (
                "GM0153",
                ["logistiek"],
                "request",
            )
            proposal = session.execute(text("SELECT candidate_id, status FROM proposal")).one()
            assert proposal == (None, "proposed")  # the outcome survives for reports, without the person
            dump = " ".join(
                str(tuple(r))
                for table in ("candidate_tombstone", "proposal", "audit_entry")
                for r in session.execute(text(f"SELECT * FROM {table}"))
            )
            assert "Fatima" not in dump
            assert "123456782" not in dump
            assert "7511" not in dump
            assert verify_chain(session).intact
        employer_view = client.get(
            f"/api/v1/vacancies/{vacancy_id}/proposals", headers=keys["employer_x"].headers
        )
        assert employer_view.json()["items"][0]["candidate"] is None


class TestRetention:
    def test_inactive_candidates_are_erased_after_the_term(self, client, keys, session_factory):
        for status in ("inactive", "inactive", "active", "placed"):
            client.post(
                "/api/v1/candidates", json=candidate_payload(status=status), headers=keys["coach_a"].headers
            )
        now = datetime.now(UTC)
        with session_scope(session_factory) as session:
            first = session.scalars(select(Candidate).where(Candidate.status == "inactive")).first()
            session.execute(
                update(Candidate).where(Candidate.id != first.id).values(updated_at=now - timedelta(days=400))
            )
        with session_scope(session_factory) as session:
            begin_write(session)
            report = run_retention(session, retention_days=365, audit_retention_days=730)
        assert report.erased_candidates == 1
        with session_factory() as session:
            statuses = sorted(session.scalars(select(Candidate.status)))
            assert statuses == ["active", "inactive", "placed"]  # the recent inactive one stays
            assert session.scalars(select(CandidateTombstone.reason)).all() == ["retention"]
            assert verify_chain(session).intact

    def test_audit_entries_younger_than_183_days_are_never_pruned(self, client, keys, session_factory):
        candidate_id = client.post(
            "/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers
        ).json()["id"]
        for _ in range(3):
            client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        with session_scope(session_factory) as session:
            begin_write(session)
            run_retention(
                session,
                retention_days=None,
                audit_retention_days=183,
                now=datetime.now(UTC) + timedelta(days=182),
            )
        with session_factory() as session:
            assert session.scalar(select(func.count()).select_from(AuditEntry)) == 4
        with pytest.raises(ValueError, match="183"):
            run_retention(None, retention_days=None, audit_retention_days=100)  # type: ignore[arg-type]

    def test_pruning_old_entries_keeps_the_chain_verifiable(
        self, client, keys, session_factory, database_url
    ):
        candidate_id = client.post(
            "/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers
        ).json()["id"]
        for _ in range(3):
            client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers)
        with session_scope(session_factory) as session:
            begin_write(session)
            report = run_retention(
                session,
                retention_days=None,
                audit_retention_days=183,
                now=datetime.now(UTC) + timedelta(days=200),
            )
        assert report.pruned_audit_entries == 4
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WERKMATCH_SECRET_KEY": "cli-test-secret-0123456789",
        }
        verify = subprocess.run(
            [sys.executable, "-m", "scripts.cli", "audit", "verify"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert verify.returncode == 0, verify.stderr
        with session_scope(session_factory) as session:  # deleting the first survivor is still caught
            session.execute(text("DELETE FROM audit_entry WHERE seq = (SELECT min(seq) FROM audit_entry)"))
        with session_factory() as session:
            assert not verify_chain(session).intact

    def test_the_cli_runs(self, database_url):
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WERKMATCH_SECRET_KEY": "cli-test-secret-0123456789",
            "WERKMATCH_RETENTION_DAYS": "365",
        }
        result = subprocess.run(
            [sys.executable, "-m", "scripts.cli", "retention", "run", "--dry-run"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert '"dry_run": true' in result.stdout

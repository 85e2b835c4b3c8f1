"""Admin endpoint of the batch and the published-run reader, over the real app (empty and with one run)."""

from __future__ import annotations

import uuid

from service.batch import store
from service.persistence.db import session_scope


class TestBatchRunsEndpoint:
    def test_admin_lists_runs_and_others_are_forbidden(self, client, keys, session_factory) -> None:
        assert client.get("/api/v1/batch/runs", headers=keys["admin"].headers).json() == {"items": []}
        with session_scope(session_factory) as session:
            snapshot = store.current_snapshot(session)
            run = store.create_run(
                session,
                top_k=5,
                chunk_size=10,
                algorithm="a",
                algorithm_version="1",
                snapshot=snapshot,
                chunks_total=0,
                params={},
            )
            run_id = run.id
        with session_scope(session_factory) as session:
            store.complete_and_publish(session, run_id)
        body = client.get("/api/v1/batch/runs", headers=keys["admin"].headers).json()
        assert [item["id"] for item in body["items"]] == [str(run_id)]
        assert body["items"][0]["published"] is True
        assert body["items"][0]["status"] == "complete"
        one = client.get(f"/api/v1/batch/runs/{run_id}", headers=keys["admin"].headers)
        assert one.status_code == 200
        assert (
            client.get(f"/api/v1/batch/runs/{uuid.uuid4()}", headers=keys["admin"].headers).status_code == 404
        )
        for role in ("coach_a", "employer_x", "batch"):
            assert client.get("/api/v1/batch/runs", headers=keys[role].headers).status_code == 403
        with session_scope(session_factory) as session:
            info, rows = store.read_published_matches(
                session, direction="c2v", subject_id=uuid.uuid4(), limit=5
            )
            assert info is not None
            assert info.id == run_id
            assert rows == []

    def test_nothing_is_published_before_the_first_run(self, client, session_factory) -> None:
        with session_scope(session_factory) as session:
            assert store.read_published_matches(
                session, direction="v2c", subject_id=uuid.uuid4(), limit=5
            ) == (
                None,
                [],
            )

"""Packed batch rankings: the format round-trips exactly, the store reads and exports them per rank, and a
GDPR erasure cuts the person out of every stored ranking (SQLite, and PostgreSQL when DATABASE_URL says
so)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.batch import store
from service.batch.models import C2V, V2C, MatchRanking
from service.batch.packing import pack, repack, unpack, uuid_bytes, without
from service.batch.runner import export_lines
from service.persistence.db import session_scope
from tests.conftest import candidate_payload, vacancy_payload

ids = st.uuids(version=4).map(str)


@st.composite
def rankings(draw: st.DrawFn) -> tuple[list[str], list[int], list[str], list[int], list[float]]:
    subjects = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    counts = [draw(st.integers(0, 7)) for _ in subjects]
    total = sum(counts)
    others = draw(st.lists(ids, min_size=total, max_size=total))
    scores = draw(st.lists(st.integers(0, 10_000), min_size=total, max_size=total))
    kms = draw(
        st.lists(st.floats(0, 20_000, allow_nan=False, allow_infinity=False), min_size=total, max_size=total)
    )
    return subjects, counts, others, scores, kms


class TestFormat:
    @settings(max_examples=150, deadline=None)
    @given(rankings())
    def test_unpack_gives_back_exactly_what_was_packed(self, drawn) -> None:
        subjects, counts, others, scores, kms = drawn
        packed = pack(
            C2V,
            subjects,
            np.asarray(counts, dtype=np.int64),
            uuid_bytes(others) if others else np.zeros((0, 16), dtype=np.uint8),
            np.asarray(scores, dtype=np.int64),
            np.asarray(kms, dtype=np.float64),
        )
        start = 0
        for ranking, subject, count in zip(packed, subjects, counts, strict=True):
            assert (ranking.subject_id, ranking.size) == (subject, count)
            decoded = unpack(ranking.size, ranking.other_ids, ranking.scores, ranking.distances)
            assert list(decoded.entries()) == [
                (rank, others[start + rank - 1], scores[start + rank - 1] / 100, kms[start + rank - 1])
                for rank in range(1, count + 1)
            ]
            assert repack(decoded) == (count, ranking.other_ids, ranking.scores, ranking.distances)
            start += count

    def test_scores_outside_0_to_100_are_refused(self) -> None:
        with pytest.raises(ValueError, match="hundredths"):
            pack(C2V, ["a"], np.asarray([1]), np.zeros((1, 16), np.uint8), np.asarray([10_001]), np.zeros(1))

    def test_a_truncated_blob_is_an_error_not_a_short_ranking(self) -> None:
        with pytest.raises(ValueError, match="corrupt"):
            unpack(2, b"\0" * 16, b"\0" * 4, b"\0" * 16)

    def test_without_removes_every_entry_of_one_id_and_moves_the_rest_up(self) -> None:
        a, b = str(uuid.uuid4()), str(uuid.uuid4())
        (ranking,) = pack(
            V2C, ["s"], np.asarray([3]), uuid_bytes([a, b, a]), np.asarray([900, 800, 700]), np.ones(3)
        )
        left = without(unpack(3, ranking.other_ids, ranking.scores, ranking.distances), a)
        assert list(left.entries()) == [(1, b, 8.0, 1.0)]


def _publish(session_factory, engine, rankings_by_direction: dict[str, list]) -> uuid.UUID:
    with session_scope(session_factory) as session:
        run = store.create_run(
            session,
            top_k=50,
            chunk_size=10,
            algorithm="a",
            algorithm_version="1",
            snapshot=store.current_snapshot(session),
            chunks_total=len(rankings_by_direction),
            params={},
        )
        run_id = run.id
    for chunk_no, (direction, rankings_) in enumerate(rankings_by_direction.items()):
        # The first writer stores the chunk; a second writer of it (a retried task) stores nothing.
        for expected in (True, False):
            written = store.write_chunk(
                engine,
                run_id=run_id,
                direction=direction,
                chunk_no=chunk_no,
                subjects=len(rankings_),
                pairs_scored=1,
                rankings=rankings_,
            )
            assert written is expected
    with session_scope(session_factory) as session:
        store.complete_and_publish(session, run_id)
    return run_id


class TestStore:
    def test_read_export_and_erasure_of_packed_rankings(self, client, keys, session_factory, engine) -> None:
        candidate = client.post(
            "/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers
        ).json()["id"]
        vacancy = client.post("/api/v1/vacancies", json=vacancy_payload(), headers=keys["employer_x"].headers)
        vacancy_id = vacancy.json()["id"]
        other_candidates = sorted(str(uuid.uuid4()) for _ in range(2))
        v2c_order = [other_candidates[0], candidate, other_candidates[1]]
        c2v = pack(
            C2V,
            [candidate],
            np.asarray([1]),
            uuid_bytes([vacancy_id]),
            np.asarray([8125]),
            np.asarray([12.5]),
        )
        v2c = pack(
            V2C,
            [vacancy_id],
            np.asarray([3]),
            uuid_bytes(v2c_order),
            np.asarray([9000, 8125, 4000]),
            np.asarray([3.25, 12.5, 40.0]),
        )
        run_id = _publish(session_factory, engine, {C2V: c2v, V2C: v2c})

        with session_scope(session_factory) as session:
            info, rows = store.read_published_matches(
                session, direction=V2C, subject_id=uuid.UUID(vacancy_id), limit=2
            )
            assert info is not None
            assert info.rows_written == 4
            assert [(r.rank, str(r.other_id), r.score, r.distance_km) for r in rows] == [
                (1, other_candidates[0], 90.0, 3.25),
                (2, candidate, 81.25, 12.5),
            ]
            exported = "".join(export_lines(store.iter_run_results(session, run_id)))
        assert exported.splitlines() == [
            "direction,subject_id,rank,other_id,score,distance_km",
            f"c2v,{candidate},1,{vacancy_id},81.25,12.5",
            f"v2c,{vacancy_id},1,{other_candidates[0]},90.00,3.2",
            f"v2c,{vacancy_id},2,{candidate},81.25,12.5",
            f"v2c,{vacancy_id},3,{other_candidates[1]},40.00,40.0",
        ]

        deleted = client.delete(f"/api/v1/candidates/{candidate}", headers=keys["coach_a"].headers)
        assert deleted.status_code == 204
        with session_scope(session_factory) as session:
            stored = session.execute(select(MatchRanking.direction, MatchRanking.subject_id)).all()
            assert [(d, str(s)) for d, s in stored] == [(V2C, vacancy_id)]
            _, rows = store.read_published_matches(
                session, direction=V2C, subject_id=uuid.UUID(vacancy_id), limit=50
            )
            assert [(r.rank, str(r.other_id)) for r in rows] == [
                (1, other_candidates[0]),
                (2, other_candidates[1]),
            ]
            assert candidate not in "".join(export_lines(store.iter_run_results(session, run_id)))


def test_row_ids_pack_even_with_a_placeholder_row() -> None:
    """A profile removed before its index materialised leaves a placeholder row without an id; packing the
    index's ids must still line up (that row is never alive, so never ranked)."""
    from matching.engine import MatchEngine
    from matching.synthetic import make_world
    from matching.taxonomy import load_taxonomy
    from service.batch.worker import _row_id_bytes

    taxonomy = load_taxonomy()
    engine = MatchEngine(taxonomy=taxonomy)
    vacancies = [replace(v, id=str(uuid.uuid4())) for v in make_world(taxonomy).vacancies(3, seed=5)]
    index = engine.build_vacancy_index(vacancies[:1])
    index.upsert(vacancies[1:])
    index.remove([vacancies[1].id])  # removed before the rows were built: a placeholder row
    index.materialise()
    packed = _row_id_bytes(index)
    assert packed.shape == (len(index.row_ids), 16)
    for row, row_id in enumerate(index.row_ids.tolist()):
        expected = uuid.UUID(row_id).bytes if row_id else bytes(16)
        assert bytes(packed[row]) == expected

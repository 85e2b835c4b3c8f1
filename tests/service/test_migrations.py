"""The Alembic migrations build, tear down and rebuild the schema on SQLite and on PostgreSQL."""

from __future__ import annotations

import os

from sqlalchemy import inspect, text

from service.persistence.base import Base
from service.persistence.db import make_engine
from service.persistence.migrate import downgrade, upgrade
from service.settings import normalise_database_url


def _scratch_url(tmp_path) -> str:
    """A database of its own, so tearing it down does not disturb the session's database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres")):
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    url = normalise_database_url(url)
    base, _, name = url.rpartition("/")
    scratch = f"{name.split('?')[0]}_migrations"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    admin.dispose()
    return f"{base}/{scratch}"


class TestMigrations:
    def test_up_down_up_matches_the_models(self, tmp_path):
        url = _scratch_url(tmp_path)
        upgrade(url)
        engine = make_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {table.name for table in Base.metadata.sorted_tables} <= tables
        downgrade(url, "base")
        engine.dispose()
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(url)
        engine.dispose()
        engine = make_engine(url)
        assert {table.name for table in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())
        engine.dispose()

    def test_models_and_migrations_agree(self, tmp_path):
        """Autogenerate finds nothing to do: every model change has its revision."""
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        url = _scratch_url(tmp_path)
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        engine.dispose()
        assert diff == []

    def test_stored_batch_rows_survive_the_move_to_packed_rankings(self, tmp_path):
        """Revision 0800 packs the per-rank rows of existing runs; the export reads the same, and the
        downgrade unpacks them again."""
        import uuid

        from sqlalchemy.orm import Session

        from service.batch.runner import export_lines
        from service.batch.store import iter_run_results

        url = _scratch_url(tmp_path)
        upgrade(url, "0700_merge")
        run_id, subjects = uuid.uuid4(), sorted(uuid.uuid4() for _ in range(2))
        others = [uuid.uuid4() for _ in range(3)]
        rows = [
            ("c2v", subjects[0], 1, others[0], 93.17, 4.349999),
            ("c2v", subjects[0], 2, others[1], 61.0, 0.0),
            ("v2c", subjects[1], 1, others[2], 12.34, 171.25),
        ]
        engine = make_engine(url)
        with engine.begin() as connection:
            runs = Base.metadata.tables["match_run"]
            connection.execute(
                runs.insert().values(
                    id=run_id,
                    status="complete",
                    top_k=50,
                    chunk_size=10,
                    algorithm="a",
                    algorithm_version="1",
                    candidates=1,
                    vacancies=1,
                    chunks_total=2,
                    pairs_scored=2,
                    rows_written=3,
                    params={},
                )
            )
            for direction, subject, rank, other, score, km in rows:
                connection.execute(
                    text(
                        "INSERT INTO match_result (run_id, direction, subject_id, rank, other_id, score,"
                        " distance_km) VALUES (:run, :d, :s, :r, :o, :score, :km)"
                    ).bindparams(
                        run=run_id.hex if engine.dialect.name == "sqlite" else run_id,
                        d=direction,
                        s=subject.hex if engine.dialect.name == "sqlite" else subject,
                        r=rank,
                        o=other.hex if engine.dialect.name == "sqlite" else other,
                        score=score,
                        km=km,
                    )
                )
        engine.dispose()
        expected = "".join(export_lines((d, str(s), r, str(o), score, km) for d, s, r, o, score, km in rows))
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            assert "".join(export_lines(iter_run_results(session, run_id))) == expected
        engine.dispose()
        downgrade(url, "0700_merge")
        engine = make_engine(url)
        with engine.connect() as connection:
            back = connection.execute(
                text("SELECT direction, rank, score, distance_km FROM match_result ORDER BY direction, rank")
            ).all()
        engine.dispose()
        assert [tuple(row) for row in back] == [(d, r, score, km) for d, _s, r, _o, score, km in rows]

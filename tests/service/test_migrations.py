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

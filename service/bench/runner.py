"""`werkmatch bench`: seed, measure every part, print the table, write the JSON.

Parts run in order and independently: a part that cannot run is recorded as not measured with its reason and
the others still run. Targets (issue 7, for this 2-core machine) are attached to the figures at the scale they
are defined for (twente: 50,000 candidates × 20,000 vacancies).
"""

from __future__ import annotations

import gc
import os
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from service.bench import yardstick
from service.bench.datasets import (
    DEFAULT_PG_URL,
    SCALES,
    DataSet,
    ensure_postgres_database,
    postgres_reason,
    seed_database,
)
from service.bench.report import Figure, Report, Target, at_least, at_most

__all__ = ["BenchOptions", "run_bench"]

PARTS = ("live", "pg", "loop", "batch", "dask")
MIB = 1024 * 1024


@dataclass
class BenchOptions:
    """Everything `werkmatch bench` can be told."""

    scale: str = "municipality"
    seed: int = 1
    workdir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "werkmatch-bench")
    postgres_url: str = DEFAULT_PG_URL
    fresh: bool = False
    skip: frozenset[str] = frozenset()
    live_queries: int | None = None
    pg_queries: int | None = None
    command: str = "werkmatch bench"
    log: Callable[[str], None] = print


def _targets(scale: str) -> dict[str, Target]:
    """Issue 7's targets, attached only at the scale they are defined for."""
    if scale != "twente":
        return {}
    return {
        "engine_live_c2v_p95_ms": at_most(3, " ms"),
        "engine_vs_pg_p95_ratio": at_least(10, "×"),
        "engine_batch_vs_loop_ratio": at_least(200, "×"),
        "batch_sqlite_seconds": at_most(60, " s"),
        "batch_postgres_seconds": at_most(60, " s"),
        "batch_sqlite_peak_rss_mib": at_most(2048, " MiB"),
        "batch_postgres_peak_rss_mib": at_most(2048, " MiB"),
        "engine_index_mib_per_100k_profiles": at_most(50, " MiB"),
    }


class _Recorder:
    """Adds figures with the scale's targets; turns a failing part into 'not measured' figures."""

    def __init__(self, report: Report, targets: dict[str, Target], log: Callable[[str], None]) -> None:
        self.report = report
        self.targets = targets
        self.log = log

    def add(
        self, key: str, section: str, label: str, value: float | int | str | bool, unit: str = ""
    ) -> None:
        figure = self.report.add(Figure(key, section, label, value, unit, self.targets.get(key)))
        self.log(f"  {label}: {figure.shown()}")  # progress: figures appear as soon as they are measured

    def missing(self, keys: list[tuple[str, str, str]], section: str, reason: str) -> None:
        for key, label, unit in keys:
            self.report.missing(
                key=key, section=section, label=label, reason=reason, unit=unit, target=self.targets.get(key)
            )


LIVE_KEYS = [
    ("engine_live_c2v_p50_ms", "live top-50 candidate→vacancies p50", " ms"),
    ("engine_live_c2v_p95_ms", "live top-50 candidate→vacancies p95", " ms"),
    ("engine_live_c2v_p99_ms", "live top-50 candidate→vacancies p99", " ms"),
    ("engine_live_v2c_p50_ms", "live top-50 vacancy→candidates p50", " ms"),
    ("engine_live_v2c_p95_ms", "live top-50 vacancy→candidates p95", " ms"),
    ("engine_live_v2c_p99_ms", "live top-50 vacancy→candidates p99", " ms"),
]
PG_KEYS = [
    ("pg_peer_c2v_p50_ms", "PostgreSQL peer, 1 statement/candidate p50", " ms"),
    ("pg_peer_c2v_p95_ms", "PostgreSQL peer, 1 statement/candidate p95", " ms"),
    ("pg_peer_c2v_p99_ms", "PostgreSQL peer, 1 statement/candidate p99", " ms"),
    ("engine_vs_pg_p50_ratio", "engine faster than peer at p50", "×"),
    ("engine_vs_pg_p95_ratio", "engine faster than peer at p95", "×"),
]
LOOP_KEYS = [
    ("loop_pairs_per_s", "per-pair Python loop (reference), 1 core", " pairs/s"),
    ("engine_batch_pairs_per_s", "batch engine in-process, both directions", " pairs/s"),
    ("engine_batch_vs_loop_ratio", "batch engine faster than the loop", "×"),
    ("loop_extrapolated_full_batch_hours", "loop for the whole data set (extrapolated)", " h"),
    ("loop_top50_identical", "loop top-50 = engine top-50 on the sample", ""),
]


def _batch_keys(db: str) -> list[tuple[str, str, str]]:
    return [
        (f"batch_{db}_seconds", f"`werkmatch batch run` on {db}: wall", " s"),
        (f"batch_{db}_pairs_per_s", f"batch on {db}: pairs/s (both directions)", " pairs/s"),
        (f"batch_{db}_peak_rss_mib", f"batch on {db}: peak RSS, process tree", " MiB"),
    ]


DASK_KEYS = [
    ("batch_dask_seconds", "same batch on Dask LocalCluster (2 workers): wall", " s"),
    ("batch_dask_vs_local_wall_ratio", "Dask wall ÷ local processes wall", "×"),
    ("batch_dask_export_identical", "`batch export` byte-identical to the local run", ""),
]


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def run_bench(options: BenchOptions) -> Report:
    """Seed the data set and measure every part not skipped; returns the report (not yet printed)."""
    scale = SCALES[options.scale]
    workdir = options.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(scale.name, options.command)
    if hasattr(os, "getloadavg"):
        report.context["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    rec = _Recorder(report, _targets(scale.name), options.log)
    log = options.log
    yardstick.record(report, log)

    # -- data sets ------------------------------------------------------------------------------------------
    sqlite_url = f"sqlite:///{(workdir / f'bench-{scale.name}.db').resolve()}"
    log(f"seeding SQLite {sqlite_url} ({scale.candidates:,} × {scale.vacancies:,})")
    sqlite_ds = seed_database(
        sqlite_url,
        scale=scale,
        seed=options.seed,
        marker=workdir / f"bench-{scale.name}.sqlite.json",
        fresh=options.fresh,
    )
    pg_ds: DataSet | None = None
    pg_reason = postgres_reason(options.postgres_url)
    if pg_reason is None:
        try:
            ensure_postgres_database(options.postgres_url)
            log(f"seeding PostgreSQL {options.postgres_url}")
            pg_ds = seed_database(
                options.postgres_url,
                scale=scale,
                seed=options.seed,
                marker=workdir / f"bench-{scale.name}.postgres.json",
                fresh=options.fresh,
            )
        except Exception as exc:  # noqa: BLE001 - reported as the reason the PostgreSQL parts are missing
            pg_reason = _reason(exc)
    report.context.update(
        {
            "candidates_seeded": scale.candidates,
            "vacancies_seeded": scale.vacancies,
            "candidates_active": sqlite_ds.active_candidates,
            "vacancies_open": sqlite_ds.open_vacancies,
            "seed": options.seed,
            "seed_sqlite_seconds": round(sqlite_ds.seconds, 2) if not sqlite_ds.reused else "reused",
            "seed_postgres_seconds": (round(pg_ds.seconds, 2) if not pg_ds.reused else "reused")
            if pg_ds
            else None,
            "postgres": options.postgres_url if pg_ds else f"not available: {pg_reason}",
        }
    )
    rec.add("candidates_active", "data", "active candidates", sqlite_ds.active_candidates)
    rec.add("vacancies_open", "data", "open vacancies", sqlite_ds.open_vacancies)

    # -- engine: live, PostgreSQL peer, loop vs batch (one load, from the peer's data when possible)
    wants_engine = {"live", "pg", "loop"} - options.skip
    if wants_engine:
        source = pg_ds.url if pg_ds is not None else sqlite_url
        try:
            from service.bench.engine_figures import build

            log(f"loading profiles and building engine indexes from {source.split('@')[-1]}")
            indexed = build(source)
            report.context["engine_load_seconds"] = round(indexed.load_seconds, 2)
            report.context["engine_index_build_seconds"] = round(indexed.build_seconds, 2)
            profiles = len(indexed.candidate_index) + len(indexed.vacancy_index)
            index_bytes = indexed.candidate_index.nbytes() + indexed.vacancy_index.nbytes()
            rec.add(
                "engine_index_mib_per_100k_profiles",
                "1 live engine",
                "index memory per 100k profiles",
                round(index_bytes / MIB * 100_000 / max(profiles, 1), 2),
                " MiB",
            )
            if indexed.process_bytes is not None:
                rec.add(
                    "engine_process_mib_per_100k_profiles",
                    "1 live engine",
                    "process memory per 100k profiles (indexes + records, RSS growth of a streamed build)",
                    round(indexed.process_bytes / MIB * 100_000 / max(profiles, 1), 1),
                    " MiB",
                )
        except Exception as exc:  # noqa: BLE001
            reason = _reason(exc)
            log(traceback.format_exc())
            rec.missing(LIVE_KEYS, "1 live engine", reason)
            rec.missing(PG_KEYS, "2 PostgreSQL peer", reason)
            rec.missing(LOOP_KEYS, "3 loop vs batch engine", reason)
            indexed = None
        if indexed is not None:
            _engine_parts(indexed, options=options, rec=rec, pg_ds=pg_ds, pg_reason=pg_reason)
            del indexed
            gc.collect()

    # -- the nightly batch end to end, then on Dask ----------------------------------------------------------
    local_sqlite = None
    if "batch" not in options.skip:
        from service.bench.batch_figures import run_batch

        for db, url, reason in (("sqlite", sqlite_url, None), ("postgres", options.postgres_url, pg_reason)):
            if reason is not None:
                rec.missing(_batch_keys(db), "4 nightly batch", reason)
                continue
            try:
                log(f"werkmatch batch run on {db}")
                run = run_batch(url)
            except Exception as exc:  # noqa: BLE001
                rec.missing(_batch_keys(db), "4 nightly batch", _reason(exc))
                continue
            if db == "sqlite":
                local_sqlite = run
            rec.add(
                f"batch_{db}_seconds",
                "4 nightly batch",
                f"`werkmatch batch run` on {db}: wall",
                round(run.seconds, 2),
                " s",
            )
            rec.add(
                f"batch_{db}_pairs_per_s",
                "4 nightly batch",
                f"batch on {db}: pairs/s (both directions)",
                round(run.pairs_per_second),
                " pairs/s",
            )
            rec.add(
                f"batch_{db}_peak_rss_mib",
                "4 nightly batch",
                f"batch on {db}: peak RSS, process tree",
                round(run.peak_rss_bytes / MIB, 1),
                " MiB",
            )
            report.context[f"batch_{db}_run_id"] = run.run_id
            report.context[f"batch_{db}_rows_written"] = run.rows_written
    if "dask" not in options.skip:
        if local_sqlite is None:
            rec.missing(DASK_KEYS, "5 Dask", "needs the local SQLite batch run of part 4 (skipped or failed)")
        else:
            try:
                from service.bench.batch_figures import compare_on_dask

                log("werkmatch batch run --scheduler (Dask LocalCluster, 2 workers)")
                dask = compare_on_dask(sqlite_url, local=local_sqlite, workdir=workdir)
                rec.add(
                    "batch_dask_seconds",
                    "5 Dask",
                    "same batch on Dask LocalCluster (2 workers): wall",
                    round(dask.run.seconds, 2),
                    " s",
                )
                rec.add(
                    "batch_dask_vs_local_wall_ratio",
                    "5 Dask",
                    "Dask wall ÷ local processes wall",
                    round(dask.run.seconds / local_sqlite.seconds, 2),
                    "×",
                )
                rec.add(
                    "batch_dask_export_identical",
                    "5 Dask",
                    "`batch export` byte-identical to the local run",
                    dask.exports_identical,
                )
                report.context["batch_export_bytes"] = dask.export_bytes
                report.context["batch_export_sha256_local"] = dask.local_digest
                report.context["batch_export_sha256_dask"] = dask.dask_digest
                report.context["dask_cluster_start_seconds"] = round(dask.cluster_seconds, 2)
            except Exception as exc:  # noqa: BLE001
                rec.missing(DASK_KEYS, "5 Dask", _reason(exc))
    return report


def _engine_parts(
    indexed: object, *, options: BenchOptions, rec: _Recorder, pg_ds: DataSet | None, pg_reason: str | None
) -> None:
    from service.bench.engine_figures import Indexed, live_latency, loop_vs_batch

    assert isinstance(indexed, Indexed)
    scale = SCALES[options.scale]
    log = options.log
    live = None
    if "live" not in options.skip or "pg" not in options.skip:
        try:
            queries = options.live_queries or scale.live_queries
            log(f"live top-50: {queries} queries per direction, pinned to one core")
            live = live_latency(indexed, queries=queries)
            for direction, values in (("c2v", live.c2v), ("v2c", live.v2c)):
                arrow = "candidate→vacancies" if direction == "c2v" else "vacancy→candidates"
                for name, value in zip(("p50", "p95", "p99"), values, strict=True):
                    rec.add(
                        f"engine_live_{direction}_{name}_ms",
                        "1 live engine",
                        f"live top-50 {arrow} {name}",
                        round(value, 3),
                        " ms",
                    )
            rec.report.context["engine_live_queries_per_direction"] = live.queries
            rec.report.context["engine_live_pinned_core"] = live.core
        except Exception as exc:  # noqa: BLE001
            log(traceback.format_exc())
            rec.missing(LIVE_KEYS, "1 live engine", _reason(exc))
    if "pg" not in options.skip:
        if pg_ds is None:
            rec.missing(PG_KEYS, "2 PostgreSQL peer", pg_reason or "PostgreSQL not available")
        else:
            try:
                from service.bench.pg_peer import load_peer_tables, time_peer

                conninfo = pg_ds.url.replace("postgresql+psycopg://", "postgresql://")
                log("PostgreSQL peer: loading its tables (COPY, GIN + GiST indexes)")
                load_seconds = load_peer_tables(
                    conninfo,
                    candidates=indexed.candidate_index,
                    vacancies=indexed.vacancy_index,
                    max_travel_km=float(indexed.engine.algorithm.thresholds["max_travel_km"]),
                )
                queries = options.pg_queries or scale.pg_queries
                log(f"PostgreSQL peer: {queries} statements")
                peer = time_peer(
                    conninfo,
                    candidate_ids=[c.id for c in indexed.candidates],
                    algorithm=indexed.engine.algorithm,
                    queries=queries,
                )
                rec.add(
                    "pg_peer_c2v_p50_ms",
                    "2 PostgreSQL peer",
                    "PostgreSQL peer, 1 statement/candidate p50",
                    round(peer.p50, 3),
                    " ms",
                )
                rec.add(
                    "pg_peer_c2v_p95_ms",
                    "2 PostgreSQL peer",
                    "PostgreSQL peer, 1 statement/candidate p95",
                    round(peer.p95, 3),
                    " ms",
                )
                rec.add(
                    "pg_peer_c2v_p99_ms",
                    "2 PostgreSQL peer",
                    "PostgreSQL peer, 1 statement/candidate p99",
                    round(peer.p99, 3),
                    " ms",
                )
                if live is not None:
                    rec.add(
                        "engine_vs_pg_p50_ratio",
                        "2 PostgreSQL peer",
                        "engine faster than peer at p50",
                        round(peer.p50 / live.c2v[0], 2),
                        "×",
                    )
                    rec.add(
                        "engine_vs_pg_p95_ratio",
                        "2 PostgreSQL peer",
                        "engine faster than peer at p95",
                        round(peer.p95 / live.c2v[1], 2),
                        "×",
                    )
                else:
                    rec.missing(PG_KEYS[3:], "2 PostgreSQL peer", "engine live latency not measured")
                rec.report.context.update(
                    {
                        "pg_peer_queries": peer.queries,
                        "pg_peer_mean_rows": peer.mean_rows,
                        "pg_peer_load_seconds": round(load_seconds, 2),
                        "pg_peer_plan": peer.plan,
                    }
                )
            except Exception as exc:  # noqa: BLE001
                log(traceback.format_exc())
                rec.missing(PG_KEYS, "2 PostgreSQL peer", _reason(exc))
    if "loop" not in options.skip:
        try:
            log(f"per-pair loop on a sample (~{scale.loop_seconds:g} s), then the batch engine in-process")
            result = loop_vs_batch(indexed, budget_seconds=scale.loop_seconds, workers=os.cpu_count())
            rec.add(
                "loop_pairs_per_s",
                "3 loop vs batch engine",
                "per-pair Python loop (reference), 1 core",
                round(result.loop_pairs_per_second),
                " pairs/s",
            )
            rec.add(
                "engine_batch_pairs_per_s",
                "3 loop vs batch engine",
                f"batch engine, indexes in memory, both directions, {result.batch_workers} forked workers",
                round(result.batch_pairs_per_second),
                " pairs/s",
            )
            rec.add(
                "engine_batch_vs_loop_ratio",
                "3 loop vs batch engine",
                "batch engine faster than the loop",
                round(result.batch_pairs_per_second / result.loop_pairs_per_second, 1),
                "×",
            )
            rec.add(
                "loop_extrapolated_full_batch_hours",
                "3 loop vs batch engine",
                "loop for the whole data set (extrapolated)",
                round(result.batch_pairs / result.loop_pairs_per_second / 3600, 3),
                " h",
            )
            rec.add(
                "loop_top50_identical",
                "3 loop vs batch engine",
                f"loop top-50 = engine top-50 ({result.top50_checked} candidates)",
                result.top50_identical,
            )
            rec.report.context.update(
                {
                    "loop_sample_candidates": result.loop_candidates,
                    "loop_sample_pairs": result.loop_pairs,
                    "engine_batch_seconds": round(result.batch_seconds, 2),
                }
            )
        except Exception as exc:  # noqa: BLE001
            log(traceback.format_exc())
            rec.missing(LOOP_KEYS, "3 loop vs batch engine", _reason(exc))

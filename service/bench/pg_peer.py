"""The PostgreSQL peer: the live query as ONE SQL statement per candidate, the way a municipal IT team would.

The peer gets the same data as the engine, already resolved to taxonomy concepts (a team would import ESCO and
store concept ids), in two plain tables with proper indexes: GIN on the competence array, GiST on the
earth-distance point (``cube``/``earthdistance``), a b-tree on status. Its statement applies the same hard
filters (open, within the candidate's radius capped at the algorithm's maximum, an allowed work country, the
garantiebaan rule) and the same weights, written as SQL: competence coverage from array intersections
(``intarray``), ISCO proximity for the occupation, language/education ordinals, hours overlap, licences and
certificates, the unmet-requirement penalty, ``ORDER BY`` score ``LIMIT 50``.

Differences, all in the peer's favour (it does less work than the engine): it pre-filters on ``skills &&``
(vacancies sharing at least one competence concept — what makes the GIN index useful), it does not credit
related competences or the occupation's skill profile, and it returns scores without explanations.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from matching.algorithms import AlgorithmConfig
from matching.encoding import LICENCES, EncodedCandidate, EncodedVacancy
from matching.index import CandidateIndex, VacancyIndex

__all__ = ["PeerLatency", "load_peer_tables", "peer_sql", "time_peer"]

SCHEMA = "bench_peer"


class _Ids:
    """Concept keys → small integers (the team's concept table)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        return self._ids.setdefault(key, len(self._ids) + 1)

    def many(self, keys: Iterable[str]) -> list[int]:
        return sorted({self(k) for k in keys})


def _isco(code: str | None) -> tuple[str | None, str | None, str | None]:
    digits = (code or "").strip()
    return (
        digits[:4] if len(digits) >= 4 else None,
        digits[:3] if len(digits) >= 3 else None,
        digits[:2] if len(digits) >= 2 else None,
    )


def _licences(mask: int) -> list[int]:
    return [bit for bit in range(len(LICENCES)) if mask & (1 << bit)]


_DDL = f"""
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS intarray;
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.vacancy (
    id text PRIMARY KEY, status text NOT NULL, country text NOT NULL, lat float8 NOT NULL,
    lon float8 NOT NULL, garantiebaan boolean NOT NULL, skills int[] NOT NULL, required int[] NOT NULL,
    desired int[] NOT NULL, inferred boolean NOT NULL, occupation int, isco4 text, isco3 text, isco2 text,
    nl smallint NOT NULL, de smallint NOT NULL, en smallint NOT NULL, education smallint NOT NULL,
    licences int[] NOT NULL, certificates int[] NOT NULL, hours_min smallint NOT NULL,
    hours_max smallint NOT NULL
);
CREATE TABLE {SCHEMA}.candidate (
    id text PRIMARY KEY, country text NOT NULL, work_countries text[] NOT NULL, lat float8 NOT NULL,
    lon float8 NOT NULL, limit_km float8 NOT NULL, skills int[] NOT NULL, occupations int[] NOT NULL,
    isco4 text[] NOT NULL, isco3 text[] NOT NULL, isco2 text[] NOT NULL,
    nl smallint NOT NULL, de smallint NOT NULL, en smallint NOT NULL, education smallint NOT NULL,
    licences int[] NOT NULL, certificates int[] NOT NULL, hours_min smallint NOT NULL,
    hours_max smallint NOT NULL, target_group_register boolean NOT NULL
);
"""

_INDEXES = f"""
CREATE INDEX vacancy_skills_gin ON {SCHEMA}.vacancy USING gin (skills gin__int_ops);
CREATE INDEX vacancy_earth_gist ON {SCHEMA}.vacancy USING gist (ll_to_earth(lat, lon));
CREATE INDEX vacancy_status ON {SCHEMA}.vacancy (status);
ANALYZE {SCHEMA}.vacancy;
ANALYZE {SCHEMA}.candidate;
"""


def load_peer_tables(
    conninfo: str, *, candidates: CandidateIndex, vacancies: VacancyIndex, max_travel_km: float
) -> float:
    """(Re)create the peer's tables from the encoded profiles (COPY), index, analyse; returns seconds."""
    import psycopg

    started = time.perf_counter()
    ids = _Ids()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(_DDL)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {SCHEMA}.vacancy FROM STDIN") as copy:
                for v in vacancies:
                    copy.write_row(_vacancy_row(v, ids))
            with cursor.copy(f"COPY {SCHEMA}.candidate FROM STDIN") as copy:
                for c in candidates:
                    copy.write_row(_candidate_row(c, ids, max_travel_km=max_travel_km))
        connection.execute(_INDEXES)
    return time.perf_counter() - started


def _vacancy_row(v: EncodedVacancy, ids: _Ids) -> tuple[object, ...]:
    isco4, isco3, isco2 = _isco(v.isco)
    return (
        v.id,
        "open",
        v.country,
        v.lat,
        v.lon,
        v.garantiebaan,
        ids.many(v.required | v.desired),
        ids.many(v.required),
        ids.many(v.desired),
        v.inferred,
        ids(v.occupation_key) if v.occupation_key else None,
        isco4,
        isco3,
        isco2,
        v.languages.get("nl", 0),
        v.languages.get("de", 0),
        v.languages.get("en", 0),
        -1 if v.education is None else v.education,
        _licences(v.licences),
        ids.many(f"cert:{c}" for c in v.certificates),
        v.hours_min,
        v.hours_max,
    )


def _candidate_row(c: EncodedCandidate, ids: _Ids, *, max_travel_km: float) -> tuple[object, ...]:
    iscos = [_isco(isco) for _key, _label, _source, isco in c.occupation_labels]
    return (
        c.id,
        c.country,
        sorted(c.work_countries),
        c.lat,
        c.lon,
        float(min(c.max_travel_km, max_travel_km)),
        ids.many(c.held_skills),
        ids.many(key for key, *_ in c.occupation_labels),
        sorted({i[0] for i in iscos if i[0]}),
        sorted({i[1] for i in iscos if i[1]}),
        sorted({i[2] for i in iscos if i[2]}),
        c.languages.get("nl", 0),
        c.languages.get("de", 0),
        c.languages.get("en", 0),
        -1 if c.education is None else c.education,
        _licences(c.licences),
        ids.many(f"cert:{k}" for k in c.certificates),
        c.hours_min,
        c.hours_max,
        c.target_group_register,
    )


def peer_sql(algorithm: AlgorithmConfig) -> str:
    """The peer's statement for one candidate (parameter ``%(id)s``), with the algorithm's weights inlined."""
    # float8 literals: numeric arithmetic would make the peer slower than a careful team's statement.
    w = {k: f"{v!r}::float8" for k, v in algorithm.weights.items()}
    t = {k: f"{v!r}::float8" for k, v in algorithm.thresholds.items()}
    lang_terms = " + ".join(
        f"CASE WHEN v.{lang} > 0 THEN greatest(1 - {t['language_step_penalty']} "
        f"* greatest(v.{lang} - c.{lang}, 0),"
        f" 0) ELSE 0 END"
        for lang in ("nl", "de", "en")
    )
    lang_count = " + ".join(f"(v.{lang} > 0)::int" for lang in ("nl", "de", "en"))
    lang_unmet = " + ".join(f"(v.{lang} > c.{lang})::int" for lang in ("nl", "de", "en"))
    return f"""
SELECT v.id, round((s.base * power({t["unmet_multiplier"]}, s.unmet))::numeric, 2) AS score, d.km
FROM {SCHEMA}.candidate c
JOIN {SCHEMA}.vacancy v
  ON v.status = 'open'
 AND v.skills && c.skills
 AND earth_box(ll_to_earth(c.lat, c.lon), c.limit_km * 1000.0) @> ll_to_earth(v.lat, v.lon)
 AND v.country = ANY (c.work_countries)
 AND (NOT v.garantiebaan OR c.target_group_register)
CROSS JOIN LATERAL (
  SELECT earth_distance(ll_to_earth(c.lat, c.lon), ll_to_earth(v.lat, v.lon)) / 1000.0 AS km) d
CROSS JOIN LATERAL (
  SELECT least(icount(v.required & c.skills)::float8
               / greatest(CASE WHEN v.inferred THEN least(cardinality(v.required), {t["inferred_cap"]})
                               ELSE cardinality(v.required) END, 1), 1.0) AS req_cov,
         icount(v.desired & c.skills)::float8 / greatest(cardinality(v.desired), 1) AS des_cov,
         {lang_count} AS n_lang,
         {lang_terms} AS lang_sum,
         {lang_unmet} AS lang_unmet,
         cardinality(v.licences) - icount(v.licences & c.licences) AS lic_missing,
         cardinality(v.certificates) - icount(v.certificates & c.certificates) AS cert_missing) f
CROSS JOIN LATERAL (
  SELECT {w["competences"]} * CASE
             WHEN cardinality(v.required) > 0 AND cardinality(v.desired) > 0
               THEN {t["required_share"]} * f.req_cov + (1 - {t["required_share"]}) * f.des_cov
             WHEN cardinality(v.required) > 0 THEN f.req_cov
             WHEN cardinality(v.desired) > 0 THEN f.des_cov
             ELSE 0.5 END
       + {w["occupation"]} * CASE
             WHEN v.occupation = ANY (c.occupations) THEN {t["occupation_same"]}
             WHEN v.isco4 = ANY (c.isco4) THEN {t["occupation_unit_group"]}
             WHEN v.isco3 = ANY (c.isco3) THEN {t["occupation_minor_group"]}
             WHEN v.isco2 = ANY (c.isco2) THEN {t["occupation_sub_major"]}
             ELSE 0 END
       + {w["language"]} * CASE WHEN f.n_lang = 0 THEN 1 ELSE f.lang_sum / f.n_lang END
       + {w["travel"]} * (1 - (1 - {t["travel_score_at_limit"]}) * d.km / greatest(c.limit_km, 1))
       + {w["hours"]} * least(greatest(
             (least(c.hours_max, v.hours_max) - greatest(c.hours_min, v.hours_min) + 4)::float8
             / (v.hours_max - v.hours_min + 4), 0), 1)
       + {w["education"]} * CASE WHEN v.education < 0 THEN 1 WHEN c.education < 0 THEN 0.5
             ELSE greatest(1 - {t["education_step_penalty"]} * greatest(v.education - c.education, 0), 0) END
       + {w["driving_licences"]} * CASE WHEN cardinality(v.licences) = 0 THEN 1
             ELSE 1 - f.lic_missing::float8 / cardinality(v.licences) END
       + {w["certificates"]} * CASE WHEN cardinality(v.certificates) = 0 THEN 1
             ELSE 1 - f.cert_missing::float8 / cardinality(v.certificates) END AS base,
         f.lang_unmet + f.lic_missing + f.cert_missing AS unmet) s
WHERE c.id = %(id)s
  AND d.km <= c.limit_km
ORDER BY s.unmet > 0, s.base * power({t["unmet_multiplier"]}, s.unmet) DESC, v.id
LIMIT 50
"""


@dataclass(frozen=True, slots=True)
class PeerLatency:
    """Client-side latency of the peer's statement (ms), mean rows returned, and the plan it ran."""

    p50: float
    p95: float
    p99: float
    queries: int
    mean_rows: float
    plan: str


def time_peer(
    conninfo: str,
    *,
    candidate_ids: Sequence[str],
    algorithm: AlgorithmConfig,
    queries: int,
    seed: int = 7,
    warmup: int = 10,
) -> PeerLatency:
    """Run the peer's statement for ``queries`` sampled candidates (prepared, over loopback) and time each."""
    import numpy as np
    import psycopg

    rng = random.Random(seed)
    ids = list(candidate_ids)
    subjects = rng.sample(ids, queries) if len(ids) >= queries else [rng.choice(ids) for _ in range(queries)]
    sql = peer_sql(algorithm)
    samples: list[int] = []
    rows = 0
    with psycopg.connect(conninfo, autocommit=True) as connection:
        # JIT compilation would add tens of ms to every statement of this cost: a team would turn it off too.
        connection.execute("SET jit = off")
        plan = "\n".join(r[0] for r in connection.execute("EXPLAIN " + sql, {"id": subjects[0]}).fetchall())
        for subject in subjects[:warmup]:
            connection.execute(sql, {"id": subject}, prepare=True).fetchall()
        for subject in subjects:
            started = time.perf_counter_ns()
            result = connection.execute(sql, {"id": subject}, prepare=True).fetchall()
            samples.append(time.perf_counter_ns() - started)
            rows += len(result)
    p50, p95, p99 = (
        float(x) for x in np.percentile(np.asarray(samples, dtype=np.float64), [50, 95, 99]) / 1e6
    )
    return PeerLatency(p50, p95, p99, queries, rows / max(queries, 1), _short_plan(plan))


def _short_plan(plan: str) -> str:
    """The plan's node lines without the (very long) expressions."""
    return "\n".join(line if len(line) <= 160 else line[:157] + "..." for line in plan.splitlines())

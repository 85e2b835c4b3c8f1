"""Taxonomy benchmark: load time, memory, shipped data size and per-query latency (prints figures).

    .venv/bin/python -m benchmarks.taxonomy_bench [--queries PATH/queries.tsv]

Without ``--queries`` a fixed list of job titles and skills (NL/DE/EN, with typos) is used; with it, the
titles of an evaluation set. Cold load = building the indexes from ``data/taxonomy`` (cache off); warm
load = reading the on-disk index cache. p95 is over single queries on one thread.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TITLES = [
    "magazijnmedewerker",
    "medewerker magazijn",
    "Lagerist/Lageristin",
    "heftruckchauffeur",
    "reachtruck chauffeur",
    "verzorgende IG",
    "helpende zorg",
    "Pflegefachkraft",
    "Fachkraft für Lagerlogistik",
    "software developer",
    "softwre developr",
    "Berufskraftfahrer/-in",
    "vrachtwagenchauffeur CE",
    "schoonmaker",
    "kok",
    "Koch/Köchin",
    "productiemedewerker",
    "Maschinen- und Anlagenführer/in",
    "elektromonteur",
    "Elektroniker für Betriebstechnik",
]
SKILLS = [
    "computer programming",
    "kassa's bedienen",
    "Erste Hilfe leisten",
    "klanttevredenheid garadneren",
    "provide firts aid",
    "Mechatronik",
    "heftruck besturen",
    "load bulk trucks",
    "hygiëne waarborgen",
]


def _measure_load(cache: str) -> dict[str, float]:
    """Load in a fresh process so the figures are not warmed by this one."""
    code = (
        "import time, resource, json; t=time.perf_counter();"
        "from matching.taxonomy import load_taxonomy; load_taxonomy();"
        "print(json.dumps({'seconds': time.perf_counter()-t,"
        " 'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    env = dict(os.environ, WERKMATCH_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    """Print the benchmark table as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=Path, default=None, help="queries.tsv of an occupation set")
    args = parser.parse_args()

    from matching.taxonomy import DATA_DIR, cache_path, load_taxonomy

    cold = _measure_load("off")
    warm_dir = str(cache_path().parent) if cache_path() is not None else "off"
    _measure_load(warm_dir)  # make sure the cache exists
    warm = _measure_load(warm_dir)
    tx = load_taxonomy()

    titles = TITLES
    langs: list[str | None] = [None] * len(TITLES)
    if args.queries is not None:
        with args.queries.open(encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh, delimiter="\t") if len(r) >= 3 and r[0] != "query_id"]
        titles = [r[2] for r in rows]
        langs = [r[1] for r in rows]

    # Wall time depends on what else the machine runs; thread CPU time is the query's own cost.
    search_ms: list[float] = []
    search_cpu_ms: list[float] = []
    for title, lang in zip(titles, langs, strict=True):
        t, c = time.perf_counter(), time.thread_time()
        tx.search_occupations(title, lang=lang, limit=10)
        search_cpu_ms.append((time.thread_time() - c) * 1000)
        search_ms.append((time.perf_counter() - t) * 1000)
    resolve_ms: list[float] = []
    for label in SKILLS * 3:
        tx._skill_memo.clear()  # measure the unmemoised path
        t = time.perf_counter()
        tx.resolve_skill(code=None, label=label)
        resolve_ms.append((time.perf_counter() - t) * 1000)
    result = {
        "load_cold_s": round(cold["seconds"], 2),
        "load_cold_max_rss_mb": round(cold["max_rss_mb"], 1),
        "load_warm_s": round(warm["seconds"], 2),
        "load_warm_max_rss_mb": round(warm["max_rss_mb"], 1),
        "data_taxonomy_mb": round(sum(p.stat().st_size for p in DATA_DIR.glob("*")) / 1e6, 2),
        "search_occupations_queries": len(search_ms),
        "search_occupations_p50_ms": round(_p(search_ms, 0.50), 2),
        "search_occupations_p95_ms": round(_p(search_ms, 0.95), 2),
        "search_occupations_cpu_p95_ms": round(_p(search_cpu_ms, 0.95), 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "resolve_skill_p95_ms": round(_p(resolve_ms, 0.95), 2),
    }
    print(json.dumps(result, indent=2))  # noqa: T201 - a benchmark prints its figures


if __name__ == "__main__":
    from benchmarks._pipes import run

    run(main)

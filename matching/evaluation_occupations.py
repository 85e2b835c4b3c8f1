"""Occupation-linking quality: MRR and recall@10 per language on a MELO-style evaluation set.

The set is a folder with ``queries.tsv`` (query_id, lang, query) and ``qrels.tsv`` (query_id, concept_uri),
as in ``/work/shared/eval/occupations-dev``. Queries are ranked with
:meth:`matching.taxonomy.Taxonomy.search_occupations` in their own language. Nothing here feeds back into
the taxonomy: the evaluation only reads the files it is given.
"""

from __future__ import annotations

import csv
import time
import zlib
from collections import defaultdict
from pathlib import Path

from matching.taxonomy import Taxonomy, load_taxonomy

RANK_DEPTH = 100


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return rows[1:] if rows and rows[0] and rows[0][0] == "query_id" else rows


def split_of(query_id: str) -> str:
    """A stable two-way split of query ids ("a"/"b") for held-out development discipline."""
    return "a" if zlib.crc32(query_id.encode("utf-8")) % 2 == 0 else "b"


def evaluate_occupations(
    path: Path, *, taxonomy: Taxonomy | None = None, split: str | None = None
) -> dict[str, dict[str, float]]:
    """MRR, recall@10 and query count per language (and ``all``) on the set in folder ``path``.

    ``split`` ("a" or "b") restricts the evaluation to one half of the queries (see :func:`split_of`).
    Each language's entry also reports the 95th percentile of query time in milliseconds, as wall time
    (``p95_ms``, which depends on what else the machine runs) and as the thread's CPU time (``p95_cpu_ms``).
    """
    tx = taxonomy or load_taxonomy()
    relevant: dict[str, set[str]] = defaultdict(set)
    for row in _read(path / "qrels.tsv"):
        if len(row) >= 2:
            relevant[row[0]].add(row[1])
    rr: dict[str, list[float]] = defaultdict(list)
    hit10: dict[str, list[float]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    for row in _read(path / "queries.tsv"):
        if len(row) < 3 or row[0] not in relevant:
            continue
        qid, lang, query = row[0], row[1], row[2]
        if split is not None and split_of(qid) != split:
            continue
        start, start_cpu = time.perf_counter(), time.thread_time()
        ranked = tx.search_occupations(query, lang=lang, limit=RANK_DEPTH)
        elapsed = (time.perf_counter() - start) * 1000.0
        elapsed_cpu = (time.thread_time() - start_cpu) * 1000.0
        uris = [c.uri for c in ranked]
        rank = next((i + 1 for i, u in enumerate(uris) if u in relevant[qid]), None)
        for key in (lang, "all"):
            rr[key].append(1.0 / rank if rank else 0.0)
            hit10[key].append(1.0 if rank is not None and rank <= 10 else 0.0)
            times[key].append(elapsed)
            cpu[key].append(elapsed_cpu)
    out: dict[str, dict[str, float]] = {}
    for key in sorted(rr):
        ts = sorted(times[key])
        cs = sorted(cpu[key])
        out[key] = {
            "queries": float(len(rr[key])),
            "mrr": sum(rr[key]) / len(rr[key]),
            "recall@10": sum(hit10[key]) / len(hit10[key]),
            "p95_ms": ts[min(len(ts) - 1, int(0.95 * len(ts)))],
            "p95_cpu_ms": cs[min(len(cs) - 1, int(0.95 * len(cs)))],
        }
    return out

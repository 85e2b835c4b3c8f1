"""Ranking quality on an evaluation set (``werkmatch eval ranking PATH``).

The set is a directory with ``candidates.jsonl`` and ``vacancies.jsonl`` (API payloads as in DOMAIN.md, ids in
``external_ref``) and ``qrels.tsv`` (candidate_ref, vacancy_ref, grade). Metrics:

* NDCG@10 with gain 2^grade − 1, averaged over candidates with at least one relevant vacancy;
* hard-requirement violations: top-10 items with an unmet hard requirement ranked above an item that meets
  them all (0 is the only acceptable value).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from matching.algorithms import AlgorithmConfig
from matching.encoding import TaxonomyLike
from matching.payloads import candidate_from_payload, vacancy_from_payload

__all__ = ["evaluate_ranking", "ndcg_at_k"]


def ndcg_at_k(ranked_grades: list[int], all_grades: list[int], *, k: int = 10) -> float:
    """NDCG@k with gain 2^grade − 1 and log2 discount; 0 when nothing is relevant."""
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ranked_grades[:k]))
    ideal = sorted(all_grades, reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate_ranking(
    path: Path,
    *,
    taxonomy: TaxonomyLike | None = None,
    algorithm: AlgorithmConfig | None = None,
    k: int = 10,
) -> dict[str, Any]:
    """NDCG@k and hard-requirement violations of the engine's candidate → vacancy rankings on ``path``."""
    from matching.engine import MatchEngine

    path = Path(path)
    started = time.perf_counter()
    candidates = [candidate_from_payload(p, id=p["external_ref"]) for p in _jsonl(path / "candidates.jsonl")]
    vacancies = [vacancy_from_payload(p, id=p["external_ref"]) for p in _jsonl(path / "vacancies.jsonl")]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (path / "qrels.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels[row["candidate_ref"]][row["vacancy_ref"]] = int(row["grade"])

    engine = MatchEngine(taxonomy=taxonomy, algorithm=algorithm)
    index = engine.build_vacancy_index(vacancies)
    indexed = time.perf_counter()
    ndcgs: list[float] = []
    violations = 0
    for candidate in candidates:
        results = engine.rank_vacancies(candidate, index, limit=max(k, 50))
        top = results[:k]
        # An unmet item above any item (in the list) that meets every hard requirement is a violation.
        for position, result in enumerate(top):
            if result.unmet and any(not later.unmet for later in results[position + 1 :]):
                violations += 1
        grades = qrels.get(candidate.id, {})
        if not any(g > 0 for g in grades.values()):
            continue
        ranked = [grades.get(r.id, 0) for r in top]
        ndcgs.append(ndcg_at_k(ranked, list(grades.values()), k=k))
    finished = time.perf_counter()
    return {
        "path": str(path),
        "algorithm": engine.algorithm.key,
        f"ndcg@{k}": round(sum(ndcgs) / len(ndcgs), 4) if ndcgs else 0.0,
        "candidates_evaluated": len(ndcgs),
        "candidates": len(candidates),
        "vacancies": len(vacancies),
        "hard_requirement_violations": violations,
        "index_seconds": round(indexed - started, 2),
        "rank_seconds": round(finished - indexed, 2),
    }

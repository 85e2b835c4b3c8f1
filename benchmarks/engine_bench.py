"""Engine benchmark: prints figures; asserts nothing about time.

    .venv/bin/python -m benchmarks.engine_bench [--vacancies 20000] [--candidates 20000] [--queries 200]

Figures (targets from issue 3 in brackets):
* one candidate vs N vacancies, top-50 with explanations: p50/p95 CPU ms (p95 ≤ 3 ms, one core)
* batch, both directions: effective candidate–vacancy pairs/s on 2 workers (≥ 50M/s), wall and per CPU-second
  (the machine is shared, so wall time includes other people's load; CPU time does not)
* index memory per 100k profiles (≤ 50 MB; arrays and matrices, not the Python records)
* the per-pair Python reference loop on a sample, extrapolated, vs the batch engine (≥ 200×, the measure
  ``werkmatch bench`` uses: the slower direction's pairs/s ÷ the loop's) and vs the live path (one query with
  50 explanations; reported, and below 200× on the hosts measured so far)
* identical top-50 (live vs reference) on a 1k × 1k fixture
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from matching.engine import MatchEngine
from matching.reference import candidate_side, rank_vacancies_reference, score_pair
from matching.synthetic import make_world
from matching.taxonomy import load_taxonomy


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the machine is shared: wall time is noisy)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print a table; returns the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}

    taxonomy = load_taxonomy()
    engine = MatchEngine(taxonomy=taxonomy)
    world = make_world(taxonomy)
    vacancies = world.vacancies(args.vacancies, seed=2)
    candidates = world.candidates(args.candidates, seed=1)
    t0 = time.perf_counter()
    vac_index = engine.build_vacancy_index(vacancies)
    t1 = time.perf_counter()
    cand_index = engine.build_candidate_index(candidates)
    t2 = time.perf_counter()
    _out(
        f"index build: {len(vacancies)} vacancies {t1 - t0:.1f} s, "
        f"{len(candidates)} candidates {t2 - t1:.1f} s"
    )

    # --- memory per 100k profiles
    vac_mb = vac_index.nbytes() / len(vac_index) * 100_000 / 1e6
    cand_mb = cand_index.nbytes() / len(cand_index) * 100_000 / 1e6
    figures["memory_mb_per_100k_vacancies"] = round(vac_mb, 1)
    figures["memory_mb_per_100k_candidates"] = round(cand_mb, 1)
    _out(
        f"memory per 100k profiles: vacancies {vac_mb:.1f} MB, candidates {cand_mb:.1f} MB  [target ≤ 50 MB]"
    )

    # --- one profile vs all vacancies, top 50 with explanations
    for c in candidates[:20]:  # warm the encoder's memo for related skills etc.
        engine.rank_vacancies(c, vac_index, limit=50)
    times = []
    for c in candidates[20 : 20 + args.queries]:
        start = time.process_time()
        engine.rank_vacancies(c, vac_index, limit=50)
        times.append((time.process_time() - start) * 1000)
    p50 = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    figures["live_top50_p50_ms"] = round(p50, 2)
    figures["live_top50_p95_ms"] = round(p95, 2)
    _out(
        f"live: 1 candidate vs {len(vacancies)} vacancies, top-50 + explanations: CPU p50 {p50:.2f} ms, "
        f"p95 {p95:.2f} ms  [target p95 ≤ 3 ms] {'OK' if p95 <= 3 else 'MISSED'}"
    )
    # The same candidates again: the encoder's memo (related skills per competence) is warm now, as in a
    # service that has been running; the gap to the figures above is the cold taxonomy lookups of
    # first-seen competences while encoding the candidate.
    times_warm = []
    for c in candidates[20 : 20 + args.queries]:
        start = time.process_time()
        engine.rank_vacancies(c, vac_index, limit=50)
        times_warm.append((time.process_time() - start) * 1000)
    figures["live_top50_warm_p50_ms"] = round(statistics.median(times_warm), 2)
    figures["live_top50_warm_p95_ms"] = round(float(np.percentile(times_warm, 95)), 2)
    _out(
        f"live, same candidates again (encoder memo warm): CPU p50 {statistics.median(times_warm):.2f} ms, "
        f"p95 {np.percentile(times_warm, 95):.2f} ms"
    )
    for v in vacancies[:20]:
        engine.rank_candidates(v, cand_index, limit=50)
    times_v = []
    for v in vacancies[20 : 20 + args.queries]:
        start = time.process_time()
        engine.rank_candidates(v, cand_index, limit=50)
        times_v.append((time.process_time() - start) * 1000)
    figures["live_candidates_p50_ms"] = round(statistics.median(times_v), 2)
    figures["live_candidates_p95_ms"] = round(float(np.percentile(times_v, 95)), 2)
    _out(
        f"live: 1 vacancy vs {len(candidates)} candidates, top-50 + explanations: "
        f"CPU p50 {statistics.median(times_v):.2f} ms, p95 {np.percentile(times_v, 95):.2f} ms"
    )

    # --- batch both directions
    pairs = len(candidates) * len(vacancies)
    start = time.perf_counter()
    cpu0 = _cpu()
    n_out = sum(
        len(top)
        for _id, top in engine.top_k_vacancies_for_candidates(
            cand_index, vac_index, k=50, workers=args.workers
        )
    )
    elapsed = time.perf_counter() - start
    cpu = _cpu() - cpu0
    figures["batch_c2v_pairs_per_s"] = round(pairs / elapsed)
    figures["batch_c2v_pairs_per_cpu_s"] = round(pairs / cpu)
    _out(f"  (CPU {cpu:.1f} s in all processes: {pairs / cpu / 1e6:.1f}M pairs per CPU-second)")
    _out(
        f"batch candidates→vacancies: {pairs / 1e6:.0f}M pairs in {elapsed:.1f} s = "
        f"{pairs / elapsed / 1e6:.1f}M "
        f"effective pairs/s wall ({args.workers} workers, {n_out} matches kept)  [target ≥ 50M/s] "
        f"{'OK' if pairs / elapsed >= 50e6 else 'MISSED'}"
    )
    start = time.perf_counter()
    cpu0 = _cpu()
    n_out = sum(
        len(top)
        for _id, top in engine.top_k_candidates_for_vacancies(
            vac_index, cand_index, k=50, workers=args.workers
        )
    )
    elapsed = time.perf_counter() - start
    cpu = _cpu() - cpu0
    figures["batch_v2c_pairs_per_s"] = round(pairs / elapsed)
    figures["batch_v2c_pairs_per_cpu_s"] = round(pairs / cpu)
    _out(f"  (CPU {cpu:.1f} s in all processes: {pairs / cpu / 1e6:.1f}M pairs per CPU-second)")
    _out(
        f"batch vacancies→candidates: {pairs / 1e6:.0f}M pairs in {elapsed:.1f} s = "
        f"{pairs / elapsed / 1e6:.1f}M "
        f"effective pairs/s ({n_out} matches kept)  [target ≥ 50M/s] "
        f"{'OK' if pairs / elapsed >= 50e6 else 'MISSED'}"
    )

    # --- per-pair loop vs vectorised, same run
    records = list(vac_index)
    sample = 2_000
    probe = cand_index.record(candidates[0].id)
    start = time.process_time()
    probe_side = candidate_side(probe)
    for vacancy in records[:sample]:
        score_pair(probe, vacancy, engine.algorithm, side=probe_side)
    per_pair = (time.process_time() - start) / sample
    loop_ms = per_pair * len(records) * 1000
    figures["loop_ms_per_query_extrapolated"] = round(loop_ms, 1)
    ratio = loop_ms / p50
    figures["speedup_ratio_vs_loop"] = round(ratio, 1)
    batch_ratio = min(figures["batch_c2v_pairs_per_s"], figures["batch_v2c_pairs_per_s"]) * per_pair
    figures["batch_speedup_ratio_vs_loop"] = round(batch_ratio, 1)
    _out(
        f"per-pair loop: {per_pair * 1e6:.1f} µs/pair = {1 / per_pair:,.0f} pairs/s → "
        f"{loop_ms:.0f} ms per query (extrapolated from {sample})"
    )
    _out(
        f"  batch engine (slower direction) vs loop: {batch_ratio:,.0f}×  [target ≥ 200×] "
        f"{'OK' if batch_ratio >= 200 else 'MISSED'}"
    )
    _out(
        f"  live path, one query with 50 explanations (p50 {p50:.2f} ms) vs loop: {ratio:.0f}×"
        f"{'' if ratio >= 200 else '  (below 200×: a live query also builds 50 explanations)'}"
    )

    # --- identical top-50 on 1k × 1k
    small_v = vacancies[:1000]
    small_c = candidates[:1000]
    small_index = engine.build_vacancy_index(small_v)
    small_records = list(small_index)
    same = 0
    for c in small_c:
        live = [(r.id, r.score) for r in engine.rank_vacancies(c, small_index, limit=50)]
        ref = rank_vacancies_reference(cand_index.record(c.id), small_records, engine.algorithm, limit=50)
        same += live == ref
    figures["identical_top50_1kx1k"] = same
    _out(f"identical top-50, live vs per-pair reference, 1k × 1k: {same} / {len(small_c)} candidates")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2, sort_keys=True)
    return figures


if __name__ == "__main__":
    from benchmarks._pipes import run

    run(main)

"""Where an engine process's memory goes, record field by record field; the live path's instruction count.

    .venv/bin/python -m benchmarks.record_memory sqlite:////tmp/werkmatch-bench/bench-twente.db
    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python -m benchmarks.record_memory URL \\
        --instructions c2v

Reads the active candidates and open vacancies of a seeded database (``werkmatch bench --scale twente``
leaves one in ``$TMPDIR/werkmatch-bench``) as they stream and builds both indexes, exactly as
``werkmatch bench`` does (``service.bench.engine_figures.build``), and prints

* the settled RSS growth of the build per 100k profiles (the figure ``werkmatch bench`` reports) beside the
  arrays' ``nbytes()``;
* bytes per record and per field of both record types, every object counted once, at the first field that
  reaches it (objects the taxonomy owns, such as concept keys, are counted where a record first reaches them).

``--instructions c2v|v2c`` instead times nothing: run under callgrind with ``--instr-atstart=no``, it switches
instrumentation on (``callgrind_control -i on``) around 50 candidate → vacancies (or 20 vacancy → candidates)
live queries after 10 warm-up queries, so two versions of the code can be compared by instruction count on a
host whose speed moves from minute to minute. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import sys
from collections.abc import Iterable

MIB = 1 << 20


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _deep_size(root: object, seen: set[int]) -> int:
    """Bytes of ``root`` and what it reaches through containers, skipping objects already in ``seen``."""
    total = 0
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return total


def _fields(records: Iterable[object]) -> tuple[int, dict[str, int]]:
    rows = [r for r in records if r is not None]
    seen: set[int] = set()
    sizes = {"(record object)": sum(sys.getsizeof(r) for r in rows)}
    for name in type(rows[0]).__slots__:  # type: ignore[attr-defined]
        if name == "related_of":  # the encoder's shared table, not the record's
            continue
        sizes[name] = sum(_deep_size(getattr(r, name), seen) for r in rows)
    return len(rows), sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--instructions", choices=("c2v", "v2c"), help="switch callgrind on around queries")
    args = parser.parse_args(argv)

    from service.bench.engine_figures import build

    # The bench's own measurement: a streamed build between two settled RSS readings, then the feature lists.
    indexed = build(args.database_url)
    engine, candidates, vacancies = indexed.engine, indexed.candidate_index, indexed.vacancy_index
    profiles = len(vacancies) + len(candidates)

    if args.instructions:
        subjects: list = indexed.candidates if args.instructions == "c2v" else indexed.vacancies  # type: ignore[type-arg]
        rng = random.Random(7)
        n = 50 if args.instructions == "c2v" else 20
        picked = rng.sample(subjects, n + 10)

        def query(subject: object) -> None:
            if args.instructions == "c2v":
                engine.rank_vacancies(subject, vacancies, limit=50)  # type: ignore[arg-type]
            else:
                engine.rank_candidates(subject, candidates, limit=50)  # type: ignore[arg-type]

        for subject in picked[:10]:
            query(subject)
        gc.collect()
        pid = str(os.getpid())
        subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
        for subject in picked[10:]:
            query(subject)
        subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)
        _out(f"{n} live {args.instructions} queries: callgrind's 'Collected' line counts their instructions")
        return 0

    arrays = vacancies.nbytes() + candidates.nbytes()
    if indexed.process_bytes is not None:
        grown = indexed.process_bytes
        _out(
            f"RSS growth of the streamed build: {grown / MIB:.1f} MiB = "
            f"{grown / MIB * 100_000 / profiles:.1f} MiB per 100k profiles"
        )
    per_100k = arrays / MIB * 100_000 / profiles
    _out(f"index arrays: {arrays / MIB:.1f} MiB = {per_100k:.1f} MiB per 100k profiles")
    for label, index in (("candidate", candidates), ("vacancy", vacancies)):
        count, sizes = _fields(index.records_by_row())
        total = sum(sizes.values())
        _out(f"{label} records: {count}, {total / MIB:.1f} MiB, {total / count:.0f} bytes each")
        for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
            if size:
                _out(f"  {name:24s} {size / MIB:7.2f} MiB {size / count:7.0f} bytes")
    return 0


if __name__ == "__main__":
    from benchmarks._pipes import run

    run(main)

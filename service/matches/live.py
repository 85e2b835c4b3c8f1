"""The per-process live match index: open vacancies and active candidates, kept fresh from the change counter.

One :class:`LiveIndex` per app (``app.state.live_index``). It is built from the database on first use (or by
:func:`warm_up` in a background thread at start) and then kept:

* Freshness. Every write to a candidate or vacancy adds a ``change_event`` row in the same transaction. The
  index polls ``max(seq)`` — at most every ``settings.index_poll_seconds`` — and applies the events it has not
  seen: it re-reads just those rows and upserts or removes them. A match request's dependency (before the
  request's session takes a database connection; a ranking itself never polls, see ``_ensure_built``) polls
  first when the last poll is more than two intervals old, and otherwise, when a poll is due, runs it after
  its response is sent (:meth:`LiveIndex.fresh_enough`): under load the periodic poll costs no request any
  latency, and an idle process's first request still polls first. A write through THIS app marks the index
  dirty after its commit (a session event), so the next request waits for it; writes through other workers
  or hosts are seen within two poll intervals plus a poll (0.5 s at the default 0.25 s).
* Sequence gaps. On PostgreSQL a transaction can take seq 10, another seq 11 and commit first. A reader that
  saw 11 but not 10 remembers 10 as a gap and re-reads from below it on every poll until 10 appears or
  :data:`GAP_TTL_SECONDS` pass (a rolled-back transaction leaves a gap that never fills).
* Concurrency. Ranking runs in the threadpool (plain ``def`` routes) under a shared read lock; applying
  changes (upsert + materialise) takes the exclusive write lock briefly, after the expensive encoding was done
  outside it.
* Scope. Candidates are held in one index per municipality, so a coach's vacancy→candidate ranking only ever
  touches the candidates of the coach's own municipalities.
* Off the request path. A commit through this app that changed a candidate or vacancy also starts the poll in
  a background thread at once (:meth:`LiveIndex.refresh_soon`), so the upsert and materialisation are usually
  done before the next match request arrives; that request still waits for a poll in progress (it takes the
  same refresh lock), so a process always reads its own writes.
* Garbage collector. After a build the index's objects (hundreds of thousands of records, tuples and strings)
  are moved to the permanent generation (``gc.freeze()``): a full collection otherwise traverses all of them
  and stalled every request of the process for 0.5-1.4 s at twente scale, a few times a minute under load.

``change_event`` rows with ``entity == "reload"`` ask every process for a full rebuild (for bulk loaders that
do not write one event per row).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from matching.engine import MatchEngine
from matching.index import CandidateIndex, VacancyIndex
from matching.types import CandidateFeatures, MatchFilters, MatchResult, VacancyFeatures
from service.matches import mapping
from service.matches.repository import load_open_vacancy_summaries
from service.persistence.models import ChangeEvent

logger = logging.getLogger("werkmatch.matches")

#: How long a missing change-event sequence number is waited for (a longer-running writer is not expected).
GAP_TTL_SECONDS = 30.0
#: Entity name of a change event that asks for a full rebuild.
RELOAD = "reload"
_SESSION_FLAG = "werkmatch_changed"


@lru_cache(maxsize=1)
def shared_engine() -> MatchEngine:
    """The process's match engine (loads the taxonomy once; indexes of every app in the process share it)."""
    return MatchEngine()


class ReadWriteLock:
    """Many concurrent readers (rankings) or one writer (index mutation); waiting writers go first."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _merge_key(result: MatchResult) -> tuple[bool, float, str]:
    # The engine's own order: results with unmet hard requirements last, then score, then id.
    return (bool(result.unmet), -result.score, result.id)


class LiveIndex:
    """Open vacancies and active candidates of one database, encoded for ranking and kept fresh."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        poll_seconds: float,
        engine: MatchEngine | None = None,
    ) -> None:
        self._factory = factory
        self._poll_seconds = poll_seconds
        self._engine = engine
        self._rw = ReadWriteLock()
        self._refresh_lock = threading.Lock()
        self._built = False
        self._seq = 0
        self._gaps: dict[int, float] = {}
        self._next_poll = 0.0
        # Commits of this process that changed profiles, and how many of them the index has applied: a
        # poll in progress does not count as applied until it is done, so a request never skips waiting for
        # it (read-your-writes).
        self._commits = 0
        self._applied_commits = 0
        self._commits_lock = threading.Lock()
        self._background_lock = threading.Lock()
        self._background: threading.Thread | None = None
        self._background_again = False
        self._vacancies: VacancyIndex | None = None
        # What a coach sees of each open vacancy (repository.vacancy_summary); replaced, never changed.
        self._vacancy_summaries: dict[str, dict[str, Any]] = {}
        self._candidates: dict[str, CandidateIndex] = {}
        self._home: dict[str, str] = {}  # candidate id → municipality (which index holds it)

    # ------------------------------------------------------------------------------------------ reading
    @property
    def engine(self) -> MatchEngine:
        """The match engine the indexes were built with."""
        if self._engine is None:
            self._engine = shared_engine()
        return self._engine

    @property
    def seq(self) -> int:
        """The highest change-event sequence number applied."""
        return self._seq

    def counts(self) -> dict[str, int]:
        """How many vacancies and candidates the index holds (for health pages and tests)."""
        with self._rw.read():
            return {
                "vacancies": len(self._vacancies) if self._vacancies is not None else 0,
                "candidates": sum(len(index) for index in self._candidates.values()),
            }

    def rank_vacancies(
        self, candidate: CandidateFeatures, *, limit: int, filters: MatchFilters | None = None
    ) -> list[MatchResult]:
        """Open vacancies for one candidate (features read fresh from the request's row), best first."""
        self._ensure_built()
        with self._rw.read():
            assert self._vacancies is not None
            if not len(self._vacancies):
                return []  # the engine needs at least one materialised row
            return self.engine.rank_vacancies(candidate, self._vacancies, limit=limit, filters=filters)

    def vacancy_summaries(self) -> Mapping[str, dict[str, Any]]:
        """Summaries of the open vacancies by id, from the same snapshot as the rankings (read-only: hand
        them out through ``MatchRepository.live_vacancies``, which checks the reader may see them)."""
        self._ensure_built()
        return MappingProxyType(self._vacancy_summaries)

    def rank_candidates(
        self,
        vacancy: VacancyFeatures,
        *,
        municipalities: Collection[str],
        limit: int,
        filters: MatchFilters | None = None,
    ) -> list[MatchResult]:
        """Active candidates of the given municipalities for one vacancy, best first."""
        self._ensure_built()
        results: list[MatchResult] = []
        with self._rw.read():
            for municipality in sorted(municipalities):
                index = self._candidates.get(municipality)
                if index is not None and len(index):
                    results.extend(self.engine.rank_candidates(vacancy, index, limit=limit, filters=filters))
        if len(municipalities) > 1:
            results.sort(key=_merge_key)
            results = [replace(r, rank=i + 1) for i, r in enumerate(results[:limit])]
        return results

    def rescore_vacancies(
        self, candidate: CandidateFeatures, vacancy_ids: Collection[str]
    ) -> dict[str, MatchResult]:
        """Score and explain one candidate against just these vacancies (those still open), by vacancy id.

        Used to explain stored batch results lazily: the encoded profiles are taken from the index, not
        re-encoded.
        """
        self._ensure_built()
        with self._rw.read():
            assert self._vacancies is not None
            records = [self._vacancies.record(i) for i in vacancy_ids if i in self._vacancies]
        if not records:
            return {}
        subset = VacancyIndex(self.engine.vocab, self.engine.encoder)
        subset.upsert_encoded(records)
        results = self.engine.rank_vacancies(candidate, subset, limit=len(records))
        return {r.id: r for r in results}

    def rescore_candidates(
        self, vacancy: VacancyFeatures, candidate_ids: Collection[str]
    ) -> dict[str, MatchResult]:
        """Score and explain one vacancy against just these candidates (those still active), by id."""
        self._ensure_built()
        with self._rw.read():
            records = [self._candidates[self._home[i]].record(i) for i in candidate_ids if i in self._home]
        if not records:
            return {}
        subset = CandidateIndex(self.engine.vocab, self.engine.encoder)
        subset.upsert_encoded(records)
        results = self.engine.rank_candidates(vacancy, subset, limit=len(records))
        return {r.id: r for r in results}

    # ---------------------------------------------------------------------------------------- freshness
    def mark_dirty(self) -> None:
        """A write through this process committed: poll before the next ranking, whatever the interval."""
        with self._commits_lock:
            self._commits += 1

    def refresh_soon(self) -> None:
        """Apply pending changes in a background thread now (at most one such thread at a time).

        Called after a commit of this process that wrote a change event: the poll, upsert and materialisation
        then run between requests instead of inside the next match request. Requests keep calling
        :meth:`ensure_fresh`, which waits for a poll in progress, so freshness guarantees are unchanged."""
        if not self._built:
            return  # the first request (or warm_up) builds; nothing to apply yet
        with self._background_lock:
            if self._background is not None:
                self._background_again = True  # the running thread polls once more before it ends
                return
            self._background_again = False
            thread = threading.Thread(
                target=self._background_refresh, name="werkmatch-live-refresh", daemon=True
            )
            self._background = thread
        thread.start()

    def _background_refresh(self) -> None:
        while True:
            try:
                self.ensure_fresh()
            except Exception:  # noqa: BLE001 - logged; the next request polls again and reports its own error
                logger.warning("background refresh of the live index failed; the next request retries it")
                with self._background_lock:
                    self._background = None
                return
            with self._background_lock:
                if not self._background_again:
                    self._background = None
                    return
                self._background_again = False

    def _ensure_built(self) -> None:
        """Build on first use, but never poll: rankings run inside a request that holds a database connection,
        and a poll needs a second one. Under load every pooled connection can be held by requests waiting for
        the poller, which then times out waiting for a connection (seen at twente scale with 20 posts/s). The
        routes bring the index up to date BEFORE their session opens (``live_index_dependency``)."""
        if self._built:
            return
        with self._refresh_lock:
            if not self._built:
                self._build()

    def is_fresh(self) -> bool:
        """True when the index is built, no write of this process is pending and no poll is due (no I/O)."""
        return self._built and self._applied_commits == self._commits and time.monotonic() < self._next_poll

    def fresh_enough(self) -> bool:
        """Whether a request may rank now without waiting for I/O; if a poll is due, whether the caller may
        run it after its response instead of before (no I/O here).

        True when :meth:`is_fresh`, and also when the periodic poll is due but not overdue: the last poll
        ended less than two poll intervals ago and no write of this process is pending. The caller then
        ranks at once and runs :meth:`poll_if_due` after sending its response, in the idle time between
        requests; a ranking thus reflects other processes' writes at most two intervals (plus a poll) late,
        within the one-second freshness promise at the default interval. False otherwise: the caller must
        :meth:`ensure_fresh` first (first build, a pending write of this process, or an overdue poll)."""
        if self.is_fresh():
            return True
        if not self._built or self._applied_commits != self._commits:
            return False
        return time.monotonic() < self._next_poll + self._poll_seconds

    def poll_if_due(self) -> None:
        """:meth:`ensure_fresh` for a poll deferred by :meth:`fresh_enough` (after the response is sent)."""
        try:
            self.ensure_fresh()
        except Exception:  # noqa: BLE001 - logged; the next request that finds the poll overdue polls itself
            logger.warning("deferred poll of the live index failed; the next request polls again")

    def ensure_fresh(self) -> None:
        """Build the index on first use; afterwards apply new change events when a poll is due."""
        if self.is_fresh():
            return
        with self._refresh_lock:
            if not self._built:
                self._build()
            elif self._applied_commits != self._commits or time.monotonic() >= self._next_poll:
                self._poll()

    def _build(self) -> None:
        started = time.perf_counter()
        engine = self.engine
        commits = self._commits  # commits before the watermark below are in the build
        with self._factory() as session:
            # Watermark first: changes committed after it are re-applied by the next poll (idempotent).
            seq = int(session.scalar(select(func.coalesce(func.max(ChangeEvent.seq), 0))) or 0)
            vacancies = mapping.load_vacancy_features(session)
            summaries = load_open_vacancy_summaries(session)
            candidates = mapping.load_candidate_features_by_municipality(session)
        vacancy_index = engine.build_vacancy_index(vacancies)
        candidate_indexes = {m: engine.build_candidate_index(rows) for m, rows in sorted(candidates.items())}
        home = {f.id: m for m, rows in candidates.items() for f in rows}
        with self._rw.write():
            self._vacancies = vacancy_index
            self._vacancy_summaries = summaries
            self._candidates = candidate_indexes
            self._home = home
            self._seq = seq
            self._gaps = {}
            self._built = True
        self._applied_commits = commits
        self._next_poll = time.monotonic() + self._poll_seconds
        # The index lives as long as the process: keep the cycle collector from traversing it on every full
        # collection (see the module docstring). Objects of a replaced index are still freed by reference
        # counting when it is dropped.
        gc.freeze()
        logger.info(
            "live index built: %d vacancies, %d candidates, seq %d, %.1f s",
            len(vacancies),
            len(home),
            seq,
            time.perf_counter() - started,
        )

    def _poll(self) -> None:
        commits = self._commits  # commits before the max(seq) read below are applied by this poll
        now = time.monotonic()
        self._gaps = {s: t for s, t in self._gaps.items() if now - t < GAP_TTL_SECONDS}
        with self._factory() as session:
            top = int(session.scalar(select(func.coalesce(func.max(ChangeEvent.seq), 0))) or 0)
            if top <= self._seq and not self._gaps:
                self._applied_commits = commits
                self._next_poll = time.monotonic() + self._poll_seconds
                return
            floor = min([self._seq, *(s - 1 for s in self._gaps)])
            events = session.execute(
                select(ChangeEvent.seq, ChangeEvent.entity, ChangeEvent.entity_id)
                .where(ChangeEvent.seq > floor)
                .order_by(ChangeEvent.seq)
            ).all()
            seen = {int(e.seq) for e in events}
            # Apply only events not applied before: gaps that filled, and everything above the watermark.
            fresh = [e for e in events if e.seq > self._seq or e.seq in self._gaps]
            for missing in range(self._seq + 1, max(seen | {self._seq}) + 1):
                if missing not in seen:
                    self._gaps.setdefault(missing, now)
            for filled in seen & set(self._gaps):
                del self._gaps[filled]
            if any(e.entity == RELOAD for e in fresh):
                self._built = False
                session.close()
                self._build()
                return
            vacancy_ids = {e.entity_id for e in fresh if e.entity == "vacancy"}
            candidate_ids = {e.entity_id for e in fresh if e.entity == "candidate"}
            vacancies = mapping.load_vacancy_features_by_id(session, vacancy_ids)
            summaries = load_open_vacancy_summaries(session, vacancy_ids) if vacancy_ids else {}
            candidates = mapping.load_candidate_features_by_id_with_municipality(session, candidate_ids)
        self._apply(
            vacancy_ids=vacancy_ids,
            vacancies=vacancies,
            summaries=summaries,
            candidate_ids=candidate_ids,
            candidates=candidates,
        )
        self._seq = max(self._seq, top, *seen) if seen else max(self._seq, top)
        self._applied_commits = commits
        self._next_poll = time.monotonic() + self._poll_seconds

    def _apply(
        self,
        *,
        vacancy_ids: set[uuid.UUID],
        vacancies: dict[str, VacancyFeatures],
        summaries: dict[str, dict[str, Any]],
        candidate_ids: set[uuid.UUID],
        candidates: dict[str, tuple[str, CandidateFeatures]],
    ) -> None:
        encoder = self.engine.encoder
        # Encoding consults the taxonomy and is the slow part: do it before taking the write lock.
        vacancy_records = [encoder.vacancy(f) for f in vacancies.values()]
        vacancy_gone = [str(i) for i in vacancy_ids if str(i) not in vacancies]
        candidate_records: dict[str, list[Any]] = defaultdict(list)
        for municipality, features in candidates.values():
            candidate_records[municipality].append(encoder.candidate(features))
        candidate_gone = [str(i) for i in candidate_ids]
        with self._rw.write():
            assert self._vacancies is not None
            self._vacancies.remove(vacancy_gone)
            self._vacancies.upsert_encoded(vacancy_records)
            self._vacancies.materialise()
            # Copied, not changed in place: a request may be reading the previous dict without the lock.
            replaced = self._vacancy_summaries.copy()
            for vacancy_id in vacancy_gone:
                replaced.pop(vacancy_id, None)
            replaced.update(summaries)
            self._vacancy_summaries = replaced
            # A candidate may have moved municipality: drop it everywhere, then add it where it lives now.
            for candidate_id in candidate_gone:
                old = self._home.pop(candidate_id, None)
                if old is not None and old in self._candidates:
                    self._candidates[old].remove([candidate_id])
            for municipality, records in candidate_records.items():
                index = self._candidates.get(municipality)
                if index is None:
                    index = self._candidates[municipality] = CandidateIndex(self.engine.vocab, encoder)
                index.upsert_encoded(records)
                for record in records:
                    self._home[record.id] = municipality
            for index in self._candidates.values():
                index.materialise()

    # --------------------------------------------------------------------------------------- app wiring
    def watch(self, factory: sessionmaker[Session]) -> None:
        """Mark the index dirty after every commit of ``factory``'s sessions that wrote a change event."""

        def _after_flush(session: Session, _context: Any) -> None:
            if any(isinstance(obj, ChangeEvent) for obj in session.new):
                session.info[_SESSION_FLAG] = True

        def _after_commit(session: Session) -> None:
            if session.info.pop(_SESSION_FLAG, False):
                self.mark_dirty()
                self.refresh_soon()

        def _after_rollback(session: Session) -> None:
            session.info.pop(_SESSION_FLAG, None)

        event.listen(factory, "after_flush", _after_flush)
        event.listen(factory, "after_commit", _after_commit)
        event.listen(factory, "after_rollback", _after_rollback)


_CREATE_LOCK = threading.Lock()


def get_live_index(app: Any) -> LiveIndex:
    """The app's live index, created (not yet built) on first use."""
    index: LiveIndex | None = getattr(app.state, "live_index", None)
    if index is not None:
        return index
    with _CREATE_LOCK:
        index = getattr(app.state, "live_index", None)
        if index is None:
            index = LiveIndex(app.state.sessionmaker, poll_seconds=app.state.settings.index_poll_seconds)
            index.watch(app.state.sessionmaker)
            app.state.live_index = index
    return index


def warm_up(app: Any) -> threading.Thread:
    """Build the app's live index in a background thread (at start: the first request need not wait)."""
    thread = threading.Thread(
        target=get_live_index(app).ensure_fresh, name="werkmatch-live-index", daemon=True
    )
    thread.start()
    return thread

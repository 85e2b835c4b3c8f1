"""The match engine: ranks vacancies for a candidate and candidates for a vacancy, live or in batch.

Scoring (the same arithmetic on every path)::

    contribution_f = round(100 · weight_f · score_f) / 100      for every factor f (weights add up to 100)
    base           = Σ contribution_f
    score          = round(base · unmet_multiplier ** n_unmet)   (in hundredths)
    hard_requirements contribution = score − base                 (≤ 0, only when something is unmet)

Contributions are computed in integer hundredths, so they add up to the reported score exactly. Results with
an unmet hard requirement rank after every result without one (then by score, then by id); they are shown, not
hidden. Eligibility is a filter, never a score: garantiebanen are offered only to candidates in the
doelgroepregister.

The batch functions (``matching.batch``) take the top-K per profile among pairs that pass the hard filters
(eligible, within reach, every hard requirement met), scored block by block against only the targets a block
can reach; their scores are identical to the live path's.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, count, islice, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.algorithms import DEFAULT_ALGORITHM, FACTOR_ORDER, AlgorithmConfig
from matching.encoding import EncodedCandidate, EncodedVacancy, Encoder, TaxonomyLike
from matching.factors import FACTORS
from matching.index import (
    CLASS_NAMES,
    CandidateIndex,
    PairBlock,
    QueryProfile,
    VacancyIndex,
    Vocabularies,
    misc_class_key,
)
from matching.types import (
    CandidateFeatures,
    FactorExplanation,
    MatchFilters,
    MatchResult,
    Unmet,
    VacancyFeatures,
)

__all__ = ["HARD_REQUIREMENTS", "MatchEngine", "ScoredBlock"]

#: Name of the pseudo-factor that carries the penalty for unmet hard requirements in explanations.
HARD_REQUIREMENTS = "hard_requirements"
_MAX_UNMET = 64
# Live path: a row's class contributions and unmet count packed in one int64 (base < 2**32).
_UNMET_SHIFT = 32
_BASE_MASK = (1 << _UNMET_SHIFT) - 1
# Live path, one candidate: competences through one product over every vacancy row once more than
# 1/_FULL_COMPETENCES of the rows may need them (measured on the twente data: rows hold ~9 competence
# entries each, a query's own concepts touch ~8k entries through the column copies).
_FULL_COMPETENCES = 20
# Entries of a misc split's memo (three arrays per sub-class each; queries' hours, education, licences,
# certificates and languages take a few hundred values) before it starts over.
_MISC_MEMO_SIZE = 4096

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
# A misc factor per sub-class: scores, contributions, contributions + (unmet << _UNMET_SHIFT).
_MiscScored = tuple[FloatArray, IntArray, IntArray]


@dataclass(frozen=True, slots=True)
class ScoredBlock:
    """All numbers of a scored block, per pair: factor scores and contributions, unmet counts, totals."""

    factor_scores: dict[str, FloatArray]
    contributions: dict[str, IntArray]  # hundredths of a point
    unmet: IntArray
    base: IntArray
    score: IntArray  # hundredths of a point, after the unmet-requirements penalty
    distance_km: FloatArray


class MatchEngine:
    """Ranks profiles with one algorithm over one taxonomy.

    ``MatchEngine(taxonomy=load_taxonomy(), algorithm=get_algorithm())``. Indexes built by an engine share its
    concept vocabularies and must be used with that engine. Thread-safe for concurrent ranking; index updates
    (``upsert``/``remove``) are guarded by the index's lock.
    """

    def __init__(
        self, *, taxonomy: TaxonomyLike | None = None, algorithm: AlgorithmConfig | None = None
    ) -> None:
        if taxonomy is None:
            from matching.taxonomy import load_taxonomy

            taxonomy = load_taxonomy()
        self.taxonomy = taxonomy
        self.algorithm = algorithm or DEFAULT_ALGORITHM
        self.encoder = Encoder(taxonomy, self.algorithm)
        self.vocab = Vocabularies.create()
        thresholds = self.algorithm.thresholds
        self._weights100 = {f: 100.0 * self.algorithm.weights[f] for f in FACTOR_ORDER}
        self._multipliers = [thresholds["unmet_multiplier"] ** n for n in range(_MAX_UNMET + 1)]
        self._multiplier_array = np.asarray(self._multipliers, dtype=np.float64)
        # Plain dicts for the per-result loop (the config's read-only mappings cost a Python call per lookup).
        self._plain_weights = dict(self.algorithm.weights)
        self._plain_thresholds = dict(thresholds)
        # The competences' largest contribution (their score is at most 1): the live path's bound.
        self._competences_max = int(np.rint(1.0 * self._weights100["competences"]))
        # Per index: the "misc" row classes split per factor (see _MiscSplit), kept up to date incrementally.
        self._misc_splits: weakref.WeakKeyDictionary[CandidateIndex | VacancyIndex, _MiscSplit] = (
            weakref.WeakKeyDictionary()
        )
        self._misc_lock = threading.Lock()
        # Live results: per memoised factor and direction (is the query a candidate?), explanations across
        # rankings (see _live_results). Both sides of some factors have keys of the same shape (hours).
        self._explained: dict[tuple[str, bool], _ExplainMemo] = {
            (name, query_is_candidate): _ExplainMemo()
            for name in FACTOR_ORDER
            for query_is_candidate in (True, False)
        }

    # ----------------------------------------------------------------------------------- indexes
    def build_vacancy_index(
        self, vacancies: Iterable[VacancyFeatures], *, after_chunk: Callable[[], None] | None = None
    ) -> VacancyIndex:
        """Encode vacancies into a new index (keep it fresh with ``upsert``/``remove``); see
        :func:`_upsert_all` for iterators and ``after_chunk``."""
        index = VacancyIndex(self.vocab, self.encoder)
        _upsert_all(index, vacancies, after_chunk)
        index.materialise()
        return index

    def build_candidate_index(
        self, candidates: Iterable[CandidateFeatures], *, after_chunk: Callable[[], None] | None = None
    ) -> CandidateIndex:
        """Encode candidates into a new index (keep it fresh with ``upsert``/``remove``); see
        :func:`_upsert_all` for iterators and ``after_chunk``."""
        index = CandidateIndex(self.vocab, self.encoder)
        _upsert_all(index, candidates, after_chunk)
        index.materialise()
        return index

    # ------------------------------------------------------------------------------------- live
    def rank_vacancies(
        self,
        candidate: CandidateFeatures,
        index: VacancyIndex,
        *,
        limit: int = 50,
        filters: MatchFilters | None = None,
    ) -> list[MatchResult]:
        """Vacancies for one candidate, best first, with explanations for the returned ones only."""
        index.materialise()
        if len(index) == 0:
            return []
        record = self.encoder.candidate(candidate)
        query = QueryProfile.candidate(record, self.vocab, max_travel_km=index_max_travel(self))
        keep = index.alive.copy()
        if not record.target_group_register:
            keep &= ~index.array("garantiebaan")
        if filters is not None and filters.sector is not None:
            bit = self.vocab.sectors.get(filters.sector.lower())
            keep &= (index.array("sector") & (0 if bit is None else 1 << bit)) != 0
        if filters is not None and filters.country is not None:
            bit = self.vocab.countries.get(filters.country.upper())
            keep &= (index.array("country") & (0 if bit is None else 1 << bit)) != 0
        rows, scored = self._live_top(
            query,
            index,
            keep,
            query_is_candidate=True,
            limit=limit,
            filters=filters,
            query_key=misc_class_key(record),
        )
        return self._live_results(
            record, [index.record_at(row) for row in rows], scored, query_is_candidate=True
        )

    def rank_candidates(
        self,
        vacancy: VacancyFeatures,
        index: CandidateIndex,
        *,
        limit: int = 50,
        filters: MatchFilters | None = None,
    ) -> list[MatchResult]:
        """Candidates for one vacancy, best first, with explanations for the returned ones only."""
        index.materialise()
        if len(index) == 0:
            return []
        record = self.encoder.vacancy(vacancy)
        query = QueryProfile.vacancy(record, self.vocab)
        keep = index.alive.copy()
        if record.garantiebaan:
            keep &= index.array("target_group_register")
        if filters is not None and filters.sector is not None:
            bit = self.vocab.sectors.get(filters.sector.lower())
            keep &= (index.array("sectors") & (0 if bit is None else 1 << bit)) != 0
        if filters is not None and filters.country is not None:
            # For candidates, "country" filters on where they live (the last part of the "misc" class key).
            country = filters.country.upper()
            ids, _reps = index.classes("misc")
            lives_there = np.asarray([key[-1] == country for key in index.class_keys("misc")], dtype=bool)
            keep &= lives_there[ids]
        rows, scored = self._live_top(
            query,
            index,
            keep,
            query_is_candidate=False,
            limit=limit,
            filters=filters,
            query_key=misc_class_key(record),
        )
        return self._live_results(
            record, [index.record_at(row) for row in rows], scored, query_is_candidate=False
        )

    def _live_top(
        self,
        query: QueryProfile,
        index: CandidateIndex | VacancyIndex,
        keep: npt.NDArray[np.bool_],
        *,
        query_is_candidate: bool,
        limit: int,
        filters: MatchFilters | None,
        query_key: tuple[Hashable, ...] | None = None,
    ) -> tuple[list[int], ScoredBlock | None]:
        """Rows of the top ``limit`` results for one profile against an index (unmet requirements last, then
        score, then id), and a :class:`ScoredBlock` of just those rows (position i = ``rows[i]``).

        Every factor but competences depends on a few columns of the index side only, so it is scored once
        per row class (see ``index.CLASS_NAMES``: a handful of locations, occupations, hour ranges...) with
        the same factor code and gathered per row — or scored per row where a class holds about one row.
        That gives each row its exact unmet count and every contribution but the competences', which lies
        in [0, weight]. Competences are then scored (sparse products over just those rows) only for rows
        that can still reach the top ``limit`` by these bounds: the same results as scoring every row. For a
        candidate with many such rows, the products are taken once over every vacancy through the column
        copies (their cost follows the candidate's own concepts) and gathered per step
        (``PairBlock.narrowed``).

        ``query_key`` is the query's misc class key (``index.misc_class_key``): misc factor scores are
        memoised per part of it (see :meth:`_score_misc`); None scores them afresh.
        """
        thresholds = self.algorithm.thresholds
        n = keep.size

        def block(rows: IntArray | None) -> PairBlock:
            if query_is_candidate:
                return PairBlock(query, 0, index, rows)  # type: ignore[arg-type]
            return PairBlock(index, rows, query, 0)  # type: ignore[arg-type]

        def score_class(
            cls: str, rows: IntArray | None
        ) -> tuple[dict[str, FloatArray], dict[str, IntArray], IntArray]:
            """Factor scores and contributions of class ``cls`` on ``rows`` (representatives, a subset of
            rows, or None: every row), and per entry Σ contributions + (unmet count << _UNMET_SHIFT)."""
            nonlocal distance_cls
            cls_block = block(rows)
            cls_base = np.zeros(n if rows is None else rows.size, dtype=np.int64)
            cls_unmet = np.zeros(cls_base.size, dtype=np.int64)
            scores: dict[str, FloatArray] = {}
            contributions: dict[str, IntArray] = {}
            for name in _CLASS_FACTORS[cls]:
                s, contribution, unmet = self._factor(name, cls_block, thresholds)
                scores[name] = s
                contributions[name] = contribution
                cls_base += contribution
                if unmet is not None:
                    cls_unmet += unmet
            if cls == "travel":
                distance_cls = np.asarray(cls_block.distance_km(), dtype=np.float64)
            return scores, contributions, cls_base + (cls_unmet << _UNMET_SHIFT)

        # Per class: (class per row or None, scores, contributions, rows scored or None, per factor a map
        # class → entry or None); entries of scores are per class (or per entry of that map), per row (class
        # None), or per row of the given rows.
        per_class: dict[
            str,
            tuple[
                npt.NDArray[np.int32] | None,
                dict[str, FloatArray],
                dict[str, IntArray],
                IntArray | None,
                dict[str, IntArray] | None,
            ],
        ] = {}
        packed = np.zeros(n, dtype=np.int64)  # per row: Σ class contributions + (unmet count << _UNMET_SHIFT)
        distance_cls: FloatArray = np.zeros(0)
        deferred: list[str] = []
        for cls in CLASS_NAMES:
            ids, reps = index.classes(cls)
            if cls == "misc":
                # Each misc factor reads only a part of the class key, which takes far fewer values: score it
                # once per value and gather per class, then per row.
                scores, contributions, subs, value = self._score_misc(
                    index, reps, block, thresholds, query_key
                )
                packed += np.take(value, ids)
                per_class[cls] = (ids, scores, contributions, None, subs)
                continue
            if reps.size * 2 > n:  # about one row per class: score the rows themselves
                if cls != "travel":
                    deferred.append(cls)  # maybe only the rows that meet every other requirement
                    continue
                scores, contributions, value = score_class(cls, None)
                packed += value
                per_class[cls] = (None, scores, contributions, None, None)
            else:
                scores, contributions, value = score_class(cls, reps)
                packed += np.take(value, ids)
                per_class[cls] = (ids, scores, contributions, None, None)
        travel_ids = per_class["travel"][0]
        if filters is not None and filters.max_km is not None:
            keep = keep & (
                (distance_cls if travel_ids is None else distance_cls[travel_ids]) <= filters.max_km
            )
        min_score = None
        if filters is not None and filters.min_score is not None:
            min_score = math.ceil(filters.min_score * 100 - 1e-9)
        if limit <= 0:
            return [], None

        rows: IntArray | None = None
        if deferred and min_score is None:
            # Results that meet every requirement rank first. If enough rows meet those of the classes
            # scored so far and those of the deferred classes, only such rows can be in the top.
            maybe = np.flatnonzero(keep & (packed < (1 << _UNMET_SHIFT)))
            if maybe.size * 2 <= n:
                values = np.zeros(maybe.size, dtype=np.int64)
                parts = {}
                for cls in deferred:
                    scores, contributions, value = score_class(cls, maybe)
                    values += value
                    parts[cls] = (scores, contributions)
                if int(np.count_nonzero(values < (1 << _UNMET_SHIFT))) >= limit:
                    for cls in deferred:
                        per_class[cls] = (None, *parts[cls], maybe, None)
                    rows = maybe
                    packed_rows = packed[maybe] + values
        if rows is None:
            for cls in deferred:
                scores, contributions, value = score_class(cls, None)
                packed += value
                per_class[cls] = (None, scores, contributions, None, None)
            rows = np.flatnonzero(keep)
            packed_rows = packed[rows]
        unmet = packed_rows >> _UNMET_SHIFT
        partial = packed_rows & _BASE_MASK  # the base without the competences' contribution
        comp_max = self._competences_max

        full: PairBlock | None = None  # the competences' block over every row, once it pays (set below)

        def exact(pick: IntArray) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
            picked = rows[pick]
            comp_block = block(picked) if full is None else full.narrowed(picked)
            comp = FACTORS["competences"].score(comp_block, thresholds).score
            comp = np.asarray(comp, dtype=np.float64)
            comp_contribution = np.rint(comp * self._weights100["competences"]).astype(np.int64)
            base = partial[pick] + comp_contribution
            n_unmet = unmet[pick]
            multiplier = self._multiplier_array[np.minimum(n_unmet, _MAX_UNMET)]
            score = np.where(n_unmet > 0, np.rint(base * multiplier).astype(np.int64), base)
            return comp, comp_contribution, base, score

        feasible = unmet == 0
        n_feasible = int(np.count_nonzero(feasible))
        if n_feasible >= limit:
            # Results without unmet requirements fill the top; their score is partial + [0, comp_max].
            first = np.zeros(0, dtype=np.int64)
            at = np.flatnonzero(feasible)
            lo = partial[at]
            hi = lo + comp_max
            need = limit
        else:
            # All of those, then the best of the rest: score = rint((partial + [0, comp_max]) · multiplier).
            first = np.flatnonzero(feasible)
            at = np.flatnonzero(~feasible)
            multiplier = self._multiplier_array[np.minimum(unmet[at], _MAX_UNMET)]
            lo = np.rint(partial[at] * multiplier)
            hi = np.rint((partial[at] + comp_max) * multiplier)
            need = limit - n_feasible
        reach = _reachable(lo, hi, need)
        if query_is_candidate and reach.size * _FULL_COMPETENCES > n:
            # Competences for many rows: one product over every row through the vacancies' column copies
            # (its cost follows the candidate's few concepts), which every exact() below then gathers from.
            full = block(None)
        if reach.size > 10 * need and full is None:
            # Many rows within the bounds: score the 2·need most promising first; the need-th best of their
            # exact scores is a higher bar than the need-th lower bound, so fewer rows remain to score. (With
            # the full products at hand, scoring every row within the bounds at once costs less than a step.)
            probe = np.argpartition(lo, lo.size - 2 * need)[lo.size - 2 * need :]
            parts = [exact(np.concatenate([first, at[probe]]))]
            probe_scores = parts[0][3][first.size :]
            bar = np.partition(probe_scores, probe_scores.size - need)[probe_scores.size - need]
            rest = np.zeros(at.size, dtype=bool)
            rest[reach] = True
            rest &= hi >= bar
            rest[probe] = False
            second = at[np.flatnonzero(rest)]
            if second.size:
                parts.append(exact(second))
            pick = np.concatenate([first, at[probe], second])
            comp, comp_contribution, base, score = (
                np.concatenate(arrays) for arrays in zip(*parts, strict=True)
            )
        else:
            pick = np.concatenate([first, at[reach]])
            comp, comp_contribution, base, score = exact(pick)
        if min_score is not None:
            passing = score >= min_score
            if int(np.count_nonzero(passing)) < limit and pick.size < rows.size:
                # Too few of the picked rows pass: rows left out by the bounds might fill the rest.
                pick = np.arange(rows.size)
                comp, comp_contribution, base, score = exact(pick)
                passing = score >= min_score
            sel = np.flatnonzero(passing)
        else:
            sel = np.arange(pick.size)
        n_unmet = unmet[pick]
        key = (n_unmet > 0).astype(np.int64) * 20001 + (10000 - score)
        if sel.size > limit:
            kth = np.partition(key[sel], limit - 1)[limit - 1]
            sel = sel[key[sel] <= kth]
        picked_rows = rows[pick[sel]]
        order = sorted(
            zip(key[sel].tolist(), index.row_ids[picked_rows].tolist(), sel.tolist(), strict=True)
        )[:limit]
        chosen = np.asarray([p for _k, _id, p in order], dtype=np.int64)
        out_rows = rows[pick[chosen]]
        factor_scores: dict[str, FloatArray] = {}
        factor_contributions: dict[str, IntArray] = {}
        for cls, (ids, scores, contributions, scored_rows, subs) in per_class.items():
            if scored_rows is not None:
                at_cls = np.searchsorted(scored_rows, out_rows)
            else:
                at_cls = out_rows if ids is None else ids[out_rows]
            for name in _CLASS_FACTORS[cls]:
                at = at_cls if subs is None else subs[name][at_cls]
                factor_scores[name] = scores[name][at]
                factor_contributions[name] = contributions[name][at]
        factor_scores["competences"] = comp[chosen]
        factor_contributions["competences"] = comp_contribution[chosen]
        scored = ScoredBlock(
            {name: factor_scores[name] for name in FACTOR_ORDER},
            {name: factor_contributions[name] for name in FACTOR_ORDER},
            n_unmet[chosen],
            base[chosen],
            score[chosen],
            distance_cls[out_rows if travel_ids is None else travel_ids[out_rows]],
        )
        return out_rows.tolist(), scored

    def _misc_split(
        self, index: CandidateIndex | VacancyIndex, reps: IntArray
    ) -> tuple[dict[str, tuple[IntArray, IntArray]], dict[tuple[Hashable, ...], _MiscScored]] | None:
        """Per misc factor (sub-class per misc class, first misc class per sub-class) for the classes whose
        representatives are ``reps`` (as ``index.classes("misc")`` returned them); None when the index changed
        its classes meanwhile (a concurrent update: the caller scores every class instead)."""
        with self._misc_lock:
            split = self._misc_splits.get(index)
            if split is None:
                split = self._misc_splits[index] = _MiscSplit()
            if split.reps is not reps:
                keys = index.class_keys("misc")
                if len(keys) != reps.size or index.classes("misc")[1] is not reps:
                    return None
                split.update(keys, reps)
            return split.arrays, split.memo  # both replaced (never changed) by the next update

    def _score_misc(
        self,
        index: CandidateIndex | VacancyIndex,
        reps: IntArray,
        block: Callable[[IntArray | None], PairBlock],
        thresholds: Mapping[str, float],
        query_key: tuple[Hashable, ...] | None,
    ) -> tuple[dict[str, FloatArray], dict[str, IntArray], dict[str, IntArray], IntArray]:
        """Scores and contributions of the misc factors per sub-class (see :class:`_MiscSplit`), the
        sub-class of every misc class per factor, and per class Σ contributions + (unmet count <<
        _UNMET_SHIFT): each factor scored once per distinct value of its part of the key.

        A factor's numbers per sub-class depend only on the query's part of its key (the same fields on the
        query side), so they are memoised per part with the split: most queries share their hours, education,
        licences, certificates and languages with earlier ones. The split drops them when the index's
        classes change; vocabulary sizes are part of the memo key, as query rows are as wide as those."""
        split = self._misc_split(index, reps)
        value = np.zeros(reps.size, dtype=np.int64)
        scores: dict[str, FloatArray] = {}
        contributions: dict[str, IntArray] = {}
        subs: dict[str, IntArray] = {}
        memo = None if split is None or query_key is None else split[1]
        widths = (len(self.vocab.languages), len(self.vocab.certificates))
        for name in _CLASS_FACTORS["misc"]:
            if split is None:
                sub_of_class = first_class = np.arange(reps.size)
            else:
                sub_of_class, first_class = split[0][name]
            key = None
            hit = None
            if memo is not None:
                key = (name, widths, *(query_key[i] for i in _MISC_KEY_PARTS[name]))  # type: ignore[index]
                hit = memo.get(key)
            if hit is None:
                s, contribution, factor_unmet = self._factor(name, block(reps[first_class]), thresholds)
                packed = (
                    contribution if factor_unmet is None else contribution + (factor_unmet << _UNMET_SHIFT)
                )
                hit = (s, contribution, packed)
                if memo is not None:
                    if len(memo) >= _MISC_MEMO_SIZE:
                        memo.clear()
                    memo[key] = hit
            scores[name], contributions[name] = hit[0], hit[1]
            subs[name] = sub_of_class
            value += hit[2][sub_of_class]
        return scores, contributions, subs, value

    def _factor(
        self, name: str, block: PairBlock, thresholds: Mapping[str, float]
    ) -> tuple[FloatArray, IntArray, IntArray | None]:
        """One factor on a block: its scores, contributions in hundredths and unmet counts (or None)."""
        result = FACTORS[name].score(block, thresholds)
        s = np.asarray(result.score, dtype=np.float64)
        contribution = np.rint(s * self._weights100[name]).astype(np.int64)
        unmet = None if result.unmet is None else np.asarray(result.unmet, dtype=np.int64)
        return s, contribution, unmet

    def _live_results(
        self,
        record: EncodedCandidate | EncodedVacancy,
        others: Sequence[EncodedCandidate] | Sequence[EncodedVacancy],
        scored: ScoredBlock | None,
        *,
        query_is_candidate: bool,
    ) -> list[MatchResult]:
        """Results with explanations for the chosen rows, best first (contributions add up to each score).

        Built factor by factor: within one ranking the query side is fixed, so a factor's text is reused for
        every row whose inputs on the other side (see ``_SIDE_KEYS``), score and contribution equal those of
        an earlier row. Each row's explanation is then one zip over the factors' columns, and only rows
        with an unmet requirement join their factors' unmet tuples.
        """
        if scored is None or not others:
            return []
        thresholds = self._plain_thresholds
        weights = self._plain_weights
        distances = scored.distance_km.tolist()
        columns: list[list[FactorExplanation]] = []
        unmet_columns: list[list[tuple[Unmet, ...]]] = []
        n = len(others)

        def item(name: str, weight: float, s: float, contribution: int, detail: str) -> FactorExplanation:
            return FactorExplanation(
                factor=name, weight=weight, score=round(s, 4), contribution=contribution / 100, detail=detail
            )

        def explained(
            name: str, weight: float, i: int, s: float, contribution: int
        ) -> tuple[FactorExplanation, tuple[Unmet, ...]]:
            """Factor ``name``'s explanation of row i (with the unmet requirements it names)."""
            if query_is_candidate:
                candidate, vacancy = record, others[i]
            else:
                candidate, vacancy = others[i], record
            detail, factor_unmet = FACTORS[name].explain(
                candidate, vacancy, score=s, distance_km=distances[i], thresholds=thresholds
            )
            return item(name, weight, s, contribution, detail), factor_unmet

        for name in FACTOR_ORDER:
            scores = scored.factor_scores[name].tolist()
            contributions = scored.contributions[name].tolist()
            weight = weights[name]
            side_of = _SIDE_KEYS[name][0 if query_is_candidate else 1]
            if side_of is None:  # competences: a text per row
                make = getattr(FACTORS[name], "explainer", None)
                if query_is_candidate and make is not None:
                    # The factor prepares the candidate's side once for all rows.
                    one = make(record, thresholds)
                    texts = [one(other) for other in others]  # type: ignore[arg-type]
                    made = [
                        (item(name, weight, s, contribution, detail), factor_unmet)
                        for (detail, factor_unmet), s, contribution in zip(
                            texts, scores, contributions, strict=True
                        )
                    ]
                else:
                    made = [explained(name, weight, i, scores[i], contributions[i]) for i in range(n)]
            else:
                # Rows with equal inputs on both sides, score and contribution share one explanation, within
                # this ranking and across rankings (most queries share hours, languages... with earlier ones).
                memo = self._explained[name, query_is_candidate]
                entries = memo.entries
                query_side = _SIDE_KEYS[name][1 if query_is_candidate else 0](record, 0.0)  # type: ignore[misc]
                sides = zip(map(side_of, others, distances), repeat(memo.id_of(query_side)))
                made = []
                for i, key in enumerate(zip(scores, contributions, sides, strict=True)):
                    hit = entries.get(key)
                    if hit is None:
                        hit = memo.add(key, explained(name, weight, i, key[0], key[1]))
                    made.append(hit)
            columns.append([item for item, _unmet in made])
            unmet_columns.append([factor_unmet for _item, factor_unmet in made])
        n_unmets = scored.unmet.tolist()
        totals = scored.score.tolist()
        bases = scored.base.tolist()
        results: list[MatchResult] = []
        for i, (other, explanation, row_unmets) in enumerate(
            zip(others, zip(*columns, strict=True), zip(*unmet_columns, strict=True), strict=True)
        ):
            unmet: tuple[Unmet, ...] = tuple(chain.from_iterable(row_unmets)) if any(row_unmets) else ()
            n_unmet = n_unmets[i]
            if n_unmet:
                explanation = (*explanation, self._hard_requirements(n_unmet, totals[i] - bases[i], unmet))
            results.append(
                MatchResult(
                    id=other.id,
                    score=totals[i] / 100,
                    rank=i + 1,
                    distance_km=distances[i],
                    unmet=unmet,
                    explanation=explanation,
                )
            )
        return results

    def _hard_requirements(self, n_unmet: int, penalty: int, unmet: Sequence[Unmet]) -> FactorExplanation:
        """The pseudo-factor carrying the penalty (in hundredths) for ``n_unmet`` unmet hard requirements."""
        multiplier = self._multipliers[min(n_unmet, _MAX_UNMET)]
        eisen = "harde eis" if n_unmet == 1 else "harde eisen"
        factor_text = f"{multiplier:.4g}".replace(".", ",")
        return FactorExplanation(
            factor=HARD_REQUIREMENTS,
            weight=0.0,
            score=round(multiplier, 6),
            contribution=penalty / 100,
            detail=f"{n_unmet} {eisen} niet vervuld ({'; '.join(u.detail for u in unmet)}): "
            f"score × {factor_text}.",
        )

    # ------------------------------------------------------------------------------------ batch
    def top_k_vacancies_for_candidates(
        self,
        cand_index: CandidateIndex,
        vac_index: VacancyIndex,
        *,
        k: int = 50,
        candidate_ids: Sequence[str] | None = None,
        workers: int = 1,
        chunk_size: int = 256,
    ) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        """Per candidate the top-``k`` feasible vacancies as ``(vacancy_id, score)``, best first.

        Feasible: eligible (garantiebaan rule), within the candidate's reach in an allowed country, and every
        hard requirement met. Scores equal :meth:`rank_vacancies`'. Candidates come in a deterministic
        spatial order; with ``workers`` > 1, forked worker processes score chunks in parallel (threads where
        fork is unavailable). Results do not depend on ``chunk_size`` or ``workers``; ties break by id.
        """
        from matching.batch import batch_top_k

        yield from batch_top_k(
            self,
            query=cand_index,
            target=vac_index,
            k=k,
            ids=candidate_ids,
            workers=workers,
            chunk=chunk_size,
        )

    def top_k_candidates_for_vacancies(
        self,
        vac_index: VacancyIndex,
        cand_index: CandidateIndex,
        *,
        k: int = 50,
        vacancy_ids: Sequence[str] | None = None,
        workers: int = 1,
        chunk_size: int = 256,
    ) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        """Per vacancy the top-``k`` feasible candidates as ``(candidate_id, score)``, best first."""
        from matching.batch import batch_top_k

        yield from batch_top_k(
            self, query=vac_index, target=cand_index, k=k, ids=vacancy_ids, workers=workers, chunk=chunk_size
        )


#: Factors scored per row class in the live path (competences are scored per row).
_CLASS_FACTORS: dict[str, tuple[str, ...]] = {
    "travel": ("travel",),
    "occupation": ("occupation",),
    "misc": ("language", "hours", "education", "driving_licences", "certificates"),
}
assert sorted(f for names in _CLASS_FACTORS.values() for f in names) == sorted(
    set(FACTOR_ORDER) - {"competences"}
)

#: Per misc factor, the positions in the misc class key (``CandidateIndex._class_key`` /
#: ``VacancyIndex._class_key``: hours_min, hours_max, education, licences, certificates, languages[, country])
#: of every field its arrays are built from, on either side. ``tests/matching/test_engine_misc_split.py``
#: checks the split scores equal scoring every class.
_MISC_KEY_PARTS: dict[str, tuple[int, ...]] = {
    "hours": (0, 1),
    "education": (2,),
    "driving_licences": (3,),
    "certificates": (4,),
    "language": (5,),
}
assert sorted(_MISC_KEY_PARTS) == sorted(_CLASS_FACTORS["misc"])


#: Explanations one factor's memo keeps across rankings before it starts over (each a few hundred bytes;
#: 16 memos, so at most a few MB each).
_EXPLAIN_MEMO_SIZE = 4096


class _ExplainMemo:
    """One factor's explanations across live rankings in one direction, keyed by (score, contribution, the
    other side's inputs, an id of the query side's inputs): every input of the factor's ``explain`` (see
    ``_SIDE_KEYS``; the thresholds are the engine's). Explanations are immutable, so results may share them.

    Query sides get ids that are never reused (not even after the memo starts over), so a key can only
    ever mean one pair of inputs, also while threads rank concurrently."""

    def __init__(self) -> None:
        self.entries: dict[tuple[object, ...], tuple[FactorExplanation, tuple[Unmet, ...]]] = {}
        self._ids: dict[Hashable, int] = {}
        self._next = count()

    def id_of(self, query_side: Hashable) -> int:
        found = self._ids.get(query_side)
        if found is None:
            if len(self._ids) >= _EXPLAIN_MEMO_SIZE:
                self._ids = {}
            found = self._ids.setdefault(query_side, next(self._next))
        return found

    def add(
        self, key: tuple[object, ...], value: tuple[FactorExplanation, tuple[Unmet, ...]]
    ) -> tuple[FactorExplanation, tuple[Unmet, ...]]:
        if len(self.entries) >= _EXPLAIN_MEMO_SIZE:
            self.entries = {}
        self.entries[key] = value
        return value


@dataclass
class _MiscSplit:
    """One index's misc classes split per factor: for factor f, the sub-class of every misc class (the
    distinct values of f's part of the class key) and the first misc class of every sub-class, whose
    representative row is scored for it.

    Classes only ever get appended until the index compacts, which renumbers them; the split follows appends
    incrementally and starts over when its keys are no longer a prefix of the index's."""

    reps: IntArray | None = None
    keys: list[Hashable] = field(default_factory=list)
    sub_of: dict[str, dict[Hashable, int]] = field(default_factory=dict)
    sub_ids: dict[str, list[int]] = field(default_factory=dict)
    first: dict[str, list[int]] = field(default_factory=dict)
    arrays: dict[str, tuple[IntArray, IntArray]] = field(default_factory=dict)
    #: (factor, vocabulary widths, query's part of the key) → (scores, contributions, contributions +
    #: (unmet << _UNMET_SHIFT)) per sub-class, for the current arrays (see MatchEngine._score_misc).
    memo: dict[tuple[Hashable, ...], _MiscScored] = field(default_factory=dict)

    def update(self, keys: list[Hashable], reps: IntArray) -> None:
        done = len(self.keys)
        if done > len(keys) or keys[:done] != self.keys:
            self.sub_of, self.sub_ids, self.first = {}, {}, {}
            done = 0
        for name, parts in _MISC_KEY_PARTS.items():
            sub_of = self.sub_of.setdefault(name, {})
            sub_ids = self.sub_ids.setdefault(name, [])
            first = self.first.setdefault(name, [])
            for c in range(done, len(keys)):
                part = tuple(keys[c][i] for i in parts)  # type: ignore[index]
                sub = sub_of.get(part)
                if sub is None:
                    sub = sub_of[part] = len(first)
                    first.append(c)
                sub_ids.append(sub)
        self.keys = keys
        self.reps = reps
        self.memo = {}  # sub-classes were added or renumbered
        self.arrays = {
            name: (
                np.asarray(self.sub_ids[name], dtype=np.int64),
                np.asarray(self.first[name], dtype=np.int64),
            )
            for name in _MISC_KEY_PARTS
        }


#: Profiles encoded per ``upsert`` when an index is built from an iterator (not a list).
BUILD_CHUNK = 5_000


def _upsert_all(
    index: CandidateIndex | VacancyIndex, profiles: Iterable[Any], after_chunk: Callable[[], None] | None
) -> None:
    """Add ``profiles`` to a new index: a list in one ``upsert``; any other iterable (a database stream) in
    chunks of :data:`BUILD_CHUNK`, so the features of all profiles are never held at once (at twente a
    batch worker's peak held 50,000 candidates' features, about 230 MiB, beside their records).

    ``after_chunk`` is called after each chunk is encoded, when that chunk's rows and features are garbage
    (a batch worker returns the freed heap to the system there)."""
    if isinstance(profiles, list):
        index.upsert(profiles)
        return
    iterator = iter(profiles)
    while chunk := list(islice(iterator, BUILD_CHUNK)):
        index.upsert(chunk)
        del chunk
        if after_chunk is not None:
            after_chunk()


def index_max_travel(engine: MatchEngine) -> float:
    """The algorithm's cap on a candidate's travel radius (what CandidateIndex stores as ``limit_km``)."""
    return float(engine.algorithm.thresholds["max_travel_km"])


def _reachable(lo: npt.NDArray[np.generic], hi: npt.NDArray[np.generic], k: int) -> IntArray:
    """Positions whose score can be among the ``k`` best, given bounds ``lo`` ≤ score ≤ ``hi`` per position.

    At least ``k`` positions score ≥ t, the k-th largest lower bound, so one whose upper bound is below t
    cannot make it; ties (hi == t) stay, as ids decide them.
    """
    if lo.size <= k:
        return np.arange(lo.size)
    t = np.partition(lo, lo.size - k)[lo.size - k]
    return np.flatnonzero(hi >= t)


#: Per factor, (from a vacancy row, from a candidate row): every input of its ``explain`` on the side that
#: varies within one live ranking (the query's fields are fixed there), from the row's record and distance.
#: None: not memoised (competences: different for nearly every pair).
_SIDE_KEYS: dict[
    str, tuple[Callable[[Any, float], Hashable] | None, Callable[[Any, float], Hashable] | None]
] = {
    "competences": (None, None),
    "occupation": (
        lambda v, _d: (
            v.occupation_key,
            v.isco,
            v.occupation_label or v.title,
        ),  # explain reads label or title
        lambda c, _d: c.occupation_labels,
    ),
    "language": (lambda v, _d: tuple(v.languages.items()), lambda c, _d: tuple(c.languages.items())),
    "travel": (lambda v, d: (v.country, d), lambda c, d: (c.max_travel_km, c.work_countries, d)),
    "hours": (lambda v, _d: (v.hours_min, v.hours_max), lambda c, _d: (c.hours_min, c.hours_max)),
    "education": (
        lambda v, _d: (v.education, v.education_level),
        lambda c, _d: (c.education, c.education_level),
    ),
    "driving_licences": (lambda v, _d: v.licences, lambda c, _d: c.licences),
    "certificates": (
        lambda v, _d: (v.certificates, tuple(v.certificate_labels.items())),
        lambda c, _d: c.certificates,
    ),
}
assert sorted(_SIDE_KEYS) == sorted(FACTOR_ORDER)

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

The batch functions take the top-K per profile among pairs that pass the hard filters (eligible, within reach,
every hard requirement met), after regional blocking with a KD-tree; their scores are identical to the live
path's.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.algorithms import DEFAULT_ALGORITHM, FACTOR_ORDER, AlgorithmConfig
from matching.encoding import EncodedCandidate, EncodedVacancy, Encoder, TaxonomyLike, dyadic
from matching.factors import FACTORS, explain_pair
from matching.index import (
    CLASS_NAMES,
    CandidateIndex,
    PairBlock,
    QueryProfile,
    VacancyIndex,
    Vocabularies,
    chord_to_km,
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
_WORST = np.int64(1) << np.int64(40)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


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

    # ----------------------------------------------------------------------------------- indexes
    def build_vacancy_index(self, vacancies: Iterable[VacancyFeatures]) -> VacancyIndex:
        """Encode vacancies into a new index (keep it fresh with ``upsert``/``remove``)."""
        index = VacancyIndex(self.vocab, self.encoder)
        index.upsert(vacancies)
        index.materialise()
        return index

    def build_candidate_index(self, candidates: Iterable[CandidateFeatures]) -> CandidateIndex:
        """Encode candidates into a new index (keep it fresh with ``upsert``/``remove``)."""
        index = CandidateIndex(self.vocab, self.encoder)
        index.upsert(candidates)
        index.materialise()
        return index

    # ----------------------------------------------------------------------------------- scoring
    def score_block(self, block: PairBlock) -> ScoredBlock:
        """Score every pair of a block (the one scoring routine all paths share)."""
        thresholds = self.algorithm.thresholds
        scores: dict[str, FloatArray] = {}
        contributions: dict[str, IntArray] = {}
        unmet = np.zeros(block.shape, dtype=np.int64)
        base = np.zeros(block.shape, dtype=np.int64)
        for name in FACTOR_ORDER:
            result = FACTORS[name].score(block, thresholds)
            s = np.asarray(result.score, dtype=np.float64)
            scores[name] = s
            contribution = np.rint(s * self._weights100[name]).astype(np.int64)
            contributions[name] = contribution
            base = base + contribution
            if result.unmet is not None:
                unmet = unmet + result.unmet
        multiplier = np.asarray(self._multipliers)[np.minimum(unmet, _MAX_UNMET)]
        score = np.where(unmet > 0, np.rint(base * multiplier).astype(np.int64), base)
        return ScoredBlock(scores, contributions, unmet, base, score, block.distance_km())

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
        live = self._score_live(query, index, query_is_candidate=True)
        keep = index.alive.copy()
        if not record.target_group_register:
            keep &= ~index.array("garantiebaan")
        if filters is not None and filters.sector is not None:
            bit = self.vocab.sectors.get(filters.sector.lower())
            keep &= (index.array("sector") & (0 if bit is None else 1 << bit)) != 0
        if filters is not None and filters.country is not None:
            bit = self.vocab.countries.get(filters.country.upper())
            keep &= (index.array("country") & (0 if bit is None else 1 << bit)) != 0
        chosen = self._select(live, keep, index.row_ids, limit=limit, filters=filters)
        scored = live.rows(chosen)
        memo: dict[tuple[object, ...], tuple[FactorExplanation, tuple[Unmet, ...]]] = {}
        results = []
        for i, row in enumerate(chosen):
            vacancy = index.record_at(row)
            results.append(
                self._result(record, vacancy, scored, i, rank=i + 1, other_id=vacancy.id, memo=memo)
            )
        return results

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
        live = self._score_live(query, index, query_is_candidate=False)
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
        chosen = self._select(live, keep, index.row_ids, limit=limit, filters=filters)
        scored = live.rows(chosen)
        memo: dict[tuple[object, ...], tuple[FactorExplanation, tuple[Unmet, ...]]] = {}
        results = []
        for i, row in enumerate(chosen):
            candidate = index.record_at(row)
            results.append(
                self._result(candidate, record, scored, i, rank=i + 1, other_id=candidate.id, memo=memo)
            )
        return results

    def _score_live(
        self, query: QueryProfile, index: CandidateIndex | VacancyIndex, *, query_is_candidate: bool
    ) -> _LiveScores:
        """Score one profile against every materialised row of an index.

        Competences are scored per row (sparse products). Every other factor depends on a few columns of the
        index side only, so it is scored once per row class (see ``index.CLASS_NAMES``: a handful of
        locations, occupations, hour ranges...) with the same factor code, and gathered per row.
        """
        thresholds = self.algorithm.thresholds

        def block(rows: IntArray | None) -> PairBlock:
            if query_is_candidate:
                return PairBlock(query, 0, index, rows)  # type: ignore[arg-type]
            return PairBlock(index, rows, query, 0)  # type: ignore[arg-type]

        comp = np.asarray(FACTORS["competences"].score(block(None), thresholds).score, dtype=np.float64)
        comp_contribution = np.rint(comp * self._weights100["competences"]).astype(np.int64)
        base = comp_contribution.copy()
        unmet = np.zeros(base.shape, dtype=np.int64)
        per_class: dict[str, tuple[npt.NDArray[np.int32], dict[str, FloatArray], dict[str, IntArray]]] = {}
        distance_cls = np.zeros(0)
        for cls in CLASS_NAMES:
            ids, reps = index.classes(cls)
            cls_block = block(reps)
            scores: dict[str, FloatArray] = {}
            contributions: dict[str, IntArray] = {}
            cls_base = np.zeros(reps.size, dtype=np.int64)
            cls_unmet = np.zeros(reps.size, dtype=np.int64)
            for name in _CLASS_FACTORS[cls]:
                result = FACTORS[name].score(cls_block, thresholds)
                s = np.asarray(result.score, dtype=np.float64)
                contribution = np.rint(s * self._weights100[name]).astype(np.int64)
                scores[name] = s
                contributions[name] = contribution
                cls_base += contribution
                if result.unmet is not None:
                    cls_unmet += result.unmet
            if cls == "travel":
                distance_cls = np.asarray(cls_block.distance_km(), dtype=np.float64)
            base += cls_base[ids]
            if cls_unmet.any():
                unmet += cls_unmet[ids]
            per_class[cls] = (ids, scores, contributions)
        multiplier = np.asarray(self._multipliers)[np.minimum(unmet, _MAX_UNMET)]
        score = np.where(unmet > 0, np.rint(base * multiplier).astype(np.int64), base)
        return _LiveScores(
            comp=comp,
            comp_contribution=comp_contribution,
            per_class=per_class,
            distance_cls=distance_cls,
            unmet=unmet,
            base=base,
            score=score,
        )

    def _select(
        self,
        scored: ScoredBlock | _LiveScores,
        keep: npt.NDArray[np.bool_],
        row_ids: npt.NDArray[np.object_],
        *,
        limit: int,
        filters: MatchFilters | None,
    ) -> list[int]:
        """Rows of the top ``limit`` results: unmet requirements last, then score, then id."""
        if filters is not None and filters.max_km is not None:
            keep = keep & (scored.distance_km <= filters.max_km)  # (a gather for _LiveScores)
        if filters is not None and filters.min_score is not None:
            keep = keep & (scored.score >= math.ceil(filters.min_score * 100 - 1e-9))
        if limit <= 0:
            return []
        key = np.where(keep, (scored.unmet > 0).astype(np.int64) * 20001 + (10000 - scored.score), _WORST)
        if key.size > limit:
            kth = np.partition(key, limit - 1)[limit - 1]
            positions = np.flatnonzero(key <= kth)
        else:
            positions = np.arange(key.size)
        positions = positions[key[positions] < _WORST]
        keys = key[positions]
        ids = row_ids[positions]
        order = sorted(range(positions.size), key=lambda i: (int(keys[i]), ids[i]))
        return [int(positions[i]) for i in order[:limit]]

    def _result(
        self,
        candidate: EncodedCandidate,
        vacancy: EncodedVacancy,
        scored: ScoredBlock,
        i: int,
        *,
        rank: int,
        other_id: str,
        memo: dict[tuple[object, ...], tuple[FactorExplanation, tuple[Unmet, ...]]] | None = None,
    ) -> MatchResult:
        explanation, unmet = self.explain(candidate, vacancy, scored=scored, position=i, memo=memo)
        return MatchResult(
            id=other_id,
            score=int(scored.score[i]) / 100,
            rank=rank,
            distance_km=float(scored.distance_km[i]),
            unmet=unmet,
            explanation=explanation,
        )

    def explain(
        self,
        candidate: EncodedCandidate,
        vacancy: EncodedVacancy,
        *,
        scored: ScoredBlock,
        position: int,
        memo: dict[tuple[object, ...], tuple[FactorExplanation, tuple[Unmet, ...]]] | None = None,
    ) -> tuple[tuple[FactorExplanation, ...], tuple[Unmet, ...]]:
        """Explanation and unmet requirements of one scored pair (contributions add up to its score).

        ``memo`` (one dict per ranking call) reuses the explanation of a factor whose inputs — the few
        record fields it reads (see ``_explain_key``), its score and contribution — were explained before.
        """
        thresholds = self.algorithm.thresholds
        distance = float(scored.distance_km[position])
        items: list[FactorExplanation] = []
        unmet: list[Unmet] = []
        for name in FACTOR_ORDER:
            s = float(scored.factor_scores[name][position])
            contribution = int(scored.contributions[name][position])
            key = None
            if memo is not None:
                inputs = _explain_key(name, candidate, vacancy, distance)
                if inputs is not None:
                    key = (name, s, contribution, inputs)
                    hit = memo.get(key)
                    if hit is not None:
                        unmet.extend(hit[1])
                        items.append(hit[0])
                        continue
            detail, factor_unmet = explain_pair(
                name, candidate, vacancy, score=s, distance_km=distance, thresholds=thresholds
            )
            unmet.extend(factor_unmet)
            item = FactorExplanation(
                factor=name,
                weight=self.algorithm.weights[name],
                score=round(s, 4),
                contribution=contribution / 100,
                detail=detail,
            )
            items.append(item)
            if key is not None:
                memo[key] = (item, factor_unmet)  # type: ignore[index]
        n_unmet = int(scored.unmet[position])
        if n_unmet:
            penalty = int(scored.score[position]) - int(scored.base[position])
            multiplier = self._multipliers[min(n_unmet, _MAX_UNMET)]
            eisen = "harde eis" if n_unmet == 1 else "harde eisen"
            factor_text = f"{multiplier:.4g}".replace(".", ",")
            items.append(
                FactorExplanation(
                    factor=HARD_REQUIREMENTS,
                    weight=0.0,
                    score=round(multiplier, 6),
                    contribution=penalty / 100,
                    detail=f"{n_unmet} {eisen} niet vervuld ({'; '.join(u.detail for u in unmet)}): "
                    f"score × {factor_text}.",
                )
            )
        return tuple(items), tuple(unmet)

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
        yield from self._batch(
            query=cand_index, target=vac_index, k=k, ids=candidate_ids, workers=workers, chunk=chunk_size
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
        yield from self._batch(
            query=vac_index, target=cand_index, k=k, ids=vacancy_ids, workers=workers, chunk=chunk_size
        )

    def _batch(
        self,
        *,
        query: CandidateIndex | VacancyIndex,
        target: CandidateIndex | VacancyIndex,
        k: int,
        ids: Sequence[str] | None,
        workers: int,
        chunk: int,
    ) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        query.materialise()
        target.materialise()
        q_rows = (
            np.asarray([query.row(i) for i in ids], dtype=np.int64)
            if ids is not None
            else np.flatnonzero(query.alive)
        )
        t_rows = np.flatnonzero(target.alive)
        if q_rows.size == 0:
            return
        if t_rows.size == 0:
            for row in q_rows.tolist():
                yield str(query.row_ids[row]), []
            return
        candidates_query = isinstance(query, CandidateIndex)
        cands: CandidateIndex = query if candidates_query else target  # type: ignore[assignment]
        vacs: VacancyIndex = target if candidates_query else query  # type: ignore[assignment]
        plan = _BatchPlan.build(cands, vacs)
        # Spatial order keeps the output order of earlier versions (and chunks compact).
        q_xyz = query.array("xyz")
        order = np.lexsort((q_rows, np.round(q_xyz[q_rows, 0] * 200), np.round(q_xyz[q_rows, 2] * 200)))
        q_rows = q_rows[order]
        # Ties break by id: the rank of each target's id among all live targets (global, so any chunking
        # or subset of queries orders equal scores the same way).
        id_rank = np.zeros(len(target.row_ids), dtype=np.int64)
        id_rank[t_rows[np.argsort(target.row_ids[t_rows].astype(str), kind="stable")]] = np.arange(
            t_rows.size
        )
        # Regional blocking and hard filters at class level: targets grouped by feasibility class, and per
        # query class the target classes that are compatible and within reach.
        t_fc = (plan.v_fc if candidates_query else plan.c_fc)[t_rows]
        t_order = np.argsort(t_fc, kind="stable")
        t_sorted = t_rows[t_order]
        n_t_fc = plan.feasible.shape[1 if candidates_query else 0]
        t_starts = np.searchsorted(t_fc[t_order], np.arange(n_t_fc + 1))
        transposed: dict[str, sp.csr_matrix] = {}
        if not candidates_query:
            # Few vacancies against all candidates: products go through the candidates' concept columns.
            related_credit = dyadic(self.algorithm.thresholds["related_credit"])
            held = cands.matrix("held")
            related = cands.matrix("related")
            transposed["held"] = held.T.tocsr()
            transposed["skills"] = (held + related * np.float32(related_credit)).T.tocsr()
        job = _BatchJob(
            transposed=transposed,
            tables=_ClassTables.build(self, cands, vacs),
            engine=self,
            query=query,
            target=target,
            plan=plan,
            candidates_query=candidates_query,
            t_sorted=t_sorted,
            t_starts=t_starts,
            id_rank=id_rank,
            k=k,
        )
        chunks = [q_rows[i : i + chunk] for i in range(0, q_rows.size, chunk)]
        query_ids = query.row_ids
        target_ids = target.row_ids

        def emit(rows: IntArray, out: tuple[IntArray, IntArray, IntArray]) -> Iterator[tuple[str, list]]:
            counts, tops, scores = out
            tops_ids = target_ids[tops].tolist()
            values = (scores / 100).tolist()
            at = 0
            for row, n in zip(rows.tolist(), counts.tolist(), strict=True):
                yield str(query_ids[row]), list(zip(tops_ids[at : at + n], values[at : at + n], strict=True))
                at += n

        if workers <= 1 or len(chunks) <= 1:
            for rows in chunks:
                yield from emit(rows, job.run(rows))
            return
        yield from _parallel(job, chunks, workers, emit)


def _locations(xyz: FloatArray) -> tuple[IntArray, FloatArray]:
    """Distinct points (postcode centres repeat a lot) and each row's point number."""
    unique, inverse = np.unique(xyz, axis=0, return_inverse=True)
    # float64 arithmetic on the stored float32 points, exactly as PairBlock.distance_km does.
    return inverse.reshape(-1).astype(np.int64), unique.astype(np.float64)


@dataclass
class _BatchPlan:
    """Hard filters at class level.

    Requirement signatures (languages, licences, certificates, countries, garantiebaan) are compatible or not
    as a whole; travel classes (location, reach) are within reach or not. A feasibility class is a pair
    (signature, travel class); ``feasible[c_fc, v_fc]`` says whether candidates of one class meet every hard
    requirement of vacancies of the other — exactly the pairs without unmet hard requirements.
    """

    cands: CandidateIndex
    vacs: VacancyIndex
    c_fc: IntArray
    v_fc: IntArray
    feasible: npt.NDArray[np.bool_]

    @classmethod
    def build(cls, cands: CandidateIndex, vacs: VacancyIndex) -> _BatchPlan:
        c_keys: dict[tuple[object, ...], int] = {}
        c_reps: list[EncodedCandidate] = []
        c_sig = np.zeros(len(cands.row_ids), dtype=np.int64)
        for row in np.flatnonzero(cands.alive).tolist():
            r = cands.record_at(row)
            key = (
                tuple(sorted(r.languages.items())),
                r.licences,
                r.certificates,
                r.work_countries,
                r.target_group_register,
            )
            if key not in c_keys:
                c_keys[key] = len(c_reps)
                c_reps.append(r)
            c_sig[row] = c_keys[key]
        v_keys: dict[tuple[object, ...], int] = {}
        v_reps: list[EncodedVacancy] = []
        v_sig = np.zeros(len(vacs.row_ids), dtype=np.int64)
        for row in np.flatnonzero(vacs.alive).tolist():
            v = vacs.record_at(row)
            key = (tuple(sorted(v.languages.items())), v.licences, v.certificates, v.country, v.garantiebaan)
            if key not in v_keys:
                v_keys[key] = len(v_reps)
                v_reps.append(v)
            v_sig[row] = v_keys[key]
        compatible = np.zeros((max(len(c_reps), 1), max(len(v_reps), 1)), dtype=bool)
        for i, c in enumerate(c_reps):
            for j, v in enumerate(v_reps):
                compatible[i, j] = (
                    (c.target_group_register or not v.garantiebaan)
                    and v.country in c.work_countries
                    and (v.licences & ~c.licences) == 0
                    and v.certificates <= c.certificates
                    and all(c.languages.get(lang, 0) >= level for lang, level in v.languages.items())
                )
        c_travel, c_travel_reps = cands.classes("travel")
        v_travel, v_travel_reps = vacs.classes("travel")
        # Distances between class locations: the same float64 arithmetic on the stored float32 points as
        # PairBlock.distance_km, so "within reach" agrees with the travel factor exactly.
        c3 = cands.array("xyz")[c_travel_reps].astype(np.float64)
        v3 = vacs.array("xyz")[v_travel_reps].astype(np.float64)
        km = chord_to_km(
            (c3[:, None, 0] - v3[None, :, 0]) ** 2
            + (c3[:, None, 1] - v3[None, :, 1]) ** 2
            + (c3[:, None, 2] - v3[None, :, 2]) ** 2
        )
        within = km <= cands.array("limit_km")[c_travel_reps][:, None]
        c_pairs, c_fc = np.unique(c_sig * len(c_travel_reps) + c_travel, return_inverse=True)
        v_pairs, v_fc = np.unique(v_sig * len(v_travel_reps) + v_travel, return_inverse=True)
        feasible = (
            compatible[(c_pairs // len(c_travel_reps))[:, None], (v_pairs // len(v_travel_reps))[None, :]]
            & within[(c_pairs % len(c_travel_reps))[:, None], (v_pairs % len(v_travel_reps))[None, :]]
        )
        return cls(
            cands, vacs, c_fc.reshape(-1).astype(np.int64), v_fc.reshape(-1).astype(np.int64), feasible
        )


@dataclass
class _BatchJob:
    """Everything a batch worker needs; ``run`` scores one chunk of query rows."""

    tables: _ClassTables
    engine: MatchEngine
    query: CandidateIndex | VacancyIndex
    target: CandidateIndex | VacancyIndex
    plan: _BatchPlan
    candidates_query: bool
    t_sorted: IntArray
    t_starts: IntArray
    id_rank: IntArray
    k: int
    transposed: dict[str, sp.csr_matrix]

    def run(self, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Top-k per query row: (count per row, target rows, scores in hundredths), rows in order."""
        plan = self.plan
        q_fc = (plan.c_fc if self.candidates_query else plan.v_fc)[rows]
        table = plan.feasible if self.candidates_query else plan.feasible.T
        # Feasible pairs without any grid: per query class, the target rows of its feasible target classes.
        qi_parts: list[IntArray] = []
        t_parts: list[IntArray] = []
        starts, sorted_targets = self.t_starts, self.t_sorted
        unique_fc, inverse = np.unique(q_fc, return_inverse=True)
        inverse = inverse.reshape(-1)
        for u, fc in enumerate(unique_fc.tolist()):
            classes = np.flatnonzero(table[fc])
            if classes.size == 0:
                continue
            lo, hi = starts[classes], starts[classes + 1]
            lengths = hi - lo
            total = int(lengths.sum())
            if total == 0:
                continue
            ends = np.cumsum(lengths)
            targets = sorted_targets[np.repeat(lo - (ends - lengths), lengths) + np.arange(total)]
            members = np.flatnonzero(inverse == u)
            qi_parts.append(np.repeat(members, total))
            t_parts.append(np.tile(targets, members.size))
        if not qi_parts:
            return (
                np.zeros(rows.size, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
            )
        qi = np.concatenate(qi_parts)
        t_all = np.concatenate(t_parts)
        # All target rows as the "unique" side: its matrices are used as they are, without a row gather.
        every = np.arange(len(self.target.row_ids), dtype=np.int64)
        if self.candidates_query:
            block = PairBlock.pairs(plan.cands, rows, qi, plan.vacs, every, t_all)
        else:
            block = PairBlock.pairs(plan.cands, every, t_all, plan.vacs, rows, qi)
            block.transposed = self.transposed
        score, unmet = self.tables.score(block, np.asarray(block.c_rows), np.asarray(block.v_rows))
        ok = unmet == 0  # by construction; kept as a guard
        qi, t_all, score = qi[ok], t_all[ok], score[ok]
        # Best first per query: score descending, then id (the global id rank, never a local one).
        n = np.int64(self.id_rank.size)
        key = (qi * np.int64(10001) + (np.int64(10000) - score)) * n + self.id_rank[t_all]
        order = np.argsort(key, kind="stable")
        qi, t_all, score = qi[order], t_all[order], score[order]
        starts_q = np.searchsorted(qi, np.arange(rows.size))
        take = (np.arange(qi.size) - starts_q[qi]) < self.k
        counts = np.bincount(qi[take], minlength=rows.size)
        return counts, t_all[take], score[take]


def _subclasses(
    index: CandidateIndex | VacancyIndex, key: Callable[[Any], Hashable]
) -> tuple[npt.NDArray[np.int64], IntArray]:
    """Class number per row by ``key`` of its record (removed rows: class 0), a representative per class."""
    ids = np.zeros(len(index.row_ids), dtype=np.int64)
    seen: dict[Hashable, int] = {}
    reps: list[int] = []
    for row, record in enumerate(index.records_by_row()):
        if record is None:
            continue
        k = key(record)
        found = seen.get(k)
        if found is None:
            found = seen[k] = len(reps)
            reps.append(row)
        ids[row] = found
    if not reps:
        reps.append(0)
    return ids, np.asarray(reps, dtype=np.int64)


def _levels_key(record: Any) -> Hashable:
    return tuple(sorted(record.languages.items()))


def _hours_key(record: Any) -> Hashable:
    return (record.hours_min, record.hours_max)


#: Per factor (other than competences): what of a record its pair score reads, on either side. Travel and
#: occupation use the index's own row classes.
_FACTOR_KEYS: dict[str, Callable[[Any], Hashable]] = {
    "language": _levels_key,
    "hours": _hours_key,
    "education": lambda r: r.education,
    "driving_licences": lambda r: r.licences,
    "certificates": lambda r: r.certificates,
}
_UNMET_SHIFT = np.int64(1) << np.int64(32)


@dataclass
class _ClassTables:
    """Batch scoring by class: every factor except competences depends on a few fields of each side, so it is
    scored once per pair of classes (candidate class × vacancy class) with the factor's own code, and a pair
    looks its contribution up. Contribution and unmet count share one int64 (unmet in the high bits)."""

    engine: MatchEngine
    c_off: list[IntArray]  # per table: candidate class × width, per candidate row
    v_ids: list[IntArray]  # per table: vacancy class, per vacancy row
    tables: list[IntArray]  # per table: contribution + unmet · 2³², flat

    @classmethod
    def build(cls, engine: MatchEngine, cands: CandidateIndex, vacs: VacancyIndex) -> _ClassTables:
        thresholds = engine.algorithm.thresholds
        groups: list[
            tuple[tuple[str, ...], tuple[npt.NDArray[Any], IntArray], tuple[npt.NDArray[Any], IntArray]]
        ]
        groups = [
            (("travel",), cands.classes("travel"), vacs.classes("travel")),
            (("occupation",), cands.classes("occupation"), vacs.classes("occupation")),
        ]
        for factor, key in _FACTOR_KEYS.items():
            groups.append(((factor,), _subclasses(cands, key), _subclasses(vacs, key)))
        c_off: list[IntArray] = []
        v_ids: list[IntArray] = []
        tables: list[IntArray] = []
        for factors, (c_cls, c_reps), (v_cls, v_reps) in groups:
            n_c, n_v = c_reps.size, v_reps.size
            c_pos = np.repeat(np.arange(n_c, dtype=np.int64), n_v)
            v_pos = np.tile(np.arange(n_v, dtype=np.int64), n_c)
            block = PairBlock.pairs(cands, c_reps, c_pos, vacs, v_reps, v_pos)
            table = np.zeros(n_c * n_v, dtype=np.int64)
            for factor in factors:
                result = FACTORS[factor].score(block, thresholds)
                s = np.asarray(result.score, dtype=np.float64)
                table += np.rint(s * engine._weights100[factor]).astype(np.int64)
                if result.unmet is not None:
                    table += np.asarray(result.unmet, dtype=np.int64) * _UNMET_SHIFT
            c_off.append(c_cls.astype(np.int64) * n_v)
            v_ids.append(v_cls.astype(np.int64))
            tables.append(table)
        return cls(engine, c_off, v_ids, tables)

    def score(self, block: PairBlock, c_rows: IntArray, v_rows: IntArray) -> tuple[IntArray, IntArray]:
        """Scores (hundredths) and unmet counts of the pairs of a block, as ``MatchEngine.score_block``."""
        engine = self.engine
        comp = np.asarray(FACTORS["competences"].score(block, engine.algorithm.thresholds).score, np.float64)
        total = np.rint(comp * engine._weights100["competences"]).astype(np.int64)
        for c_off, v_ids, table in zip(self.c_off, self.v_ids, self.tables, strict=True):
            total += table[c_off[c_rows] + v_ids[v_rows]]
        unmet = total >> np.int64(32)
        base = total & (_UNMET_SHIFT - 1)
        multiplier = np.asarray(engine._multipliers)[np.minimum(unmet, _MAX_UNMET)]
        score = np.where(unmet > 0, np.rint(base * multiplier).astype(np.int64), base)
        return score, unmet


_JOB: _BatchJob | None = None  # in a forked batch worker: the job it serves


def _set_job(job: _BatchJob) -> None:
    global _JOB
    _JOB = job


def _run_forked(rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    assert _JOB is not None
    return _JOB.run(rows)


def _parallel(
    job: _BatchJob,
    chunks: list[IntArray],
    workers: int,
    emit: Callable[[IntArray, tuple[IntArray, IntArray, IntArray]], Iterator[tuple[str, list]]],
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Score chunks in ``workers`` forked processes: the job (indexes, tables) reaches them through fork,
    copy-on-write, and only row numbers and compact results travel; where fork is unavailable, threads."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        context = None
    if context is None:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for rows, out in zip(chunks, pool.map(job.run, chunks), strict=True):
                yield from emit(rows, out)
        return
    with context.Pool(processes=workers, initializer=_set_job, initargs=(job,)) as pool:
        for rows, out in zip(chunks, pool.imap(_run_forked, chunks), strict=True):
            yield from emit(rows, out)


#: Factors scored per row class in the live path (competences are scored per row).
_CLASS_FACTORS: dict[str, tuple[str, ...]] = {
    "travel": ("travel",),
    "occupation": ("occupation",),
    "misc": ("language", "hours", "education", "driving_licences", "certificates"),
}
assert sorted(f for names in _CLASS_FACTORS.values() for f in names) == sorted(
    set(FACTOR_ORDER) - {"competences"}
)


def index_max_travel(engine: MatchEngine) -> float:
    """The algorithm's cap on a candidate's travel radius (what CandidateIndex stores as ``limit_km``)."""
    return float(engine.algorithm.thresholds["max_travel_km"])


@dataclass(frozen=True, slots=True)
class _LiveScores:
    """One profile against every row of an index: totals per row, factor numbers per row class."""

    comp: FloatArray
    comp_contribution: IntArray
    per_class: dict[str, tuple[npt.NDArray[np.int32], dict[str, FloatArray], dict[str, IntArray]]]
    distance_cls: FloatArray
    unmet: IntArray
    base: IntArray
    score: IntArray

    @property
    def distance_km(self) -> FloatArray:
        """Distance per row (gathered from the travel classes)."""
        return self.distance_cls[self.per_class["travel"][0]]

    def rows(self, rows: Sequence[int]) -> ScoredBlock:
        """A :class:`ScoredBlock` of just these rows (position i = rows[i]), for explanations."""
        r = np.asarray(rows, dtype=np.int64)
        scores: dict[str, FloatArray] = {"competences": self.comp[r]}
        contributions: dict[str, IntArray] = {"competences": self.comp_contribution[r]}
        for cls, (ids, cls_scores, cls_contributions) in self.per_class.items():
            at = ids[r]
            for name in _CLASS_FACTORS[cls]:
                scores[name] = cls_scores[name][at]
                contributions[name] = cls_contributions[name][at]
        return ScoredBlock(
            {name: scores[name] for name in FACTOR_ORDER},
            {name: contributions[name] for name in FACTOR_ORDER},
            self.unmet[r],
            self.base[r],
            self.score[r],
            self.distance_cls[self.per_class["travel"][0][r]],
        )


def _explain_key(
    name: str, c: EncodedCandidate, v: EncodedVacancy, distance_km: float
) -> tuple[object, ...] | None:
    """Every input a factor's ``explain`` reads besides score and thresholds (None: not memoised).

    Two pairs with equal keys (and equal scores) get the same text; keep in step with the factor modules.
    """
    if name == "hours":
        return (c.hours_min, c.hours_max, v.hours_min, v.hours_max)
    if name == "education":
        return (c.education, c.education_level, v.education, v.education_level)
    if name == "driving_licences":
        return (c.licences, v.licences)
    if name == "travel":
        return (c.max_travel_km, c.work_countries, v.country, distance_km)
    if name == "language":
        return (tuple(c.languages.items()), tuple(v.languages.items()))
    if name == "certificates":
        return (c.certificates, v.certificates, tuple(v.certificate_labels.items()))
    if name == "occupation":
        return (c.occupation_labels, v.occupation_key, v.isco, v.occupation_label, v.title)
    return None  # competences: different for nearly every pair

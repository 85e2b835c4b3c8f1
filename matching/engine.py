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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.algorithms import DEFAULT_ALGORITHM, FACTOR_ORDER, AlgorithmConfig
from matching.encoding import EncodedCandidate, EncodedVacancy, Encoder, TaxonomyLike
from matching.factors import FACTORS, explain_pair
from matching.index import (
    CLASS_NAMES,
    CandidateIndex,
    PairBlock,
    QueryProfile,
    VacancyIndex,
    Vocabularies,
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
        from matching.batch import batch_top_k

        yield from batch_top_k(
            self, query=cand_index, target=vac_index, k=k, ids=candidate_ids, workers=workers, chunk=chunk_size
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

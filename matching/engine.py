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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from matching.algorithms import DEFAULT_ALGORITHM, FACTOR_ORDER, AlgorithmConfig
from matching.encoding import EncodedCandidate, EncodedVacancy, Encoder, TaxonomyLike
from matching.factors import FACTORS, explain_pair
from matching.index import EARTH_RADIUS_KM, CandidateIndex, PairBlock, VacancyIndex, Vocabularies, chord_to_km
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
        cand_index = CandidateIndex(self.vocab, self.encoder)
        cand_index.upsert([candidate])
        cand_index.materialise()
        index.materialise()
        if len(index) == 0:
            return []
        scored = self.score_block(PairBlock(cand_index, 0, index, None))
        keep = index.alive.copy()
        if not candidate.target_group_register:
            keep &= ~index.array("garantiebaan")
        if filters is not None and filters.sector is not None:
            bit = self.vocab.sectors.get(filters.sector.lower())
            keep &= (index.array("sector") & (0 if bit is None else 1 << bit)) != 0
        if filters is not None and filters.country is not None:
            bit = self.vocab.countries.get(filters.country.upper())
            keep &= (index.array("country") & (0 if bit is None else 1 << bit)) != 0
        chosen = self._select(scored, keep, index.row_ids, limit=limit, filters=filters)
        record = cand_index.record_at(0)
        results = []
        for rank, row in enumerate(chosen, start=1):
            vacancy = index.record_at(row)
            results.append(self._result(record, vacancy, scored, row, rank=rank, other_id=vacancy.id))
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
        vac_index = VacancyIndex(self.vocab, self.encoder)
        vac_index.upsert([vacancy])
        vac_index.materialise()
        index.materialise()
        if len(index) == 0:
            return []
        scored = self.score_block(PairBlock(index, None, vac_index, 0))
        keep = index.alive.copy()
        if vacancy.garantiebaan:
            keep &= index.array("target_group_register")
        if filters is not None and filters.sector is not None:
            bit = self.vocab.sectors.get(filters.sector.lower())
            keep &= (index.array("sectors") & (0 if bit is None else 1 << bit)) != 0
        if filters is not None and filters.country is not None:
            # For candidates, "country" filters on where they live.
            country = filters.country.upper()
            keep &= np.asarray([r is not None and r.country == country for r in index.records_by_row()])
        chosen = self._select(scored, keep, index.row_ids, limit=limit, filters=filters)
        record = vac_index.record_at(0)
        results = []
        for rank, row in enumerate(chosen, start=1):
            candidate = index.record_at(row)
            results.append(self._result(candidate, record, scored, row, rank=rank, other_id=candidate.id))
        return results

    def _select(
        self,
        scored: ScoredBlock,
        keep: npt.NDArray[np.bool_],
        row_ids: npt.NDArray[np.object_],
        *,
        limit: int,
        filters: MatchFilters | None,
    ) -> list[int]:
        """Rows of the top ``limit`` results: unmet requirements last, then score, then id."""
        if filters is not None and filters.max_km is not None:
            keep = keep & (scored.distance_km <= filters.max_km)
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
    ) -> MatchResult:
        explanation, unmet = self.explain(candidate, vacancy, scored=scored, position=i)
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
    ) -> tuple[tuple[FactorExplanation, ...], tuple[Unmet, ...]]:
        """Explanation and unmet requirements of one scored pair (contributions add up to its score)."""
        thresholds = self.algorithm.thresholds
        distance = float(scored.distance_km[position])
        items: list[FactorExplanation] = []
        unmet: list[Unmet] = []
        for name in FACTOR_ORDER:
            s = float(scored.factor_scores[name][position])
            detail, factor_unmet = explain_pair(
                name, candidate, vacancy, score=s, distance_km=distance, thresholds=thresholds
            )
            unmet.extend(factor_unmet)
            items.append(
                FactorExplanation(
                    factor=name,
                    weight=self.algorithm.weights[name],
                    score=round(s, 4),
                    contribution=int(scored.contributions[name][position]) / 100,
                    detail=detail,
                )
            )
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
        spatial order; ``workers`` threads score chunks in parallel (numpy and scipy release the GIL).
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
        # Spatial order makes each chunk compact, so its KD-tree query returns few targets.
        q_xyz = query.array("xyz")
        order = np.lexsort((q_rows, np.round(q_xyz[q_rows, 0] * 200), np.round(q_xyz[q_rows, 2] * 200)))
        q_rows = q_rows[order]
        tree = cKDTree(target.array("xyz")[t_rows])
        id_rank = np.zeros(len(target.row_ids), dtype=np.int64)
        id_rank[t_rows[np.argsort(target.row_ids[t_rows].astype(str), kind="stable")]] = np.arange(
            t_rows.size
        )
        max_limit = float(cands.array("limit_km")[np.flatnonzero(cands.alive)].max())
        chunks = [q_rows[i : i + chunk] for i in range(0, q_rows.size, chunk)]

        def run(rows: IntArray) -> list[tuple[str, list[tuple[str, float]]]]:
            return self._batch_chunk(
                rows,
                query=query,
                target=target,
                t_rows=t_rows,
                tree=tree,
                id_rank=id_rank,
                k=k,
                plan=plan,
                candidates_query=candidates_query,
                max_limit=max_limit,
            )

        if workers <= 1:
            for rows in chunks:
                yield from run(rows)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for out in pool.map(run, chunks):
                yield from out

    def _batch_chunk(
        self,
        rows: IntArray,
        *,
        query: CandidateIndex | VacancyIndex,
        target: CandidateIndex | VacancyIndex,
        t_rows: IntArray,
        tree: cKDTree,
        id_rank: IntArray,
        k: int,
        plan: _BatchPlan,
        candidates_query: bool,
        max_limit: float,
    ) -> list[tuple[str, list[tuple[str, float]]]]:
        xyz = query.array("xyz")[rows]
        centre = xyz.mean(axis=0)
        norm = float(np.linalg.norm(centre))
        centre = centre / norm if norm > 0 else np.array([1.0, 0.0, 0.0])
        spread_km = float(
            (
                2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(np.linalg.norm(xyz - centre, axis=1) / 2, 1.0))
            ).max()
        )
        reach = float(query.array("limit_km")[rows].max()) if candidates_query else max_limit
        radius_km = spread_km + reach + 1.0  # +1 km: rounding of distances to 0.1 km
        chord = 2.0 * math.sin(min(radius_km / (2.0 * EARTH_RADIUS_KM), math.pi / 2))
        local = np.asarray(sorted(tree.query_ball_point(centre, chord)), dtype=np.int64)
        query_ids = query.row_ids
        if local.size == 0:
            return [(str(query_ids[r]), []) for r in rows.tolist()]
        targets = t_rows[local]
        # Hard filters before scoring: requirement signatures (languages, licences, certificates, country,
        # garantiebaan eligibility) are compatible or not as a whole; distances are computed per pair of
        # distinct locations. Survivors are exactly the pairs without unmet hard requirements.
        c_rows, v_rows = (rows, targets) if candidates_query else (targets, rows)
        compatible = plan.compatible[plan.c_sig[c_rows][:, None], plan.v_sig[v_rows][None, :]]
        c_loc, c_loc_xyz = _locations(plan.cands.array("xyz")[c_rows])
        v_loc, v_loc_xyz = _locations(plan.vacs.array("xyz")[v_rows])
        loc_km = chord_to_km(
            (c_loc_xyz[:, None, 0] - v_loc_xyz[None, :, 0]) ** 2
            + (c_loc_xyz[:, None, 1] - v_loc_xyz[None, :, 1]) ** 2
            + (c_loc_xyz[:, None, 2] - v_loc_xyz[None, :, 2]) ** 2
        )
        within = loc_km[c_loc[:, None], v_loc[None, :]] <= plan.cands.array("limit_km")[c_rows][:, None]
        feasible = compatible & within
        if not candidates_query:
            feasible = feasible.T
        qi, tj = np.nonzero(feasible)  # row-major: grouped by query row
        results: dict[int, list[tuple[str, float]]] = {}
        if qi.size:
            if candidates_query:
                block = PairBlock.pairs(plan.cands, rows, qi, plan.vacs, targets, tj)
            else:
                block = PairBlock.pairs(plan.cands, targets, tj, plan.vacs, rows, qi)
            scored = self.score_block(block)
            ok = scored.unmet == 0  # by construction; kept as a guard
            qi, tj, score = qi[ok], tj[ok], scored.score[ok]
            key = (10000 - score) * np.int64(t_rows.size) + id_rank[targets[tj]]
            order = np.lexsort((key, qi))
            qi, tj, score = qi[order], tj[order], score[order]
            starts = np.searchsorted(qi, np.arange(rows.size))
            within_rank = np.arange(qi.size) - starts[qi]
            take = within_rank < k
            target_ids = target.row_ids
            for q, t, sc in zip(
                qi[take].tolist(), targets[tj[take]].tolist(), score[take].tolist(), strict=True
            ):
                results.setdefault(q, []).append((str(target_ids[t]), sc / 100))
        return [(str(query_ids[r]), results.get(i, [])) for i, r in enumerate(rows.tolist())]


def _locations(xyz: FloatArray) -> tuple[IntArray, FloatArray]:
    """Distinct points (postcode centres repeat a lot) and each row's point number."""
    unique, inverse = np.unique(xyz, axis=0, return_inverse=True)
    # float64 arithmetic on the stored float32 points, exactly as PairBlock.distance_km does.
    return inverse.reshape(-1).astype(np.int64), unique.astype(np.float64)


@dataclass
class _BatchPlan:
    """Requirement signatures of both sides and which signature pairs are compatible (no unmet, eligible)."""

    cands: CandidateIndex
    vacs: VacancyIndex
    c_sig: IntArray
    v_sig: IntArray
    compatible: npt.NDArray[np.bool_]

    @classmethod
    def build(cls, cands: CandidateIndex, vacs: VacancyIndex) -> _BatchPlan:
        c_keys: dict[tuple[object, ...], int] = {}
        c_reps: list[EncodedCandidate] = []
        c_sig = np.full(len(cands.row_ids), -1, dtype=np.int64)
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
        v_sig = np.full(len(vacs.row_ids), -1, dtype=np.int64)
        for row in np.flatnonzero(vacs.alive).tolist():
            v = vacs.record_at(row)
            key = (tuple(sorted(v.languages.items())), v.licences, v.certificates, v.country, v.garantiebaan)
            if key not in v_keys:
                v_keys[key] = len(v_reps)
                v_reps.append(v)
            v_sig[row] = v_keys[key]
        compatible = np.zeros((len(c_reps) + 1, len(v_reps) + 1), dtype=bool)  # last row/col: dead rows
        for i, c in enumerate(c_reps):
            for j, v in enumerate(v_reps):
                compatible[i, j] = (
                    (c.target_group_register or not v.garantiebaan)
                    and v.country in c.work_countries
                    and (v.licences & ~c.licences) == 0
                    and v.certificates <= c.certificates
                    and all(c.languages.get(lang, 0) >= level for lang, level in v.languages.items())
                )
        return cls(cands, vacs, c_sig, v_sig, compatible)

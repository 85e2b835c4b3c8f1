"""Bulk paths of taxonomy search and encoding give exactly the one-at-a-time results.

``LabelIndex.rank_many`` / ``Taxonomy.search_occupations_many`` (used when an index encodes many profiles),
the per-concept token and head sets of the reranker, the sparse co-occurrence of ``related_skills`` and the
encoder's bulk preparation are speed-ups only: every array, score and encoded record must be bit-identical
to what the one-query (one-profile) code gives. Uses the shipped taxonomy.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from matching.encoding import Encoder
from matching.engine import MatchEngine
from matching.taxonomy import Taxonomy, load_taxonomy
from matching.taxonomy_rerank import candidates, features
from matching.types import CandidateFeatures, ConceptRef, Experience, VacancyFeatures

HANDMADE = [
    "magazijnmedewerker",
    "Medewerker magazijn",
    "Lagerist/-in (m/w/d)",
    "Fachkraft für Lagerlogistik",
    "Kaufmann/Kauffrau im Einzelhandel",
    "heftruckchauffeur",
    "verpleegkundige",
    "Pflegefachkraft",
    "CNC-Draaier",
    "schoonmaker gebouwen",
    "xqzv",
    "a",
    "docent wiskunde",
    "Mitarbeiter*in Produktion",
    "software developer",
]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def queries(taxonomy: Taxonomy) -> list[str]:
    rng = random.Random(11)
    forms = rng.sample(sorted(set(taxonomy.occupations.form_text)), 300)
    # Typos and truncations, so that not every query is an indexed label.
    noisy = [f[: max(3, len(f) - 2)] for f in forms[:60]] + [f.replace("e", "a", 1) for f in forms[60:120]]
    return HANDMADE + forms + noisy + ["", "   ", "/"]


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("lang", [None, "nl", "de"])
def test_rank_many_equals_rank_bit_for_bit(taxonomy: Taxonomy, queries: list[str], lang: str | None) -> None:
    index = taxonomy.occupations
    many = index.rank_many(queries, lang=lang, chunk=37)  # a chunk size that splits unevenly
    assert len(many) == len(queries)
    for query, got in zip(queries, many, strict=True):
        want = index.rank(query, lang=lang)
        assert got.query == want.query, query
        assert got.tokens == want.tokens, query
        for field in ("concept", "char", "words", "form_score", "text", "semantic"):
            assert _same(getattr(got, field), getattr(want, field)), (query, field)


def test_skill_index_rank_many_equals_rank(taxonomy: Taxonomy) -> None:
    index = taxonomy.skills
    labels = random.Random(3).sample(sorted(set(index.form_text)), 150) + ["excel", "heftruck rijden", ""]
    for label, got in zip(labels, index.rank_many(labels), strict=True):
        want = index.rank(label)
        for field in ("concept", "char", "words", "form_score"):
            assert _same(getattr(got, field), getattr(want, field)), (label, field)


@pytest.mark.parametrize(("lang", "limit"), [(None, 3), ("de", 10), ("nl", 50)])
def test_search_occupations_many_equals_search(
    taxonomy: Taxonomy, queries: list[str], lang: str | None, limit: int
) -> None:
    want = [taxonomy.search_occupations(q, lang=lang, limit=limit) for q in queries]
    assert taxonomy.search_occupations_many(queries, lang=lang, limit=limit) == want
    assert taxonomy.search_occupations_many(queries, limit=0) == [[] for _ in queries]
    assert taxonomy.search_occupations_many([], limit=3) == []


def test_concept_token_and_head_sets_match_the_forms(taxonomy: Taxonomy) -> None:
    index = taxonomy.occupations
    for concept in range(0, index.n_concepts, 7):
        forms = index.forms_of(concept)
        tokens: set[int] = set()
        for f in forms:
            tokens.update(index.form_tokens(int(f)).tolist())
        assert index.concept_tokens(concept) == tokens
        assert index.concept_heads(concept) == set(index.form_head[forms].tolist())


def test_reranker_features_with_cached_sets_equal_the_per_form_path(taxonomy: Taxonomy) -> None:
    # A ranking with an all-False ``hidden`` mask takes the per-form path (training); it hides nothing, so
    # its features must equal those of the plain ranking, which uses the per-concept sets.
    index, info = taxonomy.occupations, taxonomy.occ_info
    for query in HANDMADE[:10]:
        ranking = index.rank(query, lang="nl")
        cands = candidates(ranking)
        plain = features(index, info, ranking, cands, lang="nl")
        masked = replace(ranking, hidden=np.zeros(len(index.form_text), dtype=bool))
        assert plain.tobytes() == features(index, info, masked, cands, lang="nl").tobytes(), query


def _related_dense(taxonomy: Taxonomy, uri: str) -> frozenset[str]:
    """The former implementation: a dense column sum over the occupations of the skill."""
    sid = taxonomy._skill_index[uri]
    occs = taxonomy._incidence_t[sid].indices
    if not len(occs):
        return frozenset()
    co = np.asarray(taxonomy._incidence[occs].sum(axis=0)).ravel()
    totals = taxonomy._skill_totals
    union = totals + totals[sid] - co
    jacc = np.divide(co, union, out=np.zeros_like(co, dtype=np.float64), where=union > 0)
    mask = (co >= 2) & (jacc >= 0.3)
    mask[sid] = False
    return frozenset(taxonomy.skill_uris[j] for j in np.flatnonzero(mask))


def test_related_skills_equal_the_dense_computation(taxonomy: Taxonomy) -> None:
    fresh = Taxonomy.__new__(Taxonomy)  # same data, empty memo: compute, do not read the session's memo
    fresh.__setstate__(taxonomy.__getstate__())
    uris = taxonomy.skill_uris[::11]
    assert any(_related_dense(taxonomy, u) for u in uris)
    for uri in uris:
        assert fresh.related_skills(uri) == _related_dense(taxonomy, uri), uri


def _people(taxonomy: Taxonomy, n: int, seed: int) -> tuple[list[CandidateFeatures], list[VacancyFeatures]]:
    """Profiles with code-less occupation labels (ESCO labels, typos, text) and competences."""
    rng = random.Random(seed)
    occ_labels = rng.sample(sorted(set(taxonomy.occupations.form_text)), 60) + HANDMADE
    occ_labels += [label[:-1] for label in occ_labels[:15]]
    skill_labels = rng.sample(sorted(set(taxonomy.skills.form_text)), 80) + ["samenwerken", "xyzzy"]
    cands = [
        CandidateFeatures(
            id=f"c{i}",
            competences=tuple(ConceptRef(None, s) for s in rng.sample(skill_labels, rng.randint(0, 6))),
            desired_occupations=tuple(ConceptRef(None, o) for o in rng.sample(occ_labels, rng.randint(0, 2))),
            experience=tuple(
                Experience(ConceptRef(None, o), 2.0) for o in rng.sample(occ_labels, rng.randint(0, 2))
            ),
            education_level="mbo2",
            languages={"nl": "2F"},
            lat=52.3,
            lon=6.7,
            country="NL",
            max_travel_km=25,
            hours_min=24,
            hours_max=40,
            driving_licences=frozenset(),
            certificates=frozenset(),
            work_countries=frozenset({"NL"}),
            sectors=frozenset(),
            target_group_register=False,
        )
        for i in range(n)
    ]
    vacs = [
        VacancyFeatures(
            id=f"v{i}",
            title=rng.choice(occ_labels),
            description="",
            occupation=ConceptRef(None, rng.choice(occ_labels)) if i % 3 else None,
            sector="logistiek",
            competences_required=tuple(
                ConceptRef(None, s) for s in rng.sample(skill_labels, rng.randint(0, 4))
            ),
            competences_desired=(),
            education_level_min=None,
            languages_required={},
            driving_licences_required=frozenset(),
            certificates_required=frozenset(),
            lat=52.3,
            lon=6.7,
            country="NL",
            hours_min=24,
            hours_max=40,
            garantiebaan=False,
            wage_subsidy_possible=False,
        )
        for i in range(n)
    ]
    return cands, vacs


def test_bulk_preparation_changes_no_encoding(taxonomy: Taxonomy) -> None:
    cands, vacs = _people(taxonomy, 120, seed=5)
    engine = MatchEngine(taxonomy=taxonomy)
    one_by_one = Encoder(taxonomy, engine.algorithm)
    want_c = [one_by_one.candidate(c) for c in cands]
    want_v = [one_by_one.vacancy(v) for v in vacs]
    bulk = Encoder(taxonomy, engine.algorithm)
    bulk.prepare_candidates(cands)
    bulk.prepare_vacancies(vacs)
    assert len(bulk._ties_memo) > 20  # the bulk search ran and filled the memo
    assert bulk._ties_memo == {k: v for k, v in one_by_one._ties_memo.items() if k in bulk._ties_memo}
    assert [bulk.candidate(c) for c in cands] == want_c
    assert [bulk.vacancy(v) for v in vacs] == want_v
    assert any(len(ties) >= 2 for ties in bulk._ties_memo.values())  # labels with alternative readings


def test_index_build_uses_bulk_preparation_and_equals_single_upserts(taxonomy: Taxonomy) -> None:
    cands, vacs = _people(taxonomy, 60, seed=9)
    bulk_engine = MatchEngine(taxonomy=taxonomy)
    c_index = bulk_engine.build_candidate_index(iter(cands))  # any iterable
    v_index = bulk_engine.build_vacancy_index(vacs)
    assert bulk_engine.encoder._ties_memo
    single_engine = MatchEngine(taxonomy=taxonomy)
    c_single = single_engine.build_candidate_index([])
    v_single = single_engine.build_vacancy_index([])
    for c in cands:
        c_single.upsert([c])  # below the bulk threshold: one at a time
    for v in vacs:
        v_single.upsert([v])
    assert c_index.records_by_row() == c_single.records_by_row()
    assert v_index.records_by_row() == v_single.records_by_row()

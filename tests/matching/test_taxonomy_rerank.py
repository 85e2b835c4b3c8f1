"""The second stage of occupation search: latent concept space, self-supervised reranker, head words.

Uses the real shipped data (``data/taxonomy``), loaded once per session through ``load_taxonomy``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from matching import taxonomy as taxonomy_module
from matching.taxonomy import DATA_DIR, RERANKER_FILE, Taxonomy, load_taxonomy
from matching.taxonomy_rerank import (
    FEATURES,
    Reranker,
    candidates,
    features,
    fit,
    mrr,
    pseudo_queries,
    rerank,
    save,
    training_rows,
)

OCC = "http://data.europa.eu/esco/occupation/"
WAREHOUSE_WORKER = OCC + "bea705fe-06ac-4147-b8e0-6e8ac1208d8f"  # magazijnmedewerker / Lagerarbeiter


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


class TestShippedModel:
    def test_model_is_shipped_and_used(self, taxonomy: Taxonomy) -> None:
        data = json.loads((DATA_DIR / RERANKER_FILE).read_text(encoding="utf-8"))
        assert tuple(data["features"]) == FEATURES
        assert len(data["coef"]) == len(FEATURES)
        # The file documents how it was trained and what it gained on held-out pseudo-queries.
        assert data["training"]["held_out_mrr_reranked"] >= data["training"]["held_out_mrr_first_stage"]
        assert taxonomy.occ_reranker is not None

    def test_model_with_other_features_is_ignored(self, tmp_path: Path) -> None:
        path = tmp_path / RERANKER_FILE
        path.write_text(json.dumps({"features": ["score"], "coef": [1.0]}), encoding="utf-8")
        assert Reranker.load(path) is None
        assert Reranker.load(tmp_path / "absent.json") is None

    def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        n = len(FEATURES)
        model = Reranker(mean=np.zeros(n), scale=np.ones(n), coef=np.arange(n, dtype=float), intercept=0.5)
        path = tmp_path / RERANKER_FILE
        save(model, path, meta={"training": {}})
        loaded = Reranker.load(path)
        assert loaded is not None
        x = np.ones((2, n))
        assert np.allclose(loaded.decision(x), model.decision(x))


class TestReranking:
    @pytest.mark.parametrize(
        ("description", "query", "lang"),
        [
            ("Dutch compound", "magazijnmedewerker", "nl"),
            ("Dutch words reversed", "medewerker magazijn", "nl"),
            ("German gender pair", "Lagerarbeiter/Lagerarbeiterin", "de"),
            ("no language given", "warehouse worker", None),
        ],
    )
    def test_exact_labels_stay_first(
        self, taxonomy: Taxonomy, description: str, query: str, lang: str | None
    ) -> None:
        assert taxonomy.search_occupations(query, lang=lang, limit=3)[0].uri == WAREHOUSE_WORKER, description

    def test_reranked_scores_keep_every_candidate_above_the_rest(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        ranking = index.rank("medewerker logistiek", lang="nl")
        assert taxonomy.occ_reranker is not None
        scores = rerank(taxonomy.occ_reranker, index, taxonomy.occ_info, ranking, lang="nl")
        cands = candidates(ranking)
        others = np.setdiff1d(np.flatnonzero(ranking.concept > 0), cands)
        assert scores[cands].min() > scores[others].max()
        assert (scores[ranking.concept == 0] == 0).all()  # reranking never invents matches

    def test_features_are_finite_and_shaped(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        ranking = index.rank("Fachkraft für Lagerlogistik", lang="de")
        cands = candidates(ranking)
        x = features(index, taxonomy.occ_info, ranking, cands, lang="de")
        assert x.shape == (len(cands), len(FEATURES))
        assert np.isfinite(x).all()

    def test_tied_first_stage_scores_share_their_rank(self, taxonomy: Taxonomy) -> None:
        # When the first stage ties two concepts, the rank feature must not let the order of the data
        # files decide between them.
        index = taxonomy.occupations
        ranking = index.rank("landmeter", lang="nl")
        concept = ranking.concept.copy()
        first, second = candidates(ranking)[:2]
        concept[second] = concept[first]
        tied = dataclasses.replace(ranking, concept=concept)
        cands = candidates(tied)
        scores = concept[cands]
        x = features(index, taxonomy.occ_info, tied, cands, lang="nl")
        log_rank = x[:, FEATURES.index("log_rank")]
        assert set(cands[:2].tolist()) == {int(first), int(second)}
        assert log_rank[0] == log_rank[1] == 0.0
        for i in range(len(cands)):
            shared = int(np.flatnonzero(scores == scores[i])[0])
            assert log_rank[i] == pytest.approx(np.log1p(shared))

    def test_head_words(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        medewerker = index.analyser.word_ids("medewerker")[-1]
        assert index._head("magazijnmedewerker") == medewerker  # last compound part
        assert index._head("medewerker van de administratie") == medewerker  # before the preposition
        assert index._first("medewerker magazijn") == medewerker
        assert index._first("magazijnmedewerker") == -1  # one word: no separate first word


class TestHidingAndTraining:
    def test_hidden_label_no_longer_matches_exactly(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        texts = np.asarray(index.form_text, dtype=object)
        hide = texts == "magazijnmedewerker"
        assert hide.any()
        shown = index.rank("magazijnmedewerker", lang="nl")
        hidden = index.rank("magazijnmedewerker", lang="nl", hide=hide, semantic=False)
        assert float(shown.form_score[hide].max()) > 0
        assert float(hidden.form_score[hide].max()) == 0.0
        assert hidden.semantic is None
        # The concept is still found through its other labels ("medewerker magazijn", "Lagerarbeiter", ...).
        cid = taxonomy._occ_index[WAREHOUSE_WORKER]
        assert cid in candidates(hidden)[:10]

    def test_training_on_a_small_sample_runs_end_to_end(self, taxonomy: Taxonomy) -> None:
        index, info = taxonomy.occupations, taxonomy.occ_info
        queries = pseudo_queries(index, info, per_lang=15, seed=1)
        assert {lang for _, lang, _ in queries} == {"nl", "de"}
        x, y, q = training_rows(index, info, queries)
        assert x.shape[1] == len(FEATURES)
        assert y.any()
        model = fit(x, y)
        assert 0.0 < mrr(model, x, y, q) <= 1.0


class TestConceptSpace:
    def test_cosines_are_bounded_and_unknown_tokens_give_none(self, taxonomy: Taxonomy) -> None:
        space = taxonomy.occupations.space
        assert space is not None
        ids = taxonomy.occupations.analyser.ids("magazijn logistiek")
        cos = space.scores(ids)
        assert cos is not None
        assert cos.shape == (taxonomy.occupations.n_concepts,)
        assert float(np.abs(cos).max()) <= 1.0 + 1e-4
        assert space.scores([-1]) is None
        assert space.scores([]) is None

    def test_words_of_one_concept_are_close_across_languages(self, taxonomy: Taxonomy) -> None:
        # Parallel labels tie the languages together: a German word finds a concept near its Dutch label.
        space = taxonomy.occupations.space
        assert space is not None
        cid = taxonomy._occ_index[WAREHOUSE_WORKER]
        cos = space.scores(taxonomy.occupations.analyser.ids("lagerarbeiter"))
        assert cos is not None
        assert cos[cid] > float(np.median(cos))


def test_cache_key_uses_the_code_read_at_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WERKMATCH_CACHE_DIR", str(tmp_path))
    before = taxonomy_module.cache_path()
    monkeypatch.setattr(taxonomy_module, "_SOURCE_DIGEST", b"other code")
    after = taxonomy_module.cache_path()
    assert before is not None
    assert after is not None
    assert before != after


_SPACE_DIGEST = """
import hashlib
import scipy.sparse as sp
from matching.taxonomy_index import ConceptSpace
m = sp.random(3000, 12000, density=0.002, format="csr", random_state=7, dtype="float32")
m.data = 1.0 + 9.0 * m.data
space = ConceptSpace(m, None, dims=150)
print(hashlib.sha256(space.concepts.tobytes() + space.terms.tobytes()).hexdigest())
"""


def test_the_latent_space_does_not_depend_on_the_number_of_blas_threads() -> None:
    """A multi-threaded BLAS sums in a thread-count dependent order; the build pins one thread, so a
    1-thread and a 4-thread process (say, a 1-core Dask worker and a 2-core server) get the same vectors."""
    import os
    import subprocess
    import sys

    digests = set()
    for threads in ("1", "4"):
        env = {**os.environ}
        env.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        result = subprocess.run(
            [sys.executable, "-c", _SPACE_DIGEST],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1

"""The shipped ESCO taxonomy: label resolution (NL/DE/EN), search, structure, extraction, evaluation.

All tests use the real data in ``data/taxonomy`` (loaded once per session through ``load_taxonomy``).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from matching._text import normalise, title_forms
from matching.evaluation_occupations import evaluate_occupations
from matching.taxonomy import Taxonomy, _prune_cache, cache_path, load_taxonomy
from matching.taxonomy_index import query_key
from matching.taxonomy_rerank import rerank

OCC = "http://data.europa.eu/esco/occupation/"
SKILL = "http://data.europa.eu/esco/skill/"
WAREHOUSE_WORKER = OCC + "bea705fe-06ac-4147-b8e0-6e8ac1208d8f"  # magazijnmedewerker / Lagerarbeiter
FORKLIFT_DRIVER = OCC + "eeac6251-1974-42f5-91ed-513c6c883755"  # heftruckchauffeur
SOFTWARE_DEVELOPER = OCC + "f2b15a0e-e65a-438a-affb-29b9d50b77d1"  # software ontwikkelaar
FORKLIFT_GROUP = "http://data.europa.eu/esco/isco/C8344"  # Heftruckbestuurders
COMPUTER_PROGRAMMING = SKILL + "21d2f96d-35f7-4e3f-9745-c533d2dd6e97"
FIRST_AID = SKILL + "1d21f6ad-340f-45da-a0a3-4e83867f47a6"  # eerste hulp bieden / Erste Hilfe leisten


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@dataclass(frozen=True)
class Case:
    description: str
    label: str
    uri: str
    code: str | None = None


SKILL_CASES = [
    Case("English ESCO label", "computer programming", COMPUTER_PROGRAMMING),
    Case("Dutch ESCO label", "computerprogrammering", COMPUTER_PROGRAMMING),
    Case("German ESCO label", "Computerprogrammierung", COMPUTER_PROGRAMMING),
    Case("case and surrounding spaces do not matter", "  Computer Programming ", COMPUTER_PROGRAMMING),
    Case("English typo (missing letter)", "computer programing", COMPUTER_PROGRAMMING),
    Case("German label of another skill", "Erste Hilfe leisten", FIRST_AID),
    Case("a known code wins over the label", "iets heel anders", COMPUTER_PROGRAMMING, COMPUTER_PROGRAMMING),
    Case("the code may be the bare ESCO id", "x", COMPUTER_PROGRAMMING, COMPUTER_PROGRAMMING[len(SKILL) :]),
    Case(
        "an unknown code falls back to the label",
        "computerprogrammering",
        COMPUTER_PROGRAMMING,
        SKILL + "nope",
    ),
]

OCCUPATION_CASES = [
    Case("Dutch preferred label", "magazijnmedewerker", WAREHOUSE_WORKER),
    Case("Dutch words in the other order (compound split)", "medewerker magazijn", WAREHOUSE_WORKER),
    Case("Dutch typo", "magazijnmedewerkr", WAREHOUSE_WORKER),
    Case("English alternative label", "warehouse worker", WAREHOUSE_WORKER),
    Case("German title with gender pair", "Lagerarbeiter/Lagerarbeiterin", WAREHOUSE_WORKER),
    Case("German feminine form", "Lagerarbeiterin", WAREHOUSE_WORKER),
    Case("German gender marker (m/w/d)", "Lagerarbeiter (m/w/d)", WAREHOUSE_WORKER),
    Case("German vocational title", "Fachkraft für Lagerlogistik", WAREHOUSE_WORKER),
    Case("Dutch alternative label", "reachtruckchauffeur", FORKLIFT_DRIVER),
    Case("German gendered preferred label", "Softwareentwickler/Softwareentwicklerin", SOFTWARE_DEVELOPER),
    Case("ISCO code", "", FORKLIFT_GROUP, "8344"),
    Case("ISCO code with C prefix", "", FORKLIFT_GROUP, "C8344"),
    Case("ESCO occupation URI", "anything", FORKLIFT_DRIVER, FORKLIFT_DRIVER),
    Case("ISCO group label", "Heftruckbestuurders", FORKLIFT_GROUP),
]


class TestResolveSkill:
    @pytest.mark.parametrize("case", SKILL_CASES, ids=lambda c: c.description)
    def test_resolves(self, taxonomy: Taxonomy, case: Case) -> None:
        concept = taxonomy.resolve_skill(code=case.code, label=case.label)
        assert concept.uri == case.uri
        assert concept.kind == "skill"
        assert 0.0 < concept.score <= 1.0

    @pytest.mark.parametrize("label", ["zzqx flubber", "Heel Eigen  Vaardigheid!", "VCA"])
    def test_unknown_label_is_normalised_text(self, taxonomy: Taxonomy, label: str) -> None:
        concept = taxonomy.resolve_skill(code=None, label=label)
        assert concept.uri == "text:" + normalise(label)
        assert (concept.kind, concept.score, concept.label) == ("text", 0.0, normalise(label))

    @pytest.mark.parametrize(
        ("description", "label", "uri"),
        [
            ("ESCO label without URI", "troubleshoot", "text:troubleshoot"),
            ("typo of an ESCO label without URI", "trobuleshoot", "text:troubleshoot"),
            ("typo with swapped letters", "strip iwre", "text:strip wire"),
        ],
    )
    def test_known_text_is_canonical(
        self, taxonomy: Taxonomy, description: str, label: str, uri: str
    ) -> None:
        concept = taxonomy.resolve_skill(code=None, label=label)
        assert (concept.uri, concept.kind, concept.score) == (uri, "text", 0.0), description

    def test_known_text_is_not_offered_by_search(self, taxonomy: Taxonomy) -> None:
        assert all(c.kind == "skill" for c in taxonomy.search_skills("troubleshoot", limit=10))

    def test_contained_label_is_not_linked_to_a_longer_skill(self, taxonomy: Taxonomy) -> None:
        # "first aid" is contained in "first aid for animals"; linking it there would be wrong.
        assert taxonomy.resolve_skill(code=None, label="first aid").kind == "text"
        assert taxonomy.resolve_skill(code=None, label="printed circuit boards").kind == "text"

    def test_batch_equals_single_and_keeps_order(self, taxonomy: Taxonomy) -> None:
        labels = ["computerprogrammering", "zzqx", "computer programming", "computerprogrammering"]
        batch = taxonomy.resolve_skills(labels)
        assert batch == [taxonomy.resolve_skill(code=None, label=lab) for lab in labels]
        assert [c.uri for c in batch] == [
            COMPUTER_PROGRAMMING,
            "text:zzqx",
            COMPUTER_PROGRAMMING,
            COMPUTER_PROGRAMMING,
        ]


class TestResolveOccupation:
    @pytest.mark.parametrize("case", OCCUPATION_CASES, ids=lambda c: c.description)
    def test_resolves(self, taxonomy: Taxonomy, case: Case) -> None:
        concept = taxonomy.resolve_occupation(code=case.code, label=case.label)
        assert concept.uri == case.uri
        assert concept.kind in {"occupation", "isco_group"}

    @pytest.mark.parametrize("label", ["zzqx flubber", "Mitarbeiter Lager (m/w/d)"])
    def test_no_confident_match_is_text(self, taxonomy: Taxonomy, label: str) -> None:
        concept = taxonomy.resolve_occupation(code=None, label=label)
        assert concept.kind == "text"
        assert concept.uri == "text:" + normalise(label)

    def test_unknown_isco_code_falls_back_to_label(self, taxonomy: Taxonomy) -> None:
        assert taxonomy.resolve_occupation(code="9999", label="heftruckchauffeur").uri == FORKLIFT_DRIVER


class TestSearch:
    def test_exact_label_ranks_first(self, taxonomy: Taxonomy) -> None:
        results = taxonomy.search_occupations("heftruckchauffeur", lang="nl", limit=5)
        assert results[0].uri == FORKLIFT_DRIVER
        assert results[0].label == "heftruckchauffeur"

    def test_preferred_label_beats_a_neighbour_with_a_richer_description(self, taxonomy: Taxonomy) -> None:
        # "osteopaat" is the preferred label of the osteopath; the animal osteopath's description names
        # osteopaths too, and the model alone had put it first.
        results = taxonomy.search_occupations("Osteopaat", lang="nl", limit=3)
        assert results[0].label == "osteopaat"
        assert results[0].score == 1.0
        assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)

    def test_a_label_of_several_concepts_keeps_the_models_order_among_them(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        key = query_key("Lagerist")
        shared = index.exact[key]
        assert len(shared) > 1  # "Lagerist" names several ESCO occupations, each as an alternative label
        ranking = index.rank("Lagerist", lang="de")
        assert taxonomy.occ_reranker is not None
        model = rerank(taxonomy.occ_reranker, index, taxonomy.occ_info, ranking, lang="de")
        expected = sorted(shared, key=lambda c: (-index.label_weight(c, key), -model[c], c))
        results = taxonomy.search_occupations("Lagerist", lang="de", limit=len(shared) + 2)
        assert [taxonomy._occ_index[r.uri] for r in results[: len(shared)]] == expected

    def test_preferred_label_also_listed_as_alternative_stays_preferred(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        osteopath = taxonomy.search_occupations("osteopaat", lang="nl", limit=1)[0].uri
        forms = [
            int(f)
            for f in index.forms_of(taxonomy._occ_index[osteopath])
            if index.form_text[f] == "osteopaat" and index.form_lang[f] == "nl"
        ]
        assert len(forms) == 1  # one form per concept, language and text
        assert index.form_prior[forms[0]] == 1.0  # ESCO lists it as alt and pref: pref wins

    def test_essential_skill_names_are_search_evidence(self, taxonomy: Taxonomy) -> None:
        index = taxonomy.occupations
        cid = taxonomy._occ_index[FORKLIFT_DRIVER]
        essential, _ = taxonomy.occupation_skills(FORKLIFT_DRIVER)
        name = normalise(taxonomy.label(sorted(essential)[0], lang="nl"))
        docs = {int(i) for i in np.flatnonzero(index.text_concept == cid)}
        assert len(docs) > 3  # descriptions (nl/de/en) and essential skill names
        assert index.text_bm25 is not None
        assert index.text_bm25.score(index.analyser.light_ids(name))[0][sorted(docs)].max() > 0

    def test_scores_descend_and_limit_holds(self, taxonomy: Taxonomy) -> None:
        results = taxonomy.search_occupations("verpleegkundige", lang="nl", limit=7)
        assert len(results) == 7
        scores = [c.score for c in results]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] == 1.0

    def test_isco_groups_are_searchable(self, taxonomy: Taxonomy) -> None:
        results = taxonomy.search_occupations("Heftruckbestuurders", lang="nl", limit=5)
        assert results[0].uri == FORKLIFT_GROUP
        assert results[0].kind == "isco_group"

    def test_label_in_requested_language(self, taxonomy: Taxonomy) -> None:
        top = taxonomy.search_occupations("magazijnmedewerker", lang="de", limit=1)[0]
        assert top.uri == WAREHOUSE_WORKER
        assert top.label == taxonomy.label(WAREHOUSE_WORKER, lang="de")
        assert "Lager" in top.label

    def test_skill_search(self, taxonomy: Taxonomy) -> None:
        results = taxonomy.search_skills("Computerprogrammierung", lang="de", limit=3)
        assert results[0].uri == COMPUTER_PROGRAMMING
        assert all(c.kind == "skill" for c in results)

    @pytest.mark.parametrize("query", ["", "   ", "!!!"])
    def test_empty_query_gives_nothing(self, taxonomy: Taxonomy, query: str) -> None:
        assert taxonomy.search_occupations(query) == []
        assert taxonomy.search_skills(query) == []

    def test_deterministic(self, taxonomy: Taxonomy) -> None:
        first = taxonomy.search_occupations("medewerker logistiek", lang="nl", limit=20)
        second = taxonomy.search_occupations("medewerker logistiek", lang="nl", limit=20)
        assert first == second


class TestStructure:
    def test_isco_code_of_occupation_and_group(self, taxonomy: Taxonomy) -> None:
        assert taxonomy.isco_code(FORKLIFT_DRIVER) == "8344"
        assert taxonomy.isco_code(FORKLIFT_GROUP) == "8344"
        assert taxonomy.isco_code(OCC + "unknown") is None

    def test_occupation_skills(self, taxonomy: Taxonomy) -> None:
        essential, optional = taxonomy.occupation_skills(WAREHOUSE_WORKER)
        assert essential
        assert not essential & optional
        assert all(uri.startswith(SKILL) for uri in essential | optional)
        assert taxonomy.occupation_skills(OCC + "unknown") == (frozenset(), frozenset())

    def test_related_skills_are_symmetric_and_exclude_self(self, taxonomy: Taxonomy) -> None:
        essential, _ = taxonomy.occupation_skills(FORKLIFT_DRIVER)
        for skill in sorted(essential):
            related = taxonomy.related_skills(skill)
            assert skill not in related
            for other in related:
                assert skill in taxonomy.related_skills(other)

    def test_labels_fall_back_across_languages(self, taxonomy: Taxonomy) -> None:
        assert taxonomy.label(FORKLIFT_DRIVER, lang="nl") == "heftruckchauffeur"
        assert taxonomy.label(FORKLIFT_GROUP, lang="en") == "Heftruckbestuurders"  # no English ISCO labels
        assert taxonomy.label("text:iets eigens") == "iets eigens"


class TestExtractSkills:
    def test_finds_labels_in_text(self, taxonomy: Taxonomy) -> None:
        text = "Wij zoeken iemand met ervaring in computerprogrammering. Kennis van Mechatronik is een plus."
        uris = [c.uri for c in taxonomy.extract_skills(text)]
        assert COMPUTER_PROGRAMMING in uris
        assert taxonomy.resolve_skill(code=None, label="Mechatronik").uri in uris

    def test_limit_and_no_duplicates(self, taxonomy: Taxonomy) -> None:
        text = "computerprogrammering " * 5 + "computer programming"
        found = taxonomy.extract_skills(text, limit=10)
        assert [c.uri for c in found] == [COMPUTER_PROGRAMMING]
        assert taxonomy.extract_skills("computerprogrammering", limit=0) == []


class TestTitleForms:
    @pytest.mark.parametrize(
        ("description", "label", "expected"),
        [
            (
                "gender pair with a shared tail",
                "Ingenieur/Ingenieurin für Holztechnik",
                ["Ingenieur für Holztechnik"],
            ),
            ("suffix form", "Lagerist/-in", ["Lagerist"]),
            ("Kaufmann/Kauffrau", "Kaufmann/Kauffrau im Einzelhandel", ["Kaufmann im Einzelhandel"]),
            ("two different titles stay two", "chauffeur/verhuizer", ["chauffeur", "verhuizer"]),
            ("no slash", "magazijnmedewerker", ["magazijnmedewerker"]),
        ],
    )
    def test_title_forms(self, description: str, label: str, expected: list[str]) -> None:
        assert title_forms(label) == expected, description


class TestCacheAndEvaluation:
    def test_pickle_round_trip_gives_identical_results(self, taxonomy: Taxonomy) -> None:
        clone = pickle.loads(pickle.dumps(taxonomy, protocol=pickle.HIGHEST_PROTOCOL))
        for query in ["magazijnmedewerker", "Lagerarbeiter/Lagerarbeiterin", "softwre developer"]:
            assert clone.search_occupations(query, limit=10) == taxonomy.search_occupations(query, limit=10)
        assert clone.resolve_skill(code=None, label="computer programing").uri == COMPUTER_PROGRAMMING

    def test_cache_can_be_switched_off(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("WERKMATCH_CACHE_DIR", "off")
        assert cache_path() is None
        monkeypatch.setenv("WERKMATCH_CACHE_DIR", str(tmp_path))
        path = cache_path()
        assert path is not None
        assert path.parent == tmp_path

    def test_stale_cache_files_are_pruned(self, tmp_path: Path) -> None:
        files = [tmp_path / f"taxonomy-{i}.pickle" for i in range(5)]
        for i, path in enumerate(files):
            path.write_bytes(b"x")
            os.utime(path, (1_000_000 + i, 1_000_000 + i))
        _prune_cache(files[0], keep=2)
        assert sorted(p.name for p in tmp_path.iterdir()) == [files[0].name, files[3].name, files[4].name]

    def test_evaluation_on_a_tiny_set(self, taxonomy: Taxonomy, tmp_path: Path) -> None:
        (tmp_path / "queries.tsv").write_text(
            "query_id\tlang\tquery\nq1\tnl\theftruckchauffeur\nq2\tde\tLagerarbeiter\nq3\tnl\tzzqx flubber\n",
            encoding="utf-8",
        )
        (tmp_path / "qrels.tsv").write_text(
            f"query_id\tconcept_uri\nq1\t{FORKLIFT_DRIVER}\nq2\t{WAREHOUSE_WORKER}\nq3\t{FORKLIFT_DRIVER}\n",
            encoding="utf-8",
        )
        result = evaluate_occupations(tmp_path, taxonomy=taxonomy)
        assert result["de"]["mrr"] == 1.0
        assert result["nl"]["queries"] == 2.0
        assert result["nl"]["mrr"] == pytest.approx(0.5)
        assert result["all"]["recall@10"] == pytest.approx(2 / 3)

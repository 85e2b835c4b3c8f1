"""Competence and occupation normalisation: labels in Dutch, German or English → ESCO concepts.

The shipped data (``data/taxonomy/``, built by :mod:`matching.taxonomy_build` from ESCO v1.2; see
data/README.md for source and licence) holds ESCO occupations and ISCO-08 groups with all their labels,
ESCO skills with EN/NL/DE labels, and the essential/optional skills of every occupation.

A label resolves in three steps: a known code (ESCO URI or ISCO code) wins; otherwise the normalised
label is looked up exactly (gender forms, diacritics and punctuation folded); otherwise the lexical
rankers of :class:`matching.taxonomy_index.LabelIndex` propose a concept, which is accepted only above a
similarity threshold. Anything else stays a ``text:`` concept so that it still counts as plain text.

Occupation search ranks in two stages: the lexical rankers plus a latent concept space (first stage), then
a linear reranker learned self-supervised from ESCO's own labels (:mod:`matching.taxonomy_rerank`,
weights shipped in ``data/taxonomy/occupation_reranker.json``).

This service uses the ESCO classification of the European Commission.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from matching._text import normalise, normalise_text, title_forms, words
from matching.taxonomy_index import LABEL_TYPE_WEIGHT, Form, LabelIndex, Ranking, query_key
from matching.taxonomy_rerank import ConceptInfo, Reranker, rerank

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "taxonomy"
OCCUPATION_PREFIX = "http://data.europa.eu/esco/occupation/"
ISCO_PREFIX = "http://data.europa.eu/esco/isco/C"
SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
TEXT_PREFIX = "text:"
LANGS = ("nl", "de", "en")
RERANKER_FILE = "occupation_reranker.json"

# Acceptance thresholds for a label that has no exact match. Character-level similarity (rapidfuzz,
# 0–100) against the best surface form of the best-ranked concept; below it the label stays text.
SKILL_ACCEPT = 88.0
OCCUPATION_ACCEPT = 88.0

_MEMO_LIMIT = 200_000
_ISCO_CODE = re.compile(r"^(?:isco[-\s:]*)?c?(\d{1,4})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Concept:
    """A taxonomy concept (or the normalised text of a label that matched none)."""

    uri: str
    label: str
    kind: str  # "occupation" | "isco_group" | "skill" | "text"
    score: float


def text_concept(label: str) -> Concept:
    """The concept of a label that matches no taxonomy entry: its normalised text."""
    key = normalise(label)
    return Concept(uri=TEXT_PREFIX + key, label=key, kind="text", score=0.0)


def _read_tsv(path: Path) -> Iterator[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield line.rstrip("\n").split("\t")


def _add_form(forms: list[Form], seen: dict[tuple[int, str, str], int], form: Form) -> None:
    """Append ``form`` unless its concept already has that text in that language; then keep the
    higher-priority label type, so a preferred label that ESCO also lists as an alternative (or a
    hidden label) stays a preferred label whatever the order of the rows."""
    key = (form.concept, form.lang, form.text)
    at = seen.get(key)
    if at is None:
        seen[key] = len(forms)
        forms.append(form)
    elif LABEL_TYPE_WEIGHT.get(form.kind, 0.9) > LABEL_TYPE_WEIGHT.get(forms[at].kind, 0.9):
        forms[at] = form


class Taxonomy:
    """ESCO occupations, ISCO groups and skills with multilingual label resolution and search.

    Build one with :func:`load_taxonomy` (cached). Thread-safe for reads; the memo caches are guarded.
    """

    def __init__(self, data_dir: Path = DATA_DIR, *, rerank: bool = True) -> None:
        self._lock = threading.Lock()
        self._load_concepts(data_dir)
        essential = self._load_skills(data_dir)
        self._load_occupations(data_dir, essential)
        # The learned second stage of occupation search (see matching.taxonomy_rerank); ``rerank=False``
        # keeps the first stage only (used to train the model).
        self.occ_reranker = Reranker.load(data_dir / RERANKER_FILE) if rerank else None
        self._skill_memo: dict[str, Concept] = {}
        self._related_memo: dict[str, frozenset[str]] = {}

    def __getstate__(self) -> dict[str, object]:
        # The lock cannot be pickled and the memos are per process.
        state = dict(self.__dict__)
        for key in ("_lock", "_skill_memo", "_related_memo"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._skill_memo = {}
        self._related_memo = {}

    # ------------------------------------------------------------------ loading
    def _load_concepts(self, data_dir: Path) -> None:
        self.occ_uris: list[str] = []
        self.occ_kind: list[str] = []
        self.occ_isco: list[str] = []
        self._occ_index: dict[str, int] = {}
        broader: list[list[str]] = []
        for uri, kind, code, broader_uris in _read_tsv(data_dir / "concepts.tsv.gz"):
            self._occ_index[uri] = len(self.occ_uris)
            self.occ_uris.append(uri)
            self.occ_kind.append(kind)
            self.occ_isco.append(code)
            broader.append(broader_uris.split() if broader_uris else [])
        self._broader = broader
        self._isco_by_code = {
            code: i
            for i, (kind, code) in enumerate(zip(self.occ_kind, self.occ_isco, strict=True))
            if kind == "isco_group"
        }

    def _load_occupations(self, data_dir: Path, essential: list[tuple[int, int]]) -> None:
        """Labels and texts of the occupations and ISCO groups, and their search index; ``essential`` holds
        the (occupation, skill) pairs of essential skills in file order (from :meth:`_load_skills`)."""
        self._occ_labels: dict[tuple[int, str], str] = {}
        forms: list[Form] = []
        seen: dict[tuple[int, str, str], int] = {}
        for uri, lang, kind, label in _read_tsv(data_dir / "occupation_labels.tsv.gz"):
            cid = self._occ_index[uri]
            if kind == "pref" or ((cid, lang) not in self._occ_labels and kind == "surface"):
                if kind == "pref" or (cid, lang) not in self._occ_labels:
                    self._occ_labels[(cid, lang)] = label
            for variant in title_forms(label):
                text = normalise(variant)
                if text:
                    _add_form(forms, seen, Form(concept=cid, lang=lang, kind=kind, text=text))
        # Weak evidence beyond the labels, one document per concept, language and source: the ESCO
        # description, and the names of the occupation's essential skills ("wild en gevogelte bereiden"
        # for a butcher's shop assistant: words a national title uses that no ESCO label contains).
        texts: dict[int, list[tuple[str, str]]] = {}
        for uri, lang, description in _read_tsv(data_dir / "occupation_descriptions.tsv.gz"):
            texts.setdefault(self._occ_index[uri], []).append((lang, normalise_text(description)))
        skill_names: dict[tuple[int, str], list[str]] = {}
        for occ, skill in essential:
            for lang in LANGS:
                name = self._skill_labels.get((skill, lang))
                if name:
                    skill_names.setdefault((occ, lang), []).append(name)
        for (cid, lang), names in skill_names.items():
            texts.setdefault(cid, []).append((lang, normalise_text(" ; ".join(names))))
        self.occupations = LabelIndex(forms=forms, n_concepts=len(self.occ_uris), texts=texts)
        index = self.occupations
        self.occ_info = ConceptInfo(
            is_group=np.asarray([k == "isco_group" for k in self.occ_kind]),
            isco=list(self.occ_isco),
            n_forms=np.maximum(np.diff(index._by_concept_ptr), 1),
        )

    def _load_skills(self, data_dir: Path) -> list[tuple[int, int]]:
        """Skills, their labels, search index and occupation relations; returns the (occupation, skill) pairs
        of essential skills in file order, which occupation search reads as evidence."""
        self.skill_uris: list[str] = []
        self._skill_index: dict[str, int] = {}
        self._skill_labels: dict[tuple[int, str], str] = {}
        forms: list[Form] = []
        seen: dict[tuple[int, str, str], int] = {}
        for sid, lang, kind, label in _read_tsv(data_dir / "skill_labels.tsv.gz"):
            uri = SKILL_PREFIX + sid
            cid = self._skill_index.get(uri)
            if cid is None:
                cid = self._skill_index[uri] = len(self.skill_uris)
                self.skill_uris.append(uri)
            if kind == "esco":
                self._skill_labels.setdefault((cid, lang), label)
            text = normalise(label)
            if text:
                _add_form(forms, seen, Form(concept=cid, lang=lang, kind=kind, text=text))
        # Skill labels without an ESCO URI: concepts of kind "text" whose URI is their normalised label.
        text_ids: list[int] = []
        for lang, label in _read_tsv(data_dir / "skill_labels_unlinked.tsv.gz"):
            text = normalise(label)
            uri = TEXT_PREFIX + text
            if not text or uri in self._skill_index:
                continue
            cid = self._skill_index[uri] = len(self.skill_uris)
            self.skill_uris.append(uri)
            self._skill_labels[(cid, lang)] = text
            text_ids.append(cid)
            forms.append(Form(concept=cid, lang=lang, kind="hidden", text=text))
        self._skill_is_text = np.zeros(len(self.skill_uris), dtype=bool)
        self._skill_is_text[text_ids] = True
        rows: list[int] = []
        cols: list[int] = []
        essential: list[bool] = []
        for occ, rel, sid in _read_tsv(data_dir / "occupation_skills.tsv.gz"):
            o = self._occ_index.get(OCCUPATION_PREFIX + occ)
            s = self._skill_index.get(SKILL_PREFIX + sid)
            if o is None or s is None:
                continue
            rows.append(o)
            cols.append(s)
            essential.append(rel == "e")
        ess = np.asarray(essential)
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        shape = (len(self.occ_uris), len(self.skill_uris))
        # 2 = essential, 1 = optional
        self._occ_skill = sp.csr_matrix((np.where(ess, 2, 1).astype(np.int8), (r, c)), shape=shape)
        self._incidence = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=shape)
        self._incidence_t = self._incidence.T.tocsr()
        self._skill_totals = np.asarray(self._incidence.sum(axis=0)).ravel()
        self.skills = LabelIndex(forms=forms, n_concepts=len(self.skill_uris))
        return [(o, k) for o, k, e in zip(rows, cols, essential, strict=True) if e]

    # ------------------------------------------------------------------ labels
    def label(self, uri: str, *, lang: str = "nl") -> str:
        """Human-readable label of a concept in ``lang`` (falls back to NL, EN, DE, then the URI)."""
        order = (lang, *[x for x in ("nl", "en", "de") if x != lang])
        if uri in self._occ_index:
            cid = self._occ_index[uri]
            table = self._occ_labels
        elif uri in self._skill_index:
            cid = self._skill_index[uri]
            table = self._skill_labels
        elif uri.startswith(TEXT_PREFIX):
            return uri[len(TEXT_PREFIX) :]
        else:
            return uri
        for la in order:
            if (cid, la) in table:
                return table[(cid, la)]
        return uri

    def _occ_concept(self, cid: int, score: float, lang: str | None) -> Concept:
        uri = self.occ_uris[cid]
        label = self.label(uri, lang=lang or "nl")
        return Concept(uri=uri, label=label, kind=self.occ_kind[cid], score=score)

    def _skill_concept(self, cid: int, score: float, lang: str | None) -> Concept:
        uri = self.skill_uris[cid]
        if self._skill_is_text[cid]:
            return Concept(uri=uri, label=uri[len(TEXT_PREFIX) :], kind="text", score=0.0)
        return Concept(uri=uri, label=self.label(uri, lang=lang or "nl"), kind="skill", score=score)

    # ------------------------------------------------------------------ search
    @staticmethod
    def _top(scores: np.ndarray, limit: int) -> list[int]:
        nz = np.flatnonzero(scores > 0)
        if not len(nz):
            return []
        # Sort by score desc, then by concept index (stable, deterministic).
        order = np.lexsort((nz, -scores[nz]))
        return [int(i) for i in nz[order[:limit]]]

    def search_occupations(self, q: str, *, lang: str | None = None, limit: int = 10) -> list[Concept]:
        """Occupations and ISCO groups ranked for a query (job title) in NL, DE or EN."""
        if limit <= 0 or not normalise(q):
            return []
        return self._occupation_results(self.occupations.rank(q, lang=lang), lang, limit)

    def search_occupations_many(
        self, queries: Sequence[str], *, lang: str | None = None, limit: int = 10
    ) -> list[list[Concept]]:
        """:meth:`search_occupations` of many queries (the same results), for bulk encoding.

        The first stage of all queries runs as a few sparse products (:meth:`LabelIndex.rank_many`).
        """
        if limit <= 0:
            return [[] for _ in queries]
        wanted = [i for i, q in enumerate(queries) if normalise(q)]
        out: list[list[Concept]] = [[] for _ in queries]
        rankings = self.occupations.rank_many([queries[i] for i in wanted], lang=lang)
        for i, ranking in zip(wanted, rankings, strict=True):
            out[i] = self._occupation_results(ranking, lang, limit)
        return out

    def _occupation_results(self, ranking: Ranking, lang: str | None, limit: int) -> list[Concept]:
        scores = ranking.concept
        if self.occ_reranker is not None:
            scores = rerank(self.occ_reranker, self.occupations, self.occ_info, ranking, lang=lang)
        exact = self.occupations.exact.get(ranking.query)
        if exact:
            # A query that is a label of the taxonomy finds that concept first, whatever the model makes of
            # a neighbour with a richer description ("osteopaat" before "dierenosteopaat"). Several concepts
            # with that label: preferred labels before alternative ones, then the model's order. The rest
            # keep their order and scores.
            scores = np.array(scores, dtype=np.float64)
            top_score = float(scores.max())
            weight = self.occupations.label_weight
            order = sorted(exact, key=lambda c: (-weight(c, ranking.query), -scores[c], c))
            for pos, cid in enumerate(order):
                scores[cid] = top_score + 1e-3 * (len(order) - pos)
        top = self._top(scores, limit)
        best = float(scores[top[0]]) if top else 1.0
        return [self._occ_concept(i, round(float(scores[i]) / max(best, 1e-9), 6), lang) for i in top]

    def search_skills(self, q: str, *, lang: str | None = None, limit: int = 10) -> list[Concept]:
        """ESCO skills ranked for a query in NL, DE or EN."""
        if limit <= 0 or not normalise(q):
            return []
        scores = np.where(self._skill_is_text, 0.0, self.skills.scores(q, lang=lang))
        top = self._top(scores, limit)
        best = float(scores[top[0]]) if top else 1.0
        return [self._skill_concept(i, round(float(scores[i]) / max(best, 1e-9), 6), lang) for i in top]

    # ------------------------------------------------------------------ resolution
    def _exact(self, index: LabelIndex, label: str, *, kinds: Sequence[str] | None = None) -> int | None:
        """The concept whose label equals ``label`` after normalisation (gender pair merged).

        A label shared by several concepts ("Lagerist" names three ESCO occupations) goes to the one the
        rankers score highest, occupations before ISCO groups.
        """
        forms = title_forms(label)
        keys = [normalise(label)] + ([normalise(forms[0])] if len(forms) == 1 else [])
        for key in keys:
            hits = index.exact.get(key)
            if not hits:
                continue
            if len(hits) == 1:
                return hits[0]
            scores = index.scores(label)
            is_group = [kinds is not None and kinds[h] != "occupation" for h in hits]
            return min(zip(hits, is_group, strict=True), key=lambda x: (x[1], -float(scores[x[0]]), x[0]))[0]
        return None

    def _fuzzy(
        self,
        index: LabelIndex,
        label: str,
        *,
        accept: float,
        ranked: tuple[np.ndarray, np.ndarray] | None = None,
        exclude: np.ndarray | None = None,
    ) -> tuple[int, float] | None:
        """Among the five best-ranked concepts, the one whose closest label is most similar to ``label``.

        Similar enough: an optimal-string-alignment similarity (typos, transpositions count once) or a
        word-order-free similarity of at least ``accept`` (0–100). A label that is merely contained in a
        longer one ("first aid" in "first aid for animals") is not accepted: a wrong concept is worse than
        keeping the text. ``ranked`` reuses the rankers' output; ``exclude`` masks concepts out.
        """
        key = query_key(label)
        if not key:
            return None
        scores, char = ranked if ranked is not None else index.scores_and_char(label)
        if exclude is not None:
            scores = np.where(exclude, 0.0, scores)
        best_hit: tuple[float, int] | None = None
        for cid in self._top(scores, 5):
            form = index.best_form(cid, char)
            if form is None:
                continue
            sim = OSA.normalized_similarity(key, form) * 100.0
            if abs(len(key.replace(" ", "")) - len(form.replace(" ", ""))) <= 2:
                # Word order and compounding ("medewerker magazijn" ~ "magazijnmedewerker"), but not
                # containment ("printed circuit boards" is not "test printed circuit boards").
                sim = max(sim, fuzz.token_sort_ratio(key, form))
            if sim >= accept and (best_hit is None or sim > best_hit[0]):
                best_hit = (sim, cid)
        if best_hit is None:
            return None
        return best_hit[1], round(best_hit[0] / 100.0, 6)

    def resolve_skill(self, *, code: str | None, label: str) -> Concept:
        """An ESCO skill for a (code, label) pair; unknown labels become ``text:`` concepts."""
        if code:
            uri = code if code.startswith("http") else SKILL_PREFIX + code
            if uri in self._skill_index:
                return self._skill_concept(self._skill_index[uri], 1.0, None)
        with self._lock:
            memo = self._skill_memo.get(label)
        if memo is not None:
            return memo
        # Order: an exact ESCO skill; a close ESCO skill (also across languages: "biotechnology" →
        # "Biotechnologie"); a known ESCO label without URI (canonical text, typos included); plain text.
        cid = self._exact(self.skills, label)
        if cid is not None and not self._skill_is_text[cid]:
            result = self._skill_concept(cid, 1.0, None)
        else:
            ranked = self.skills.scores_and_char(label)
            linked_only = self._skill_is_text
            hit = self._fuzzy(self.skills, label, accept=SKILL_ACCEPT, ranked=ranked, exclude=linked_only)
            if hit is None and cid is None:
                hit = self._fuzzy(self.skills, label, accept=SKILL_ACCEPT, ranked=ranked)
            if hit is not None:
                result = self._skill_concept(hit[0], hit[1], None)
            else:
                result = self._skill_concept(cid, 0.0, None) if cid is not None else text_concept(label)
        with self._lock:
            if len(self._skill_memo) >= _MEMO_LIMIT:
                self._skill_memo.clear()  # bounded: labels come from user input
            self._skill_memo[label] = result
        return result

    def resolve_skills(self, labels: Sequence[str]) -> list[Concept]:
        """Resolve many skill labels at once (memoised: repeated labels cost nothing)."""
        return [self.resolve_skill(code=None, label=lab) for lab in labels]

    def resolve_occupation(self, *, code: str | None, label: str) -> Concept:
        """An ESCO occupation or ISCO group for a (code, label) pair; else a ``text:`` concept."""
        if code:
            code = code.strip()
            if code in self._occ_index:
                return self._occ_concept(self._occ_index[code], 1.0, None)
            m = _ISCO_CODE.match(code)
            if m and m.group(1) in self._isco_by_code:
                return self._occ_concept(self._isco_by_code[m.group(1)], 1.0, None)
        cid = self._exact(self.occupations, label, kinds=self.occ_kind)
        if cid is not None:
            return self._occ_concept(cid, 1.0, None)
        hit = self._fuzzy(self.occupations, label, accept=OCCUPATION_ACCEPT)
        return self._occ_concept(hit[0], hit[1], None) if hit else text_concept(label)

    # ------------------------------------------------------------------ structure
    def isco_code(self, occupation_uri: str) -> str | None:
        """The 4-digit ISCO-08 unit group of an occupation (an ISCO group returns its own code)."""
        cid = self._occ_index.get(occupation_uri)
        if cid is None:
            return None
        return self.occ_isco[cid] or None

    def occupation_skills(self, occupation_uri: str) -> tuple[frozenset[str], frozenset[str]]:
        """Essential and optional ESCO skill URIs of an occupation (empty for unknown URIs)."""
        cid = self._occ_index.get(occupation_uri)
        if cid is None:
            return frozenset(), frozenset()
        row = self._occ_skill.getrow(cid)
        ess = frozenset(self.skill_uris[j] for j, v in zip(row.indices, row.data, strict=True) if v == 2)
        opt = frozenset(self.skill_uris[j] for j, v in zip(row.indices, row.data, strict=True) if v == 1)
        return ess, opt

    def related_skills(self, skill_uri: str) -> frozenset[str]:
        """Skills that strongly co-occur with ``skill_uri`` in occupation profiles.

        Related means: the two skills share at least two occupations and their Jaccard overlap over
        occupations is at least 0.3 (they are mostly asked for together).
        """
        with self._lock:
            memo = self._related_memo.get(skill_uri)
        if memo is not None:
            return memo
        sid = self._skill_index.get(skill_uri)
        result: frozenset[str] = frozenset()
        if sid is not None:
            incidence = self._incidence
            t_ptr = self._incidence_t.indptr
            occs = self._incidence_t.indices[t_ptr[sid] : t_ptr[sid + 1]]
            if len(occs):
                # Co-occurrence counts with every skill, from the occupations' rows (only skills that share
                # at least two occupations can qualify). The counts are small integers (exact in float64
                # and float32), so the float32 arithmetic below is the dense column sum's, element by element.
                ptr = incidence.indptr
                starts, stops = ptr[occs], ptr[occs + 1]
                lengths = stops - starts
                at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
                # (A pair listed twice in the data counts twice, like in the sparse sum.)
                counts = np.bincount(
                    incidence.indices[at], weights=incidence.data[at], minlength=incidence.shape[1]
                )
                cols = np.flatnonzero(counts >= 2)
                co = counts[cols].astype(np.float32)
                totals = self._skill_totals
                union = totals[cols] + totals[sid] - co
                jacc = np.divide(co, union, out=np.zeros_like(co, dtype=np.float64), where=union > 0)
                keep = cols[jacc >= 0.3]
                result = frozenset(self.skill_uris[j] for j in keep if j != sid)
        if sid is not None:  # only known skills are remembered, so the memo stays bounded
            with self._lock:
                self._related_memo[skill_uri] = result
        return result

    # ------------------------------------------------------------------ extraction
    def extract_skills(self, text: str, *, limit: int = 50) -> list[Concept]:
        """Skills whose label occurs in free text (longest match first, in order of appearance)."""
        toks = words(normalise(text))
        found: list[Concept] = []
        seen: set[str] = set()
        i = 0
        max_n = 8
        while i < len(toks) and len(found) < limit:
            matched = 0
            for n in range(min(max_n, len(toks) - i), 0, -1):
                key = " ".join(toks[i : i + n])
                hits = self.skills.exact.get(key)
                hits = [h for h in hits or () if not self._skill_is_text[h]]
                if hits and (n > 1 or len(key) >= 4):
                    uri = self.skill_uris[hits[0]]
                    if uri not in seen:
                        seen.add(uri)
                        found.append(self._skill_concept(hits[0], 1.0, None))
                    matched = n
                    break
            i += matched or 1
        return found


_LOAD_LOCK = threading.Lock()
_SOURCES = ("_text.py", "taxonomy_index.py", "taxonomy_rerank.py", "taxonomy.py")
# The code half of the cache key is read once, at import: a process that imported older code must not
# file its (older) indexes under the key of code that was edited on disk after it started.
_SOURCE_DIGEST = hashlib.sha256(
    b"".join((Path(__file__).resolve().parent / name).read_bytes() for name in _SOURCES)
).digest()
_CACHE_ERRORS = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError)


def cache_path(data_dir: Path = DATA_DIR) -> Path | None:
    """Where the built indexes of this data and code version are cached (None: caching is off).

    ``WERKMATCH_CACHE_DIR`` overrides the location (``off`` disables); the default is
    ``$XDG_CACHE_HOME/werkmatch`` or ``~/.cache/werkmatch``. The file name is a hash of the shipped data
    and of the code that builds the indexes, so a change to either builds afresh.
    """
    setting = os.environ.get("WERKMATCH_CACHE_DIR")
    if setting is not None and setting.strip().lower() in {"", "off", "0", "none"}:
        return None
    if setting:
        root = Path(setting)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "werkmatch"
    digest = hashlib.sha256()
    for path in sorted([*data_dir.glob("*.gz"), *data_dir.glob("*.json")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(_SOURCE_DIGEST)
    return root / f"taxonomy-{digest.hexdigest()[:20]}.pickle"


def _prune_cache(current: Path, *, keep: int = 2) -> None:
    """Remove cache files of older data/code versions, keeping the ``keep`` most recent others."""
    others = sorted(
        (p for p in current.parent.glob("taxonomy-*.pickle") if p != current),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in others[keep:]:
        try:
            stale.unlink()
        except OSError:
            pass  # another process removed it, or it is not ours to remove


def _load_or_build(data_dir: Path) -> Taxonomy:
    path = cache_path(data_dir)
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                cached = pickle.load(fh)  # our own cache file, named by content hash
            if isinstance(cached, Taxonomy):
                return cached
        except _CACHE_ERRORS:
            pass  # damaged or stale: rebuild
    taxonomy = Taxonomy(data_dir)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".taxonomy-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(taxonomy, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # atomic: concurrent loaders see the old file or the whole new one
            _prune_cache(path)
        except OSError:
            pass  # a read-only home is fine: the next process builds again
    return taxonomy


@lru_cache(maxsize=1)
def _cached() -> Taxonomy:
    return _load_or_build(DATA_DIR)


def load_taxonomy() -> Taxonomy:
    """The shipped taxonomy, loaded once per process.

    Building the search indexes from ``data/taxonomy`` takes a few seconds; the result is cached on disk
    (see :func:`cache_path`) so later processes load in well under a second.
    """
    with _LOAD_LOCK:
        return _cached()

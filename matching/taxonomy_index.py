"""Lexical indexes over concept labels (private to ``matching.taxonomy``).

A :class:`LabelIndex` holds every surface form (preferred, alternative, hidden label, MELO surface form,
crosswalk label) of a set of concepts and ranks concepts for a query with two classic rankers:

* BM25 on analysed words (folded, masculinised German forms, compound parts, light stems), and
* TF-IDF cosine on character n-grams of the whole label (robust to typos and unknown compounds),

fused per form and max-pooled per concept. An optional per-concept text field (occupation
descriptions and the names of essential skills) adds weak evidence for the words a label does not
contain ("... gieterij").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching._text import (
    STOPWORDS,
    CompoundSplitter,
    masculine,
    normalise,
    stem,
    title_forms,
    token_frequencies,
)

# Words after which a title's head word has been seen ("medewerker van X", "Fachkraft fur Y").
HEAD_BREAKS = frozenset(
    "van voor bij in op met aan te fur im in am an auf mit von vom zum zur bei als of for at with to".split()
)

# Priority of label types when two concepts share a form: the concept whose preferred label it is wins.
LABEL_TYPE_WEIGHT = {
    "pref": 1.0,
    "alt": 0.97,
    "surface": 0.97,
    "hidden": 0.9,
    "esco": 1.0,
    "vdab": 0.95,
    "ba": 0.95,
}


def query_key(query: str) -> str:
    """The normalised text a query is ranked with: gender pairs merged, then :func:`normalise`."""
    return normalise(" ".join(title_forms(query)))


@dataclass(frozen=True, slots=True)
class Form:
    """One surface form of a concept."""

    concept: int
    lang: str
    kind: str
    text: str  # normalised


@dataclass(frozen=True, slots=True)
class Ranking:
    """The first-stage ranking of one query and the evidence behind it."""

    query: str  # normalised query key
    tokens: list[int]  # analysed query token ids (with repeats; -1 = unknown to the index)
    concept: np.ndarray  # fused score per concept
    char: np.ndarray  # character n-gram cosine per form
    words: np.ndarray  # BM25 per form divided by the query's maximum
    form_score: np.ndarray  # fused score per form (label-type and language weights applied)
    text: np.ndarray | None  # BM25 of the concept's texts (best document, normalised), or None
    hidden: np.ndarray | None = None  # forms hidden from this ranking (training only), or None
    semantic: np.ndarray | None = None  # latent-space cosine per concept, or None


class ConceptSpace:
    """Latent semantic analysis over concepts: which words occur together in ESCO (labels in all three
    languages, descriptions), so that a query can meet a concept that shares none of its label words.

    Every concept is one document: the tokens of all its labels (Dutch, German and English: the parallel
    labels also tie the languages together) plus, at half weight, those of its texts (descriptions, names
    of essential skills). A truncated SVD of the tf-idf matrix gives each term and concept a vector; a
    query is the idf-weighted sum of its token vectors. Built from the shipped data only, at load time (a
    few seconds).
    """

    def __init__(self, labels: sp.csr_matrix, descriptions: sp.csr_matrix | None, *, dims: int) -> None:
        from sklearn.decomposition import TruncatedSVD
        from threadpoolctl import threadpool_limits

        m = labels.astype(np.float32).tocsr()
        m.data = 1.0 + np.log(m.data)
        if descriptions is not None:
            d = descriptions.astype(np.float32).tocsr()
            d.data = 0.5 * (1.0 + np.log(d.data))
            m = (m + d).tocsr()
        n_docs = m.shape[0]
        df = np.bincount(m.indices, minlength=m.shape[1])
        self.idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        m = m.multiply(self.idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        m = (sp.diags(1.0 / norms) @ m).tocsr()
        dims = max(1, min(dims, min(m.shape) - 1))
        # One BLAS thread: a multi-threaded BLAS sums in an order that depends on the number of threads, so
        # the vectors (and, through near ties, occupation links and scores) would differ between a 2-core
        # and a 1-core build of the same data. With one thread the build is the same on every machine with
        # the same BLAS and CPU kind (a few seconds, once per data and code version: the result is cached).
        with threadpool_limits(limits=1):
            svd = TruncatedSVD(dims, random_state=0, algorithm="randomized", n_iter=5).fit(m)
        terms = np.ascontiguousarray(svd.components_.T, dtype=np.float32)  # terms × dims
        concepts = np.asarray(m @ terms, dtype=np.float32)
        concepts /= np.maximum(np.linalg.norm(concepts, axis=1, keepdims=True), 1e-9)
        self.concepts = concepts
        # Half precision halves the memory of the term vectors; a query sums a handful of them.
        self.terms = terms.astype(np.float16)

    def scores(self, token_ids: Sequence[int]) -> np.ndarray | None:
        """Cosine between the query (its token ids) and every concept; None when no token is known."""
        toks = [t for t in token_ids if 0 <= t < len(self.idf)]
        if not toks:
            return None
        q = (self.idf[toks][:, None] * self.terms[toks].astype(np.float32)).sum(axis=0)
        norm = float(np.linalg.norm(q))
        if norm == 0.0:
            return None
        return self.concepts @ (q / norm)


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """How the rankers are combined (declarative, so the evaluation can report what ran).

    Per form: ``char`` × character n-gram cosine + ``words`` × BM25 (divided by the query's own maximum),
    times the label-type weight; per concept the best form, plus ``text`` × the description BM25, plus
    ``semantic`` × the cosine in a latent space of concept words (:class:`ConceptSpace`). Forms
    in another language than the query's count ``other_lang``. ``k1``/``b`` are BM25's usual parameters.
    """

    char: float = 1.0
    words: float = 0.6
    text: float = 0.15
    semantic: float = 0.25
    semantic_dims: int = 150
    other_lang: float = 0.92
    k1: float = 1.2
    b: float = 0.5


# Character alphabet after normalise(): separator, space, a-z, 0-9, "+", "#".
_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789+#"
_BASE = len(_ALPHABET) + 1
_LUT = np.zeros(256, dtype=np.int64)
for _i, _ch in enumerate(_ALPHABET, start=1):
    _LUT[ord(_ch)] = _i
_SPACE_CODE = 1


class CharNgrams:
    """TF-IDF on character 3- and 4-grams within words (like scikit-learn's ``char_wb``), vectorised.

    Written with numpy instead of ``TfidfVectorizer`` because fitting must take well under a second on
    ~100k labels at start-up. Rows are L2-normalised with sublinear term frequencies and smoothed idf.
    """

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn the n-gram vocabulary and idf from ``texts``; return their (rows × n-grams) matrix."""
        docs, codes = self._codes(texts)
        self.vocabulary_ = np.unique(codes)
        cols = np.searchsorted(self.vocabulary_, codes)
        counts = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (docs, cols)), shape=(len(texts), len(self.vocabulary_))
        )
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=len(self.vocabulary_)).astype(np.float32)
        self.idf_ = (np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0).astype(np.float32)
        return self._weigh(counts)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Vectors of ``texts`` over the learned vocabulary (unknown n-grams are ignored)."""
        docs, codes = self._codes(texts)
        cols = np.searchsorted(self.vocabulary_, codes)
        cols = np.minimum(cols, len(self.vocabulary_) - 1)
        known = self.vocabulary_[cols] == codes
        counts = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (docs[known], cols[known])),
            shape=(len(texts), len(self.vocabulary_)),
        )
        counts.sum_duplicates()
        return self._weigh(counts)

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        counts.data = (1.0 + np.log(counts.data)) * self.idf_[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        counts.data /= np.repeat(norms, np.diff(counts.indptr)).astype(np.float32)
        return counts

    @staticmethod
    def _codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        # Every word is padded by a space on each side; documents are separated by code 0.
        padded = [" " + t.replace(" ", "  ") + " " for t in texts]
        raw = "\0".join(padded).encode("ascii", "replace")
        c = _LUT[np.frombuffer(raw, dtype=np.uint8)]
        lengths = np.fromiter((len(p) + 1 for p in padded), dtype=np.int64, count=len(padded))
        doc_of = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)[: len(c)]
        inner = (c != 0) & (c != _SPACE_CODE)
        n = len(c)
        docs: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        if n >= 3:
            a, b, d = c[:-2], c[1:-1], c[2:]
            ok = (a != 0) & inner[1:-1] & (d != 0)
            docs.append(doc_of[:-2][ok])
            codes.append(((a * _BASE + b) * _BASE + d)[ok])
        if n >= 4:
            a, b, d, e = c[:-3], c[1:-2], c[2:-1], c[3:]
            ok = (a != 0) & inner[1:-2] & inner[2:-1] & (e != 0)
            docs.append(doc_of[:-3][ok])
            codes.append(_BASE**3 + (((a * _BASE + b) * _BASE + d) * _BASE + e)[ok])
        if not docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(docs), np.concatenate(codes)


class Analyser:
    """Word analysis shared by indexing and querying: masculine forms, compound parts, stems.

    Every distinct word is analysed once; its tokens are interned as integer ids so that building the
    BM25 matrices is a matter of numpy concatenations.
    """

    def __init__(self, frequencies: dict[str, int]) -> None:
        self._freq = frequencies
        self._splitter = CompoundSplitter(frequencies)
        self._cache: dict[str, tuple[int, ...]] = {}
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []
        self._frozen = False
        self._light: dict[str, int] = {}

    def freeze(self) -> None:
        """Stop learning: afterwards unknown query words are analysed but neither cached nor interned."""
        self._frozen = True

    def _intern(self, token: str) -> int:
        i = self.vocab.get(token)
        if i is None:
            i = self.vocab[token] = len(self.terms)
            self.terms.append(token)
        return i

    def word_ids(self, word: str) -> tuple[int, ...]:
        """Token ids for one normalised word: its stem, then the stems of its compound parts."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        w = masculine(word, self._freq)
        out = [stem(w)]
        parts = self._splitter.split(w, remember=not self._frozen) if len(w) >= 8 else (w,)
        if len(parts) > 1:
            out.extend(stem(masculine(p, self._freq)) for p in parts)
        if self._frozen:
            # A query word: no growth of caches or vocabulary (-1 marks a token the index never saw).
            return tuple(self.vocab.get(t, -1) for t in dict.fromkeys(out))
        result = tuple(self._intern(t) for t in dict.fromkeys(out))
        self._cache[word] = result
        return result

    def ids(self, normalised_text: str) -> list[int]:
        """Token ids of a normalised text, with repeats (for term frequencies)."""
        out: list[int] = []
        for w in normalised_text.split():
            if w not in STOPWORDS:
                out.extend(self.word_ids(w))
        return out

    def analyse(self, normalised_text: str) -> tuple[list[int], str]:
        """Token ids (for BM25) and the expanded text (for character n-grams) in one pass."""
        cache = self._cache
        ids: list[int] = []
        kept: list[str] = []
        extra: list[str] = []
        for w in normalised_text.split():
            if w in STOPWORDS:
                continue
            kept.append(w)
            toks = cache.get(w) or self.word_ids(w)
            ids.extend(toks)
            if len(toks) > 1:
                extra.extend(self.terms[t] for t in toks[1:] if t >= 0)
        return ids, (" ".join(kept + extra) if kept else normalised_text)

    def light_ids(self, normalised_text: str) -> list[int]:
        """Token ids of long free text: stems only (no compound splitting), for speed at start-up.

        Queries are analysed fully, so a compound part of a query still meets the stem in a description.
        """
        light = self._light
        out: list[int] = []
        for w in normalised_text.split():
            i = light.get(w)
            if i is None:
                if w in STOPWORDS:
                    continue
                i = light[w] = self._intern(stem(w))
            out.append(i)
        return out

    def expand(self, normalised_text: str) -> str:
        """The text with its compound parts appended, for the character n-gram ranker."""
        kept: list[str] = []
        extra: list[str] = []
        for w in normalised_text.split():
            if w in STOPWORDS:
                continue
            kept.append(w)
            toks = self.word_ids(w)
            if len(toks) > 1:
                extra.extend(self.terms[t] for t in toks[1:] if t >= 0)
        return " ".join(kept + extra) if kept else normalised_text


class _BM25:
    """BM25 weights as a sparse (documents × terms) matrix; scoring is a column slice and a sum."""

    def __init__(self, docs: Sequence[list[int]], *, n_terms: int, k1: float, b: float) -> None:
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        cols = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=int(lengths.sum()))
        tf = sp.csr_matrix((np.ones(len(cols), dtype=np.float64), (rows, cols)), shape=(len(docs), n_terms))
        tf.sum_duplicates()
        n_docs = max(len(docs), 1)
        df = np.bincount(tf.indices, minlength=n_terms).astype(np.float64)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if len(docs) else 1.0
        coo = tf.tocoo()
        denom = coo.data + k1 * (1.0 - b + b * lengths[coo.row] / max(avgdl, 1e-9))
        weights = idf[coo.col] * coo.data * (k1 + 1.0) / denom
        self.matrix = sp.csc_matrix((weights.astype(np.float32), (coo.row, coo.col)), shape=tf.shape)

    def _columns(self, token_ids: Sequence[int]) -> list[int]:
        return sorted({t for t in token_ids if 0 <= t < self.matrix.shape[1]})

    def _col_max(self) -> np.ndarray:
        """Largest weight per term (0 for a term no document has): what ``matrix[:, t].max()`` gives.

        Built on first use (exact: a maximum is one of the stored weights), kept for later queries.
        """
        found = self.__dict__.get("_col_max_cache")
        if found is None:
            m = self.matrix
            found = np.zeros(m.shape[1], dtype=m.dtype)
            counts = np.diff(m.indptr)
            full = np.flatnonzero(counts)
            if full.size:
                found[full] = np.maximum.reduceat(m.data, m.indptr[full])
                # A column with fewer entries than rows also holds implicit zeros (weights are positive, but
                # keep the sparse max's definition).
                found[full] = np.where(counts[full] < m.shape[0], np.maximum(found[full], 0), found[full])
            self.__dict__["_col_max_cache"] = found
        return found

    def _query_max(self, cols: list[int]) -> float:
        # The same float32 sum, of the same values in the same order, as ``sub.max(axis=0).toarray().sum()``.
        return float(self._col_max()[cols].reshape(1, len(cols)).sum())

    def score(self, token_ids: Sequence[int]) -> tuple[np.ndarray, float]:
        """Scores per document and the query's own maximum attainable score (for normalisation)."""
        cols = self._columns(token_ids)
        if not cols:
            return np.zeros(self.matrix.shape[0], dtype=np.float32), 0.0
        sub = self.matrix[:, cols]
        scores = np.asarray(sub.sum(axis=1)).ravel()
        return scores, self._query_max(cols)

    def score_many(self, queries: Sequence[Sequence[int]]) -> tuple[np.ndarray, list[float]]:
        """:meth:`score` of many queries at once: a (queries × documents) array and the maxima.

        One sparse product (query term indicators × weights) instead of a column slice per query. Each
        document's score adds the same float32 weights in the same order (ascending term) as
        :meth:`score`, so the rows equal its results bit for bit.
        """
        n_docs, n_terms = self.matrix.shape
        cols = [self._columns(q) for q in queries]
        lengths = np.fromiter(map(len, cols), dtype=np.int64, count=len(cols))
        indptr = np.zeros(len(cols) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.fromiter((t for c in cols for t in c), dtype=np.int64, count=int(indptr[-1]))
        ind = sp.csr_matrix(
            (np.ones(indices.size, dtype=self.matrix.dtype), indices, indptr), shape=(len(cols), n_terms)
        )
        scores = (ind @ self._transposed()).toarray()
        return scores, [self._query_max(c) if c else 0.0 for c in cols]

    def _transposed(self) -> sp.csr_matrix:
        """The weights as a (terms × documents) CSR matrix (a view of the CSC arrays, no copy)."""
        return self.matrix.T.tocsr(copy=False)


class LabelIndex:
    """Search structure over the surface forms of one family of concepts (occupations or skills)."""

    def __init__(
        self,
        *,
        forms: Sequence[Form],
        n_concepts: int,
        texts: dict[int, list[tuple[str, str]]] | None = None,
        weights: FusionWeights | None = None,
    ) -> None:
        self.weights = weights or FusionWeights()
        self.form_text = [f.text for f in forms]
        self.n_concepts = n_concepts
        self.form_concept = np.fromiter((f.concept for f in forms), dtype=np.int64, count=len(forms))
        self.form_lang = np.asarray([f.lang for f in forms])
        self.form_prior = np.asarray([LABEL_TYPE_WEIGHT.get(f.kind, 0.9) for f in forms], dtype=np.float32)
        # Forms grouped by concept (CSR-style) for per-concept look-ups.
        self._by_concept_order = np.argsort(self.form_concept, kind="stable")
        sorted_concepts = self.form_concept[self._by_concept_order]
        self._by_concept_ptr = np.searchsorted(sorted_concepts, np.arange(n_concepts + 1))
        texts = texts or {}
        corpus = self.form_text + [t for items in texts.values() for _, t in items]
        self.analyser = Analyser(token_frequencies(corpus))

        # Exact lookup: normalised label → concepts in priority order (preferred labels first).
        exact: dict[str, list[tuple[float, int]]] = {}
        for f in forms:
            exact.setdefault(f.text, []).append((-LABEL_TYPE_WEIGHT.get(f.kind, 0.9), f.concept))
        self.exact = {k: [c for _, c in sorted(set(v))] for k, v in exact.items()}

        analysed = [self.analyser.analyse(t) for t in self.form_text]
        form_docs = [ids for ids, _ in analysed]
        # Distinct token ids per form (CSR-style), for the reranker's coverage and head-word features.
        uniq = [sorted(set(d)) for d in form_docs]
        self.form_tok_ptr = np.zeros(len(uniq) + 1, dtype=np.int64)
        self.form_tok_ptr[1:] = np.cumsum([len(u) for u in uniq])
        self.form_tok = np.fromiter(
            (t for u in uniq for t in u), dtype=np.int64, count=int(self.form_tok_ptr[-1])
        )
        self.form_head = np.asarray([self._head(t) for t in self.form_text], dtype=np.int64)
        self.form_first = np.asarray([self._first(t) for t in self.form_text], dtype=np.int64)
        self.char_vectoriser = CharNgrams()
        self.char_matrix = sp.csc_matrix(self.char_vectoriser.fit_transform([e for _, e in analysed]))
        del analysed
        # Per-concept text (descriptions, skill names): one BM25 document per concept, language and source.
        text_docs: list[list[int]] = []
        concept_ids: list[int] = []
        langs: list[str] = []
        for cid in sorted(texts):
            for lang, text in texts[cid]:
                text_docs.append(self.analyser.light_ids(text))
                concept_ids.append(cid)
                langs.append(lang)
        self.analyser.freeze()
        n_terms = len(self.analyser.terms)
        self.words = _BM25(form_docs, n_terms=n_terms, k1=self.weights.k1, b=self.weights.b)
        self.text_bm25 = _BM25(text_docs, n_terms=n_terms, k1=self.weights.k1, b=0.75) if text_docs else None
        self.text_concept = np.asarray(concept_ids, dtype=np.int64)
        self.text_lang = np.asarray(langs)
        self.space: ConceptSpace | None = None
        if self.weights.semantic > 0 and text_docs:
            rows = np.repeat(self.form_concept, np.diff(self.form_tok_ptr))
            shape = (n_concepts, n_terms)
            labels = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, self.form_tok)), shape=shape)
            labels.sum_duplicates()
            tm = self.text_bm25.matrix.tocoo() if self.text_bm25 is not None else None
            descriptions = None
            if tm is not None:
                ones = np.ones(len(tm.data), dtype=np.float32)
                descriptions = sp.csr_matrix((ones, (self.text_concept[tm.row], tm.col)), shape=shape)
                descriptions.sum_duplicates()
            self.space = ConceptSpace(labels, descriptions, dims=self.weights.semantic_dims)

    def _head(self, normalised_text: str) -> int:
        """Token id of the head word of a title (-1: none).

        The head is the last word, or the last word before a preposition ("medewerker van de
        administratie", "Fachkraft fur Lagerlogistik"); of a compound, its last part ("magazijnmedewerker"
        → "medewerker").
        """
        head_word = ""
        for w in normalised_text.split():
            if w in HEAD_BREAKS and head_word:
                break
            if w not in STOPWORDS:
                head_word = w
        if not head_word:
            return -1
        return self.analyser.word_ids(head_word)[-1]

    def _first(self, normalised_text: str) -> int:
        """Token id of the head part of the first content word (-1: none or a one-word title).

        Dutch and German titles often put the job noun first ("docent wiskunde", "manager scheepswerf").
        """
        content = [w for w in normalised_text.split() if w not in STOPWORDS]
        if len(content) < 2:
            return -1
        return self.analyser.word_ids(content[0])[-1]

    def form_tokens(self, form: int) -> np.ndarray:
        """Distinct token ids of one form."""
        return self.form_tok[self.form_tok_ptr[form] : self.form_tok_ptr[form + 1]]

    def forms_of(self, concept: int) -> np.ndarray:
        """Indices of the forms of one concept."""
        lo, hi = self._by_concept_ptr[concept], self._by_concept_ptr[concept + 1]
        return self._by_concept_order[lo:hi]

    def label_weight(self, concept: int, text: str) -> float:
        """The priority (:data:`LABEL_TYPE_WEIGHT`) of the label type under which ``concept`` has the
        normalised label ``text``, as :attr:`exact` orders its concepts (0 when it has no such label)."""
        return max(
            (float(self.form_prior[f]) for f in self.forms_of(concept) if self.form_text[f] == text),
            default=0.0,
        )

    def char_scores(self, normalised_query: str) -> np.ndarray:
        """Cosine similarity of character n-grams between the query and every form."""
        q = self.char_vectoriser.transform([self.analyser.expand(normalised_query)])
        if q.nnz == 0:
            return np.zeros(len(self.form_text), dtype=np.float32)
        sub = self.char_matrix[:, q.indices]
        return np.asarray(sub @ q.data).ravel()

    def char_scores_many(self, normalised_queries: Sequence[str]) -> np.ndarray:
        """:meth:`char_scores` of many queries: a (queries × forms) array, equal row by row.

        The query vectors are made in one call (their rows do not depend on each other) and multiplied
        with the form vectors in one sparse product; every form's cosine adds the same float32 products
        in the same order (ascending n-gram) as the one-query path.
        """
        q = self.char_vectoriser.transform([self.analyser.expand(t) for t in normalised_queries])
        return (q @ self.char_matrix.T.tocsr(copy=False)).toarray()

    def concept_tokens(self, concept: int) -> frozenset[int]:
        """Distinct token ids of all forms of a concept (built on first use per concept)."""
        cache = self.__dict__.setdefault("_concept_tokens", {})
        found = cache.get(concept)
        if found is None:
            forms = self.forms_of(concept)
            ptr = self.form_tok_ptr
            found = frozenset(
                np.concatenate([self.form_tok[ptr[f] : ptr[f + 1]] for f in forms]).tolist()
                if len(forms)
                else ()
            )
            cache[concept] = found
        return found

    def concept_heads(self, concept: int) -> frozenset[int]:
        """Head token ids of the forms of a concept (see :meth:`_head`; -1 included when a form has none)."""
        cache = self.__dict__.setdefault("_concept_heads", {})
        found = cache.get(concept)
        if found is None:
            found = cache[concept] = frozenset(self.form_head[self.forms_of(concept)].tolist())
        return found

    def scores(self, query: str, *, lang: str | None = None) -> np.ndarray:
        """Fused score per concept (0 where nothing matched)."""
        return self.scores_and_char(query, lang=lang)[0]

    def scores_and_char(self, query: str, *, lang: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Fused score per concept, and the character n-gram similarity per form (for picking forms)."""
        r = self.rank(query, lang=lang)
        return r.concept, r.char

    def rank(
        self, query: str, *, lang: str | None = None, hide: np.ndarray | None = None, semantic: bool = True
    ) -> Ranking:
        """First-stage ranking with its per-form evidence (for :meth:`scores_and_char` and the reranker).

        ``hide`` (boolean per form) removes forms from the index for this query: the reranker's training
        ranks a label as if the taxonomy did not contain it (and then passes ``semantic=False``, because
        the latent space was built with that label in it).
        """
        nq = query_key(query)
        if not nq:
            return self._empty_ranking(nq)
        tokens = self.analyser.ids(nq)
        char = self.char_scores(nq)
        words = self.words.score(tokens)
        text = None
        if self.text_bm25 is not None and self.weights.text > 0:
            text = self.text_bm25.score(tokens)
        return self._ranking(nq, tokens, char, words, text, lang=lang, hide=hide, semantic=semantic)

    def rank_many(self, queries: Sequence[str], *, lang: str | None = None, chunk: int = 64) -> list[Ranking]:
        """:meth:`rank` of many queries: the same rankings (bit for bit), with the lexical rankers of a
        chunk of queries computed by one sparse product each instead of one column slice per query."""
        out: list[Ranking | None] = [None] * len(queries)
        keys = [query_key(q) for q in queries]
        todo = [i for i, nq in enumerate(keys) if nq]
        for i, nq in enumerate(keys):
            if not nq:
                out[i] = self._empty_ranking(nq)
        use_text = self.text_bm25 is not None and self.weights.text > 0
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            nqs = [keys[i] for i in part]
            tokens = [self.analyser.ids(nq) for nq in nqs]
            char = self.char_scores_many(nqs)
            words, words_max = self.words.score_many(tokens)
            if use_text:
                assert self.text_bm25 is not None
                texts, texts_max = self.text_bm25.score_many(tokens)
            for j, i in enumerate(part):
                text = (texts[j], texts_max[j]) if use_text else None
                out[i] = self._ranking(
                    nqs[j],
                    tokens[j],
                    char[j],
                    (words[j], words_max[j]),
                    text,
                    lang=lang,
                    hide=None,
                    semantic=True,
                )
        return out  # type: ignore[return-value]

    def _empty_ranking(self, nq: str) -> Ranking:
        zf = np.zeros(len(self.form_text), dtype=np.float32)
        return Ranking(nq, [], np.zeros(self.n_concepts, dtype=np.float32), zf, zf, zf, None)

    def _ranking(
        self,
        nq: str,
        tokens: list[int],
        char: np.ndarray,
        words: tuple[np.ndarray, float],
        text: tuple[np.ndarray, float] | None,
        *,
        lang: str | None,
        hide: np.ndarray | None,
        semantic: bool,
    ) -> Ranking:
        """Fuse the rankers' raw scores of one query (character cosine per form, BM25 of forms and of
        descriptions with their maxima) into its :class:`Ranking`."""
        w = self.weights
        n_forms = len(self.form_text)
        bm, bm_max = words
        bmn = bm / bm_max if bm_max > 0 else np.zeros(n_forms, dtype=np.float32)
        form_score = (w.char * char + w.words * bmn) * self.form_prior
        if lang is not None:
            form_score = np.where(self.form_lang == lang, form_score, form_score * w.other_lang)
        if hide is not None:
            form_score = np.where(hide, 0.0, form_score)
        concept = self._per_concept_max(form_score.astype(np.float32))
        extra: np.ndarray | None = None
        if text is not None:
            ts, ts_max = text
            if ts_max > 0:
                ts = ts / ts_max
                if lang is not None:
                    ts = np.where(self.text_lang == lang, ts, ts * w.other_lang)
                extra = np.zeros(self.n_concepts, dtype=np.float32)
                np.maximum.at(extra, self.text_concept, ts.astype(np.float32))
                concept += w.text * extra
        cos: np.ndarray | None = None
        if semantic and self.space is not None and w.semantic > 0:
            cos = self.space.scores(tokens)
            if cos is not None:
                # Only where the lexical rankers found something: the latent space reorders, never invents.
                concept += np.where(concept > 0, w.semantic * np.maximum(cos, 0.0), 0.0).astype(np.float32)
        return Ranking(nq, tokens, concept, char, bmn, form_score, extra, hide, cos)

    def _per_concept_max(self, form_values: np.ndarray) -> np.ndarray:
        """Per concept, the largest of its forms' (non-negative) values, 0 for a concept without forms.

        Equal to ``np.maximum.at(zeros, form_concept, form_values)`` (a maximum is exact whatever the
        order), as one segmented reduction over the forms grouped by concept.
        """
        groups = self.__dict__.get("_concept_groups")
        if groups is None:
            ptr = self._by_concept_ptr
            nonempty = np.flatnonzero(ptr[1:] > ptr[:-1])
            groups = self.__dict__["_concept_groups"] = (nonempty, ptr[nonempty])
        nonempty, starts = groups
        out = np.zeros(self.n_concepts, dtype=form_values.dtype)
        if nonempty.size:
            out[nonempty] = np.maximum(
                out[nonempty], np.maximum.reduceat(form_values[self._by_concept_order], starts)
            )
        return out

    def best_form(self, concept: int, char: np.ndarray) -> str | None:
        """The concept's surface form with the highest character similarity ``char`` (per form)."""
        idx = self.forms_of(concept)
        if not len(idx):
            return None
        return self.form_text[int(idx[int(np.argmax(char[idx]))])]

"""Second-stage reranking of occupation search, learned self-supervised from ESCO's own labels.

The first stage (:meth:`matching.taxonomy_index.LabelIndex.rank`) scores every concept by its best
label. A linear model then re-scores the best :data:`DEPTH` candidates from features a single fused
score cannot express: how much of the query a label covers and vice versa, whether the head word of the
title ("medewerker" in "medewerker magazijn", "Fachkraft" in "Fachkraft für Lagerlogistik") matches,
whether the concept is an ISCO group that the top occupations agree on, and so on.

Training (``python -m matching.taxonomy_rerank data/taxonomy``) uses no evaluation data: each
pseudo-query is a Dutch or German label of an ESCO occupation or ISCO group (alternative, hidden, MELO
surface or preferred label), ranked with every form of that text hidden from the index, so that the
model learns to find a concept from its *other* labels. The fitted weights are shipped as
``data/taxonomy/occupation_reranker.json``; nothing is trained at run time.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.taxonomy_index import LabelIndex, Ranking

DEPTH = 40  # candidates the model re-scores; the rest keep their first-stage order below them
AGREEMENT_TOP = 10  # candidates whose ISCO groups vote for group concepts

FEATURES = (
    "score",  # first-stage fused score
    "rel",  # score / best score
    "log_rank",  # log(1 + first-stage rank), ties sharing the better rank
    "char",  # character n-gram cosine of the best form
    "words",  # normalised BM25 of the best form
    "char_max",  # best character cosine over all forms of the concept
    "words_max",
    "text",  # evidence of the concept's texts (description, essential skill names)
    "is_group",
    "group_level",  # ISCO digits / 4 for groups, 0 for occupations
    "log_forms",  # how many labels the concept has
    "pref",  # the best form is a preferred label
    "same_lang",  # the best form is in the query's language
    "q_cover",  # share of the query's tokens found in the best form
    "f_cover",  # share of the best form's tokens found in the query
    "q_cover_any",  # share of query tokens found in any form of the concept
    "head_in_form",  # the query's head token occurs in the best form
    "head_equal",  # the query's head token is the best form's head token
    "head_any",  # the query's head token is the head of any form of the concept
    "len_ratio",  # log(tokens of form / tokens of query)
    "agree",  # score share of the top candidates in the same 4-digit ISCO group (or below the group)
    "agree_n",  # how many of the top candidates fall in that group (occupations: siblings)
    "group_x_agree",
    "one_token_query",
    "first_in_form",  # the query's first word (multi-word queries) occurs in the best form
    "first_first",  # ... and is the best form's first word or its head
    "first_any",  # ... occurs in any form of the concept
)


@dataclass(frozen=True, slots=True)
class Reranker:
    """A linear model over standardised :data:`FEATURES` (weights shipped as JSON)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def load(cls, path: Path) -> Reranker | None:
        """The model in ``path``, or None when the file is absent or names other features."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data.get("features", ())) != FEATURES:
            return None
        return cls(
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),
        )

    def decision(self, x: np.ndarray) -> np.ndarray:
        """Model score per row of the feature matrix ``x``."""
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept


@dataclass(frozen=True, slots=True)
class ConceptInfo:
    """Per-concept facts the features need (from :class:`matching.taxonomy.Taxonomy`)."""

    is_group: np.ndarray  # bool per concept
    isco: list[str]  # ISCO code per concept (4 digits for occupations, 1–4 for groups)
    n_forms: np.ndarray  # forms per concept


def candidates(ranking: Ranking, depth: int = DEPTH) -> np.ndarray:
    """The best ``depth`` concepts of a first-stage ranking (score desc, then index)."""
    scores = ranking.concept
    nz = np.flatnonzero(scores > 0)
    if not len(nz):
        return nz
    if len(nz) > depth:
        part = np.argpartition(-scores[nz], depth - 1)[:depth]
        nz = nz[part]
    order = np.lexsort((nz, -scores[nz]))
    return nz[order]


def _best_forms(
    index: LabelIndex, ranking: Ranking, cands: np.ndarray
) -> tuple[list[int], list[float], list[float]] | None:
    """Per candidate concept (all its forms counting): the form with the highest fused score (the first
    such form, like ``np.argmax``), and the largest character and word scores over its forms.

    Segmented reductions over the candidates' forms at once; a maximum is exact, so the values equal the
    per-concept ``argmax``/``max``. None when a candidate has no form (the caller's loop decides then).
    """
    ptr = index._by_concept_ptr
    starts = ptr[cands]
    lengths = ptr[cands + 1] - starts
    if not len(lengths) or int(lengths.min()) == 0:
        return None
    seg_starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=seg_starts[1:])
    total = int(lengths.sum())
    at = np.repeat(starts - seg_starts, lengths) + np.arange(total, dtype=np.int64)
    forms = index._by_concept_order[at]
    fs = ranking.form_score[forms]
    seg = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    top = np.maximum.reduceat(fs, seg_starts)
    hits = np.flatnonzero(fs == top[seg])
    first = hits[np.searchsorted(hits, seg_starts)]
    char_max = np.maximum.reduceat(ranking.char[forms], seg_starts)
    words_max = np.maximum.reduceat(ranking.words[forms], seg_starts)
    return forms[first].tolist(), [float(v) for v in char_max], [float(v) for v in words_max]


def features(
    index: LabelIndex, info: ConceptInfo, ranking: Ranking, cands: np.ndarray, *, lang: str | None
) -> np.ndarray:
    """The (candidates × :data:`FEATURES`) matrix for one query."""
    n = len(cands)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return x
    scores = ranking.concept[cands].astype(np.float64)
    best = max(float(scores[0]), 1e-9)
    # Rank among the candidates with equal first-stage scores sharing the better rank, so that a tie is
    # not broken by the concepts' order in the data files.
    tied_rank = np.searchsorted(-scores, -scores, side="left")
    q_tokens = {t for t in ranking.tokens if t >= 0}
    n_q = max(len(set(ranking.tokens)), 1)  # unknown query words count against coverage
    q_head = index._head(ranking.query)
    q_first = index._first(ranking.query)
    top = min(n, AGREEMENT_TOP)
    top_codes = [info.isco[int(c)] for c in cands[:top]]
    top_rel = scores[:top] / best
    top_is_group = info.is_group[cands[:top]]
    form_score, char, words = ranking.form_score, ranking.char, ranking.words
    best_forms = _best_forms(index, ranking, cands) if ranking.hidden is None else None
    for i, c in enumerate(cands):
        c = int(c)
        if best_forms is not None:
            b, char_max, words_max = best_forms[0][i], best_forms[1][i], best_forms[2][i]
        else:
            forms = index.forms_of(c)
            if ranking.hidden is not None:
                forms = forms[~ranking.hidden[forms]]
                if not len(forms):
                    continue
            fs = form_score[forms]
            b = int(forms[int(np.argmax(fs))])
            char_max, words_max = float(char[forms].max()), float(words[forms].max())
        toks = index.form_tokens(b)
        tokset = set(toks.tolist())
        covered = len(q_tokens & tokset)
        any_tokens: set[int] | frozenset[int]
        if ranking.hidden is None:
            # All forms of the concept count: its token and head sets come from the index (built once each).
            any_tokens = index.concept_tokens(c)
            any_head = q_head >= 0 and q_head in index.concept_heads(c)
        else:
            any_tokens = set()
            for f in forms:
                any_tokens.update(index.form_tokens(int(f)).tolist())
            any_head = q_head >= 0 and bool((index.form_head[forms] == q_head).any())
        code = info.isco[c]
        is_group = bool(info.is_group[c])
        if is_group:
            members = [
                j
                for j in range(top)
                if j != i and code and not top_is_group[j] and top_codes[j].startswith(code)
            ]
        else:
            members = [j for j in range(top) if j != i and top_codes[j] == code and code]
        agree = float(top_rel[members].sum()) / max(float(top_rel.sum()), 1e-9) if members else 0.0
        x[i] = (
            scores[i],
            scores[i] / best,
            np.log1p(tied_rank[i]),
            char[b],
            words[b],
            char_max,
            words_max,
            float(ranking.text[c]) if ranking.text is not None else 0.0,
            float(is_group),
            len(code) / 4.0 if is_group else 0.0,
            np.log(info.n_forms[c]),
            float(index.form_prior[b] >= 1.0),
            float(lang is None or index.form_lang[b] == lang),
            covered / n_q,
            covered / max(len(tokset), 1),
            len(q_tokens & any_tokens) / n_q,
            float(q_head >= 0 and q_head in tokset),
            float(q_head >= 0 and q_head == index.form_head[b]),
            float(any_head),
            np.log(max(len(tokset), 1) / n_q),
            agree,
            float(len(members)),
            agree * float(is_group),
            float(n_q == 1),
            float(q_first >= 0 and q_first in tokset),
            float(q_first >= 0 and (q_first == index.form_first[b] or q_first == index.form_head[b])),
            float(q_first >= 0 and q_first in any_tokens),
        )
    return x


def rerank(
    model: Reranker, index: LabelIndex, info: ConceptInfo, ranking: Ranking, *, lang: str | None
) -> np.ndarray:
    """Concept scores after reranking: candidates get the model's score mapped above every other concept.

    Scores stay positive and ordered: reranked candidates lie in (1, 2], the rest keep their first-stage
    score (≤ 1 after division by the maximum) below them.
    """
    scores = ranking.concept
    cands = candidates(ranking)
    if len(cands) < 2:
        return scores
    z = model.decision(features(index, info, ranking, cands, lang=lang))
    prob = 1.0 / (1.0 + np.exp(-z))
    out = scores / max(float(scores.max()), 1e-9) * 0.999
    out = out.astype(np.float64)
    out[cands] = 1.0 + np.clip(prob, 1e-6, 1.0)
    return out


# ---------------------------------------------------------------------------------------------- training
def pseudo_queries(
    index: LabelIndex, info: ConceptInfo, *, per_lang: int, seed: int
) -> list[tuple[str, str, frozenset[int]]]:
    """(label, lang, concepts with that label) for a sample of Dutch and German labels of the index."""
    by_text: dict[str, set[int]] = {}
    for f, text in enumerate(index.form_text):
        by_text.setdefault(text, set()).add(int(index.form_concept[f]))
    rng = random.Random(seed)
    out: list[tuple[str, str, frozenset[int]]] = []
    for lang in ("nl", "de"):
        pool = sorted({index.form_text[f] for f in np.flatnonzero(index.form_lang == lang)})
        rng.shuffle(pool)
        for text in pool[:per_lang]:
            out.append((text, lang, frozenset(by_text[text])))
    return out


def training_rows(
    index: LabelIndex, info: ConceptInfo, queries: list[tuple[str, str, frozenset[int]]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and query ids of the candidates of every pseudo-query (its own label hidden)."""
    texts = np.asarray(index.form_text, dtype=object)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    qs: list[np.ndarray] = []
    for qi, (text, lang, positives) in enumerate(queries):
        hide = texts == text
        ranking = index.rank(text, lang=lang, hide=hide, semantic=False)
        cands = candidates(ranking)
        y = np.asarray([int(c) in positives for c in cands], dtype=np.int8)
        if not y.any():
            continue  # nothing to learn from: the concept is not among the candidates
        xs.append(features(index, info, ranking, cands, lang=lang))
        ys.append(y)
        qs.append(np.full(len(cands), qi))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(qs)


def fit(x: np.ndarray, y: np.ndarray) -> Reranker:
    """Logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return Reranker(mean=mean, scale=scale, coef=model.coef_[0], intercept=float(model.intercept_[0]))


def mrr(model: Reranker | None, x: np.ndarray, y: np.ndarray, q: np.ndarray) -> float:
    """MRR over the candidate lists (first-stage order when ``model`` is None)."""
    total = 0.0
    n = 0
    for qi in np.unique(q):
        rows = np.flatnonzero(q == qi)
        yy = y[rows]
        if model is None:
            order = np.arange(len(rows))
        else:
            order = np.lexsort((np.arange(len(rows)), -model.decision(x[rows])))
        rank = int(np.flatnonzero(yy[order])[0]) + 1
        total += 1.0 / rank
        n += 1
    return total / max(n, 1)


def save(model: Reranker, path: Path, *, meta: dict[str, object]) -> None:
    """Write the model as JSON."""
    data = {
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in model.mean],
        "scale": [round(float(v), 6) for v in model.scale],
        "coef": [round(float(v), 6) for v in model.coef],
        "intercept": round(model.intercept, 6),
        **meta,
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    """CLI: ``python -m matching.taxonomy_rerank DATA_DIR [PER_LANG]``; writes the model into DATA_DIR."""
    if not argv:
        sys.stderr.write("usage: python -m matching.taxonomy_rerank DATA_DIR [PER_LANG]\n")
        return 2
    from matching.taxonomy import RERANKER_FILE, Taxonomy

    data_dir = Path(argv[0])
    per_lang = int(argv[1]) if len(argv) > 1 else 2000
    tx = Taxonomy(data_dir, rerank=False)
    index, info = tx.occupations, tx.occ_info
    seed = 20261123
    queries = pseudo_queries(index, info, per_lang=per_lang, seed=seed)
    x, y, q = training_rows(index, info, queries)
    # Hold out a fifth of the pseudo-queries to report the gain honestly.
    held = (q % 5) == 0
    model = fit(x[~held], y[~held])
    report = {
        "labels_per_language": per_lang,
        "seed": seed,
        "pseudo_queries": int(len(np.unique(q))),
        "held_out_mrr_first_stage": round(mrr(None, x[held], y[held], q[held]), 4),
        "held_out_mrr_reranked": round(mrr(model, x[held], y[held], q[held]), 4),
    }
    sys.stderr.write(json.dumps(report) + "\n")
    final = fit(x, y)
    save(final, data_dir / RERANKER_FILE, meta={"training": report})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

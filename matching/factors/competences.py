"""Competenties: how many of the vacancy's required competences the candidate has, plus desired ones.

Competences are compared as taxonomy concepts (ESCO skills; unmatched labels as normalised text), so Dutch,
German and English labels, synonyms and typos of one skill meet. A required competence the candidate lacks
but has a closely related one for (skills that are asked for together in ESCO occupation profiles) earns
``related_credit`` instead of 1. Score = ``required_share`` × required coverage + the rest × desired
coverage (only one of them if the vacancy lists only one kind).

A vacancy without competence lists (title and description only) is matched on competences inferred from its
occupation's essential ESCO skills and the skills its text mentions; as one job never asks for all of an
occupation's skills, coverage is then measured against at most ``inferred_cap`` of them. A vacancy about which
nothing is known scores a neutral 0.5.

Lists sample a job's competences, so the coverage of one short list is a noisy signal. The factor therefore
also measures the *profile fit*: which share of the candidate's own competences the vacancy's occupation
(its ESCO skill profile) draws on. With a linked occupation, score = (1 − ``profile_share``) × coverage +
``profile_share`` × profile fit (the vacancy's listed competences count as part of its profile, so adding
a required competence never lowers the fit); without one, coverage alone. Competences are soft: a gap lowers
the score and is named in the detail, but is not an unmet hard requirement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy, dyadic
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.types import Unmet

NAME = "competences"
NEUTRAL = 0.5
MAX_NAMED = 3


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Weighted coverage of required and desired competences (related concepts count partly)."""
    share = thresholds["required_share"]
    cap = thresholds["inferred_cap"]
    related_credit = dyadic(thresholds["related_credit"])
    req_credit = block.skill_credits("required", related_credit)
    des_credit = block.skill_credits("desired", related_credit)
    n_req = block.v("n_required")
    n_des = block.v("n_desired")
    denom = np.where(block.v("inferred"), np.minimum(n_req, cap), n_req)
    req_cov = np.minimum(req_credit / np.maximum(denom, 1.0), 1.0)
    des_cov = des_credit / np.maximum(n_des, 1.0)
    has_req = n_req > 0
    has_des = n_des > 0
    coverage = np.where(
        has_req & has_des,
        share * req_cov + (1.0 - share) * des_cov,
        np.where(has_req, req_cov, np.where(has_des, des_cov, NEUTRAL)),
    )
    profile_share = thresholds["profile_share"]
    fit = block.profile_overlap() / np.maximum(block.c_count("held"), 1.0)
    s = np.where(block.v("profile") >= 0, (1.0 - profile_share) * coverage + profile_share * fit, coverage)
    return FactorScores(np.broadcast_to(s, block.shape))


def points_bound(
    held: np.ndarray, numerator: np.ndarray, thresholds: Mapping[str, float], weight: float
) -> np.ndarray:
    """An upper bound of rint(score × ``weight``) for pairs with an occupation profile, from counts: ``held``
    the candidate's held concepts, ``numerator`` at least the profile overlap that :func:`score` divides by
    them (for instance the held concepts in the profile plus min(listed extras, held) where every value is
    0 or 1). It is :func:`score`'s own arithmetic with coverage 1 (its maximum), so it is never below the
    score's points, and it grows with the numerator. Used to prune pairs before their concept sums."""
    share = thresholds["profile_share"]
    fit = np.asarray(numerator, dtype=np.float64) / np.maximum(np.asarray(held, dtype=np.float64), 1.0)
    return np.rint(((1.0 - share) * 1.0 + share * fit) * weight).astype(np.int64)


def credits(candidate_skills: Mapping[str, float], wanted: frozenset[str]) -> float:
    """Σ credit of the candidate for the wanted concepts (order-free: credits are dyadic)."""
    return float(sum(candidate_skills.get(k, 0.0) for k in sorted(wanted)))


def pair_score(
    candidate_skills: Mapping[str, float],
    held: frozenset[str],
    vacancy: EncodedVacancy,
    *,
    share: float,
    cap: float,
    profile_share: float,
) -> float:
    """Per-pair form of :func:`score` (used by the reference scorer)."""
    coverage = _pair_coverage(candidate_skills, vacancy, share=share, cap=cap)
    if vacancy.profile is None:
        return coverage
    fit = len(held & (vacancy.profile | vacancy.listed_extra)) / max(float(len(held)), 1.0)
    return (1.0 - profile_share) * coverage + profile_share * fit


def _pair_coverage(
    candidate_skills: Mapping[str, float], vacancy: EncodedVacancy, *, share: float, cap: float
) -> float:
    n_req = float(len(vacancy.required))
    n_des = float(len(vacancy.desired))
    denom = min(n_req, cap) if vacancy.inferred else n_req
    req_cov = min(credits(candidate_skills, vacancy.required) / max(denom, 1.0), 1.0)
    des_cov = credits(candidate_skills, vacancy.desired) / max(n_des, 1.0)
    if n_req and n_des:
        return share * req_cov + (1.0 - share) * des_cov
    if n_req:
        return req_cov
    if n_des:
        return des_cov
    return NEUTRAL


def _names(keys: Iterable[str], vacancy: EncodedVacancy) -> str:
    labels = vacancy.skill_labels
    names = []
    for key in keys:
        name = labels.get(key)
        names.append(key.removeprefix("text:") if name is None else name)
    names.sort()
    if len(names) > MAX_NAMED:
        return f"{', '.join(names[:MAX_NAMED])} en {len(names) - MAX_NAMED} meer"
    return ", ".join(names)


def _fit_count(held: frozenset[str], vacancy: EncodedVacancy) -> int:
    """How many of the candidate's competences the vacancy's occupation profile (with its listed extras)
    contains: |held ∩ (profile ∪ listed_extra)|, without building the union."""
    profile = vacancy.profile or frozenset()
    count = len(held & profile)
    extra = held & vacancy.listed_extra
    if extra:
        count += len(extra - profile)
    return count


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'3 van 4 vereiste competenties; mist: heftruck besturen.'"""
    return explainer(candidate, thresholds)(vacancy)


def explainer(
    candidate: EncodedCandidate, thresholds: Mapping[str, float]
) -> Callable[[EncodedVacancy], tuple[str, tuple[Unmet, ...]]]:
    """:func:`explain` for one candidate against many vacancies (a live ranking's results, which name
    competences for every row): the candidate's side of the set arithmetic is prepared once."""
    held = candidate.held_skills
    related = candidate.related_only
    # Related-only concepts are never held (the record subtracts them): (x & related) - held == x & related.
    n_held = len(held)
    inferred_cap = thresholds["inferred_cap"]

    def one(vacancy: EncodedVacancy) -> tuple[str, tuple[Unmet, ...]]:
        required = vacancy.required
        desired = vacancy.desired
        if not required and not desired:
            return "Vacature noemt geen competenties; neutraal beoordeeld.", ()
        fits = vacancy.profile is not None and n_held
        # Names are sorted by label in _names, so the sets need no sorting here.
        if vacancy.inferred:
            have = required & held
            n_related = len(required & related)
            cap = int(min(len(required), inferred_cap))
            text = (
                f"Geen competentielijst; afgeleid uit beroep en tekst: kandidaat heeft {len(have)} "
                f"van de {len(required)} kerncompetenties (gemeten tegen {cap})"
            )
            if n_related:
                text += f", {n_related} verwant"
            if have:
                text += f" ({_names(have, vacancy)})"
            if fits:
                text += f"; {_fit_count(held, vacancy)} van {n_held} eigen competenties passen bij het beroep"
            return text + ".", ()
        parts: list[str] = []
        if required:
            rel = required & related
            missing = required - held - related
            text = f"{len(required & held)} van {len(required)} vereiste competenties"
            if rel:
                text += f" (+{len(rel)} verwant: {_names(rel, vacancy)})"
            if missing:
                text += f"; mist: {_names(missing, vacancy)}"
            parts.append(text)
        if desired:
            n_related_d = len(desired & related)
            text = f"{len(desired & held)} van {len(desired)} gewenste"
            if n_related_d:
                text += f" (+{n_related_d} verwant)"
            parts.append(text)
        text = "; ".join(parts)
        if fits:
            text += f"; {_fit_count(held, vacancy)} van {n_held} eigen competenties passen bij het beroep"
        return text + ".", ()

    return one

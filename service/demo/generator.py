"""Deterministic synthetic candidates and vacancies for Twente, shaped as API request bodies.

Pure: no database, no network, no clock. The same arguments give byte-identical output on every run and
machine (``random.Random`` seeded with a string is stable across CPython versions). Items stream one by
one; a prefix of a longer run equals a shorter run (``generate_candidates(10, seed=1)`` are the first ten
of ``generate_candidates(1000, seed=1)``).

The payloads carry exactly the field names and enums of DOMAIN.md's Candidate and Vacancy. Optional
fields that a generated item leaves out (``education_level_min``, ``closes_at``, a competence ``code``)
are omitted, as a client would omit them. Vacancies also carry ``employer_name``, which is not an API
field: the caller maps it to the employer that owns the vacancy and drops it before validating the body.

Realism comes from real reference data shipped in ``data/vocab.json``: ESCO occupations with their
essential and optional skills, and GeoNames postcodes of the 14 Twente municipalities and of German towns
across the border. Everything else (names, employers, distributions) is made up, see ``vocab.py``.
"""

from __future__ import annotations

import json
import math
import random
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from typing import Any, Generic, TypeVar

from service.demo import vocab as V

T = TypeVar("T")

# BSNs are built from the candidate index, so one call yields no duplicates up to this many candidates.
BSN_SPACE = 10**7
DEMO_CANDIDATES = 300
DEMO_VACANCIES = 200
DE_VACANCY_SHARE = 0.15
# One extra (generated) employer per this many vacancies beyond the curated demo employers.
VACANCIES_PER_EMPLOYER = 25

_BSN_RE = re.compile(r"[0-9]{9}")
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


# --- small helpers ---------------------------------------------------------------------------------
class _Weighted(Generic[T]):
    """A weighted choice table; a pick is one ``random()`` call and a bisect."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        if not pairs:
            raise ValueError("empty choice table")
        self.items: tuple[T, ...] = tuple(item for item, _ in pairs)
        self.cum: tuple[float, ...] = tuple(accumulate(weight for _, weight in pairs))
        self.total: float = self.cum[-1]

    def pick(self, rng: random.Random) -> T:
        # min(): random() * total may round up to exactly total.
        index = bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(index, len(self.items) - 1)]


def valid_bsn(value: str) -> bool:
    """True when ``value`` is nine ASCII digits passing the BSN 11-check (and not all zeros).

    The check: 9·d1 + 8·d2 + … + 2·d8 − d9 must be divisible by 11.
    """
    if not isinstance(value, str) or not _BSN_RE.fullmatch(value) or value == "000000000":
        return False
    return sum(w * int(d) for w, d in zip(_BSN_WEIGHTS, value, strict=True)) % 11 == 0


def _bsn(index: int, *, offset: int, rng: random.Random) -> str:
    """A number passing the 11-check, unique per ``index`` below ``BSN_SPACE`` for one ``offset``.

    The first seven digits are a bijection of the index (a multiplier coprime with 10**7); the eighth is
    chosen so that a check digit 0-9 exists, and the ninth is that check digit. Synthetic: derived from a
    counter, with no relation to any person. Any 11-check-valid number may still coincide with an issued
    one, which is one more reason never to mix synthetic data with real records.
    """
    head = f"{(index * 7_654_321 + offset) % BSN_SPACE:07d}"
    partial = sum(w * int(d) for w, d in zip(_BSN_WEIGHTS, head, strict=False))
    start = rng.randrange(10)
    for step in range(10):
        eighth = (start + step) % 10
        check = (partial + 2 * eighth) % 11
        if check <= 9:
            return f"{head}{eighth}{check}"
    raise AssertionError("unreachable: of two consecutive eighth digits at least one gives a check digit")


def _letter_pairs() -> tuple[str, ...]:
    """PC6 letter pairs; PostNL does not issue SA, SD and SS."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return tuple(a + b for a in alphabet for b in alphabet if a + b not in {"SA", "SD", "SS"})


_PC_LETTERS = _letter_pairs()


def _capitalise(label: str) -> str:
    return label[:1].upper() + label[1:]


def _iso_range(start: date, end: date) -> tuple[str, ...]:
    return tuple((start + timedelta(days=d)).isoformat() for d in range((end - start).days + 1))


# Fixed ranges, never the clock: the output must not depend on the day it is generated. Open vacancies
# close between Dec 2026 and Dec 2027; filled or closed ones closed earlier in 2026.
_AVAILABLE_FROM = _iso_range(date(2026, 6, 1), date(2027, 3, 31))
_CLOSES_AT_OPEN = _iso_range(date(2026, 12, 1), date(2027, 12, 31))
_CLOSES_AT_PAST = _iso_range(date(2026, 3, 1), date(2026, 11, 30))


# --- vocabulary ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Occupation:
    label: str
    sector: str
    uri: str
    isco: str
    de: str
    alt: tuple[str, ...]
    essential: tuple[int, ...]
    optional: tuple[int, ...]

    @property
    def de_title(self) -> str:
        """The German label's first (masculine) form; callers add ``(m/w/d)``."""
        return (self.de or self.label).split("/")[0].strip()

    @property
    def nl_title(self) -> str:
        # "medewerker groenvoorziening/medewerkster groenvoorziening": a title names one form.
        return _capitalise(self.label.split("/")[0] if len(self.label) > 30 else self.label)


@dataclass(frozen=True, slots=True)
class _Employer:
    name: str
    sector: str
    country: str
    postcode: str
    city: str
    size: float


@dataclass(frozen=True)
class _Vocab:
    skills: tuple[tuple[str, str, str, str], ...]  # (uri, nl, de, en); uri, nl or de may be empty
    occupations: dict[str, _Occupation]
    by_sector: dict[str, _Weighted[_Occupation]]
    pc4: dict[str, tuple[tuple[str, str], ...]]  # municipality -> ((pc4, place), ...)
    de_places: dict[str, str]  # PLZ -> place
    de_table: _Weighted[str]


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    text = resources.files("service.demo.data").joinpath("vocab.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    occupations: dict[str, _Occupation] = {}
    by_sector: dict[str, _Weighted[_Occupation]] = {}
    for sector, items in V.OCCUPATIONS.items():
        pairs = []
        for label, weight in items:
            o = raw["occupations"][label]
            occ = _Occupation(
                label=label,
                sector=sector,
                uri=o["uri"],
                isco=o["isco"],
                de=o["de"],
                alt=tuple(o["alt"]),
                essential=tuple(o["essential"]),
                optional=tuple(o["optional"]),
            )
            occupations[label] = occ
            pairs.append((occ, weight))
        by_sector[sector] = _Weighted(pairs)
    return _Vocab(
        skills=tuple((s[0], s[1], s[2], s[3]) for s in raw["skills"]),
        occupations=occupations,
        by_sector=by_sector,
        pc4={code: tuple((pc, place) for pc, place in rows) for code, rows in raw["twente_pc4"].items()},
        de_places=dict(raw["de_places"]),
        de_table=_Weighted([(plz, weight) for plz, _, weight in V.DE_PLACES]),
    )


def twente_postcodes() -> dict[str, frozenset[str]]:
    """The PC4 codes candidates get, per CBS municipality code (real GeoNames postcodes of Twente)."""
    return {code: frozenset(pc for pc, _ in rows) for code, rows in _vocab().pc4.items()}


def de_postcodes() -> dict[str, str]:
    """The German PLZ used for cross-border vacancies, with their place names."""
    return dict(_vocab().de_places)


# --- distributions ---------------------------------------------------------------------------------
_CANDIDATE_SECTORS = _Weighted(list(V.CANDIDATE_SECTOR_WEIGHTS.items()))
_VACANCY_SECTORS = _Weighted(list(V.VACANCY_SECTOR_WEIGHTS.items()))
_EDUCATION = {
    key: _Weighted(list(zip(V.EDUCATION_LEVELS, weights, strict=True)))
    for key, weights in V.EDUCATION_WEIGHTS.items()
}
_EDUCATION_MIN = {key: _Weighted(list(weights)) for key, weights in V.EDUCATION_MIN_WEIGHTS.items()}
_NL_LEVEL = _Weighted(list(V.NL_LEVEL_WEIGHTS))
_DE_LEVEL = _Weighted(list(V.DE_LEVEL_WEIGHTS))
_EN_LEVEL = _Weighted(list(V.EN_LEVEL_WEIGHTS))
_EN_LEVEL_ICT = _Weighted([("B1", 20), ("B2", 45), ("C1", 30), ("C2", 5)])
_SUPPORT = _Weighted([("direct", 55), ("with_support", 35), ("wage_subsidy", 10)])
_REGISTER_P = {"direct": 0.03, "with_support": 0.12, "wage_subsidy": 0.55}
_CANDIDATE_STATUS = _Weighted([("active", 86), ("placed", 8), ("inactive", 6)])
_VACANCY_STATUS = _Weighted([("open", 86), ("filled", 8), ("closed", 6)])
_HOURS_MAX = _Weighted([(16, 8), (20, 10), (24, 12), (28, 10), (32, 18), (36, 17), (38, 5), (40, 20)])
_HOURS_MAX_VACANCY = _Weighted([(24, 8), (28, 6), (32, 18), (36, 22), (38, 10), (40, 36)])
_HOURS_MAX_ZORG = _Weighted([(16, 10), (20, 12), (24, 22), (28, 20), (32, 22), (36, 14)])
_HOURS_SPAN = _Weighted([(0, 25), (4, 20), (8, 30), (12, 15), (16, 10)])
_TRAVEL_KM = _Weighted([(5, 5), (10, 14), (15, 15), (20, 16), (25, 20), (30, 12), (40, 9), (50, 5), (60, 4)])
_EXPERIENCE_YEARS = _Weighted(
    [(1, 20), (2, 18), (3, 14), (4, 10), (5, 10), (6, 6), (8, 8), (10, 7), (15, 5), (20, 2)]
)
_CONTRACT = _Weighted(
    [("permanent", 30), ("temporary", 42), ("flex", 15), ("internship", 5), ("apprenticeship", 8)]
)
_CONTRACT_BULK = _Weighted(
    [("permanent", 18), ("temporary", 40), ("flex", 35), ("internship", 2), ("apprenticeship", 5)]
)
_POSITIONS_BULK = _Weighted([(1, 40), (2, 20), (3, 12), (5, 10), (8, 7), (10, 6), (15, 3), (25, 2)])
_POSITIONS = _Weighted([(1, 70), (2, 20), (3, 10)])
_NL_REQUIRED: dict[str, _Weighted[str | None]] = {
    "zorg": _Weighted([("2F", 50), ("3F", 45), ("4F", 5)]),
    "ict": _Weighted([(None, 15), ("2F", 45), ("3F", 40)]),
    "techniek": _Weighted([(None, 10), ("1F", 30), ("2F", 55), ("3F", 5)]),
    "horeca": _Weighted([(None, 5), ("1F", 30), ("2F", 55), ("3F", 10)]),
    "detailhandel": _Weighted([(None, 5), ("1F", 25), ("2F", 60), ("3F", 10)]),
    "overig": _Weighted([("2F", 60), ("3F", 40)]),
    "default": _Weighted([(None, 15), ("A2", 5), ("1F", 40), ("2F", 40)]),
}
_DE_REQUIRED = {
    "zorg": _Weighted([("B1", 40), ("B2", 60)]),
    "ict": _Weighted([("A2", 15), ("B1", 35), ("B2", 50)]),
    "default": _Weighted([("A2", 25), ("B1", 50), ("B2", 20), ("C1", 5)]),
}
_DE_AT_LEAST_B1 = frozenset({"B1", "B2", "C1", "C2"})
# Sectors that hire in bulk, often through agencies.
_BULK_SECTORS = frozenset({"logistiek", "productie"})

_CONTRACT_NL = {
    "permanent": "vast contract",
    "temporary": "tijdelijk contract met uitzicht op vast",
    "flex": "flexibel contract via uitzendbureau",
    "internship": "stage",
    "apprenticeship": "leerwerkplek (BBL)",
}
_CONTRACT_DE = {
    "permanent": "unbefristet",
    "temporary": "zunächst befristet",
    "flex": "über Zeitarbeit",
    "internship": "Praktikum",
    "apprenticeship": "Ausbildung",
}
_OFFERS_NL = (
    "begeleiding op de werkvloer door een vaste collega",
    "reiskostenvergoeding",
    "een opleidingsbudget",
    "ruimte om je taal en vaardigheden verder te ontwikkelen",
    "een inwerkperiode met een jobcoach van Werkplein Twente",
    "goede bereikbaarheid met openbaar vervoer",
    "salaris volgens cao",
    "de mogelijkheid om je VCA te halen",
)
_OFFERS_DE = (
    "eine strukturierte Einarbeitung",
    "Fahrtkostenzuschuss",
    "Bezahlung nach Tarif",
    "Weiterbildungsmöglichkeiten",
    "ein kollegiales Team",
    "Unterstützung bei Behördengängen für Grenzgänger",
    "Urlaubs- und Weihnachtsgeld",
)


# --- items shared by both sides --------------------------------------------------------------------
def _skill_item(skill: tuple[str, str, str, str], *, lang: str, with_code: bool) -> dict[str, str]:
    uri, nl, de, en = skill
    label = (nl if lang == "nl" else de) or en
    return {"code": uri, "label": label} if (with_code and uri) else {"label": label}


def _occupation_item(rng: random.Random, occ: _Occupation) -> dict[str, str]:
    """An occupation as a coach would enter it: mostly the ESCO concept, sometimes only a (synonym) label."""
    r = rng.random()
    if r < 0.7:
        return {"code": occ.uri, "label": occ.label}
    if r < 0.85 or not occ.alt:
        return {"label": occ.label}
    return {"label": rng.choice(occ.alt)}


def _sample(rng: random.Random, items: Sequence[int], k: int) -> list[int]:
    return rng.sample(items, min(k, len(items)))


# --- candidates ------------------------------------------------------------------------------------
def generate_candidates(
    n: int, *, seed: int, municipalities: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic candidates as ``POST /candidates`` bodies, deterministic for ``seed``.

    Candidates live in the Twente municipalities (all 14, or the CBS codes in ``municipalities``) at real
    PC4 postcodes with made-up letters. ``external_ref`` counts ``KL-000001``… per municipality; ``bsn``
    passes the 11-check and is unique within one call. Streams with constant memory per item.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if n > BSN_SPACE:
        raise ValueError(f"at most {BSN_SPACE} candidates per call (unique BSNs)")
    codes = list(V.TWENTE_MUNICIPALITIES) if municipalities is None else list(dict.fromkeys(municipalities))
    unknown = [c for c in codes if c not in V.TWENTE_MUNICIPALITIES]
    if unknown or not codes:
        raise ValueError(f"not a Twente municipality code: {unknown or 'none given'}")
    return _candidates(n, seed=seed, codes=codes)


def _candidates(n: int, *, seed: int, codes: list[str]) -> Iterator[dict[str, Any]]:
    vocab = _vocab()
    rng = random.Random(f"werkmatch-demo/candidates/{seed}")
    municipality_table = _Weighted([(c, V.TWENTE_MUNICIPALITIES[c][1]) for c in codes])
    counters = dict.fromkeys(codes, 0)
    offset = rng.randrange(BSN_SPACE)
    for index in range(n):
        municipality = municipality_table.pick(rng)
        counters[municipality] += 1
        yield _candidate(
            rng, vocab, index=index, offset=offset, municipality=municipality, ref=counters[municipality]
        )


def _candidate(
    rng: random.Random, vocab: _Vocab, *, index: int, offset: int, municipality: str, ref: int
) -> dict[str, Any]:
    pc4, _place = rng.choice(vocab.pc4[municipality])
    sector = _CANDIDATE_SECTORS.pick(rng)
    primary = vocab.by_sector[sector].pick(rng)

    desired = [primary]
    r = rng.random()
    for _ in range(2 if r < 0.15 else 1 if r < 0.55 else 0):
        desired.append(vocab.by_sector[sector].pick(rng))
    if rng.random() < 0.2:
        desired.append(vocab.by_sector[_CANDIDATE_SECTORS.pick(rng)].pick(rng))
    desired = list({o.label: o for o in desired}.values())

    experience: list[tuple[_Occupation, int]] = []
    if rng.random() < 0.75:
        experience.append((primary, _EXPERIENCE_YEARS.pick(rng)))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        other = vocab.by_sector[_CANDIDATE_SECTORS.pick(rng)].pick(rng)
        if other.label not in {o.label for o, _ in experience}:
            experience.append((other, _EXPERIENCE_YEARS.pick(rng)))

    # Competences: the core of the wished occupation, some optional skills, a few from past jobs.
    skill_ids = _sample(rng, primary.essential, rng.randint(4, 12))
    skill_ids += _sample(rng, primary.optional, rng.randint(0, 5))
    for occ, _years in experience:
        if occ is not primary:
            skill_ids += _sample(rng, occ.essential, rng.randint(1, 4))
    competences = [
        _skill_item(vocab.skills[sid], lang="nl", with_code=rng.random() < 0.85)
        for sid in dict.fromkeys(skill_ids)
    ]

    # Languages: Dutch always; German more often near the border; English more often in ICT.
    border = municipality in V.BORDER_MUNICIPALITIES
    languages: dict[str, str] = {"nl": _NL_LEVEL.pick(rng)}
    if rng.random() < (0.32 if border else 0.18):
        languages["de"] = _DE_LEVEL.pick(rng)
    if sector == "ict":
        if rng.random() < 0.92:
            languages["en"] = _EN_LEVEL_ICT.pick(rng)
    elif rng.random() < 0.4:
        languages["en"] = _EN_LEVEL.pick(rng)

    licences = _candidate_licences(rng, primary, sector)
    certificates = _certificates(rng, primary, sector, [o for o, _ in experience])
    p_de = 0.1 + (0.5 if languages.get("de") in _DE_AT_LEAST_B1 else 0.0) + (0.1 if border else 0.0)
    work_countries = ["NL", "DE"] if rng.random() < p_de else ["NL"]
    support = _SUPPORT.pick(rng)
    hours_max = _HOURS_MAX.pick(rng)
    hours_min = max(0, hours_max - _HOURS_SPAN.pick(rng))
    return {
        "external_ref": f"KL-{ref:06d}",
        "municipality": municipality,
        "bsn": _bsn(index, offset=offset, rng=rng),
        "given_name": rng.choice(V.GIVEN_NAMES),
        "family_name": rng.choice(V.FAMILY_NAMES),
        "postcode": f"{pc4} {rng.choice(_PC_LETTERS)}",
        "country": "NL",
        "max_travel_km": _TRAVEL_KM.pick(rng),
        "hours_min": hours_min,
        "hours_max": hours_max,
        "available_from": rng.choice(_AVAILABLE_FROM),
        "desired_occupations": [_occupation_item(rng, o) for o in desired],
        "competences": competences,
        "experience": [{"occupation": _occupation_item(rng, o), "years": y} for o, y in experience],
        "education_level": _EDUCATION.get(sector, _EDUCATION["default"]).pick(rng),
        "languages": languages,
        "driving_licences": licences,
        "certificates": certificates,
        "work_countries": work_countries,
        "sectors": list(dict.fromkeys(o.sector for o in desired)),
        "support": support,
        "target_group_register": rng.random() < _REGISTER_P[support],
        "status": _CANDIDATE_STATUS.pick(rng),
    }


def _candidate_licences(rng: random.Random, occ: _Occupation, sector: str) -> list[str]:
    held: set[str] = set()
    lorry = occ.label in V.LORRY_OCCUPATIONS
    if lorry:
        p_car = 0.97
    elif occ.label in V.CAR_OCCUPATIONS or sector == "techniek":
        p_car = 0.8
    else:
        p_car = 0.5
    if rng.random() < p_car:
        held.add("B")
        if rng.random() < (0.3 if lorry else 0.06):
            held.add("BE")
        if lorry and rng.random() < 0.92:
            held.add("C")
            if rng.random() < 0.7:
                held.add("CE")
        elif rng.random() < 0.02:
            held.add("C1")
        if rng.random() < 0.005:
            held.add("D")
    if rng.random() < 0.05:
        held.add("AM")
    if rng.random() < 0.04:
        held.add("A")
    return [lic for lic in V.DRIVING_LICENCES if lic in held]


def _certificates(
    rng: random.Random, occ: _Occupation, sector: str, past: Sequence[_Occupation]
) -> list[str]:
    chances: dict[str, float] = {}
    for other in past:  # past jobs in another sector left some certificates behind
        for cert, p in V.CERTIFICATES_BY_SECTOR.get(other.sector, ()):
            chances[cert] = max(chances.get(cert, 0.0), p / 2)
    own = V.CERTIFICATES_BY_SECTOR.get(sector, ()) + V.CERTIFICATES_BY_OCCUPATION.get(occ.label, ())
    for cert, p in own:
        chances[cert] = max(chances.get(cert, 0.0), p)
    held = [cert for cert, p in sorted(chances.items()) if rng.random() < p]
    return sorted(held, key=str.casefold)


# --- employers -------------------------------------------------------------------------------------
def _site(rng: random.Random, vocab: _Vocab, *, country: str, place: str, name: str = "") -> tuple[str, str]:
    """(postcode, city) of an employer site: a real PC4 of the municipality, or a real PLZ.

    A town in the employer's ``name`` wins ("Metaalbewerking Nijverdal" sits in Nijverdal); otherwise
    businesses cluster in the town that names the municipality (Almelo rather than Aadorp).
    """
    if country == "DE":
        return place, vocab.de_places[place]
    rows = vocab.pc4[place]
    named = [row for row in rows if row[1] in name]
    town = named or [row for row in rows if row[1] == V.TWENTE_MUNICIPALITIES[place][0]]
    pc4, city = rng.choice(town if town and (named or rng.random() < 0.85) else rows)
    return f"{pc4} {rng.choice(_PC_LETTERS)}", city


def _employers(m: int, *, seed: int) -> list[_Employer]:
    """The curated demo employers, plus generated ones so that each posts about 25 vacancies."""
    vocab = _vocab()
    employers: list[_Employer] = []
    for name, sector, country, place, size in V.DEMO_EMPLOYERS:
        # Curated employers' addresses do not depend on the seed: the demo always looks the same.
        site_rng = random.Random(f"werkmatch-demo/employer/{name}")
        postcode, city = _site(site_rng, vocab, country=country, place=place, name=name)
        employers.append(_Employer(name, sector, country, postcode, city, float(size)))
    extra = max(0, math.ceil(m / VACANCIES_PER_EMPLOYER) - len(employers))
    if not extra:
        return employers
    rng = random.Random(f"werkmatch-demo/employers/{seed}")
    names = {e.name for e in employers}
    municipality_table = _Weighted([(c, w) for c, (_, w) in V.TWENTE_MUNICIPALITIES.items()])
    for _ in range(extra):
        country = "DE" if rng.random() < DE_VACANCY_SHARE else "NL"
        sector = _VACANCY_SECTORS.pick(rng)
        place = vocab.de_table.pick(rng) if country == "DE" else municipality_table.pick(rng)
        postcode, city = _site(rng, vocab, country=country, place=place)
        nl_words, de_words = V.EMPLOYER_WORDS[sector]
        if country == "DE":
            base = f"{rng.choice(V.EMPLOYER_PREFIXES_DE)} {rng.choice(de_words)} {city.split(' (')[0]}"
            forms: tuple[str, ...] = ("GmbH", "GmbH & Co. KG")
        else:
            base = f"{rng.choice(V.EMPLOYER_PREFIXES_NL)} {rng.choice(nl_words)} {city}"
            forms = ("Stichting",) if sector == "zorg" else ("B.V.", "B.V.", "V.O.F.")
        form = rng.choice(forms)
        name = f"{form} {base}" if form == "Stichting" else f"{base} {form}"
        suffix = 2
        while name in names:  # deterministic disambiguation of a collision
            name = f"{form} {base} {suffix}" if form == "Stichting" else f"{base} {suffix} {form}"
            suffix += 1
        names.add(name)
        size = min(20.0, rng.paretovariate(1.2))
        employers.append(_Employer(name, sector, country, postcode, city, size))
    return employers


# --- vacancies -------------------------------------------------------------------------------------
def generate_vacancies(m: int, *, seed: int) -> Iterator[dict[str, Any]]:
    """Yield ``m`` synthetic vacancies as ``POST /vacancies`` bodies plus ``employer_name``.

    Deterministic for ``seed``. About 85% are in Twente (logistics in Almelo and Hengelo, zorg, ICT and
    techniek in Enschede and Hengelo), about 15% across the border (Gronau, Bad Bentheim, Nordhorn, Ahaus,
    Münster, Emsland) with German titles and German language requirements. ``external_ref`` counts
    ``VAC-000001``… per employer. The 32 curated employers post all vacancies up to ``m`` = 800; larger
    runs add generated employers (about one per 25 vacancies).
    """
    if m < 0:
        raise ValueError("m must be >= 0")
    return _vacancies(m, seed=seed)


def _vacancies(m: int, *, seed: int) -> Iterator[dict[str, Any]]:
    vocab = _vocab()
    employers = _employers(m, seed=seed)
    by_country = {
        country: _Weighted([(e, e.size) for e in employers if e.country == country])
        for country in V.COUNTRIES
    }
    counters: dict[str, int] = {}
    rng = random.Random(f"werkmatch-demo/vacancies/{seed}")
    for _ in range(m):
        employer = by_country["DE" if rng.random() < DE_VACANCY_SHARE else "NL"].pick(rng)
        counters[employer.name] = counters.get(employer.name, 0) + 1
        yield _vacancy(rng, vocab, employer=employer, ref=counters[employer.name])


def _vacancy(rng: random.Random, vocab: _Vocab, *, employer: _Employer, ref: int) -> dict[str, Any]:
    german = employer.country == "DE"
    lang = "de" if german else "nl"
    sector = employer.sector if rng.random() < 0.8 else _VACANCY_SECTORS.pick(rng)
    occ = vocab.by_sector[sector].pick(rng)

    required_ids = _sample(rng, occ.essential, rng.randint(3, 8))
    desired_ids = [s for s in _sample(rng, occ.optional, rng.randint(0, 6)) if s not in required_ids]
    with_code = rng.random() < 0.8  # a portal sends ESCO codes, or plain text only
    required = [_skill_item(vocab.skills[s], lang=lang, with_code=with_code) for s in required_ids]
    desired = [_skill_item(vocab.skills[s], lang=lang, with_code=with_code) for s in desired_ids]
    # The text names tasks in its own language where ESCO has that label (about half of the Dutch ones).
    column = 1 if lang == "nl" else 2
    tasks = [vocab.skills[s][column] for s in required_ids if vocab.skills[s][column]][:4]
    tasks = tasks or [c["label"] for c in required[:3]]

    languages: dict[str, str] = {}
    if german:
        languages["de"] = _DE_REQUIRED.get(sector, _DE_REQUIRED["default"]).pick(rng)
        if sector == "ict" and rng.random() < 0.5:
            languages["en"] = "B2"
    else:
        nl_level = _NL_REQUIRED.get(sector, _NL_REQUIRED["default"]).pick(rng)
        if nl_level is not None:
            languages["nl"] = nl_level
        if sector == "ict" and (nl_level is None or rng.random() < 0.5):
            languages["en"] = "B2"

    licences: list[str] = []
    if occ.label in V.LORRY_OCCUPATIONS:
        licences = ["C", "CE"] if rng.random() < 0.7 else ["C"]
    elif occ.label == "auto- en bestelwagenkoerier":
        licences = ["B"] if rng.random() < 0.95 else []
    elif (occ.label in V.CAR_OCCUPATIONS and rng.random() < 0.45) or (
        sector == "techniek" and rng.random() < 0.15
    ):
        licences = ["B"]

    rules = V.REQUIRED_CERTIFICATES_BY_SECTOR.get(sector, ()) + V.REQUIRED_CERTIFICATES_BY_OCCUPATION.get(
        occ.label, ()
    )
    certificates = sorted({cert for cert, p in rules if rng.random() < p}, key=str.casefold)

    hours_max = (_HOURS_MAX_ZORG if sector == "zorg" else _HOURS_MAX_VACANCY).pick(rng)
    hours = (max(8, hours_max - _HOURS_SPAN.pick(rng)), hours_max)
    contract = (_CONTRACT_BULK if sector in _BULK_SECTORS else _CONTRACT).pick(rng)
    positions = (_POSITIONS_BULK if sector in _BULK_SECTORS else _POSITIONS).pick(rng)
    # Garantiebanen and loonkostensubsidie are Dutch schemes.
    garantiebaan = not german and rng.random() < 0.06
    wage_subsidy = not german and rng.random() < (0.8 if garantiebaan else 0.2)
    education_min = _EDUCATION_MIN.get(sector, _EDUCATION_MIN["default"]).pick(rng)

    if german:
        title = _german_title(rng, occ, contract=contract, city=employer.city, hours_max=hours_max)
        description = _german_description(
            rng, employer, occ, tasks=tasks, languages=languages, licences=licences, hours=hours,
            contract=contract,
        )  # fmt: skip
    else:
        title = _dutch_title(rng, occ, contract=contract, city=employer.city, hours=hours)
        description = _dutch_description(
            rng, employer, occ, tasks=tasks, languages=languages, certificates=certificates, hours=hours,
            contract=contract, garantiebaan=garantiebaan, wage_subsidy=wage_subsidy,
        )  # fmt: skip

    item: dict[str, Any] = {
        "external_ref": f"VAC-{ref:06d}",
        "employer_name": employer.name,
        "title": title,
        "description": description,
        "occupation": {"code": occ.uri, "label": occ.de_title if german else occ.label},
        "sector": sector,
        "competences_required": required,
        "competences_desired": desired,
    }
    if education_min is not None:
        item["education_level_min"] = education_min
    item["languages_required"] = languages
    item["driving_licences_required"] = licences
    item["certificates_required"] = certificates
    item["postcode"] = employer.postcode
    item["country"] = employer.country
    item["city"] = employer.city
    item["hours_min"], item["hours_max"] = hours
    item["contract"] = contract
    item["positions"] = positions
    item["garantiebaan"] = garantiebaan
    item["wage_subsidy_possible"] = wage_subsidy
    status = _VACANCY_STATUS.pick(rng)
    if rng.random() < 0.85:
        item["closes_at"] = rng.choice(_CLOSES_AT_OPEN if status == "open" else _CLOSES_AT_PAST)
    item["status"] = status
    return item


def _dutch_title(
    rng: random.Random, occ: _Occupation, *, contract: str, city: str, hours: tuple[int, int]
) -> str:
    base = _capitalise(rng.choice(occ.alt)) if occ.alt and rng.random() < 0.2 else occ.nl_title
    if contract == "apprenticeship":
        return f"{base} (BBL-leerwerkplek)"
    if contract == "internship":
        return f"Stage {base[:1].lower()}{base[1:]}"
    variant = rng.randrange(5)
    if variant == 1:
        return f"{base} {city}"
    if variant == 2:
        return f"{base} ({hours[0]}-{hours[1]} uur)"
    if variant == 3:
        return f"{base} {'fulltime' if hours[1] >= 36 else 'parttime'}"
    return base


def _german_title(rng: random.Random, occ: _Occupation, *, contract: str, city: str, hours_max: int) -> str:
    base = f"{occ.de_title} (m/w/d)"
    if contract == "apprenticeship":
        return f"Ausbildung: {base}"
    if contract == "internship":
        return f"Praktikum: {base}"
    variant = rng.randrange(4)
    if variant == 1:
        return f"{base} in {city}"
    if variant == 2:
        return f"{base} – {'Vollzeit' if hours_max >= 36 else 'Teilzeit'}"
    return base


def _join(labels: Sequence[str], *, last: str) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} {last} {labels[-1]}"


def _dutch_description(
    rng: random.Random,
    employer: _Employer,
    occ: _Occupation,
    *,
    tasks: Sequence[str],
    languages: dict[str, str],
    certificates: Sequence[str],
    hours: tuple[int, int],
    contract: str,
    garantiebaan: bool,
    wage_subsidy: bool,
) -> str:
    job = occ.label.split("/")[0]
    parts = [
        f"{employer.name} zoekt in {employer.city} een {job} voor {hours[0]} tot {hours[1]} uur per week "
        f"({_CONTRACT_NL[contract]}).",
        f"Je werkzaamheden: {_join(tasks, last='en')}.",
    ]
    demands = []
    if "nl" in languages:
        demands.append(f"Nederlands op minimaal niveau {languages['nl']}")
    if "en" in languages:
        demands.append(f"Engels op niveau {languages['en']}")
    if certificates:
        demands.append(_join(list(certificates), last="en"))
    if demands:
        parts.append(f"Wat we vragen: {_join(demands, last='en')}.")
    parts.append(f"Wat we bieden: {_join(rng.sample(_OFFERS_NL, 2), last='en')}.")
    if garantiebaan:
        parts.append("Deze functie is een garantiebaan in het kader van de banenafspraak.")
    if wage_subsidy:
        parts.append("Plaatsing met loonkostensubsidie is bespreekbaar.")
    return " ".join(parts)


def _german_description(
    rng: random.Random,
    employer: _Employer,
    occ: _Occupation,
    *,
    tasks: Sequence[str],
    languages: dict[str, str],
    licences: Sequence[str],
    hours: tuple[int, int],
    contract: str,
) -> str:
    demands = [f"Deutschkenntnisse mindestens {languages['de']}"]
    if "en" in languages:
        demands.append(f"Englisch {languages['en']}")
    if licences:
        demands.append(f"Führerschein Klasse {'/'.join(licences)}")
    return " ".join(
        [
            f"{employer.name} sucht in {employer.city} eine/n {occ.de_title} (m/w/d), "
            f"{hours[0]}–{hours[1]} Std./Woche, {_CONTRACT_DE[contract]}.",
            f"Ihre Aufgaben: {_join(tasks, last='und')}.",
            f"Ihr Profil: {_join(demands, last='und')}.",
            f"Wir bieten: {_join(rng.sample(_OFFERS_DE, 2), last='und')}.",
            "Bewerbungen aus den Niederlanden sind willkommen (GrensWerk/EURES).",
        ]
    )


# --- the demo --------------------------------------------------------------------------------------
def demo_dataset(*, seed: int = 2026) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``werkmatch demo`` data: 300 Twente candidates and 200 vacancies of the 32 curated employers."""
    return (
        list(generate_candidates(DEMO_CANDIDATES, seed=seed)),
        list(generate_vacancies(DEMO_VACANCIES, seed=seed)),
    )

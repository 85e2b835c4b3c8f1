"""Deterministic synthetic features for tests and benchmarks (Twente-centred, real ESCO labels).

Not evaluation data: profiles are drawn from a handful of regional occupations with the taxonomy's own skill
profiles, spread over real postcodes around Twente and across the border.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from matching.encoding import TaxonomyLike
from matching.geo import locate
from matching.types import CandidateFeatures, ConceptRef, Experience, VacancyFeatures

__all__ = ["SyntheticWorld", "make_world"]

# Job titles common in the region's shortage sectors, resolved through the taxonomy.
_TITLES = (
    "magazijnmedewerker",
    "heftruckchauffeur",
    "vrachtwagenchauffeur",
    "orderpicker",
    "helpende zorg",
    "verzorgende",
    "schoonmaker",
    "softwareontwikkelaar",
    "lasser",
    "productiemedewerker",
    "elektromonteur",
    "kok",
    "verkoopmedewerker",
    "timmerman",
    "loodgieter",
    "Lagerist",
    "Berufskraftfahrer",
    "Altenpfleger",
    "CNC-Fräser",
    "Reinigungskraft",
)
# (postcode, country) around Twente, the Achterhoek/Salland edge and the German border region.
_POSTCODES = (
    ("7601", "NL"),
    ("7602", "NL"),
    ("7607", "NL"),
    ("7511", "NL"),
    ("7521", "NL"),
    ("7544", "NL"),
    ("7551", "NL"),
    ("7555", "NL"),
    ("7622", "NL"),
    ("7642", "NL"),
    ("7462", "NL"),
    ("7571", "NL"),
    ("7581", "NL"),
    ("7481", "NL"),
    ("7442", "NL"),
    ("7411", "NL"),
    ("8011", "NL"),
    ("7001", "NL"),
    ("48599", "DE"),
    ("48527", "DE"),
    ("48429", "DE"),
    ("48431", "DE"),
    ("48565", "DE"),
    ("49808", "DE"),
    ("48143", "DE"),
    ("46395", "DE"),
    ("48691", "DE"),
    ("48703", "DE"),
)
_LICENCES = ((), ("B",), ("B",), ("B", "BE"), ("CE",), ("C",))
_CERTS = ((), (), ("VCA-basis",), ("heftruck",), ("VOG",), ("Code 95",), ("BHV",))
_SECTORS = (
    "logistiek",
    "zorg",
    "ict",
    "techniek",
    "productie",
    "bouw",
    "horeca",
    "detailhandel",
    "schoonmaak",
)
_EDU = ("vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo_vwo", "hbo", "wo", None)


@dataclass(frozen=True, slots=True)
class _Occupation:
    uri: str
    labels: tuple[str, ...]
    skills: tuple[tuple[str, str], ...]  # (uri, label)


@dataclass
class SyntheticWorld:
    """Occupations and places to draw profiles from."""

    occupations: list[_Occupation]
    places: list[tuple[str, str, float, float]]

    def candidates(self, n: int, *, seed: int = 1) -> list[CandidateFeatures]:
        """``n`` deterministic candidates with ids ``c000000``..."""
        rng = random.Random(seed)
        out = []
        for i in range(n):
            occ = rng.choice(self.occupations)
            other = rng.choice(self.occupations)
            _pc, country, lat, lon = rng.choice(self.places)
            skills = rng.sample(occ.skills, min(len(occ.skills), rng.randint(4, 10)))
            skills += rng.sample(other.skills, min(len(other.skills), rng.randint(0, 3)))
            nl = rng.choice(("1F", "2F", "2F", "3F", "4F", "A2"))
            languages = {"nl": nl} if rng.random() < 0.85 else {"de": "B2"}
            if rng.random() < 0.3:
                languages["de"] = rng.choice(("A2", "B1", "B2"))
            out.append(
                CandidateFeatures(
                    id=f"c{i:06d}",
                    competences=tuple(ConceptRef(code=None, label=lab) for _u, lab in skills),
                    desired_occupations=(ConceptRef(code=None, label=rng.choice(occ.labels)),)
                    if rng.random() < 0.8
                    else (),
                    experience=(
                        Experience(ConceptRef(code=None, label=rng.choice(occ.labels)), rng.randint(0, 8)),
                    )
                    if rng.random() < 0.7
                    else (),
                    education_level=rng.choice(_EDU),
                    languages=languages,
                    lat=lat,
                    lon=lon,
                    country=country,
                    max_travel_km=rng.choice((10, 15, 25, 25, 40, 60)),
                    hours_min=rng.choice((8, 16, 24, 32)),
                    hours_max=rng.choice((32, 36, 40)),
                    driving_licences=frozenset(rng.choice(_LICENCES)),
                    certificates=frozenset(rng.choice(_CERTS)),
                    work_countries=frozenset({country} | ({"DE", "NL"} if rng.random() < 0.3 else set())),
                    sectors=frozenset({rng.choice(_SECTORS)}),
                    target_group_register=rng.random() < 0.05,
                )
            )
        return out

    def vacancies(self, n: int, *, seed: int = 2) -> list[VacancyFeatures]:
        """``n`` deterministic vacancies with ids ``v000000``..."""
        rng = random.Random(seed)
        out = []
        for i in range(n):
            occ = rng.choice(self.occupations)
            _pc, country, lat, lon = rng.choice(self.places)
            listed = rng.random() < 0.7
            required = rng.sample(occ.skills, min(len(occ.skills), rng.randint(3, 6))) if listed else []
            desired = rng.sample(occ.skills, min(len(occ.skills), rng.randint(0, 2))) if listed else []
            title = rng.choice(occ.labels)
            lo = rng.choice((16, 24, 32, 36))
            out.append(
                VacancyFeatures(
                    id=f"v{i:06d}",
                    title=title,
                    description=f"{title}. "
                    + " ".join(lab for _u, lab in rng.sample(occ.skills, min(3, len(occ.skills)))),
                    occupation=ConceptRef(code=None, label=title) if rng.random() < 0.8 else None,
                    sector=rng.choice(_SECTORS),
                    competences_required=tuple(ConceptRef(code=None, label=lab) for _u, lab in required),
                    competences_desired=tuple(ConceptRef(code=None, label=lab) for _u, lab in desired),
                    education_level_min=rng.choice((None, None, "mbo2", "mbo3", "hbo")),
                    languages_required={"nl": rng.choice(("1F", "2F", "3F"))}
                    if country == "NL"
                    else {"de": "B1"},
                    driving_licences_required=frozenset(rng.choice(((), (), (), ("B",), ("CE",)))),
                    certificates_required=frozenset(rng.choice(((), (), (), ("VCA-basis",), ("heftruck",)))),
                    lat=lat,
                    lon=lon,
                    country=country,
                    hours_min=lo,
                    hours_max=max(lo, rng.choice((24, 32, 40))),
                    garantiebaan=rng.random() < 0.03,
                    wage_subsidy_possible=rng.random() < 0.2,
                )
            )
        return out


def make_world(taxonomy: TaxonomyLike, *, seed: int = 0) -> SyntheticWorld:
    """Resolve the regional job titles and postcodes once."""
    occupations: list[_Occupation] = []
    seen: set[str] = set()
    search = getattr(taxonomy, "search_occupations")  # noqa: B009 - part of the taxonomy API, not the protocol
    for title in _TITLES:
        for concept in search(title, limit=2):
            if concept.kind != "occupation" or concept.uri in seen:
                continue
            essential, optional = taxonomy.occupation_skills(concept.uri)
            skills = tuple((u, taxonomy.label(u, lang="nl")) for u in sorted(essential | optional))[:60]
            if len(skills) < 6:
                continue
            seen.add(concept.uri)
            labels = tuple(
                dict.fromkeys([taxonomy.label(concept.uri, lang=lang) for lang in ("nl", "de", "en")])
            )
            occupations.append(_Occupation(concept.uri, labels, skills))
    places = []
    for pc, country in _POSTCODES:
        loc = locate(pc, country)
        if loc is not None:
            places.append((pc, country, loc.lat, loc.lon))
    return SyntheticWorld(occupations, places)

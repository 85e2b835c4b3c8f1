"""Rebuild ``service/demo/data/vocab.json`` from the shared reference data.

Run from the repository root: ``python -m service.demo.build_vocab /work/shared/data``. The output is
committed; the generator never reads the shared data at run time.

* Occupations: the ESCO v1.2 occupations named in ``vocab.OCCUPATIONS`` (Dutch preferred labels), with
  URI, ISCO group, German label, a few Dutch alternative labels, and their essential/optional skills from
  the derived occupation-skill relations (Dutch label where ESCO v1.0.3 had one, else German/English).
* Twente postcodes: the PC4 codes GeoNames places in one of the 14 Twente municipalities. A PC4 that
  GeoNames also lists under another municipality (7461 Rijssen/Wierden, 7571, 7693, 7694) is left out, so
  every postcode the generator emits maps to exactly one municipality.
* German places: the (PLZ, place) pairs of ``vocab.DE_PLACES``, checked against GeoNames.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from service.demo.vocab import DE_PLACES, OCCUPATIONS, TWENTE_MUNICIPALITIES

TARGET = Path(__file__).resolve().parent / "data" / "vocab.json"
MAX_ESSENTIAL = 30  # per occupation: enough variety for 3-12 sampled competences, small file
MAX_OPTIONAL = 20
MAX_ALT_LABELS = 6


def _municipality_name(raw: str) -> str:
    name = re.sub(r"\s+Municipality$", "", raw.strip())
    return re.sub(r"^Gemeente\s+", "", name).strip()


def build_postcodes(source: Path) -> dict[str, list[list[str]]]:
    """Twente PC4 codes per CBS code, as ``[pc4, place]`` pairs, unambiguous ones only."""
    by_name = {name: code for code, (name, _) in TWENTE_MUNICIPALITIES.items()}
    municipalities: dict[str, set[str]] = defaultdict(set)
    places: dict[str, str] = {}
    with (source / "zipcodes.nl.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pc4 = row["zipcode"].strip()
            municipalities[pc4].add(_municipality_name(row["province"]))
            places.setdefault(pc4 + "|" + _municipality_name(row["province"]), row["place"].strip())
    out: dict[str, list[list[str]]] = {code: [] for code in TWENTE_MUNICIPALITIES}
    for pc4 in sorted(municipalities):
        names = municipalities[pc4]
        if len(names) != 1:
            continue
        (name,) = names
        if name in by_name:
            out[by_name[name]].append([pc4, places[pc4 + "|" + name]])
    return out


def build_de_places(source: Path) -> dict[str, str]:
    """Place name per PLZ of ``vocab.DE_PLACES``, each (PLZ, place) pair checked against GeoNames."""
    wanted = {(plz, place) for plz, place, _ in DE_PLACES}
    found: set[tuple[str, str]] = set()
    with (source / "zipcodes.de.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pair = (row["zipcode"].strip(), row["place"].strip())
            if pair in wanted:
                found.add(pair)
    missing = wanted - found
    if missing:
        raise SystemExit(f"(PLZ, place) not in GeoNames: {sorted(missing)}")
    return dict(sorted(wanted))


def build_occupations(source: Path) -> tuple[dict[str, dict[str, object]], list[list[str]]]:
    """The curated occupations with their skills; skills live in one shared ``[uri, nl, de, en]`` table."""
    wanted = {label for items in OCCUPATIONS.values() for label, _ in items}
    rows: dict[str, dict[str, str]] = {}
    with (source / "esco_v1.2_occupations_nl.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            label = row["preferredLabel"].strip()
            if label in wanted:
                if label in rows:
                    raise SystemExit(f"ambiguous ESCO preferred label: {label}")
                rows[label] = row
    missing = wanted - rows.keys()
    if missing:
        raise SystemExit(f"ESCO occupations not found: {sorted(missing)}")
    uris = {row["conceptUri"]: label for label, row in rows.items()}
    german: dict[str, str] = {}
    with (source / "esco_v1.2.0_occupations_de.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["conceptUri"] in uris:
                german[row["conceptUri"]] = row["preferredLabel"].strip()

    skills: list[list[str]] = []
    skill_index: dict[str, int] = {}
    relations: dict[str, dict[str, list[int]]] = {uri: {"essential": [], "optional": []} for uri in uris}
    with (source / "esco_v1.2.0_occupation_skill_relations_derived.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        for row in csv.DictReader(fh):
            uri = row["occupation_uri"]
            if uri not in relations:
                continue
            kind = row["relation_type"]
            cap = MAX_ESSENTIAL if kind == "essential" else MAX_OPTIONAL
            bucket = relations[uri][kind]
            if len(bucket) >= cap:
                continue
            record = [
                row["skill_uri"].strip(),
                row["skill_label_nl_v103"].strip(),
                row["skill_label_de_v103"].strip(),
                row["skill_label_en"].strip(),
            ]
            key = record[0] or "en:" + record[3]
            if key not in skill_index:
                skill_index[key] = len(skills)
                skills.append(record)
            if skill_index[key] not in bucket:
                bucket.append(skill_index[key])

    occupations: dict[str, dict[str, object]] = {}
    for label in sorted(rows):
        row = rows[label]
        uri = row["conceptUri"]
        # Alternative labels serve as free-text wishes; drop those that name another curated occupation
        # ("winkelmedewerker" is an ESCO alt label of bakkerijmedewerker) or look like data-entry slips.
        alt = [
            a.strip()
            for a in row["altLabels"].split("\n")
            if a.strip() and len(a.strip()) <= 60 and "  " not in a and a.strip() not in rows
        ]
        occupations[label] = {
            "uri": uri,
            "isco": row["iscoGroup"].strip(),
            "de": german.get(uri, ""),
            "alt": alt[:MAX_ALT_LABELS],
            "essential": relations[uri]["essential"],
            "optional": relations[uri]["optional"],
        }
        if len(relations[uri]["essential"]) < 3:
            raise SystemExit(f"too few essential skills for {label}")
    return occupations, skills


def main(source: Path) -> None:
    """Write vocab.json (compact, sorted, reproducible)."""
    occupations, skills = build_occupations(source)
    vocab = {
        "attribution": "This service uses the ESCO classification of the European Commission. "
        "Postcodes: GeoNames (CC BY 4.0).",
        "twente_pc4": build_postcodes(source),
        "de_places": build_de_places(source),
        "occupations": occupations,
        "skills": skills,
    }
    TARGET.write_text(
        json.dumps(vocab, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))

"""Build the compact taxonomy data shipped in ``data/taxonomy/`` from the ESCO source files.

Run once when the source data changes::

    .venv/bin/python -m matching.taxonomy_build /work/shared/data data/taxonomy

Sources (see data/README.md): ESCO v1.2 occupations (NL/DE/EN, preferred, alternative and hidden
labels, descriptions), ISCO-08 groups, broader relations, occupation–skill relations with EN/NL/DE skill
labels, the ESCO↔VDAB and ESCO↔BA skill crosswalks (only their ESCO-side labels and exact matches), and
MELO's ESCO surface forms. Nothing from any evaluation set is read.
"""

from __future__ import annotations

import csv
import gzip
import sys
from collections.abc import Iterator
from pathlib import Path

OCC_PREFIX = "http://data.europa.eu/esco/occupation/"
ISCO_PREFIX = "http://data.europa.eu/esco/isco/C"
SKILL_PREFIX = "http://data.europa.eu/esco/skill/"

csv.field_size_limit(10_000_000)


def _rows(path: Path, *, skip: int = 0) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for _ in range(skip):
            next(fh)
        yield from csv.DictReader(fh)


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _write(path: Path, rows: list[tuple[str, ...]]) -> None:
    # mtime=0 keeps the gzip bytes reproducible between builds.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        for row in rows:
            gz.write(("\t".join(row) + "\n").encode("utf-8"))


def build(source: Path, target: Path) -> None:
    """Read the ESCO source files in ``source`` and write the compact tables into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    concepts: dict[str, tuple[str, str]] = {}  # uri -> (kind, isco code)
    labels: set[tuple[str, str, str, str]] = set()  # (uri, lang, type, label)
    descriptions: list[tuple[str, str, str]] = []

    occ_files = {
        "nl": "esco_v1.2_occupations_nl.csv",
        "de": "esco_v1.2.0_occupations_de.csv",
        "en": "esco_v1.2.0_occupations_en.csv",
    }
    for lang, name in occ_files.items():
        for row in _rows(source / name):
            uri = row["conceptUri"]
            concepts[uri] = ("occupation", row["iscoGroup"].strip())
            labels.add((uri, lang, "pref", _clean(row["preferredLabel"])))
            for kind in ("altLabels", "hiddenLabels"):
                for label in row[kind].split("\n"):
                    if label.strip():
                        labels.add((uri, lang, "alt" if kind == "altLabels" else "hidden", _clean(label)))
            if row["description"].strip():
                descriptions.append((uri, lang, _clean(row["description"])))

    for row in _rows(source / "esco_v1.2_iscogroups_nl.csv"):
        uri = row["conceptUri"]
        concepts[uri] = ("isco_group", row["code"].strip())
        labels.add((uri, "nl", "pref", _clean(row["preferredLabel"])))
        for label in row["altLabels"].split("\n"):
            if label.strip():
                labels.add((uri, "nl", "alt", _clean(label)))

    for lang in ("nl", "de"):
        folder = source / f"esco_surface_forms_{lang}"
        with (folder / "corpus_elements.tsv").open(encoding="utf-8") as fh:
            texts = dict(line.rstrip("\n").split("\t", 1) for line in fh if "\t" in line)
        with (folder / "concept_mapping.tsv").open(encoding="utf-8") as fh:
            for line in fh:
                if "\t" not in line:
                    continue
                sid, uri = line.rstrip("\n").split("\t", 1)
                if uri in concepts and sid in texts:
                    labels.add((uri, lang, "surface", _clean(texts[sid])))

    broader: dict[str, list[str]] = {}
    for row in _rows(source / "esco_v1.2_broader_relations_occ_pillar.csv"):
        if row["conceptUri"] in concepts and row["broaderUri"] in concepts:
            broader.setdefault(row["conceptUri"], []).append(row["broaderUri"])

    # A surface form that repeats a preferred/alternative label adds nothing.
    known = {(u, la, lab) for (u, la, t, lab) in labels if t != "surface"}
    labels = {x for x in labels if x[2] != "surface" or (x[0], x[1], x[3]) not in known}

    concept_rows = [
        (uri, kind, code, " ".join(sorted(broader.get(uri, []))))
        for uri, (kind, code) in sorted(concepts.items())
    ]
    _write(target / "concepts.tsv.gz", concept_rows)
    _write(target / "occupation_labels.tsv.gz", sorted((u, la, t, lab) for (u, la, t, lab) in labels if lab))
    _write(target / "occupation_descriptions.tsv.gz", sorted(descriptions))

    # Skills: ESCO labels per language, plus exact-match labels from the national crosswalks.
    skill_labels: set[tuple[str, str, str, str]] = set()
    relations: set[tuple[str, str, str]] = set()
    unlinked: set[tuple[str, str]] = set()
    for row in _rows(source / "esco_v1.2.0_occupation_skill_relations_derived.csv"):
        uri = row["skill_uri"].strip()
        if not uri.startswith(SKILL_PREFIX):
            # ESCO skill labels whose URI the source could not resolve: kept as known text, so that a
            # misspelt "trobuleshoot" still meets "troubleshoot".
            if row["skill_label_en"].strip():
                unlinked.add(("en", _clean(row["skill_label_en"])))
            continue
        sid = uri[len(SKILL_PREFIX) :]
        relations.add((row["occupation_uri"], row["relation_type"][0], sid))
        columns = (("en", "skill_label_en"), ("nl", "skill_label_nl_v103"), ("de", "skill_label_de_v103"))
        for lang, col in columns:
            if row[col].strip():
                skill_labels.add((sid, lang, "esco", _clean(row[col])))
    for row in _rows(source / "crosswalk_esco_skills_vdab_competent_nl_fr.csv", skip=16):
        uri = row["Classification 1 URL"].strip()
        if not uri.startswith(SKILL_PREFIX):
            continue
        sid = uri[len(SKILL_PREFIX) :]
        if row["Classification 1 PrefLabel"].strip():
            skill_labels.add((sid, "nl", "esco", _clean(row["Classification 1 PrefLabel"])))
        exact = row["Mapping Relation"].strip() == "skos:exactMatch"
        if exact and row["Classification 2 PrefLabel NL"].strip():
            skill_labels.add((sid, "nl", "vdab", _clean(row["Classification 2 PrefLabel NL"])))
    for row in _rows(source / "crosswalk_esco_skills_ba_kompetenzen_de.csv", skip=17):
        uri = row["Classification 1 URI"].strip()
        if not uri.startswith(SKILL_PREFIX):
            continue
        sid = uri[len(SKILL_PREFIX) :]
        if row["Classification 1 PrefLabel"].strip():
            skill_labels.add((sid, "de", "esco", _clean(row["Classification 1 PrefLabel"])))
        if row["Mapping relation"].strip() == "skos:exactMatch" and row["Classification 2 PrefLabel"].strip():
            skill_labels.add((sid, "de", "ba", _clean(row["Classification 2 PrefLabel"])))
    _write(target / "skill_labels.tsv.gz", sorted(skill_labels))
    _write(target / "skill_labels_unlinked.tsv.gz", sorted(unlinked))
    occ_rows = [
        (occ[len(OCC_PREFIX) :] if occ.startswith(OCC_PREFIX) else occ, rel, sid)
        for (occ, rel, sid) in sorted(relations)
    ]
    _write(target / "occupation_skills.tsv.gz", occ_rows)


def main(argv: list[str]) -> int:
    """CLI entry: ``python -m matching.taxonomy_build SOURCE_DIR TARGET_DIR``."""
    if len(argv) != 2:
        sys.stderr.write("usage: python -m matching.taxonomy_build SOURCE_DIR TARGET_DIR\n")
        return 2
    build(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Rebuild the shipped postcode gazetteers from the GeoNames postal-code dumps.

Run from the repository root: ``python -m data.geo.build_postcodes /work/shared/data``.
The output (``postcodes_nl.csv``, ``postcodes_de.csv``) is committed; nothing downloads at run time.

* NL: one row per PC4. Where GeoNames lists a PC4 under two municipalities (e.g. 1096 Amsterdam /
  Ouder-Amstel) the coordinates are averaged and the first (GeoNames' primary) place is kept.
* DE: one row per PLZ with coordinates averaged over all GeoNames rows. About 2,000 rows name a company
  ("... GmbH") for a large-customer PLZ; those are skipped for the place name (the coordinates still count),
  and a PLZ that only has company rows takes its Kreis name as place.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Legal forms and institution words that mark a GeoNames "place" as an organisation, not a place.
_LEGAL_FORM = re.compile(r"\bAG\b|-AG\b|\bKG\b|\bKGaA\b|\beG\b|\bSE\b|\bGbR\b|\bOHG\b|\bOVAG\b|\d")
_ORGANISATION = re.compile(
    r"gmbh|mbh|aktiengesellschaft|e\.\s?v\.|\ba\.\s?g\.?|\bltd\b|\binc\b|co\.|bank|versicherung|verwaltung|"
    r"\bpost|kasse|verband|finanzamt|amt\b|agentur|rundfunk|niederlassung|service|zentrale|verlag|klinik|"
    r"universität|hochschule|ministerium|stadtwerke|werke\b|behörde|gericht|sender|bundes|landes|"
    r"corporate|audit|kravag|holding|konzern|gruppe\b|group\b",
    re.IGNORECASE,
)
_KREIS_PREFIX = re.compile(r"^(Stadtkreis|Landkreis|Kreis|Region|Städteregion|Kreisfreie Stadt)\s+")


def is_organisation(place: str) -> bool:
    """True when a GeoNames place name is really a company or institution (large-customer PLZ)."""
    return bool(_LEGAL_FORM.search(place) or _ORGANISATION.search(place)) or "," in place


def _municipality_nl(raw: str) -> str:
    name = raw.strip().rstrip(".")
    name = re.sub(r"\s+Municipality$", "", name)
    name = re.sub(r"^Gemeente\s+", "", name)
    return name.rstrip(".").strip()


def build_nl(source: Path, target: Path) -> int:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with source.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows[row["zipcode"].strip()].append(row)
    with target.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["postcode", "lat", "lon", "place", "municipality", "municipality_code"])
        for pc in sorted(rows):
            group = rows[pc]
            lat = sum(float(r["latitude"]) for r in group) / len(group)
            lon = sum(float(r["longitude"]) for r in group) / len(group)
            first = group[0]
            code = first["province_code"].strip()
            out.writerow(
                [
                    pc,
                    f"{lat:.4f}",
                    f"{lon:.4f}",
                    first["place"].strip(),
                    _municipality_nl(first["province"]) or first["place"].strip(),
                    f"GM{code}" if code else "",
                ]
            )
    return len(rows)


def build_de(source: Path, target: Path) -> int:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with source.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows[row["zipcode"].strip()].append(row)
    with target.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["postcode", "lat", "lon", "place", "municipality", "municipality_code"])
        for pc in sorted(rows):
            group = rows[pc]
            lat = sum(float(r["latitude"]) for r in group) / len(group)
            lon = sum(float(r["longitude"]) for r in group) / len(group)
            kreis = _KREIS_PREFIX.sub("", group[0]["community"].strip())
            places = [r["place"].strip() for r in group if not is_organisation(r["place"])]
            place = places[0] if places else kreis
            out.writerow([pc, f"{lat:.4f}", f"{lon:.4f}", place, kreis, group[0]["community_code"].strip()])
    return len(rows)


def main(argv: list[str]) -> None:
    """Build both gazetteers from the directory holding ``zipcodes.nl.csv`` and ``zipcodes.de.csv``."""
    source = Path(argv[1]) if len(argv) > 1 else Path("/work/shared/data")
    n_nl = build_nl(source / "zipcodes.nl.csv", HERE / "postcodes_nl.csv")
    n_de = build_de(source / "zipcodes.de.csv", HERE / "postcodes_de.csv")
    sys.stdout.write(f"NL: {n_nl} PC4, DE: {n_de} PLZ\n")


if __name__ == "__main__":
    main(sys.argv)

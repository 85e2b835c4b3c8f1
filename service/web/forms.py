"""The candidate profile form: HTML form fields ⇄ the API's `CandidateIn`, and validation errors in Dutch.

The form is validated by the very same pydantic model as `POST/PUT /api/v1/candidates`, so the web page cannot
accept what the API refuses. Errors are keyed by form field so the template shows each next to its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from service.candidates.schemas import CandidateIn
from service.persistence.models import Candidate

EDUCATION_LEVELS: tuple[tuple[str, str], ...] = (
    ("none", "geen diploma"),
    ("vmbo", "vmbo"),
    ("mbo1", "mbo 1 (entree)"),
    ("mbo2", "mbo 2"),
    ("mbo3", "mbo 3"),
    ("mbo4", "mbo 4"),
    ("havo_vwo", "havo/vwo"),
    ("hbo", "hbo"),
    ("wo", "wo"),
)
SECTORS: tuple[tuple[str, str], ...] = (
    ("logistiek", "Logistiek"),
    ("zorg", "Zorg"),
    ("ict", "ICT"),
    ("techniek", "Techniek"),
    ("productie", "Productie"),
    ("bouw", "Bouw"),
    ("horeca", "Horeca"),
    ("detailhandel", "Detailhandel"),
    ("schoonmaak", "Schoonmaak"),
    ("overig", "Overig"),
)
SUPPORT_LEVELS: tuple[tuple[str, str], ...] = (
    ("direct", "Direct bemiddelbaar"),
    ("with_support", "Met begeleiding"),
    ("wage_subsidy", "Met loonkostensubsidie"),
)
STATUSES: tuple[tuple[str, str], ...] = (
    ("active", "Actief"),
    ("placed", "Geplaatst"),
    ("inactive", "Inactief"),
)
COUNTRIES: tuple[tuple[str, str], ...] = (("NL", "Nederland"), ("DE", "Duitsland"))
LICENCES: tuple[str, ...] = ("AM", "A", "B", "BE", "C1", "C", "CE", "D")
DUTCH_LEVELS: tuple[str, ...] = ("1F", "2F", "3F", "4F", "A1", "A2", "B1", "B2", "C1", "C2")
CEFR_LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2")

#: How many empty rows a list field offers for additions (a small script adds more on request).
EMPTY_ROWS = 2

_SCALAR_FIELDS = (
    "external_ref",
    "municipality",
    "given_name",
    "family_name",
    "postcode",
    "country",
    "max_travel_km",
    "hours_min",
    "hours_max",
    "support",
    "status",
)


def _clean(values: Iterable[Any]) -> list[str]:
    return [str(v).strip() for v in values if str(v).strip()]


def _concepts(labels: Sequence[str], known: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Labels as concepts; a label that is unchanged from the stored profile keeps its taxonomy code."""
    concepts = []
    for label in labels:
        code = known.get(label.casefold())
        concepts.append({"label": label, "code": code} if code else {"label": label})
    return concepts


def _known_codes(candidate: Candidate | None) -> dict[str, str | None]:
    known: dict[str, str | None] = {}
    if candidate is None:
        return known
    items = [*(candidate.competences or []), *(candidate.desired_occupations or [])]
    items += [entry.get("occupation", {}) for entry in candidate.experience or []]
    for item in items:
        if isinstance(item, dict) and item.get("label"):
            known[str(item["label"]).casefold()] = item.get("code")
    return known


def payload_from_form(form: Any, *, current: Candidate | None = None) -> dict[str, Any]:
    """The JSON-shaped payload the API would receive for this form (validated afterwards by `CandidateIn`)."""
    known = _known_codes(current)
    payload: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in _SCALAR_FIELDS}
    bsn = str(form.get("bsn") or "").strip()
    if bsn:
        payload["bsn"] = bsn  # empty means: keep the BSN on file (it is write-only and never shown)
    payload["available_from"] = str(form.get("available_from") or "").strip() or None
    payload["education_level"] = str(form.get("education_level") or "").strip() or None
    languages = {lang: str(form.get(f"lang_{lang}") or "").strip() for lang in ("nl", "de", "en")}
    payload["languages"] = {lang: level for lang, level in languages.items() if level}
    payload["driving_licences"] = _clean(form.getlist("driving_licences"))
    payload["work_countries"] = _clean(form.getlist("work_countries"))
    payload["sectors"] = _clean(form.getlist("sectors"))
    payload["certificates"] = _clean(str(form.get("certificates") or "").splitlines())
    payload["target_group_register"] = form.get("target_group_register") == "on"
    payload["competences"] = _concepts(_clean(form.getlist("competences")), known)
    payload["desired_occupations"] = _concepts(_clean(form.getlist("desired_occupations")), known)
    experience = []
    labels = [str(v).strip() for v in form.getlist("experience_label")]
    years = [str(v).strip() for v in form.getlist("experience_years")]
    for label, year in zip(labels, years + [""] * (len(labels) - len(years)), strict=False):
        if label:
            experience.append({"occupation": _concepts([label], known)[0], "years": year or None})
    payload["experience"] = experience
    return payload


def validate(payload: dict[str, Any]) -> tuple[CandidateIn | None, dict[str, str]]:
    """The validated model, or None and the Dutch error message per form field."""
    try:
        return CandidateIn.model_validate(payload), {}
    except ValidationError as exc:
        return None, errors_by_field(exc.errors())


def field_of(loc: Sequence[Any]) -> str:
    """The form field an error location belongs to (`["body", "languages", "nl"]` → `languages.nl`)."""
    parts = [str(part) for part in loc if part != "body"]
    if not parts:
        return "hours_max"  # the only model-level rule: hours_max ≥ hours_min
    if parts[0] == "languages" and len(parts) > 1:
        return f"languages.{parts[1]}"
    return parts[0]


def dutch_message(error: Mapping[str, Any]) -> str:
    """A short Dutch message for a pydantic (or service) error; never echoes the rejected value."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == "missing":
        return "Dit veld is verplicht."
    if kind == "string_too_short":
        return (
            "Vul dit veld in." if ctx.get("min_length", 1) <= 1 else f"Minstens {ctx['min_length']} tekens."
        )
    if kind == "string_too_long":
        return f"Te lang: hoogstens {ctx.get('max_length')} tekens."
    if kind == "too_long":
        return f"Te veel regels: hoogstens {ctx.get('max_length')}."
    if kind == "string_pattern_mismatch":
        return "Ongeldig formaat: gebruik letters, cijfers en . _ : - /"
    if kind in ("int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"):
        return "Vul een getal in."
    if kind == "greater_than_equal":
        return f"Moet minstens {ctx.get('ge')} zijn."
    if kind == "less_than_equal":
        return f"Mag hoogstens {ctx.get('le')} zijn."
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return "Vul een geldige datum in (jjjj-mm-dd)."
    if kind in ("literal_error", "enum"):
        return "Kies een van de aangeboden waarden."
    if kind == "postcode_format":
        return "Geen geldige postcode (NL: 1234 AB, DE: 5 cijfers)."
    if kind == "postcode_unknown":
        return "Deze postcode is onbekend."
    if "BSN" in msg:
        return "Geen geldig BSN (9 cijfers die de elfproef doorstaan)."
    if "hours_max" in msg:
        return "Het maximum aantal uren moet minstens het minimum zijn."
    if "NUL" in msg:
        return "Bevat een ongeldig teken."
    return "Ongeldige waarde."


def errors_by_field(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The first Dutch message per form field."""
    result: dict[str, str] = {}
    for error in errors:
        result.setdefault(field_of(error.get("loc", ())), dutch_message(error))
    return result


def form_values(candidate: Candidate) -> dict[str, Any]:
    """What the form shows for a stored candidate (the BSN is never shown; only whether one is on file)."""
    values: dict[str, Any] = {name: getattr(candidate, name) for name in _SCALAR_FIELDS}
    values.update(
        available_from=candidate.available_from.isoformat() if candidate.available_from else "",
        education_level=candidate.education_level or "",
        languages=dict(candidate.languages or {}),
        driving_licences=list(candidate.driving_licences or []),
        work_countries=list(candidate.work_countries or []),
        sectors=list(candidate.sectors or []),
        certificates="\n".join(candidate.certificates or []),
        target_group_register=bool(candidate.target_group_register),
        competences=[c.get("label", "") for c in candidate.competences or []],
        desired_occupations=[c.get("label", "") for c in candidate.desired_occupations or []],
        experience=[
            {"label": (e.get("occupation") or {}).get("label", ""), "years": e.get("years", "")}
            for e in candidate.experience or []
        ],
        version=candidate.version,
        has_bsn=candidate.bsn_hash is not None,
    )
    return values


def form_values_from_payload(payload: Mapping[str, Any], *, version: int, has_bsn: bool) -> dict[str, Any]:
    """What the form shows again after a failed save: exactly what the coach typed (never the BSN)."""
    values: dict[str, Any] = {name: payload.get(name, "") for name in _SCALAR_FIELDS}
    values.update(
        available_from=payload.get("available_from") or "",
        education_level=payload.get("education_level") or "",
        languages=dict(payload.get("languages") or {}),
        driving_licences=list(payload.get("driving_licences") or []),
        work_countries=list(payload.get("work_countries") or []),
        sectors=list(payload.get("sectors") or []),
        certificates="\n".join(payload.get("certificates") or []),
        target_group_register=bool(payload.get("target_group_register")),
        competences=[c["label"] for c in payload.get("competences") or []],
        desired_occupations=[c["label"] for c in payload.get("desired_occupations") or []],
        experience=[
            {"label": e["occupation"]["label"], "years": e.get("years") or ""}
            for e in payload.get("experience") or []
        ],
        version=version,
        has_bsn=has_bsn,
    )
    return values

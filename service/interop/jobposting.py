"""schema.org JobPosting (JSON-LD, as employer sites publish it for search engines) → a werkmatch vacancy.

The mapping is forgiving about shape (a JobPosting alone, inside ``@graph`` or in a list; strings, lists or
nested objects for most properties) and strict about what werkmatch cannot do without: a title and one
location in the Netherlands or Germany with a known postcode (or a place name that identifies one).
Everything it could not take, or only guessed, is listed in a :class:`MappingReport` so the employer knows
what to complete.

Only text the employer wrote is read; nothing is fetched (``@context`` URLs are compared, never dereferenced).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from html.parser import HTMLParser
from importlib import resources
from typing import Any, NoReturn

from pydantic import ValidationError
from sqlalchemy.orm import Session

from matching.geo import locate, normalise_postcode
from matching.taxonomy import load_taxonomy
from service.auth.principal import Principal, Role
from service.errors import Forbidden, InvalidInput, PayloadTooLarge
from service.persistence.models import Vacancy
from service.vacancies import operations as vacancy_operations
from service.vacancies.schemas import VacancyIn

# Bounds on what a JobPosting may be: real postings are a few KiB; these leave room for generous HTML.
MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_LIST_ITEMS = 200
MAX_STRING_CHARS = 100_000
MAX_NODES = 10_000
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_COMPETENCES = 50
MAX_SKILL_LABEL = 200

SCHEMA_ORG = re.compile(r"^https?://schema\.org/?$", re.IGNORECASE)
_TYPE_PREFIX = re.compile(r"^(?:https?://schema\.org/|schema:)", re.IGNORECASE)
_HANDLED = {
    "@context",
    "@type",
    "@id",
    "title",
    "description",
    "hiringOrganization",
    "jobLocation",
    "employmentType",
    "workHours",
    "validThrough",
    "identifier",
    "occupationalCategory",
    "skills",
    "qualifications",
    "experienceRequirements",
    "educationRequirements",
    "baseSalary",
    "estimatedSalary",
    "totalJobOpenings",
    "industry",
    "responsibilities",
    "name",
}


@dataclass
class MappingReport:
    """What a JobPosting became: fields filled, properties not used, fields the employer should complete."""

    mapped: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    needs_completion: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def map(self, *fields: str) -> None:
        for name in fields:
            if name not in self.mapped:
                self.mapped.append(name)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "mapped": self.mapped,
            "ignored": self.ignored,
            "needs_completion": self.needs_completion,
            "notes": self.notes,
        }


def _reject(reason: str, *, loc: Iterable[str] = (), type_: str = "jobposting") -> NoReturn:
    raise InvalidInput(
        f"Not a usable JobPosting: {reason}",
        errors=[{"loc": ["body", *loc], "msg": reason, "type": type_}],
    )


# ------------------------------------------------------------------------------------------------ parsing
def parse_document(raw: bytes) -> Any:
    """Decode and parse the body as JSON within the bounds above (413 when too large, 422 otherwise)."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"A JobPosting may be at most {MAX_BODY_BYTES // 1024} KiB.")
    if not raw.strip():
        _reject("the body is empty; expected a JSON-LD object", type_="json")
    if b"\x00" in raw:
        _reject("NUL bytes are not allowed", type_="nul")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        _reject("the body is not UTF-8 text", type_="json")
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        _reject(f"the body is not JSON ({reason})", type_="json")
    _check_bounds(document)
    return document


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _check_bounds(document: Any) -> None:
    """Depth, list and string lengths, node count, NUL bytes (``\\u0000`` escapes survive json.loads)."""
    stack: list[tuple[Any, int, str]] = [(document, 0, "")]
    nodes = 0
    while stack:
        value, depth, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            _reject(f"the document has more than {MAX_NODES} values", type_="too_large")
        if depth > MAX_DEPTH:
            _reject(f"the document is nested deeper than {MAX_DEPTH} levels", loc=[path], type_="too_deep")
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                _reject(
                    f"{path or 'a value'} is longer than {MAX_STRING_CHARS} characters",
                    loc=[path],
                    type_="too_long",
                )
            if "\x00" in value:
                _reject(f"{path or 'a value'} contains a NUL byte", loc=[path], type_="nul")
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                _reject(
                    f"{path or 'a list'} has more than {MAX_LIST_ITEMS} items", loc=[path], type_="too_long"
                )
            stack.extend((item, depth + 1, path) for item in value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key or len(key) > 200:
                    _reject("a property name is not acceptable", type_="nul")
                stack.append((item, depth + 1, key))


def _types(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return [_TYPE_PREFIX.sub("", v) for v in values if isinstance(v, str)]


def _is_schema_context(context: Any) -> bool:
    if isinstance(context, str):
        return bool(SCHEMA_ORG.match(context.strip()))
    if isinstance(context, list):
        return any(_is_schema_context(item) for item in context)
    if isinstance(context, dict):
        vocab = context.get("@vocab")
        return (isinstance(vocab, str) and bool(SCHEMA_ORG.match(vocab.strip()))) or any(
            isinstance(v, str) and bool(SCHEMA_ORG.match(v.strip())) for v in context.values()
        )
    return False


def _walk_nodes(value: Any, *, in_context: bool) -> Iterator[tuple[dict[str, Any], bool]]:
    """Top-level nodes of a JSON-LD document (a node, a list, ``@graph``), with their context state."""
    if isinstance(value, list):
        for item in value:
            yield from _walk_nodes(item, in_context=in_context)
    elif isinstance(value, dict):
        has_context = in_context or _is_schema_context(value.get("@context"))
        yield value, has_context
        if "@graph" in value:
            yield from _walk_nodes(value["@graph"], in_context=has_context)


def find_job_posting(document: Any, report: MappingReport) -> dict[str, Any]:
    """The JobPosting node of a document, or a 422 that says why there is none."""
    if not isinstance(document, dict | list):
        _reject("expected a JSON object (JSON-LD), not a JSON " + type(document).__name__, type_="not_jsonld")
    postings: list[tuple[dict[str, Any], bool]] = []
    other_types: list[str] = []
    for node, has_context in _walk_nodes(document, in_context=False):
        types = _types(node)
        if "JobPosting" in types:
            postings.append((node, has_context))
        else:
            other_types.extend(types)
    if not postings:
        if not other_types:
            _reject(
                "no @type found; expected a schema.org JobPosting in JSON-LD",
                loc=["@type"],
                type_="not_jsonld",
            )
        _reject(
            f"@type is {', '.join(sorted(set(other_types)))!s}; expected JobPosting",
            loc=["@type"],
            type_="wrong_type",
        )
    node, has_context = postings[0]
    if not has_context:
        _reject(
            "not JSON-LD: @context naming https://schema.org is missing", loc=["@context"], type_="not_jsonld"
        )
    if len(postings) > 1:
        report.notes.append(f"het document bevat {len(postings)} JobPostings; de eerste is overgenomen")
    return node


# ------------------------------------------------------------------------------------------------ text
class _TextExtractor(HTMLParser):
    """HTML → plain text: blocks become paragraphs, list items and <br> lines, scripts and styles vanish."""

    PARAGRAPHS = frozenset(
        {
            "p",
            "div",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "section",
            "article",
            "header",
            "footer",
            "blockquote",
            "hr",
            "dl",
        }
    )
    LINES = frozenset({"br", "li", "tr", "dd", "dt"})
    SKIP = frozenset({"script", "style", "template", "noscript", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pending = 0  # line breaks asked for since the last text; nested blocks do not pile them up
        self._bullet = False

    def _break(self, newlines: int) -> None:
        self._pending = max(self._pending, newlines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.PARAGRAPHS:
            self._break(2)
        elif tag in self.LINES:
            self._break(1)
            self._bullet = tag == "li"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.LINES or tag in self.PARAGRAPHS:
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.PARAGRAPHS:
            self._break(2)
        elif tag in self.LINES:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if not data.strip():
            if self.parts and not self._pending:
                self.parts.append(" ")
            return
        if self.parts and self._pending:
            self.parts.append("\n" * self._pending)
        self._pending = 0
        if self._bullet:
            self.parts.append("- ")
            self._bullet = False
        self.parts.append(data)


_TAG_LIKE = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*[^<>]*>")


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment: no tags, entities decoded, whitespace tidied (one blank line)."""
    text = value
    # Some sites escape their HTML twice (&lt;p&gt;); a second pass removes the tags that the first revealed.
    for _ in range(2):
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
        if not _TAG_LIKE.search(text):
            break
    text = text.replace("\u00a0", " ").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    tidy: list[str] = []
    for line in lines:
        if line in ("", "-"):
            if tidy and tidy[-1] != "":
                tidy.append("")
            continue
        tidy.append(line)
    return "\n".join(tidy).strip()


def _text(value: Any) -> str:
    """A property's text, whatever its shape (string, number, node with name/value, list)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        for key in ("name", "@value", "value", "description", "text", "credentialCategory"):
            if key in value:
                return _text(value[key])
        return ""
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


# ------------------------------------------------------------------------------------------------ location
_COUNTRIES = {
    "nl": "NL",
    "nld": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "holland": "NL",
    "niederlande": "NL",
    "pays-bas": "NL",
    "koninkrijk der nederlanden": "NL",
    "de": "DE",
    "deu": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "duitsland": "DE",
    "allemagne": "DE",
    "bundesrepublik deutschland": "DE",
    "federal republic of germany": "DE",
}


def _country(value: Any) -> tuple[str | None, str]:
    """(NL|DE|None, the text as given). Accepts codes, names in several languages and Country nodes."""
    if isinstance(value, dict):
        raw = _text(value.get("identifier")) or _text(value.get("name")) or _text(value)
    else:
        raw = _text(value)
    return _COUNTRIES.get(" ".join(raw.lower().split())), raw.strip()


@cache
def _place_postcodes(country: str) -> dict[str, str]:
    """Place name (folded) → the postcode nearest the place's centre, from the gazetteer in data/geo."""
    path = resources.files("data").joinpath(f"geo/postcodes_{country.lower()}.csv")
    by_place: dict[str, list[tuple[str, float, float]]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for postcode, lat, lon, place, _municipality, _code in reader:
            by_place.setdefault(_fold(place), []).append((postcode, float(lat), float(lon)))
    result: dict[str, str] = {}
    for place, rows in by_place.items():
        lat = sum(r[1] for r in rows) / len(rows)
        lon = sum(r[2] for r in rows) / len(rows)
        result[place] = min(rows, key=lambda r: ((r[1] - lat) ** 2 + (r[2] - lon) ** 2, r[0]))[0]
    return result


@dataclass(frozen=True)
class _Location:
    postcode: str
    country: str
    city: str | None
    derived_from_place: bool


_NL_IN_TEXT = re.compile(r"\b([1-9]\d{3}\s?[A-Z]{2})\b")
_DE_IN_TEXT = re.compile(r"\b(\d{5})\b")


def _location_of(place: Any, index: int) -> _Location | str:
    """One jobLocation entry → a location, or the reason it is not usable."""
    where = f"jobLocation[{index}]"
    address = place.get("address") if isinstance(place, dict) else None
    if address is None and isinstance(place, dict) and "PostalAddress" in _types(place):
        address = place
    if isinstance(address, list):
        address = address[0] if address else None
    if isinstance(address, str):
        # An address written as one line: take a postcode out of it.
        nl = _NL_IN_TEXT.search(address.upper())
        de = _DE_IN_TEXT.search(address)
        address = {"postalCode": nl.group(1)} if nl else ({"postalCode": de.group(1)} if de else {})
    if not isinstance(address, dict):
        return f"{where} has no PostalAddress"
    country, country_text = _country(address.get("addressCountry"))
    postal = _text(address.get("postalCode")).strip()
    locality = html_to_text(_text(address.get("addressLocality"))) or None
    if country is None and country_text:
        return f"{where}: addressCountry {country_text[:60]!r} is not the Netherlands or Germany"
    if country is None and postal:
        # No country given: the postcode's shape tells (1234 AB is Dutch, five digits German).
        country = (
            "NL" if normalise_postcode(postal, "NL") else ("DE" if normalise_postcode(postal, "DE") else None)
        )
    if postal:
        if country is None:
            return f"{where}: postalCode {postal[:20]!r} is neither a Dutch nor a German postcode"
        canonical = normalise_postcode(postal, country)
        if canonical is None:
            return f"{where}: postalCode {postal[:20]!r} is not a valid {country} postcode"
        found = locate(canonical, country)
        if found is None:
            return f"{where}: postalCode {canonical} is unknown in {country}"
        return _Location(canonical, country, locality or found.place, derived_from_place=False)
    if locality:
        for cc in [country] if country else ["NL", "DE"]:
            postcode = _place_postcodes(cc).get(_fold(locality))
            if postcode:
                return _Location(postcode, cc, locality, derived_from_place=True)
        return f"{where}: no postalCode, and place {locality[:60]!r} is unknown"
    return f"{where} has neither postalCode nor addressLocality"


def _map_location(posting: dict[str, Any], payload: dict[str, Any], report: MappingReport) -> None:
    places = _as_list(posting.get("jobLocation"))
    if not places:
        kind = _text(posting.get("jobLocationType")).upper()
        hint = (
            " (remote work, TELECOMMUTE, is not supported: a vacancy needs a place)"
            if "TELECOMMUTE" in kind
            else ""
        )
        _reject(f"jobLocation is missing{hint}", loc=["jobLocation"], type_="no_location")
    reasons: list[str] = []
    chosen: _Location | None = None
    for index, place in enumerate(places):
        result = _location_of(place, index)
        if isinstance(result, _Location):
            chosen = result
            if len(places) > 1:
                report.notes.append(
                    f"jobLocation: {len(places)} locaties; de eerste in NL/DE ({result.postcode}) overgenomen"
                )
            break
        reasons.append(result)
    if chosen is None:
        _reject("; ".join(reasons)[:500], loc=["jobLocation"], type_="no_location")
    payload.update(postcode=chosen.postcode, country=chosen.country)
    if chosen.city:
        payload["city"] = _truncate(chosen.city, 100)
    report.map("postcode", "country", "city")
    if chosen.derived_from_place:
        report.needs_completion.append(
            f"postcode: afgeleid uit de plaatsnaam {chosen.city} ({chosen.postcode}); vul de postcode aan"
        )


# ------------------------------------------------------------------------------------------ contract/hours
_EMPLOYMENT = {
    "FULL_TIME": ("full", None),
    "FULLTIME": ("full", None),
    "VOLLZEIT": ("full", None),
    "VOLTIJD": ("full", None),
    "PART_TIME": ("part", None),
    "PARTTIME": ("part", None),
    "TEILZEIT": ("part", None),
    "DEELTIJD": ("part", None),
    "TEMPORARY": (None, "temporary"),
    "TIJDELIJK": (None, "temporary"),
    "BEFRISTET": (None, "temporary"),
    "SEASONAL": (None, "temporary"),
    "CONTRACTOR": (None, "flex"),
    "PER_DIEM": (None, "flex"),
    "UITZEND": (None, "flex"),
    "FLEX": (None, "flex"),
    "ZEITARBEIT": (None, "flex"),
    "OPROEP": (None, "flex"),
    "MINIJOB": (None, "flex"),
    "INTERN": (None, "internship"),
    "INTERNSHIP": (None, "internship"),
    "STAGE": (None, "internship"),
    "PRAKTIKUM": (None, "internship"),
    "APPRENTICESHIP": (None, "apprenticeship"),
    "AUSBILDUNG": (None, "apprenticeship"),
    "BBL": (None, "apprenticeship"),
    "LEERWERKPLEK": (None, "apprenticeship"),
    "PERMANENT": (None, "permanent"),
    "VAST": (None, "permanent"),
    "FESTANSTELLUNG": (None, "permanent"),
    "UNBEFRISTET": (None, "permanent"),
}
# When several contract forms are named, the most specific one wins (an internship is also "temporary").
_CONTRACT_ORDER = ("internship", "apprenticeship", "temporary", "flex", "permanent")
_HOURS_DEFAULT = {"full": (36, 40), "part": (16, 32)}

_RANGE = re.compile(
    r"(?<![\d:.,])(\d{1,2})(?:[.,]\d+)?\s*(?:-|–|—|tot|bis|to|à|a)\s*(\d{1,2})(?:[.,]\d+)?(?![\d:])"
    r"(?=\s*(?:uur|u\b|uren|stunden|std|hours?|h\b|hrs|per|pro|/|$))",
    re.IGNORECASE,
)
_SINGLE = re.compile(
    r"(?<![\d:.,])(\d{1,2})(?:[.,]\d+)?\s*(?:uur|uren|stunden|std\.?|hours?|hrs|h)\b", re.IGNORECASE
)


def parse_hours(text: str) -> tuple[int, int] | None:
    """Hours per week in "32-40 uur per week", "38 Stunden", "24 tot 32 uur"; None if not stated."""
    match = _RANGE.search(text)
    if match:
        low, high = sorted((int(match.group(1)), int(match.group(2))))
    else:
        single = _SINGLE.search(text)
        if not single:
            return None
        low = high = int(single.group(1))
    if high > 48 or high == 0:
        return None
    return low, high


def _map_contract_hours(
    posting: dict[str, Any], description: str, payload: dict[str, Any], report: MappingReport
) -> None:
    kinds: set[str] = set()
    contracts: set[str] = set()
    for value in _as_list(posting.get("employmentType")):
        for token in re.split(r"[,;/|]", _text(value)):
            key = re.sub(r"[\s-]+", "_", token.strip().upper())
            if not key:
                continue
            kind, contract = _EMPLOYMENT.get(key) or _EMPLOYMENT.get(key.replace("_", ""), (None, None))
            if kind is None and contract is None:
                report.ignored.append(
                    f"employmentType {token.strip()[:40]!r}: geen contractvorm in werkmatch"
                )
            if kind:
                kinds.add(kind)
            if contract:
                contracts.add(contract)
    work_hours = html_to_text(_text(posting.get("workHours")))
    for word, kind in (
        ("fulltime", "full"),
        ("voltijd", "full"),
        ("vollzeit", "full"),
        ("parttime", "part"),
        ("deeltijd", "part"),
        ("teilzeit", "part"),
    ):
        if word in _fold(work_hours):
            kinds.add(kind)
    if contracts:
        payload["contract"] = next(c for c in _CONTRACT_ORDER if c in contracts)
        report.map("contract")
    else:
        report.needs_completion.append("contract: geen contractvorm opgegeven (aangenomen: permanent)")
    hours = parse_hours(work_hours) if work_hours else None
    source = "workHours"
    if hours is None and description:
        hours = parse_hours(description)
        source = "de omschrijving"
    if hours is None and kinds:
        lows, highs = zip(*(_HOURS_DEFAULT[k] for k in sorted(kinds)), strict=True)
        hours = (min(lows), max(highs))
        source = "employmentType"
        report.notes.append(
            f"uren {hours[0]}-{hours[1]} afgeleid uit employmentType; vul de werkelijke uren aan"
        )
    if hours is None:
        if work_hours:
            report.ignored.append(f"workHours {work_hours[:60]!r}: geen uren per week herkend")
        report.needs_completion.append("hours_min/hours_max: geen uren per week opgegeven")
        return
    payload["hours_min"], payload["hours_max"] = hours
    report.map("hours_min", "hours_max")
    if source == "de omschrijving":
        report.notes.append(f"uren {hours[0]}-{hours[1]} gevonden in de omschrijving")


# ------------------------------------------------------------------------------------------------ languages
_LANGUAGE_WORDS = {
    "nl": r"nederlands\w*|nt2|dutch|niederl[aä]ndisch\w*",
    "de": r"deutsch(?!land)\w*|duits\w*|german\b",
    "en": r"engels\w*|englisch\w*|english",
}
_COORDINATION = re.compile(r"[\s,/-]*(?:und|en|and|oder|of|or|&)?[\s,/-]*", re.IGNORECASE)
_LEVEL = re.compile(r"\b([1-4])\s?F\b|\b([ABC][12])\b", re.IGNORECASE)
# Words for a level when no level is stated. Order matters: "sehr gut" before "gut".
_ADJECTIVES = (
    (re.compile(r"muttersprach|moedertaal|native", re.I), "C1"),
    (
        re.compile(r"verhandlungssicher|vloeiend|fluent|flie(?:ss|ß)end|uitstekend|excellent|perfect", re.I),
        "B2",
    ),
    (re.compile(r"sehr gute?|zeer goed|very good", re.I), "B2"),
    (re.compile(r"\bgute?n?\b|\bgoed|\bgood\b|sichere?", re.I), "B1"),
    (re.compile(r"grundkenntnis|basiskennis|basic|eenvoudig|redelijk", re.I), "A2"),
)


def infer_languages(text: str) -> dict[str, tuple[str, str]]:
    """Minimum language levels stated in text: {lang: (level, the words it came from)}.

    A level written next to the language ("Nederlands op B1-niveau", "Deutsch (mind. B2)", "taalniveau 2F"
    next to Nederlands) wins; otherwise a qualifying word in the same sentence ("gute Deutschkenntnisse",
    "goede beheersing van de Nederlandse taal") gives a conventional level. A word only counts for the
    language it stands next to: the window around a language ends where the next language is named.
    """
    explicit: dict[str, tuple[str, str]] = {}
    implied: dict[str, tuple[str, str]] = {}
    any_language = re.compile(
        "|".join(f"(?P<{lang}>{words})" for lang, words in _LANGUAGE_WORDS.items()), re.IGNORECASE
    )
    # Sentences end at . ! ? before a capitalised word ("mind. B2" is not an end), at ; and at line breaks.
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ][a-zäöüß])|;|\n+", text):
        matches = list(any_language.finditer(sentence))
        befores: list[str] = []
        for i, match in enumerate(matches):
            lang = match.lastgroup or ""
            before = sentence[max(matches[i - 1].end() if i else 0, match.start() - 50) : match.start()]
            if i and _COORDINATION.fullmatch(before):
                before = befores[-1]  # "gute Deutsch- und Englischkenntnisse": the adjective is shared
            befores.append(before)
            after = sentence[
                match.end() : min(
                    matches[i + 1].start() if i + 1 < len(matches) else len(sentence), match.end() + 50
                )
            ]
            words = (before + match.group(0) + after).strip()
            # A level usually follows the language ("Deutsch B2"); an adjective precedes it.
            for part in (after, before):
                level = _LEVEL.search(part)
                if level and lang not in explicit:
                    value = f"{level.group(1)}F" if level.group(1) else level.group(2).upper()
                    if lang == "nl" or not value.endswith("F"):
                        explicit[lang] = (value, words)
            if lang not in implied:
                for part in (before + match.group(0), after):
                    hit = next((value for adjective, value in _ADJECTIVES if adjective.search(part)), None)
                    if hit:
                        implied[lang] = (hit, words)
                        break
    return {
        lang: explicit.get(lang) or implied[lang]
        for lang in _LANGUAGE_WORDS
        if lang in explicit or lang in implied
    }


_REQUIREMENT_CUES = re.compile(
    r"vragen wij|wat vragen|wij vragen|je hebt|heb je|jouw profiel|wie ben jij|wie zoeken|vereist|vereisten|"
    r"functie-?eisen|in het bezit|beschik|ihr profil|wir erwarten|was sie mitbringen|sie haben|sie bringen|"
    r"voraussetzung|anforderung|erforderlich|requirements|required|you have|must have|qualifications",
    re.IGNORECASE,
)
_OTHER_SECTION_CUES = re.compile(
    r"wij bieden|wat bieden|wat ga je doen|wat je gaat doen|jouw taken|werkzaamheden|over ons|wir bieten|"
    r"ihre aufgaben|deine aufgaben|über uns|we offer|what you will do|responsibilities|arbeitsbedingungen",
    re.IGNORECASE,
)


_PREFERENCE_CUES = re.compile(
    r"pr[eé]\b|bij voorkeur|gewenst|is een plus|von vorteil|w[uü]nschenswert|idealerweise|nice to have|"
    r"preferred|is a plus",
    re.IGNORECASE,
)


def requirement_lines(description: str) -> tuple[str, str]:
    """Split a description into (the requirements it states, the rest).

    Requirements are the lines under a heading like "Wat vragen wij?" / "Ihr Profil" (its bullets, up to the
    next plain line) and any sentence that itself says so ("Je hebt VCA", "Voraussetzung: ..."). Lines that
    only prefer something ("is een pré", "von Vorteil") are not requirements.
    """
    required: list[str] = []
    rest: list[str] = []
    in_section = False
    seen_bullet = False
    for line in description.splitlines():
        bullet = line.startswith("- ")
        if not bullet and line:
            if _REQUIREMENT_CUES.search(line) and not _OTHER_SECTION_CUES.search(line):
                # A heading opens a section; a long sentence counts on its own.
                in_section, seen_bullet = len(line) < 80, False
                (rest if _PREFERENCE_CUES.search(line) else required).append(line)
                continue
            if seen_bullet or _OTHER_SECTION_CUES.search(line):
                in_section = False
        seen_bullet = seen_bullet or bullet
        if in_section and line and not _PREFERENCE_CUES.search(line):
            required.append(line)
        else:
            rest.append(line)
    return "\n".join(required), "\n".join(rest)


# ------------------------------------------------------------------------------------------------ education
_EDUCATION_ORDER = ("none", "vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo_vwo", "hbo", "wo")
_EDUCATION_PATTERNS = (
    (re.compile(r"\bmbo[\s-]*(?:niveau|level|n)?[\s-]*([1-4])\b", re.I), None),
    (re.compile(r"\bniveau[\s-]*([1-4])\b", re.I), None),
    (re.compile(r"\bmbo\b", re.I), "mbo1"),
    (re.compile(r"\bvmbo\b|hauptschul|realschul|mittlere[n]? reife|\bmavo\b", re.I), "vmbo"),
    (re.compile(r"\bhavo\b|\bvwo\b|\babitur|fachhochschulreife|high school", re.I), "havo_vwo"),
    (
        re.compile(r"berufsausbildung|abgeschlossene[n]? ausbildung|gesellenbrief|associate degree", re.I),
        "mbo3",
    ),
    (
        re.compile(r"\bhbo\b|bachelor|fachhochschul(?!reife)|hogeschool|\bstudium|hochschulabschluss", re.I),
        "hbo",
    ),
    (re.compile(r"\bwo\b|universit|\bmaster|postgraduate", re.I), "wo"),
)


def infer_education(text: str) -> tuple[str, str] | None:
    """The lowest education level a text asks for, and the words it came from ("mbo 2 of 3" → mbo2)."""
    levels: list[tuple[int, str, str]] = []
    for pattern, level in _EDUCATION_PATTERNS:
        for match in pattern.finditer(text):
            value = level or f"mbo{match.group(1)}"
            levels.append((_EDUCATION_ORDER.index(value), value, match.group(0)))
        if levels and level is None:
            break  # an explicit mbo level makes the bare "mbo" pattern redundant
    if not levels:
        return None
    _, value, words = min(levels)
    return value, words


# -------------------------------------------------------------------------------------------- requirements
_CERTIFICATES = (
    (re.compile(r"\bvca[\s-]*vol\b|\bvol[\s-]*vca\b", re.I), "VCA-VOL"),
    (re.compile(r"\bvca\b(?![\s-]*vol)|\bb[\s-]*vca\b|\bsccvca\b", re.I), "VCA-basis"),
    (
        re.compile(
            r"heftruck(?:certificaat|diploma|rijbewijs)?|gabelstapler(?:schein)?|staplerschein|forklift", re.I
        ),
        "heftruck",
    ),
    (re.compile(r"reachtruck|schubmaststapler", re.I), "reachtruck"),
    (re.compile(r"\bcode[\s-]*95\b|berufskraftfahrerqualifikation|\bbkf\b", re.I), "code 95"),
    (re.compile(r"\bvog\b|verklaring omtrent (?:het )?gedrag|f[uü]hrungszeugnis", re.I), "VOG"),
    (re.compile(r"\bbhv\b|bedrijfshulpverlening", re.I), "BHV"),
    (re.compile(r"\behbo\b|ersthelfer|erste[- ]hilfe", re.I), "EHBO"),
    (re.compile(r"\bhaccp\b", re.I), "HACCP"),
)
# The certificates that are requirements (not merely mentioned as something the job involves) are those
# named in a requirements property; in the description only clear requirement words count.
_LICENCE_CLASSES = ("AM", "BE", "B", "C1", "CE", "C", "D")
_LICENCE_NEAR = re.compile(
    r"(?i:rijbewijs|f[uü]hrerschein|fahrerlaubnis|driv(?:ing|er'?s) licen[cs]e)"
    r"\s*(?i:klasse|class|categorie)?\s*"
    r"((?:(?:AM|BE|B|C1|CE|C|D)\b[\s/,+&en]*)+)"
)
_LICENCE_BEFORE = re.compile(r"\b(AM|BE|B|C1|CE|C|D)[\s-](?i:rijbewijs|f[uü]hrerschein)")


def find_certificates(text: str) -> list[str]:
    """Certificates named in text, as the labels the certificates factor normalises."""
    return [label for pattern, label in _CERTIFICATES if pattern.search(text)]


_CERTIFICATE_WORDS = re.compile(r"certificaat|diploma|schein|zertifikat|certificate|bewijs|nachweis", re.I)


def certificate_label(label: str) -> str | None:
    """The certificate a skills entry names, when the entry is a certificate rather than a competence.

    "VCA", "heftruckcertificaat", "Staplerschein" are certificates; "heftruck rijden" is a competence.
    """
    found = find_certificates(label)
    if not found:
        return None
    bare = re.sub(r"[^0-9a-z]+", "", _fold(label))
    if bare in {
        "vca",
        "vcabasis",
        "bvca",
        "vcavol",
        "heftruck",
        "reachtruck",
        "code95",
        "vog",
        "bhv",
        "ehbo",
        "haccp",
    } or _CERTIFICATE_WORDS.search(label):
        return found[0]
    return None


def find_licences(text: str) -> list[str]:
    """Driving licence classes named in text ("rijbewijs B", "Führerschein Klasse CE", "C-rijbewijs")."""
    found: list[str] = []
    for match in _LICENCE_NEAR.finditer(text):
        for token in re.findall(r"AM|BE|C1|CE|B|C|D", match.group(1)):
            if token not in found:
                found.append(token)
    for match in _LICENCE_BEFORE.finditer(text):
        if match.group(1) not in found:
            found.append(match.group(1))
    return [c for c in _LICENCE_CLASSES if c in found]


_SPLIT_SKILLS = re.compile(r"[;\n•·|]|,(?![^(]*\))")
_BULLET = re.compile(r"^[\s\-–*•·>]+|[\s.:]+$")


def split_skill_labels(value: Any) -> list[str]:
    """Skill labels of ``skills``: a list, a comma/semicolon/bullet separated string, DefinedTerms."""
    labels: list[str] = []
    for item in _as_list(value):
        text = html_to_text(_text(item))
        for part in _SPLIT_SKILLS.split(text):
            label = _BULLET.sub("", part).strip()
            if 2 <= len(label) <= MAX_SKILL_LABEL and label not in labels:
                labels.append(label)
    return labels


@cache
def _language_skill_uris() -> frozenset[str]:
    """ESCO's language skills ("Nederlands", "Duits"): levels go to languages_required instead."""
    taxonomy = load_taxonomy()
    labels = (
        "Nederlands",
        "Duits",
        "Engels",
        "Deutsch",
        "Englisch",
        "Niederländisch",
        "Dutch",
        "German",
        "English",
    )
    return frozenset(
        c.uri for c in (taxonomy.resolve_skill(code=None, label=x) for x in labels) if c.kind == "skill"
    )


def _concept_key(concept: dict[str, Any]) -> str:
    return concept.get("code") or "text:" + _fold(concept["label"])


def _add(target: list[dict[str, Any]], seen: set[str], concept: dict[str, Any]) -> None:
    key = _concept_key(concept)
    if key not in seen:
        seen.add(key)
        target.append(concept)


# ------------------------------------------------------------------------------------------------ sector
_SECTOR_BY_ISCO = (
    ("2221", "zorg"),
    ("2222", "zorg"),
    ("221", "zorg"),
    ("226", "zorg"),
    ("2635", "zorg"),
    ("322", "zorg"),
    ("325", "zorg"),
    ("3412", "zorg"),
    ("532", "zorg"),
    ("5311", "zorg"),
    ("25", "ict"),
    ("35", "ict"),
    ("432", "logistiek"),
    ("832", "logistiek"),
    ("833", "logistiek"),
    ("8344", "logistiek"),
    ("933", "logistiek"),
    ("9621", "logistiek"),
    ("71", "bouw"),
    ("931", "bouw"),
    ("2142", "bouw"),
    ("31", "techniek"),
    ("72", "techniek"),
    ("74", "techniek"),
    ("214", "techniek"),
    ("215", "techniek"),
    ("81", "productie"),
    ("82", "productie"),
    ("75", "productie"),
    ("932", "productie"),
    ("512", "horeca"),
    ("513", "horeca"),
    ("94", "horeca"),
    ("141", "horeca"),
    ("52", "detailhandel"),
    ("142", "detailhandel"),
    ("911", "schoonmaak"),
    ("912", "schoonmaak"),
    ("515", "schoonmaak"),
)
_SECTOR_WORDS = (
    ("schoonmaak", r"schoonma|reinig|cleaning|huishoudelijk|geb[aä]udereinig|raumpfleg"),
    ("zorg", r"zorg|verpleeg|verzorg|pflege|kranken|thuiszorg|gesundheit|care\b|nurse|begeleider"),
    (
        "ict",
        r"developer|ontwikkelaar|software|\bict\b|\bit[- ]|systeembeheer|servicedesk|informatik|programm",
    ),
    (
        "logistiek",
        r"magazijn|logisti|orderpick|heftruck|chauffeur|\blager|kommission|fahrer|stapler|warehouse"
        r"|expeditie|transport|bezorg",
    ),
    ("horeca", r"\bkok\b|horeca|bediening|keuken|\bkoch|k[uü]che|gastro|hotel|restaurant|barista|kellner"),
    ("detailhandel", r"verkoop|winkel|kassa|verk[aä]ufer|einzelhandel|filiaal|retail|supermarkt"),
    ("bouw", r"\bbouw|timmer|metsel|\bbau|maurer|zimmerer|stukad|dakdek|dachdeck"),
    ("productie", r"productie|operator|produktion|inpak|verpack|maschinenbedien|assembl|montage"),
    (
        "techniek",
        r"monteur|technic|techniek|elektr|installat|mechani|onderhoud|techniker|schwei|lasser"
        r"|mechatron",
    ),
)


def _sector_from_isco(code: str | None) -> str | None:
    if not code:
        return None
    for prefix, sector in sorted(_SECTOR_BY_ISCO, key=lambda item: -len(item[0])):
        if code.startswith(prefix):
            return sector
    return None


def _sector_from_words(text: str) -> str | None:
    folded = _fold(text)
    for sector, words in _SECTOR_WORDS:
        if re.search(words, folded):
            return sector
    return None


# ------------------------------------------------------------------------------------------------ mapping
_SAFE_REF = re.compile(r"[^A-Za-z0-9._:\-/]+")


def external_ref_from(identifier: Any) -> str | None:
    """A stable external_ref from ``identifier`` (PropertyValue, string, number), stable."""
    value = identifier
    if isinstance(identifier, dict):
        value = identifier.get("value", identifier.get("@value", identifier.get("name")))
    text = _text(value).strip()
    if not text:
        return None
    ref = _SAFE_REF.sub("-", text).strip("-")
    if not ref:
        ref = "jp"
    if len(ref) > 64 or ref != text:
        # Characters the API's references do not allow, or too long: keep it readable and unique by a digest.
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        ref = f"{ref[:51]}-{digest}"
    return ref


def _parse_date(value: Any) -> date | None:
    text = _text(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None


def _occupation(
    posting: dict[str, Any], title: str, report: MappingReport
) -> tuple[dict[str, Any] | None, str]:
    """(occupation concept, how it was found). An ISCO code or ESCO URI in occupationalCategory wins."""
    taxonomy = load_taxonomy()
    for category in _as_list(posting.get("occupationalCategory")):
        code = ""
        label = ""
        if isinstance(category, dict):
            code = _text(category.get("codeValue") or category.get("identifier") or category.get("@id"))
            label = _text(category.get("name"))
        else:
            text = _text(category).strip()
            match = re.match(r"^\s*((?:https?://\S+)|(?:\d{1,2}\.?\d{2}(?:\.\d+)?))\s*[-:–]?\s*(.*)$", text)
            if match:
                code, label = match.group(1), match.group(2)
            else:
                label = text
        code = code.replace(".", "") if code and not code.startswith("http") else code
        concept = taxonomy.resolve_occupation(code=code or None, label=label or title)
        if concept.kind != "text":
            return {
                "code": concept.uri,
                "label": _truncate(label or concept.label, 200),
            }, "occupationalCategory"
        if label:
            return {"label": _truncate(label, 200)}, "occupationalCategory (label)"
    concept = taxonomy.resolve_occupation(code=None, label=title)
    if concept.kind != "text":
        return {"code": concept.uri, "label": _truncate(concept.label, 200)}, "title"
    return None, ""


def map_job_posting(posting: dict[str, Any], report: MappingReport) -> dict[str, Any]:
    """Map a JobPosting node to a vacancy payload (VacancyIn-shaped); fills ``report`` along the way."""
    taxonomy = load_taxonomy()
    payload: dict[str, Any] = {}

    title = _truncate(html_to_text(_text(posting.get("title") or posting.get("name"))), MAX_TITLE)
    if not title:
        _reject("title is missing", loc=["title"], type_="missing")
    payload["title"] = title
    report.map("title")

    description = html_to_text(_text(posting.get("description")))
    if description:
        if len(description) > MAX_DESCRIPTION:
            report.notes.append(f"description ingekort tot {MAX_DESCRIPTION} tekens")
        payload["description"] = _truncate(description, MAX_DESCRIPTION)
        report.map("description")
    else:
        report.needs_completion.append("description: geen omschrijving")

    _map_location(posting, payload, report)

    ref = external_ref_from(posting.get("identifier"))
    if ref:
        payload["external_ref"] = ref
        report.map("external_ref")
    else:
        report.notes.append(
            "geen identifier: elke POST maakt een nieuwe vacature (met identifier: bijwerken)"
        )

    closes = _parse_date(posting.get("validThrough"))
    if closes:
        payload["closes_at"] = closes.isoformat()
        report.map("closes_at")
    elif posting.get("validThrough") is not None:
        report.ignored.append("validThrough: geen geldige datum")

    _map_contract_hours(posting, description, payload, report)

    openings = posting.get("totalJobOpenings")
    if isinstance(openings, int | str) and str(openings).strip().isdigit() and 1 <= int(openings) <= 1000:
        payload["positions"] = int(openings)
        report.map("positions")

    stated, running_text = requirement_lines(description)
    requirements = "\n".join(
        [
            html_to_text(_text(posting.get(name)))
            for name in ("qualifications", "educationRequirements", "experienceRequirements")
            if posting.get(name)
        ]
        + [stated]
    )
    skill_labels = split_skill_labels(posting.get("skills"))
    responsibilities = html_to_text(_text(posting.get("responsibilities")))

    # Occupation and sector.
    occupation, occupation_source = _occupation(posting, title, report)
    if occupation:
        payload["occupation"] = occupation
        report.map("occupation")
        if occupation_source == "title":
            report.notes.append(f"beroep {occupation['label']!r} herkend in de titel")
    else:
        report.needs_completion.append(
            "occupation: geen beroep herkend (geef occupationalCategory, ISCO-code)"
        )
    isco = None
    if occupation and occupation.get("code"):
        isco = taxonomy.isco_code(occupation["code"]) or (
            occupation["code"].rsplit("C", 1)[-1] if "/isco/" in occupation["code"] else None
        )
    sector = (
        _sector_from_words(_text(posting.get("industry")))
        or (_sector_from_isco(isco) if occupation_source.startswith("occupationalCategory") else None)
        or _sector_from_words(title)
        or _sector_from_isco(isco)
        or _sector_from_words(description)
    )
    if sector:
        payload["sector"] = sector
        report.map("sector")
    else:
        payload["sector"] = "overig"
        report.needs_completion.append("sector: niet herkend (aangenomen: overig)")

    # Competences: the employer's own skills list and what the requirements state are required; skills found
    # elsewhere in the description are desired (a mention in running text is weaker evidence).
    # Languages are levels, not competences, and certificates and licences have their own fields.
    required: list[dict[str, Any]] = []
    desired: list[dict[str, Any]] = []
    seen: set[str] = set(_language_skill_uris())
    certificates: list[str] = []
    for label in skill_labels:
        certificate = certificate_label(label)
        if certificate:
            if certificate not in certificates:
                certificates.append(certificate)
            continue
        if find_licences(label):
            continue
        concept = taxonomy.resolve_skill(code=None, label=label)
        _add(
            required,
            seen,
            {"code": concept.uri, "label": label} if concept.kind == "skill" else {"label": label},
        )
    for concept in taxonomy.extract_skills(requirements):
        _add(required, seen, {"code": concept.uri, "label": concept.label})
    for concept in taxonomy.extract_skills(title + "\n" + running_text + "\n" + responsibilities):
        _add(desired, seen, {"code": concept.uri, "label": concept.label})
    if len(required) > MAX_COMPETENCES or len(desired) > MAX_COMPETENCES:
        report.notes.append(
            f"meer dan {MAX_COMPETENCES} competenties: de eerste {MAX_COMPETENCES} zijn overgenomen"
        )
    payload["competences_required"] = required[:MAX_COMPETENCES]
    payload["competences_desired"] = desired[:MAX_COMPETENCES]
    if required:
        report.map("competences_required")
    if desired:
        report.map("competences_desired")
    if not required:
        report.needs_completion.append(
            "competences_required: geen vereiste competenties herkend (geef skills)"
        )
    coded = sum(1 for c in required + desired if c.get("code"))
    report.notes.append(f"{coded} van {len(required) + len(desired)} competenties gekoppeld aan ESCO")

    certificates.extend(c for c in find_certificates(requirements) if c not in certificates)
    if certificates:
        payload["certificates_required"] = certificates[:30]
        report.map("certificates_required")
    licences = find_licences(requirements + "\n" + "\n".join(skill_labels))
    if licences:
        payload["driving_licences_required"] = licences
        report.map("driving_licences_required")

    # Education: the educationRequirements property, else qualifications, else the stated requirements.
    education = None
    for name in ("educationRequirements", "qualifications"):
        if posting.get(name):
            education = infer_education(html_to_text(_text(posting.get(name))))
            if education:
                break
    if education is None and stated:
        education = infer_education(stated)
        if education:
            report.notes.append(
                f"opleidingsniveau {education[0]} afgeleid uit de omschrijving ({education[1]!r})"
            )
    if education:
        report.map("education_level_min")
        if education[0] != "none":
            payload["education_level_min"] = education[0]
        if education[1].strip().lower() == "mbo":
            report.needs_completion.append("education_level_min: mbo zonder niveau (aangenomen: mbo1)")
    elif posting.get("educationRequirements"):
        report.ignored.append("educationRequirements: geen opleidingsniveau herkend")

    # Languages: anywhere in the text (a level is a requirement wherever it is written).
    languages = infer_languages("\n".join([description, requirements, "\n".join(skill_labels)]))
    if languages:
        payload["languages_required"] = {lang: level for lang, (level, _words) in languages.items()}
        report.map("languages_required")
        for lang, (level, words) in sorted(languages.items()):
            report.notes.append(f"languages_required.{lang}: {level} (uit {_truncate(words, 80)!r})")
    else:
        report.needs_completion.append("languages_required: geen taalniveau opgegeven")
    if payload.get("country") == "DE" and "de" not in languages:
        report.needs_completion.append("languages_required.de: vacature in Duitsland zonder niveau Duits")

    # Properties werkmatch does not store.
    if posting.get("baseSalary") is not None or posting.get("estimatedSalary") is not None:
        report.ignored.append("baseSalary: salaris wordt niet opgeslagen (geen matchingfactor)")
    organization = _text(posting.get("hiringOrganization"))
    if organization:
        report.ignored.append(
            f"hiringOrganization ({_truncate(organization, 60)}): de werkgever volgt uit de API-sleutel"
        )
    if posting.get("experienceRequirements"):
        report.ignored.append(
            "experienceRequirements: geen veld voor ervaringseisen (alleen competenties gelezen)"
        )
    for key in sorted(posting):
        if key not in _HANDLED and not key.startswith("@"):
            report.ignored.append(f"{key[:60]}: niet gebruikt")
    return payload


# ------------------------------------------------------------------------------------------------ use case
def _validated(payload: dict[str, Any]) -> VacancyIn:
    try:
        return VacancyIn.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {"loc": ["vacancy", *(str(p) for p in e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'][1:])}: {e['msg']}" for e in errors)[:500]
        raise InvalidInput(f"The JobPosting maps to an invalid vacancy: {detail}", errors=errors) from exc


def post_job_posting(
    session: Session, principal: Principal, raw: bytes
) -> tuple[Vacancy, bool, MappingReport]:
    """Create (or, with an identifier, idempotently update) the caller's vacancy from a JobPosting body.

    Returns (vacancy, created, report). A document werkmatch cannot use is a 422 naming the reason.
    """
    if principal.role is not Role.EMPLOYER or principal.employer_id is None:
        raise Forbidden("Only employer keys post vacancies.")
    report = MappingReport()
    posting = find_job_posting(parse_document(raw), report)
    payload = map_job_posting(posting, report)
    data = _validated(payload)
    if data.external_ref:
        vacancy, created = vacancy_operations.upsert_vacancy_by_ref(
            session, principal, data.external_ref, data
        )
    else:
        vacancy, created = vacancy_operations.create_vacancy(session, principal, data), True
    return vacancy, created, report

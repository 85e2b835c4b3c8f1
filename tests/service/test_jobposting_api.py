"""POST /api/v1/vacancies/jobposting: real-world shaped JobPostings in, vacancies and a mapping report out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.interop.jobposting import html_to_text, infer_education, infer_languages, parse_hours

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jobposting"
URL = "/api/v1/vacancies/jobposting"


def fixture(name: str) -> dict[str, Any] | list[Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def post(client, key, body: Any, *, content_type: str = "application/ld+json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, content=raw, headers={**key.headers, "Content-Type": content_type})


def posting(**over: Any) -> dict[str, Any]:
    """A small valid JobPosting (keyword overrides replace properties; None removes one)."""
    body: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": "Magazijnmedewerker",
        "description": "<p>Je verzamelt orders.</p>",
        "identifier": "MW-1",
        "jobLocation": {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "postalCode": "7602 KR", "addressCountry": "NL"},
        },
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


class TestRealWorldPostings:
    @pytest.mark.parametrize(
        ("name", "expect"),
        [
            pytest.param(
                "nl_magazijn_graph.json",
                {
                    "postcode": "7602 KR",
                    "country": "NL",
                    "hours_min": 32,
                    "hours_max": 40,
                    "sector": "logistiek",
                    "education_level_min": "mbo2",
                    "languages_required": {"nl": "B1"},
                    "certificates_required": ["VCA-basis"],
                    "external_ref": "LXL-2026-0142",
                    "closes_at": "2027-01-31",
                    "contract": "permanent",
                },
                id="nl-graph-propertyvalue-html-lists",
            ),
            pytest.param(
                "de_lager_list_types.json",
                {
                    "postcode": "48599",
                    "country": "DE",
                    "hours_min": 38,
                    "hours_max": 38,
                    "contract": "temporary",
                    "sector": "logistiek",
                    "languages_required": {"de": "B1"},
                    "education_level_min": "mbo3",
                    "external_ref": "GL-4711",
                    "certificates_required": [],
                },
                id="de-list-employmenttype-country-node-two-locations-double-escaped-html",
            ),
            pytest.param(
                "nl_zorg_minimal.json",
                {
                    "postcode": "7551",
                    "country": "NL",
                    "city": "Hengelo",
                    "sector": "zorg",
                    "external_ref": None,
                    "languages_required": {},
                },
                id="nl-minimal-no-postcode-no-identifier",
            ),
            pytest.param(
                "nl_ict_list_document.json",
                {
                    "postcode": "7511 AB",
                    "country": "NL",
                    "hours_min": 24,
                    "hours_max": 32,
                    "sector": "ict",
                    "education_level_min": "mbo4",
                    "languages_required": {"nl": "B1", "en": "B1"},
                },
                id="nl-list-document-vocab-context-isco-categorycode",
            ),
            pytest.param(
                "de_pflege_intern.json",
                {
                    "postcode": "48529",
                    "country": "DE",
                    "contract": "internship",
                    "sector": "zorg",
                    "positions": 2,
                    "driving_licences_required": ["B"],
                    "languages_required": {"de": "B2"},
                    "education_level_min": "vmbo",
                    "external_ref": "90817",
                },
                id="de-intern-numeric-identifier-prefixed-plz",
            ),
            pytest.param(
                "nl_techniek_vca_licence.json",
                {
                    "postcode": "7553 PW",
                    "country": "NL",
                    "contract": "flex",
                    "sector": "techniek",
                    "certificates_required": ["VCA-VOL"],
                    "driving_licences_required": ["B"],
                    "hours_min": 36,
                    "hours_max": 40,
                    "languages_required": {"nl": "A2"},
                },
                id="nl-no-country-skills-newlines-industry",
            ),
        ],
    )
    def test_posting_becomes_a_vacancy_with_a_report(self, client, keys, name, expect):
        response = post(client, keys["employer_x"], fixture(name))
        assert response.status_code == 201, response.text
        body = response.json()
        vacancy, mapping = body["vacancy"], body["mapping"]
        for field, value in expect.items():
            assert vacancy[field] == value, field
        assert vacancy["employer"]["name"] == "Logistiek XL Almelo B.V."
        assert "<" not in vacancy["description"]
        assert "&amp;" not in vacancy["description"]
        assert set(mapping) == {"mapped", "ignored", "needs_completion", "notes"}
        assert {"title", "postcode", "country"} <= set(mapping["mapped"])
        # The vacancy is stored: the ordinary API reads it back.
        read = client.get(f"/api/v1/vacancies/{vacancy['id']}", headers=keys["employer_x"].headers)
        assert read.status_code == 200
        assert read.json()["title"] == vacancy["title"]

    def test_skills_resolve_to_esco_codes(self, client, keys):
        vacancy = post(client, keys["employer_x"], fixture("nl_ict_list_document.json")).json()["vacancy"]
        codes = [c["code"] for c in vacancy["competences_required"]]
        assert codes
        assert all(code.startswith("http://data.europa.eu/esco/skill/") for code in codes)
        assert vacancy["occupation"]["code"].endswith("/isco/C3512")

    def test_report_names_what_needs_completing(self, client, keys):
        mapping = post(client, keys["employer_x"], fixture("nl_zorg_minimal.json")).json()["mapping"]
        completion = " ".join(mapping["needs_completion"])
        assert "languages_required: geen taalniveau opgegeven" in mapping["needs_completion"]
        assert "postcode: afgeleid uit de plaatsnaam Hengelo" in completion
        assert "hours_min/hours_max" in completion

    def test_salary_is_reported_as_ignored(self, client, keys):
        mapping = post(client, keys["employer_x"], fixture("nl_magazijn_graph.json")).json()["mapping"]
        assert any(item.startswith("baseSalary") for item in mapping["ignored"])
        assert any(item.startswith("datePosted") for item in mapping["ignored"])

    def test_preferred_certificate_is_not_required(self, client, keys):
        vacancy = post(client, keys["employer_x"], fixture("de_lager_list_types.json")).json()["vacancy"]
        assert vacancy["certificates_required"] == []  # "Gabelstaplerschein von Vorteil"

    def test_plain_json_content_type_is_accepted(self, client, keys):
        response = post(client, keys["employer_x"], posting(), content_type="application/json")
        assert response.status_code == 201, response.text


class TestIdempotentUpsert:
    def test_same_identifier_updates_instead_of_duplicating(self, client, keys):
        document = fixture("nl_magazijn_graph.json")
        first = post(client, keys["employer_x"], document)
        assert first.status_code == 201
        again = post(client, keys["employer_x"], document)
        assert again.status_code == 200
        assert again.json()["vacancy"]["id"] == first.json()["vacancy"]["id"]
        assert again.json()["vacancy"]["version"] == first.json()["vacancy"]["version"]  # nothing changed
        document["@graph"][1]["workHours"] = "24 uur per week"
        changed = post(client, keys["employer_x"], document)
        assert changed.status_code == 200
        assert changed.json()["vacancy"]["hours_max"] == 24
        assert changed.json()["vacancy"]["version"] == first.json()["vacancy"]["version"] + 1
        listing = client.get("/api/v1/vacancies", headers=keys["employer_x"].headers).json()
        assert listing["total"] == 1

    def test_identifier_is_per_employer(self, client, keys):
        a = post(client, keys["employer_x"], posting())
        b = post(client, keys["employer_y"], posting())
        assert a.status_code == b.status_code == 201
        assert a.json()["vacancy"]["id"] != b.json()["vacancy"]["id"]

    def test_without_identifier_each_post_creates(self, client, keys):
        assert post(client, keys["employer_x"], posting(identifier=None)).status_code == 201
        assert post(client, keys["employer_x"], posting(identifier=None)).status_code == 201
        assert client.get("/api/v1/vacancies", headers=keys["employer_x"].headers).json()["total"] == 2


class TestMalformed:
    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            pytest.param(b"<html><body>vacature</body></html>", "not JSON", id="html"),
            pytest.param(b"", "empty", id="empty"),
            pytest.param(b"[1, 2, 3]", "no @type", id="list-of-numbers"),
            pytest.param(b'"JobPosting"', "expected a JSON object", id="json-string"),
            pytest.param(json.dumps({"title": "Magazijnmedewerker"}).encode(), "no @type", id="plain-json"),
            pytest.param(json.dumps(posting(**{"@context": None})).encode(), "@context", id="no-context"),
            pytest.param(
                json.dumps(posting(**{"@context": "https://example.org"})).encode(),
                "@context",
                id="foreign-context",
            ),
            pytest.param(
                json.dumps(posting(**{"@type": "Organization"})).encode(),
                "expected JobPosting",
                id="wrong-type",
            ),
            pytest.param(
                json.dumps(posting(jobLocation=None)).encode(), "jobLocation is missing", id="no-location"
            ),
            pytest.param(
                json.dumps(posting(jobLocation=None, jobLocationType="TELECOMMUTE")).encode(),
                "TELECOMMUTE",
                id="remote-only",
            ),
            pytest.param(
                json.dumps(
                    posting(jobLocation={"address": {"postalCode": "1000", "addressCountry": "BE"}})
                ).encode(),
                "not the Netherlands or Germany",
                id="belgium",
            ),
            pytest.param(
                json.dumps(
                    posting(jobLocation={"address": {"postalCode": "ABC 12", "addressCountry": "NL"}})
                ).encode(),
                "not a valid NL postcode",
                id="bad-postcode",
            ),
            pytest.param(
                json.dumps(
                    posting(jobLocation={"address": {"postalCode": "1000 AA", "addressCountry": "NL"}})
                ).encode(),
                "unknown in NL",
                id="unknown-postcode",
            ),
            pytest.param(
                json.dumps(posting(jobLocation={"address": {"addressLocality": "Atlantis"}})).encode(),
                "unknown",
                id="unknown-place",
            ),
            pytest.param(json.dumps(posting(title="  ")).encode(), "title is missing", id="no-title"),
            pytest.param(
                json.dumps(posting(title="Magazijn\u0000medewerker")).encode(), "NUL", id="nul-escape"
            ),
            pytest.param(
                b'{"@context": "https://schema.org", "@type": "JobPosting", "title": "a\x00"}',
                "NUL",
                id="nul-byte",
            ),
            pytest.param(
                json.dumps(posting(skills=["x"] * 500)).encode(), "more than 200 items", id="long-list"
            ),
            pytest.param(json.dumps(posting(title="x" * 100_001)).encode(), "longer than", id="long-string"),
            pytest.param(("[" * 50 + "]" * 50).encode(), "nested deeper", id="deep"),
            pytest.param(b"\xff\xfe{}", "not UTF-8", id="not-utf8"),
            pytest.param(b'{"a": NaN}', "not JSON", id="nan"),
        ],
    )
    def test_rejected_with_a_clear_reason(self, client, keys, body, reason):
        response = post(client, keys["employer_x"], body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert reason in problem["detail"], problem["detail"]
        assert problem["errors"]
        assert problem["errors"][0]["loc"][0] == "body"

    def test_oversized_body_is_413(self, client, keys):
        body = json.dumps(
            posting(description="x" * 90_000, qualifications="y" * 90_000, responsibilities="z" * 90_000)
        ).encode()
        response = post(client, keys["employer_x"], body)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_nothing_is_stored_for_a_rejected_posting(self, client, keys):
        post(client, keys["employer_x"], posting(jobLocation=None))
        assert client.get("/api/v1/vacancies", headers=keys["employer_x"].headers).json()["total"] == 0


class TestAccess:
    def test_only_employers_post(self, client, keys):
        assert post(client, keys["coach_a"], posting()).status_code == 403
        assert post(client, keys["admin"], posting()).status_code == 403

    def test_anonymous_is_401(self, client):
        response = client.post(
            URL, content=json.dumps(posting()), headers={"Content-Type": "application/ld+json"}
        )
        assert response.status_code == 401


class TestTextHelpers:
    @pytest.mark.parametrize(
        ("text", "hours"),
        [
            ("32-40 uur per week", (32, 40)),
            ("38 Stunden", (38, 38)),
            ("24 tot 32 uur", (24, 32)),
            ("40 hours per week", (40, 40)),
            ("Mo-Fr 8:00-17:00", None),
            ("fulltime", None),
            ("60 uur", None),
            ("20 bis 30 Std./Woche", (20, 30)),
        ],
    )
    def test_parse_hours(self, text, hours):
        assert parse_hours(text) == hours

    @pytest.mark.parametrize(
        ("text", "levels"),
        [
            ("Je spreekt Nederlands op B1-niveau.", {"nl": "B1"}),
            ("Taalniveau Nederlands 2F", {"nl": "2F"}),
            ("gute Deutschkenntnisse", {"de": "B1"}),
            ("Sehr gute Deutsch- und Englischkenntnisse", {"de": "B2", "en": "B2"}),
            ("Deutsch (mind. B2), Englisch A2", {"de": "B2", "en": "A2"}),
            ("Standort Deutschland, gute Bezahlung", {}),
            ("Wij zoeken een collega.", {}),
        ],
    )
    def test_infer_languages(self, text, levels):
        assert {lang: level for lang, (level, _w) in infer_languages(text).items()} == levels

    @pytest.mark.parametrize(
        ("text", "level"),
        [
            ("mbo 2 of 3", "mbo2"),
            ("MBO-niveau 4", "mbo4"),
            ("hbo of wo", "hbo"),
            ("abgeschlossene Berufsausbildung", "mbo3"),
            ("Abitur", "havo_vwo"),
            ("geen eisen", None),
        ],
    )
    def test_infer_education(self, text, level):
        found = infer_education(text)
        assert (found[0] if found else None) == level

    def test_html_to_text(self):
        html = (
            "<h2>Wat&nbsp;ga je doen?</h2><ul><li>Orders &amp; retouren</li><li>Laden</li></ul>"
            "<script>alert(1)</script><p>Tot&nbsp;ziens&hellip;</p>"
        )
        assert html_to_text(html) == "Wat ga je doen?\n\n- Orders & retouren\n- Laden\n\nTot ziens…"


class TestJobPostingIdempotencyKey:
    """A portal retrying a JobPosting without an identifier gets the first answer, never a second vacancy."""

    def test_same_key_same_document_creates_one_vacancy(self, client, keys):
        document = {
            "@context": "https://schema.org",
            "@type": "JobPosting",
            "title": "Orderpicker",
            "description": "<p>Orderpicken in Almelo.</p>",
            "jobLocation": {
                "@type": "Place",
                "address": {
                    "@type": "PostalAddress",
                    "postalCode": "7602 KR",
                    "addressLocality": "Almelo",
                    "addressCountry": "NL",
                },
            },
        }
        headers = {**keys["employer_x"].headers, "Idempotency-Key": "retry-1"}
        first = client.post("/api/v1/vacancies/jobposting", json=document, headers=headers)
        second = client.post("/api/v1/vacancies/jobposting", json=document, headers=headers)
        assert first.status_code == second.status_code == 201, first.text
        assert first.json()["vacancy"]["id"] == second.json()["vacancy"]["id"]
        other = client.post(
            "/api/v1/vacancies/jobposting", json={**document, "title": "Heftruckchauffeur"}, headers=headers
        )
        assert other.status_code == 422
        listed = client.get("/api/v1/vacancies", headers=keys["employer_x"].headers).json()
        assert listed["total"] == 1

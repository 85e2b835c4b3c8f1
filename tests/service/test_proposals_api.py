"""Proposals over the real app: coaches propose own candidates, employers see anonymous views, outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from tests.conftest import candidate_payload, create, vacancy_payload

#: Keys and values an employer must never see anywhere in a response.
FORBIDDEN_KEYS = {
    "given_name",
    "family_name",
    "name_",
    "bsn",
    "has_bsn",
    "postcode",
    "external_ref",
    "candidate_id",
    "municipality",
    "support",
    "target_group_register",
    "email",
    "phone",
    "address",
    "lat",
    "lon",
}


def walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair in a JSON document, nested lists and objects included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


@pytest.fixture
def setup(client, keys) -> dict[str, dict]:
    vacancy = create(client, "/api/v1/vacancies", vacancy_payload(), keys["employer_x"])
    other_vacancy = create(client, "/api/v1/vacancies", vacancy_payload(), keys["employer_y"])
    mine = create(
        client,
        "/api/v1/candidates",
        candidate_payload(
            given_name="Zeynep",
            family_name="Kaya-Uniek",
            external_ref="KL-SECRET-77",
            bsn="111222333",
            postcode="7523 AB",
            support="wage_subsidy",
            target_group_register=True,
        ),
        keys["coach_a"],
    )
    theirs = create(
        client,
        "/api/v1/candidates",
        candidate_payload(municipality="GM0141", postcode="7607 AA", given_name="Bram"),
        keys["coach_b"],
    )
    return {"vacancy": vacancy, "other_vacancy": other_vacancy, "mine": mine, "theirs": theirs}


def propose(
    client, key, vacancy_id: str, candidate_id: str, note: str | None = "Sterke orderpicker, VCA op zak."
):
    return client.post(
        f"/api/v1/vacancies/{vacancy_id}/proposals",
        json={"candidate_id": candidate_id, "note": note},
        headers=key.headers,
    )


class TestPropose:
    def test_coach_proposes_own_candidate(self, client, keys, setup):
        response = propose(client, keys["coach_a"], setup["vacancy"]["id"], setup["mine"]["id"])
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["id"]
        assert body["status"] == "proposed"
        assert body["version"] == 1
        assert body["candidate"]["given_name"] == "Zeynep"
        assert body["note"] == "Sterke orderpicker, VCA op zak."

    def test_foreign_candidate_or_unknown_vacancy_is_404(self, client, keys, setup):
        assert (
            propose(client, keys["coach_a"], setup["vacancy"]["id"], setup["theirs"]["id"]).status_code == 404
        )
        unknown = "00000000-0000-4000-8000-000000000000"
        assert propose(client, keys["coach_a"], unknown, setup["mine"]["id"]).status_code == 404

    def test_only_coaches_propose(self, client, keys, setup):
        for role in ("employer_x", "admin", "batch"):
            assert propose(client, keys[role], setup["vacancy"]["id"], setup["mine"]["id"]).status_code == 403

    def test_duplicate_and_closed_vacancy_are_conflicts(self, client, keys, setup):
        coach, vid = keys["coach_a"], setup["vacancy"]["id"]
        assert propose(client, coach, vid, setup["mine"]["id"]).status_code == 201
        assert propose(client, coach, vid, setup["mine"]["id"]).status_code == 409
        client.delete(f"/api/v1/vacancies/{setup['other_vacancy']['id']}", headers=keys["employer_y"].headers)
        assert propose(client, coach, setup["other_vacancy"]["id"], setup["mine"]["id"]).status_code == 409

    @pytest.mark.parametrize(
        "body",
        [
            {"candidate_id": "not-a-uuid"},
            {},
            {"candidate_id": "00000000-0000-4000-8000-000000000000", "x": 1},
            {"candidate_id": "00000000-0000-4000-8000-000000000000", "note": "n" * 2001},
            {"candidate_id": "00000000-0000-4000-8000-000000000000", "note": "a\x00b"},
        ],
    )
    def test_invalid_bodies_are_422(self, client, keys, setup, body):
        response = client.post(
            f"/api/v1/vacancies/{setup['vacancy']['id']}/proposals",
            json=body,
            headers=keys["coach_a"].headers,
        )
        assert response.status_code == 422


class TestListing:
    def test_employer_sees_anonymous_summaries_only(self, client, keys, setup):
        created = propose(client, keys["coach_a"], setup["vacancy"]["id"], setup["mine"]["id"]).json()
        response = client.get(
            f"/api/v1/vacancies/{setup['vacancy']['id']}/proposals", headers=keys["employer_x"].headers
        )
        assert response.status_code == 200
        document = response.json()
        [item] = document["items"]
        assert item["id"] == created["id"]
        assert item["note"] == "Sterke orderpicker, VCA op zak."
        summary = item["candidate"]
        assert summary["competences"] == ["orderpicken", "heftruck besturen"]
        assert summary["languages"] == {"nl": "2F", "en": "A2"}
        assert (summary["hours_min"], summary["hours_max"]) == (24, 36)
        assert summary["education_level"] == "mbo2"
        assert summary["distance_band"].endswith("km")
        for key, value in walk(document):
            assert key not in FORBIDDEN_KEYS, key
            assert value != setup["mine"]["id"]
            if isinstance(value, str):
                for secret in (
                    "Zeynep",
                    "Kaya-Uniek",
                    "KL-SECRET-77",
                    "111222333",
                    "7523",
                    "wage_subsidy",
                    "GM0153",
                ):
                    assert secret not in value, (key, value)
        assert "true" not in response.text.lower()  # no doelgroepregister flag anywhere

    def test_other_employer_gets_404_and_coaches_see_only_their_own(self, client, keys, setup):
        vid = setup["vacancy"]["id"]
        propose(client, keys["coach_a"], vid, setup["mine"]["id"])
        propose(client, keys["coach_b"], vid, setup["theirs"]["id"])
        assert (
            client.get(f"/api/v1/vacancies/{vid}/proposals", headers=keys["employer_y"].headers).status_code
            == 404
        )
        coach_a = client.get(f"/api/v1/vacancies/{vid}/proposals", headers=keys["coach_a"].headers).json()
        assert [i["candidate"]["given_name"] for i in coach_a["items"]] == ["Zeynep"]
        assert coach_a["items"][0]["candidate_id"] == setup["mine"]["id"]
        employer = client.get(f"/api/v1/vacancies/{vid}/proposals", headers=keys["employer_x"].headers).json()
        assert len(employer["items"]) == 2
        assert (
            client.get(f"/api/v1/vacancies/{vid}/proposals", headers=keys["admin"].headers).status_code == 403
        )

    def test_listing_is_audited(self, client, keys, setup, session_factory):
        vid = setup["vacancy"]["id"]
        propose(client, keys["coach_a"], vid, setup["mine"]["id"])
        client.get(f"/api/v1/vacancies/{vid}/proposals", headers=keys["coach_a"].headers)
        with session_factory() as session:
            entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.action, entry.subjects) == ("proposal.list", [setup["mine"]["id"]])


class TestOutcomes:
    def test_employer_moves_to_interview_and_hires_candidate_becomes_placed(self, client, keys, setup):
        vid = setup["vacancy"]["id"]
        proposal = propose(client, keys["coach_a"], vid, setup["mine"]["id"]).json()
        path = f"/api/v1/proposals/{proposal['id']}"
        interview = client.patch(path, json={"status": "interview"}, headers=keys["employer_x"].headers)
        assert interview.status_code == 200, interview.text
        assert interview.json()["status"] == "interview"
        assert "given_name" not in interview.text
        assert "candidate_id" not in interview.json()
        matches_before = client.get(
            f"/api/v1/vacancies/{vid}/matches", headers=keys["coach_a"].headers
        ).json()
        assert [i["candidate"]["id"] for i in matches_before["items"]] == [setup["mine"]["id"]]
        hired = client.patch(
            path, json={"status": "hired"}, headers={**keys["coach_a"].headers, "If-Match": '"2"'}
        )
        assert hired.status_code == 200, hired.text
        assert hired.json()["candidate"]["status"] == "placed"
        candidate = client.get(
            f"/api/v1/candidates/{setup['mine']['id']}", headers=keys["coach_a"].headers
        ).json()
        assert candidate["status"] == "placed"
        # The hire is a change event: the placed candidate leaves the live ranking at once.
        matches_after = client.get(f"/api/v1/vacancies/{vid}/matches", headers=keys["coach_a"].headers).json()
        assert matches_after["items"] == []

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            (["hired"], 409),
            (["interview", "proposed"], 409),
            (["rejected", "interview"], 409),
            (["interview", "rejected", "hired"], 409),
            (["interview", "interview"], 200),
            (["rejected"], 200),
        ],
    )
    def test_transitions(self, client, keys, setup, path, expected):
        proposal = propose(client, keys["coach_a"], setup["vacancy"]["id"], setup["mine"]["id"]).json()
        for step in path:
            response = client.patch(
                f"/api/v1/proposals/{proposal['id']}",
                json={"status": step},
                headers=keys["employer_x"].headers,
            )
        assert response.status_code == expected, response.text

    def test_who_may_change(self, client, keys, setup):
        proposal = propose(client, keys["coach_a"], setup["vacancy"]["id"], setup["mine"]["id"]).json()
        path = f"/api/v1/proposals/{proposal['id']}"
        assert (
            client.patch(path, json={"status": "interview"}, headers=keys["employer_y"].headers).status_code
            == 404
        )
        assert (
            client.patch(path, json={"status": "interview"}, headers=keys["coach_b"].headers).status_code
            == 404
        )
        assert (
            client.patch(path, json={"status": "interview"}, headers=keys["admin"].headers).status_code == 403
        )
        assert (
            client.patch(path, json={"status": "unknown"}, headers=keys["coach_a"].headers).status_code == 422
        )
        stale = client.patch(
            path, json={"status": "interview"}, headers={**keys["coach_a"].headers, "If-Match": "7"}
        )
        assert stale.status_code == 409

    def test_erased_candidate_keeps_an_anonymous_count(self, client, keys, setup):
        vid = setup["vacancy"]["id"]
        propose(client, keys["coach_a"], vid, setup["mine"]["id"])
        assert (
            client.delete(
                f"/api/v1/candidates/{setup['mine']['id']}", headers=keys["coach_a"].headers
            ).status_code
            == 204
        )
        items = client.get(f"/api/v1/vacancies/{vid}/proposals", headers=keys["employer_x"].headers).json()[
            "items"
        ]
        assert len(items) == 1
        assert items[0]["candidate"] is None

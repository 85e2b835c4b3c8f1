"""Candidates over the real app: CRUD, scoping by municipality, BSN write-only, optimistic locking."""

from __future__ import annotations

import json

from tests.conftest import candidate_payload

BSN = "111222333"


class TestCandidateLifecycle:
    def test_coach_creates_reads_lists_updates(self, client, keys):
        coach = keys["coach_a"]
        created = client.post("/api/v1/candidates", json=candidate_payload(), headers=coach.headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["has_bsn"] is True
        assert created.headers["ETag"] == '"1"'
        cid = body["id"]

        read = client.get(f"/api/v1/candidates/{cid}", headers=coach.headers)
        assert read.status_code == 200
        assert read.json()["family_name"] == "El Idrissi"

        listed = client.get("/api/v1/candidates", params={"limit": 10}, headers=coach.headers)
        assert listed.status_code == 200
        assert [item["id"] for item in listed.json()["items"]] == [cid]
        assert listed.json()["total"] == 1

        update = candidate_payload(external_ref=body["external_ref"], hours_max=40, bsn=None)
        updated = client.put(
            f"/api/v1/candidates/{cid}", json=update, headers={**coach.headers, "If-Match": '"1"'}
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["hours_max"] == 40
        assert updated.json()["version"] == 2
        assert updated.json()["has_bsn"] is True  # omitting the BSN keeps the one on file

    def test_bsn_never_appears_in_any_response(self, client, keys):
        coach = keys["coach_a"]
        responses = [client.post("/api/v1/candidates", json=candidate_payload(), headers=coach.headers)]
        cid = responses[0].json()["id"]
        responses.append(client.get(f"/api/v1/candidates/{cid}", headers=coach.headers))
        responses.append(client.get("/api/v1/candidates", headers=coach.headers))
        responses.append(
            client.put(f"/api/v1/candidates/{cid}", json=candidate_payload(), headers=coach.headers)
        )
        responses.append(
            client.post("/api/v1/candidates", json=candidate_payload(bsn="111222334"), headers=coach.headers)
        )
        for response in responses:
            assert BSN not in response.text
            assert "111222334" not in response.text
            assert "bsn" not in json.loads(response.text) or response.status_code >= 400

    def test_stale_if_match_is_409(self, client, keys):
        coach = keys["coach_a"]
        cid = client.post(
            "/api/v1/candidates", json=candidate_payload(external_ref="KL-9"), headers=coach.headers
        ).json()["id"]
        first = client.put(
            f"/api/v1/candidates/{cid}",
            json=candidate_payload(external_ref="KL-9", hours_min=8),
            headers={**coach.headers, "If-Match": '"1"'},
        )
        assert first.status_code == 200
        second = client.put(
            f"/api/v1/candidates/{cid}",
            json=candidate_payload(external_ref="KL-9", hours_min=16),
            headers={**coach.headers, "If-Match": '"1"'},
        )
        assert second.status_code == 409
        assert second.headers["content-type"].startswith("application/problem+json")
        assert client.get(f"/api/v1/candidates/{cid}", headers=coach.headers).json()["hours_min"] == 8

    def test_duplicate_client_number_in_municipality_is_409(self, client, keys):
        coach = keys["coach_a"]
        assert (
            client.post(
                "/api/v1/candidates", json=candidate_payload(external_ref="KL-1"), headers=coach.headers
            ).status_code
            == 201
        )
        again = client.post(
            "/api/v1/candidates", json=candidate_payload(external_ref="KL-1"), headers=coach.headers
        )
        assert again.status_code == 409

    def test_delete(self, client, keys):
        coach = keys["coach_a"]
        cid = client.post("/api/v1/candidates", json=candidate_payload(), headers=coach.headers).json()["id"]
        assert client.delete(f"/api/v1/candidates/{cid}", headers=coach.headers).status_code == 204
        assert client.get(f"/api/v1/candidates/{cid}", headers=coach.headers).status_code == 404


class TestCandidateScoping:
    def test_foreign_and_unknown_ids_answer_the_same_404(self, client, keys):
        cid = client.post(
            "/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers
        ).json()["id"]
        unknown = "00000000-0000-4000-8000-000000000000"
        bodies = []
        for key in ("coach_b", "employer_x", "admin", "batch"):
            for target in (cid, unknown):
                response = client.get(f"/api/v1/candidates/{target}", headers=keys[key].headers)
                assert response.status_code == 404, (key, response.text)
                body = response.json()
                body.pop("request_id")
                bodies.append(body)
        assert all(body == bodies[0] for body in bodies)

    def test_coach_cannot_write_for_another_municipality(self, client, keys):
        response = client.post(
            "/api/v1/candidates",
            json=candidate_payload(municipality="GM0164"),
            headers=keys["coach_a"].headers,
        )
        assert response.status_code == 404

    def test_other_coach_cannot_update_or_delete(self, client, keys):
        cid = client.post(
            "/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers
        ).json()["id"]
        other = keys["coach_b"]
        assert (
            client.put(
                f"/api/v1/candidates/{cid}",
                json=candidate_payload(municipality="GM0141"),
                headers=other.headers,
            ).status_code
            == 404
        )
        assert client.delete(f"/api/v1/candidates/{cid}", headers=other.headers).status_code == 404

    def test_lists_hold_only_own_municipality(self, client, keys):
        client.post("/api/v1/candidates", json=candidate_payload(), headers=keys["coach_a"].headers)
        client.post(
            "/api/v1/candidates",
            json=candidate_payload(municipality="GM0141"),
            headers=keys["coach_b"].headers,
        )
        items = client.get("/api/v1/candidates", headers=keys["coach_a"].headers).json()["items"]
        assert {item["municipality"] for item in items} == {"GM0153"}

    def test_employer_cannot_list_candidates(self, client, keys):
        assert client.get("/api/v1/candidates", headers=keys["employer_x"].headers).status_code == 403

    def test_no_key_and_wrong_key_are_401(self, client):
        assert client.get("/api/v1/candidates").status_code == 401
        wrong = client.get("/api/v1/candidates", headers={"Authorization": "Bearer wm_nope"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"].startswith("application/problem+json")


class TestCandidateFilters:
    def test_filter_status_sector_and_search(self, client, keys):
        coach = keys["coach_a"]
        client.post(
            "/api/v1/candidates",
            json=candidate_payload(external_ref="A-1", sectors=["zorg"]),
            headers=coach.headers,
        )
        client.post(
            "/api/v1/candidates",
            json=candidate_payload(external_ref="A-2", status="inactive", family_name="Jansen"),
            headers=coach.headers,
        )

        def refs(**params):
            return [
                i["external_ref"]
                for i in client.get("/api/v1/candidates", params=params, headers=coach.headers).json()[
                    "items"
                ]
            ]

        assert refs(sector="zorg") == ["A-1"]
        assert refs(status="inactive") == ["A-2"]
        assert refs(q="jans") == ["A-2"]

    def test_pagination(self, client, keys):
        coach = keys["coach_a"]
        for n in range(5):
            client.post(
                "/api/v1/candidates", json=candidate_payload(external_ref=f"P-{n}"), headers=coach.headers
            )
        page = client.get(
            "/api/v1/candidates", params={"limit": 2, "offset": 2}, headers=coach.headers
        ).json()
        assert page["total"] == 5
        assert len(page["items"]) == 2
        assert (
            client.get("/api/v1/candidates", params={"limit": 101}, headers=coach.headers).status_code == 422
        )

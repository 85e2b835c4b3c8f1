"""Vacancies over the real app: employers own theirs, coaches read, by-ref upsert is idempotent."""

from __future__ import annotations

from tests.conftest import vacancy_payload


class TestVacancyOwnership:
    def test_employer_creates_coach_reads_other_employer_cannot(self, client, keys):
        created = client.post("/api/v1/vacancies", json=vacancy_payload(), headers=keys["employer_x"].headers)
        assert created.status_code == 201, created.text
        vacancy = created.json()
        assert vacancy["employer"]["name"] == "Logistiek XL Almelo B.V."
        assert vacancy["city"]  # filled from the postcode
        vid = vacancy["id"]
        assert client.get(f"/api/v1/vacancies/{vid}", headers=keys["coach_a"].headers).status_code == 200
        assert client.get(f"/api/v1/vacancies/{vid}", headers=keys["employer_y"].headers).status_code == 404
        listed = client.get("/api/v1/vacancies", headers=keys["employer_y"].headers).json()
        assert listed["items"] == []
        assert listed["total"] == 0

    def test_employer_field_comes_from_the_key(self, client, keys):
        response = client.post(
            "/api/v1/vacancies",
            json={**vacancy_payload(), "employer": {"name": "Other"}},
            headers=keys["employer_x"].headers,
        )
        assert response.status_code == 422

    def test_only_owner_updates_and_closes(self, client, keys):
        vid = client.post(
            "/api/v1/vacancies", json=vacancy_payload(external_ref="V-1"), headers=keys["employer_x"].headers
        ).json()["id"]
        other = client.put(
            f"/api/v1/vacancies/{vid}",
            json=vacancy_payload(external_ref="V-1"),
            headers=keys["employer_y"].headers,
        )
        assert other.status_code == 404
        coach = client.put(
            f"/api/v1/vacancies/{vid}",
            json=vacancy_payload(external_ref="V-1"),
            headers=keys["coach_a"].headers,
        )
        assert coach.status_code == 403
        assert (
            client.delete(f"/api/v1/vacancies/{vid}", headers=keys["employer_y"].headers).status_code == 404
        )
        assert (
            client.delete(f"/api/v1/vacancies/{vid}", headers=keys["employer_x"].headers).status_code == 204
        )
        assert (
            client.get(f"/api/v1/vacancies/{vid}", headers=keys["coach_a"].headers).json()["status"]
            == "closed"
        )

    def test_coach_cannot_create(self, client, keys):
        assert (
            client.post(
                "/api/v1/vacancies", json=vacancy_payload(), headers=keys["coach_a"].headers
            ).status_code
            == 403
        )

    def test_stale_if_match_is_409(self, client, keys):
        emp = keys["employer_x"]
        vid = client.post(
            "/api/v1/vacancies", json=vacancy_payload(external_ref="V-2"), headers=emp.headers
        ).json()["id"]
        ok = client.put(
            f"/api/v1/vacancies/{vid}",
            json=vacancy_payload(external_ref="V-2", positions=5),
            headers={**emp.headers, "If-Match": '"1"'},
        )
        assert ok.status_code == 200
        assert ok.json()["version"] == 2
        stale = client.put(
            f"/api/v1/vacancies/{vid}",
            json=vacancy_payload(external_ref="V-2", positions=6),
            headers={**emp.headers, "If-Match": "1"},
        )
        assert stale.status_code == 409


class TestUpsertByRef:
    def test_put_by_ref_is_idempotent(self, client, keys):
        emp = keys["employer_x"]
        body = vacancy_payload(external_ref=None)
        body.pop("external_ref")
        first = client.put("/api/v1/vacancies/by-ref/portal-77", json=body, headers=emp.headers)
        assert first.status_code == 201, first.text
        second = client.put("/api/v1/vacancies/by-ref/portal-77", json=body, headers=emp.headers)
        assert second.status_code == 200
        assert second.json()["id"] == first.json()["id"]
        assert second.json()["version"] == 1  # nothing changed, nothing bumped
        changed = client.put(
            "/api/v1/vacancies/by-ref/portal-77", json={**body, "positions": 9}, headers=emp.headers
        )
        assert changed.json()["version"] == 2
        listed = client.get("/api/v1/vacancies", headers=emp.headers).json()
        assert listed["total"] == 1

    def test_same_ref_for_two_employers_are_two_vacancies(self, client, keys):
        body = vacancy_payload()
        body.pop("external_ref")
        a = client.put("/api/v1/vacancies/by-ref/shared-1", json=body, headers=keys["employer_x"].headers)
        b = client.put("/api/v1/vacancies/by-ref/shared-1", json=body, headers=keys["employer_y"].headers)
        assert a.status_code == b.status_code == 201
        assert a.json()["id"] != b.json()["id"]

    def test_body_ref_must_match_path(self, client, keys):
        response = client.put(
            "/api/v1/vacancies/by-ref/one",
            json=vacancy_payload(external_ref="two"),
            headers=keys["employer_x"].headers,
        )
        assert response.status_code == 409


class TestVacancyFilters:
    def test_filters(self, client, keys):
        emp = keys["employer_x"]
        client.post(
            "/api/v1/vacancies",
            json=vacancy_payload(sector="zorg", title="Helpende zorg"),
            headers=emp.headers,
        )
        client.post(
            "/api/v1/vacancies",
            json=vacancy_payload(
                country="DE",
                postcode="48599",
                city="Gronau",
                title="Lagerhelfer",
                languages_required={"de": "B1"},
            ),
            headers=emp.headers,
        )
        coach = keys["coach_a"].headers
        assert [
            v["title"]
            for v in client.get("/api/v1/vacancies", params={"sector": "zorg"}, headers=coach).json()["items"]
        ] == ["Helpende zorg"]
        assert [
            v["title"]
            for v in client.get("/api/v1/vacancies", params={"country": "DE"}, headers=coach).json()["items"]
        ] == ["Lagerhelfer"]

"""Idempotency-Key, optimistic locking under concurrency, rate limits, headers, CORS, production settings,
BSN."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, text

from service.main import create_app
from service.persistence.models import Candidate, Vacancy
from service.privacy import bsn_lookup_hash, decrypt_bsn
from service.security.idempotency import request_fingerprint
from service.security.ratelimit import TokenBuckets
from service.settings import PLACEHOLDER_SECRET, Settings
from tests.conftest import TEST_SECRET, candidate_payload, vacancy_payload
from tests.service.live_server import serve
from tests.service.privacy_harness import relaxed_settings


def vacancy_count(session_factory) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Vacancy)) or 0)


class TestIdempotencyKey:
    def test_same_key_and_body_replays_the_first_response(self, client, keys, session_factory):
        body = vacancy_payload()
        headers = {**keys["employer_x"].headers, "Idempotency-Key": "portal-123"}
        first = client.post("/api/v1/vacancies", json=body, headers=headers)
        second = client.post("/api/v1/vacancies", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert second.headers["location"] == first.headers["location"]
        assert vacancy_count(session_factory) == 1

    def test_same_key_with_another_body_is_422(self, client, keys, session_factory):
        headers = {**keys["employer_x"].headers, "Idempotency-Key": "portal-124"}
        assert client.post("/api/v1/vacancies", json=vacancy_payload(), headers=headers).status_code == 201
        other = client.post("/api/v1/vacancies", json=vacancy_payload(title="Anders"), headers=headers)
        assert other.status_code == 422
        assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        assert vacancy_count(session_factory) == 1

    def test_keys_are_per_employer(self, client, keys, session_factory):
        for role in ("employer_x", "employer_y"):
            headers = {**keys[role].headers, "Idempotency-Key": "shared-key"}
            assert (
                client.post("/api/v1/vacancies", json=vacancy_payload(), headers=headers).status_code == 201
            )
        assert vacancy_count(session_factory) == 2

    def test_a_failed_request_does_not_burn_the_key(self, client, keys):
        headers = {**keys["employer_x"].headers, "Idempotency-Key": "retry-after-fix"}
        body = vacancy_payload(external_ref="DUP-1")
        assert (
            client.post("/api/v1/vacancies", json=body, headers=keys["employer_x"].headers).status_code == 201
        )
        assert client.post("/api/v1/vacancies", json=body, headers=headers).status_code == 409
        fixed = vacancy_payload(external_ref="DUP-2")
        assert client.post("/api/v1/vacancies", json=fixed, headers=headers).status_code == 201

    def test_the_fingerprint_ignores_key_order_and_whitespace(self):
        assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})

    @pytest.mark.parametrize("key", ["", "x" * 256, "with space"])
    def test_a_malformed_key_is_422(self, client, keys, key):
        headers = {**keys["employer_x"].headers, "Idempotency-Key": key}
        assert client.post("/api/v1/vacancies", json=vacancy_payload(), headers=headers).status_code == 422


class TestConcurrency:
    """Real uvicorn, real threads, both databases."""

    def test_fifty_parallel_posts_with_one_key_create_one_row(
        self, settings, clean_db, keys, session_factory
    ):
        app = create_app(relaxed_settings(settings))
        body = vacancy_payload()
        headers = {**keys["employer_x"].headers, "Idempotency-Key": f"burst-{uuid.uuid4()}"}
        with serve(app) as base, httpx.Client(base_url=base, timeout=60) as http:

            def post(_: int) -> tuple[int, str]:
                response = http.post("/api/v1/vacancies", json=body, headers=headers)
                return response.status_code, response.json().get("id", response.text)

            with ThreadPoolExecutor(max_workers=50) as pool:
                results = list(pool.map(post, range(50)))
        app.state.engine.dispose()
        assert {status for status, _ in results} == {201}
        assert len({vacancy_id for _, vacancy_id in results}) == 1
        assert vacancy_count(session_factory) == 1
        with session_factory() as session:
            assert session.execute(text("SELECT count(*) FROM idempotency_record")).scalar_one() == 1

    def test_two_updates_with_the_same_if_match_give_one_200_and_one_409(
        self, settings, clean_db, keys, session_factory
    ):
        app = create_app(relaxed_settings(settings))
        coach = keys["coach_a"].headers
        with serve(app) as base, httpx.Client(base_url=base, timeout=60) as http:
            created = http.post("/api/v1/candidates", json=candidate_payload(), headers=coach).json()
            outcomes = []
            for round_ in range(5):  # several rounds: each must give exactly one winner
                current = http.get(f"/api/v1/candidates/{created['id']}", headers=coach)
                etag = current.headers["etag"]

                def put(name: str, etag: str = etag) -> int:
                    body = candidate_payload(external_ref=created["external_ref"], given_name=name)
                    return http.put(
                        f"/api/v1/candidates/{created['id']}", json=body, headers={**coach, "If-Match": etag}
                    ).status_code

                with ThreadPoolExecutor(max_workers=2) as pool:
                    outcomes.append(sorted(pool.map(put, [f"Een{round_}", f"Twee{round_}"])))
        app.state.engine.dispose()
        assert outcomes == [[200, 409]] * 5


class TestRateLimits:
    def test_a_key_over_its_budget_gets_429_with_retry_after(self, settings, clean_db, keys):
        app = create_app(settings.model_copy(update={"rate_limit_per_minute": 60, "rate_limit_burst": 5}))
        with TestClient(app) as client:
            statuses = [
                client.get("/api/v1/vacancies", headers=keys["coach_a"].headers).status_code for _ in range(7)
            ]
            limited = client.get("/api/v1/vacancies", headers=keys["coach_a"].headers)
            other_key = client.get("/api/v1/vacancies", headers=keys["coach_b"].headers)
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429, 429]
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert other_key.status_code == 200  # buckets are per key

    def test_authentication_failures_block_the_address(self, settings, clean_db, keys):
        app = create_app(
            settings.model_copy(update={"auth_failure_limit_per_minute": 2, "auth_failure_burst": 3})
        )
        with TestClient(app) as client:
            bad = {"Authorization": "Bearer wm_not-a-real-key-0000000000000000000000000"}
            failures = [client.get("/api/v1/vacancies", headers=bad).status_code for _ in range(3)]
            blocked = client.get("/api/v1/vacancies", headers=keys["coach_a"].headers)
        assert failures == [401, 401, 401]
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1

    def test_buckets_refill(self):
        now = [0.0]
        buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
        assert [buckets.take("k") for _ in range(3)][:2] == [0.0, 0.0]
        assert buckets.take("k") == pytest.approx(1.0)
        now[0] += 1.0
        assert buckets.take("k") == 0.0


class TestHeadersAndProductionSettings:
    def test_api_responses_carry_security_headers_and_no_store(self, client, keys):
        response = client.get("/api/v1/candidates", headers=keys["coach_a"].headers)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"

    def test_errors_have_them_too_and_no_traceback(self, client):
        response = client.get("/api/v1/candidates/not-a-uuid", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert response.headers["cache-control"] == "no-store"
        assert "Traceback" not in response.text

    def test_html_gets_a_page_csp(self, client):
        response = client.get("/aanmelden")
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["content-security-policy"]

    def test_docs_and_openapi_are_off_in_production(self, settings, clean_db):
        production = settings.model_copy(update={"environment": "production", "secret_key": "x" * 40})
        with TestClient(create_app(production)) as client:
            assert client.get("/openapi.json").status_code == 404
            assert client.get("/docs").status_code == 404
            assert "strict-transport-security" in client.get("/api/v1/health").headers

    def test_production_refuses_the_placeholder_secret(self, monkeypatch):
        monkeypatch.setenv("WERKMATCH_ENVIRONMENT", "production")
        monkeypatch.delenv("WERKMATCH_SECRET_KEY", raising=False)
        with pytest.raises(ValidationError, match="WERKMATCH_SECRET_KEY"):
            Settings(_env_file=None)
        with pytest.raises(ValidationError):
            Settings(_env_file=None, secret_key=PLACEHOLDER_SECRET)

    def test_cors_allows_only_listed_origins(self, settings, clean_db):
        app = create_app(settings.model_copy(update={"cors_origins": ["https://portaal.enschede.nl"]}))
        with TestClient(app) as client:
            preflight = {"Access-Control-Request-Method": "GET"}
            allowed = client.options(
                "/api/v1/vacancies", headers={"Origin": "https://portaal.enschede.nl", **preflight}
            )
            refused = client.options(
                "/api/v1/vacancies", headers={"Origin": "https://evil.example", **preflight}
            )
        assert allowed.headers["access-control-allow-origin"] == "https://portaal.enschede.nl"
        assert "access-control-allow-origin" not in refused.headers


class TestBsnAtRest:
    def test_the_bsn_is_encrypted_and_found_by_keyed_hash_only(self, client, keys, session_factory):
        client.post(
            "/api/v1/candidates", json=candidate_payload(bsn="123456782"), headers=keys["coach_a"].headers
        )
        with session_factory() as session:
            row = session.scalars(select(Candidate)).one()
            raw = " ".join(str(v) for v in session.execute(text("SELECT * FROM candidate")).one())
        assert "123456782" not in raw
        assert b"123456782" not in row.bsn_encrypted
        assert decrypt_bsn(row.bsn_encrypted, secret=TEST_SECRET) == "123456782"
        assert row.bsn_hash == bsn_lookup_hash("123456782", secret=TEST_SECRET)
        assert row.bsn_hash != bsn_lookup_hash("123456782", secret="another-secret-0123456789")

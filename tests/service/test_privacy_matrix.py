"""Issue 5, "must show" 1-3: the authorization matrix generated from the app's own routes, the employer walk,
and audit completeness, all from ONE run of every route x role x object (see privacy_harness.run_matrix).

Adding a route? Add its row to EXPECTED: seven entries in ROLES order (coach_a coach_b employer_x employer_y
admin batch anonymous); for routes with an object in the path each entry is `a/b/missing` (the A/X side's
object, the B/Y side's object, an unknown id). The last field says whether a 2xx response reveals a candidate
(and must write exactly one audit entry). The failure message prints the observed row of any route that has
none.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import candidate_payload
from tests.service.privacy_harness import (
    CANDIDATE_A,
    CANDIDATE_B,
    ROLES,
    Cell,
    app_operations,
    dumps,
    is_web,
    make_app,
    run_matrix,
    walk,
)

AUDITED, PLAIN = True, False
DENY_ALL = "403 403 403 403 403 403 401"

EXPECTED: dict[str, tuple[str, bool]] = {
    # ---- system and docs (docs are off in production; see test_security.py)
    "GET /api/v1/health": ("200 200 200 200 200 200 200", PLAIN),
    "GET /openapi.json": ("200 200 200 200 200 200 200", PLAIN),
    "GET /docs": ("200 200 200 200 200 200 200", PLAIN),
    "GET /docs/oauth2-redirect": ("200 200 200 200 200 200 200", PLAIN),
    "GET /api/v1/algorithms": ("200 200 200 200 200 200 401", PLAIN),
    "GET /api/v1/taxonomy/occupations": ("200 200 200 200 200 200 401", PLAIN),
    "GET /api/v1/taxonomy/skills": ("200 200 200 200 200 200 401", PLAIN),
    # ---- candidates: coaches of the candidate's own municipality only; everyone else 404 (or 403 by role)
    "POST /api/v1/candidates": ("201 201 403 403 403 403 401", AUDITED),
    "GET /api/v1/candidates": ("200 200 403 403 403 403 401", AUDITED),
    "GET /api/v1/candidates/{candidate_id}": (
        "200/404/404 404/200/404 404/404/404 404/404/404 404/404/404 404/404/404 401/401/401",
        AUDITED,
    ),
    "PUT /api/v1/candidates/{candidate_id}": (
        "200/404/404 404/200/404 404/404/404 404/404/404 404/404/404 404/404/404 401/401/401",
        AUDITED,
    ),
    "DELETE /api/v1/candidates/{candidate_id}": (
        "204/404/404 404/204/404 404/404/404 404/404/404 404/404/404 404/404/404 401/401/401",
        AUDITED,
    ),
    "GET /api/v1/candidates/{candidate_id}/audit": (
        "200/404/404 404/200/404 403/403/403 403/403/403 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    "GET /api/v1/candidates/{candidate_id}/export": (
        "200/404/404 404/200/404 403/403/403 403/403/403 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    "GET /api/v1/candidates/{candidate_id}/matches": (
        "200/404/404 404/200/404 403/403/403 403/403/403 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    # ---- vacancies: employers write their own; coaches, admin and batch read
    "GET /api/v1/vacancies": ("200 200 200 200 200 200 401", PLAIN),
    "POST /api/v1/vacancies": ("403 403 201 201 403 403 401", PLAIN),
    "POST /api/v1/vacancies/jobposting": ("403 403 201 201 403 403 401", PLAIN),
    "PUT /api/v1/vacancies/by-ref/{external_ref}": (
        "403/403/403 403/403/403 200/201/201 201/200/201 403/403/403 403/403/403 401/401/401",
        PLAIN,
    ),
    "GET /api/v1/vacancies/{vacancy_id}": (
        "200/200/404 200/200/404 200/404/404 404/200/404 200/200/404 200/200/404 401/401/401",
        PLAIN,
    ),
    "PUT /api/v1/vacancies/{vacancy_id}": (
        "403/403/403 403/403/403 200/404/404 404/200/404 403/403/403 403/403/403 401/401/401",
        PLAIN,
    ),
    "DELETE /api/v1/vacancies/{vacancy_id}": (
        "403/403/403 403/403/403 204/404/404 404/204/404 403/403/403 403/403/403 401/401/401",
        PLAIN,
    ),
    "GET /api/v1/vacancies/{vacancy_id}/matches": (
        "200/200/404 200/200/404 403/403/403 403/403/403 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    # ---- proposals: coaches propose own candidates (409: A->X exists already);
    # employers see their own, anonymous
    "POST /api/v1/vacancies/{vacancy_id}/proposals": (
        "409/201/404 201/409/404 403/403/403 403/403/403 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    "GET /api/v1/vacancies/{vacancy_id}/proposals": (
        "200/200/404 200/200/404 200/404/404 404/200/404 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    "PATCH /api/v1/proposals/{proposal_id}": (
        "200/404/404 404/200/404 200/404/404 404/200/404 403/403/403 403/403/403 401/401/401",
        AUDITED,
    ),
    "GET /api/v1/reports/outcomes": ("200 200 403 403 200 403 401", PLAIN),
    # ---- batch runs (admin; the matrix has no run, so every id is unknown)
    "GET /api/v1/batch/runs": ("403 403 403 403 200 403 401", PLAIN),
    "GET /api/v1/batch/runs/{run_id}": (
        "403/403/403 403/403/403 403/403/403 403/403/403 404/404/404 403/403/403 401/401/401",
        PLAIN,
    ),
    # ---- audit log: admins all; coaches via /candidates/{id}/audit (above)
    "GET /api/v1/audit": ("403 403 403 403 200 403 401", AUDITED),
    # ---- coach web UI (cookie session minted per role; only coach keys can hold one,
    # others are sent to sign-in)
    "GET /": ("200 200 303 303 303 303 303", AUDITED),
    "GET /aanmelden": ("303 303 200 200 200 200 200", PLAIN),
    "POST /aanmelden": ("403 403 403 403 403 403 403", PLAIN),  # no sign-in CSRF token in the matrix
    "POST /afmelden": ("303 303 303 303 303 303 303", PLAIN),
    "GET /kandidaten/{candidate_id}": (
        "200/404/404 404/200/404 303/303/303 303/303/303 303/303/303 303/303/303 303/303/303",
        AUDITED,
    ),
    "POST /kandidaten/{candidate_id}": (  # 422: the matrix posts an empty profile form
        "422/404/404 404/422/404 303/303/303 303/303/303 303/303/303 303/303/303 303/303/303",
        AUDITED,
    ),
    "POST /kandidaten/{candidate_id}/voordragen": (  # 404: the matrix names no vacancy
        "404/404/404 404/404/404 303/303/303 303/303/303 303/303/303 303/303/303 303/303/303",
        AUDITED,
    ),
    "GET /vacatures/{vacancy_id}": (
        "200/200/404 200/200/404 303/303/303 303/303/303 303/303/303 303/303/303 303/303/303",
        AUDITED,
    ),
    "GET /ui/taxonomy/occupations": ("200 200 401 401 401 401 401", PLAIN),
    "GET /ui/taxonomy/skills": ("200 200 401 401 401 401 401", PLAIN),
}

# Personal data of candidates that must never reach an employer (values) and fields that must not exist there.
EMPLOYER_FORBIDDEN_KEYS = {
    "given_name",
    "family_name",
    "name_of_candidate",
    "bsn",
    "has_bsn",
    "bsn_on_file",
    "birth_date",
    "date_of_birth",
    "email",
    "phone",
    "telephone",
    "address",
    "street",
    "target_group_register",
    "support",
    "nationality",
    "gender",
    "health",
}
DEFAULT = candidate_payload()
PERSONAL_VALUES = [
    CANDIDATE_A["given_name"],
    CANDIDATE_A["family_name"],
    CANDIDATE_A["bsn"],
    CANDIDATE_A["postcode"],
    CANDIDATE_A["external_ref"],
    CANDIDATE_B["given_name"],
    CANDIDATE_B["family_name"],
    CANDIDATE_B["bsn"],
    CANDIDATE_B["postcode"],
    CANDIDATE_B["external_ref"],
    str(DEFAULT["given_name"]),
    str(DEFAULT["family_name"]),
    str(DEFAULT["bsn"]),
    str(DEFAULT["postcode"]),
]


@pytest.fixture(scope="module")
def matrix(settings, engine, session_factory) -> tuple[list[Cell], list[Any], list[str]]:
    """One run of every route x role x object (a module fixture: the three tests below read the same run)."""
    app = make_app(settings)
    operations = app_operations(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        cells, audit = run_matrix(app, client, session_factory, engine, operations)
    app.state.engine.dispose()
    return cells, audit, [op.key for op in operations]


def _row(cells: list[Cell], key: str) -> str:
    statuses: dict[str, list[str]] = {role: [] for role in ROLES}
    for cell in cells:
        if cell.operation.key == key:
            statuses[cell.role].append(str(cell.status))
    return " ".join("/".join(statuses[role]) for role in ROLES)


class TestAuthorizationMatrix:
    def test_every_route_has_a_row(self, matrix):
        _, _, keys = matrix
        missing = [key for key in keys if key not in EXPECTED]
        cells = matrix[0]
        assert not missing, "routes without a row in EXPECTED (review, then add):\n" + "\n".join(
            f'    "{key}": ("{_row(cells, key)}", AUDITED or PLAIN),' for key in missing
        )

    def test_no_stale_rows(self, matrix):
        _, _, keys = matrix
        assert sorted(set(EXPECTED) - set(keys)) == []

    def test_observed_statuses_equal_the_table(self, matrix):
        cells, _, keys = matrix
        wrong = [
            f"{key}\n   expected {EXPECTED[key][0]}\n   observed {_row(cells, key)}"
            for key in keys
            if key in EXPECTED and _row(cells, key) != EXPECTED[key][0]
        ]
        assert not wrong, "authorization differs from the table:\n" + "\n".join(wrong)

    def test_no_server_errors(self, matrix):
        assert [c.label for c in matrix[0] if c.status >= 500] == []

    def test_foreign_and_missing_objects_look_the_same(self, matrix):
        """A 404 for a foreign id has the same body as for an unknown id (nothing says which)."""
        details = Counter()
        for cell in matrix[0]:
            if cell.status == 404 and isinstance(cell.body, dict):
                details[cell.body.get("detail")] += 1
        assert len(details) == 1, details


class TestEmployerSeesNoPerson:
    def test_no_employer_response_carries_personal_data(self, matrix):
        cells = [c for c in matrix[0] if c.role in ("employer_x", "employer_y")]
        assert any(
            c.status == 200 and "proposals" in c.operation.path for c in cells
        )  # the anonymous view ran
        leaks = []
        for cell in cells:
            candidate_ids = list(cell.candidate_ids.values())
            text = cell.text if cell.body is None else dumps(cell.body)
            for value in [*PERSONAL_VALUES, *candidate_ids]:
                if value in text:
                    leaks.append(f"{cell.label}: contains {value!r}")
            if cell.operation.path == "/openapi.json":
                continue  # the schema names fields; it holds no data (values were checked above)
            for path, key, _ in walk(cell.body):
                if str(key).lower() in EMPLOYER_FORBIDDEN_KEYS:
                    leaks.append(f"{cell.label}: has field {path}")
        assert leaks == []

    def test_no_response_at_all_carries_a_bsn(self, matrix):
        bsns = {CANDIDATE_A["bsn"], CANDIDATE_B["bsn"], str(DEFAULT["bsn"])}
        assert [c.label for c in matrix[0] if any(b in c.text for b in bsns)] == []

    def test_a_coach_never_sees_the_other_municipalitys_candidate(self, matrix):
        leaks = []
        for cell in matrix[0]:
            if cell.role not in ("coach_a", "coach_b"):
                continue
            other = CANDIDATE_B if cell.role == "coach_a" else CANDIDATE_A
            other_id = cell.candidate_ids.get("b" if cell.role == "coach_a" else "a", "")
            for value in (other["given_name"], other["family_name"], other["external_ref"], other_id):
                if value and value in cell.text and cell.operation.method != "DELETE":
                    leaks.append(f"{cell.label}: contains {value!r}")
        # Proposals the coach made itself may name the vacancy, never the other side's person.
        assert leaks == []


def _reveals(cell: Cell) -> bool:
    """A response of an audited route that shows candidate data: a success, or the web form shown again with
    its validation errors (422, the profile is on the page)."""
    if not EXPECTED.get(cell.operation.key, ("", False))[1]:
        return False
    return 200 <= cell.status < 300 or (is_web(cell.operation) and cell.status == 422)


class TestAuditCompleteness:
    def test_candidate_revealing_responses_and_audit_entries_match_one_to_one(self, matrix):
        cells, audit, _ = matrix
        revealing = Counter(c.request_id for c in cells if _reveals(c))
        recorded = Counter(entry.request_id for entry in audit)
        assert None not in revealing
        unaudited = [c.label for c in cells if c.request_id in revealing and c.request_id not in recorded]
        by_request = {c.request_id: c for c in cells}
        unexpected = [
            f"{e.action} from {by_request[e.request_id].label if e.request_id in by_request else '?'} "
            f"-> {by_request[e.request_id].status if e.request_id in by_request else '?'}"
            for e in audit
            if e.request_id not in revealing
        ]
        doubled = [rid for rid, n in recorded.items() if n > 1]
        assert unaudited == [], "revealing responses without an audit entry"
        assert unexpected == [], "audit entries without a revealing response"
        assert doubled == [], "responses with more than one audit entry"
        assert sum(revealing.values()) == len(audit) > 40

    def test_entries_name_actor_role_and_subjects(self, matrix):
        _, audit, _ = matrix
        for entry in audit:
            assert entry.actor_key_id is not None
            assert entry.actor_role in ("coach", "employer", "admin")
            assert entry.origin
            assert entry.request_id
            assert entry.result == "ok"
            if entry.object_type == "candidate" and entry.action != "candidate.list":
                assert len(entry.subjects) == 1, entry.action

"""Shared machinery of the privacy tests: a world of objects per role, every route of the app, one request per
route x role x object, with every response kept (for the matrix, the employer walk and the audit
cross-check)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.audit.models import AuditEntry
from service.auth.keys import create_api_key
from service.auth.principal import Role
from service.main import create_app
from service.persistence.db import session_scope
from service.settings import Settings
from tests.conftest import candidate_payload, truncate_all, vacancy_payload

ROLES = ("coach_a", "coach_b", "employer_x", "employer_y", "admin", "batch", "anonymous")
VARIANTS = ("a", "b", "missing")  # the A/X side's object, the B/Y side's object, an id that does not exist
JOBPOSTING = Path(__file__).resolve().parents[1] / "fixtures" / "jobposting" / "nl_zorg_minimal.json"
PATH_PARAM = re.compile(r"{([a-z_]+)}")

# Personal data of the world's candidates: employers must never see any of it
# (values chosen to be distinctive).
CANDIDATE_A = {
    "given_name": "Annelies",
    "family_name": "Zwaneveld",
    "bsn": "111222333",
    "postcode": "7511 AB",
    "external_ref": "KL-A-0001",
    "municipality": "GM0153",
}
CANDIDATE_B = {
    "given_name": "Bogdan",
    "family_name": "Wisniewski",
    "bsn": "123456782",
    "postcode": "7607 HB",
    "external_ref": "KL-B-0002",
    "municipality": "GM0141",
    "target_group_register": True,
    "support": "wage_subsidy",
}


def relaxed_settings(settings: Settings) -> Settings:
    """The suite's settings with rate limits out of the way (the limits have their own tests)."""
    return settings.model_copy(
        update={
            "rate_limit_per_minute": 1_000_000,
            "rate_limit_burst": 1_000_000,
            "auth_failure_limit_per_minute": 1_000_000,
            "auth_failure_burst": 1_000_000,
        }
    )


@dataclass
class World:
    """Keys per role and one object per side: candidates A (GM0153) and B (GM0141), vacancies X and Y of
    employers X and Y, and proposals A->X (by coach A) and B->Y (by coach B)."""

    keys: dict[str, str]
    key_ids: dict[str, str]
    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # param -> variant -> value

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else {"Authorization": f"Bearer {self.keys[role]}"}


def make_keys(factory: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, str]]:
    spec = {
        "coach_a": ("coach", ["GM0153"], None),
        "coach_b": ("coach", ["GM0141"], None),
        "employer_x": ("employer", [], "Logistiek XL Almelo B.V."),
        "employer_y": ("employer", [], "Zorggroep Hengelo"),
        "admin": ("admin", [], None),
        "batch": ("batch", [], None),
    }
    keys, key_ids = {}, {}
    with session_scope(factory) as session:
        for role, (kind, municipalities, employer) in spec.items():
            issued = create_api_key(
                session, role=Role(kind), municipalities=municipalities, employer_name=employer
            )
            keys[role], key_ids[role] = issued.key, issued.key_id
    return keys, key_ids


def build_world(client: TestClient, factory: sessionmaker[Session], engine: Engine) -> World:
    truncate_all(engine)
    keys, key_ids = make_keys(factory)
    world = World(keys=keys, key_ids=key_ids)

    def post(path: str, role: str, body: dict[str, Any]) -> str:
        response = client.post(path, json=body, headers=world.headers(role))
        assert response.status_code == 201, (path, response.text)
        return str(response.json()["id"])

    cand_a = post("/api/v1/candidates", "coach_a", candidate_payload(**CANDIDATE_A))
    cand_b = post("/api/v1/candidates", "coach_b", candidate_payload(**CANDIDATE_B))
    vac_x = post("/api/v1/vacancies", "employer_x", vacancy_payload(external_ref="VAC-X"))
    vac_y = post("/api/v1/vacancies", "employer_y", vacancy_payload(external_ref="VAC-Y", sector="zorg"))
    prop_a = post(
        f"/api/v1/vacancies/{vac_x}/proposals",
        "coach_a",
        {"candidate_id": cand_a, "note": "Ervaren orderpicker, direct beschikbaar."},
    )
    prop_b = post(f"/api/v1/vacancies/{vac_y}/proposals", "coach_b", {"candidate_id": cand_b, "note": None})
    missing = str(uuid.uuid4())
    world.ids = {
        "candidate_id": {"a": cand_a, "b": cand_b, "missing": missing},
        "vacancy_id": {"a": vac_x, "b": vac_y, "missing": missing},
        "proposal_id": {"a": prop_a, "b": prop_b, "missing": missing},
        "external_ref": {"a": "VAC-X", "b": "VAC-Y", "missing": "VAC-NEW-1"},
    }
    return world


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: Callable[..., Any]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def params(self) -> list[str]:
        return PATH_PARAM.findall(self.path)


def app_operations(app: FastAPI) -> list[Operation]:
    """Every (method, path) the app serves, from its own route list (included routers flattened)."""
    operations = []
    for context in routing.iter_route_contexts(app.routes):
        methods = context.methods
        if not methods or context.path is None:
            continue  # mounts (static files)
        for method in sorted(methods - {"HEAD"}):
            operations.append(Operation(method, context.path, context.endpoint))
    return sorted(operations, key=lambda op: (op.path, op.method))


def is_web(operation: Operation) -> bool:
    return not operation.path.startswith("/api/") and operation.path not in (
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
    )


def request_kwargs(operation: Operation, role: str, variant: str, world: World) -> dict[str, Any]:
    """A valid body for the operation, so that an allowed call succeeds and a refused one is refused for the
    right reason (authorization), not for a malformed body."""
    coach_municipality = {"coach_b": "GM0141"}.get(role, "GM0153")
    object_municipality = "GM0141" if variant == "b" else "GM0153"
    key = operation.key
    fresh = uuid.uuid4().hex[:8]
    if key == "POST /api/v1/candidates":
        return {"json": candidate_payload(municipality=coach_municipality, external_ref=f"KL-{fresh}")}
    if key == "PUT /api/v1/candidates/{candidate_id}":
        return {"json": candidate_payload(municipality=object_municipality, external_ref=f"KL-{fresh}")}
    if key in ("POST /api/v1/vacancies", "PUT /api/v1/vacancies/{vacancy_id}"):
        return {"json": vacancy_payload(external_ref=f"VAC-{fresh}")}
    if key == "PUT /api/v1/vacancies/by-ref/{external_ref}":
        return {"json": vacancy_payload(external_ref=world.ids["external_ref"][variant])}
    if key == "POST /api/v1/vacancies/{vacancy_id}/proposals":
        own = world.ids["candidate_id"]["b" if role == "coach_b" else "a"]
        return {"json": {"candidate_id": own, "note": "Past goed bij het profiel."}}
    if key == "PATCH /api/v1/proposals/{proposal_id}":
        return {"json": {"status": "interview"}}
    if key.endswith(("/taxonomy/occupations", "/taxonomy/skills")):
        return {"params": {"q": "heftruck"}}
    if key == "POST /api/v1/vacancies/jobposting":
        return {"content": JOBPOSTING.read_bytes(), "headers": {"Content-Type": "application/ld+json"}}
    return {}


@dataclass
class Cell:
    operation: Operation
    role: str
    variant: str | None
    status: int
    body: Any
    text: str
    request_id: str | None
    candidate_ids: dict[str, str] = field(default_factory=dict)  # the world's candidates (a, b) at the time

    @property
    def label(self) -> str:
        return f"{self.operation.key} as {self.role}" + (f" on {self.variant}" if self.variant else "")


def _web_auth(client: TestClient, app: FastAPI, world: World, role: str) -> tuple[dict[str, str], str | None]:
    """A signed web session for a role (cookie, CSRF token), minted like the sign-in does."""
    from service.web.session import SESSION_COOKIE, csrf_token, issue_session

    if role == "anonymous":
        return {}, None
    with app.state.sessionmaker() as session:
        from service.auth.keys import authenticate

        principal = authenticate(session, world.keys[role])
    assert principal is not None
    token, web_session = issue_session(principal=principal, secret=app.state.settings.secret_key)
    return {SESSION_COOKIE: token}, csrf_token(nonce=web_session.nonce, secret=app.state.settings.secret_key)


def run_matrix(
    app: FastAPI,
    client: TestClient,
    factory: sessionmaker[Session],
    engine: Engine,
    operations: list[Operation],
) -> tuple[list[Cell], list[AuditEntry]]:
    """Call every operation as every role on every object variant; rebuild the world after each successful
    write.

    Returns the cells and every audit entry written meanwhile (collected before each rebuild)."""
    world = build_world(client, factory, engine)
    cells: list[Cell] = []
    audit: list[AuditEntry] = []
    setup_request_ids: set[str] = set()

    def collect_audit() -> None:
        with factory() as session:
            audit.extend(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))

    def mark_setup() -> None:
        with factory() as session:
            setup_request_ids.update(r for r in session.scalars(select(AuditEntry.request_id)) if r)

    mark_setup()
    for operation in operations:
        variants: tuple[str | None, ...] = VARIANTS if operation.params else (None,)
        for role in ROLES:
            for variant in variants:
                path = operation.path
                for param in operation.params:
                    # Unknown parameters (a new route) get an unknown id, so the matrix still runs
                    # and reports it.
                    value = world.ids.get(param, {}).get(
                        variant or "a", "00000000-0000-4000-8000-000000000000"
                    )
                    path = path.replace("{" + param + "}", value)
                kwargs = request_kwargs(operation, role, variant or "a", world)
                headers = {**world.headers(role), **kwargs.pop("headers", {})}
                client.cookies.clear()
                if is_web(operation):
                    headers.pop("Authorization", None)
                    cookies, csrf = _web_auth(client, app, world, role)
                    for name, value in cookies.items():
                        client.cookies.set(name, value)
                    if operation.method == "POST":
                        kwargs = {"data": {"csrf_token": csrf or ""}}
                response = client.request(
                    operation.method, path, headers=headers, follow_redirects=False, **kwargs
                )
                try:
                    body = response.json()
                except ValueError:
                    body = None
                cells.append(
                    Cell(
                        operation,
                        role,
                        variant,
                        response.status_code,
                        body,
                        response.text,
                        response.headers.get("x-request-id"),
                        {k: v for k, v in world.ids["candidate_id"].items() if k != "missing"},
                    )
                )
                # A successful change to a world object (or its removal) gets a fresh world; creations do not.
                if operation.method in ("PUT", "PATCH", "DELETE") and response.status_code < 300:
                    collect_audit()
                    world = build_world(client, factory, engine)
                    mark_setup()
    collect_audit()
    client.cookies.clear()
    return cells, [entry for entry in audit if entry.request_id not in setup_request_ids]


def walk(value: Any, path: str = "$") -> Iterator[tuple[str, Any, Any]]:
    """Every (json path, key, value) in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_app(settings: Settings) -> FastAPI:
    return create_app(relaxed_settings(settings))

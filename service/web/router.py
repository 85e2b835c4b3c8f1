"""The coach's web page: sign-in, worklist, candidate page, vacancy page and taxonomy look-ups for the forms.

Routes are thin like the API's: read the form or query, call the same operations the API calls, render a
template. Authorization is the repositories' (a foreign candidate is simply not found, rendered as a
404 page). Every page that shows a candidate writes an audit entry, as the API does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from service.audit import audited
from service.auth.principal import Principal
from service.candidates import operations as candidates
from service.demo.vocab import TWENTE_MUNICIPALITIES
from service.deps import SessionDep
from service.errors import Conflict, InvalidInput, NotFound, ServiceError
from service.persistence.models import Candidate
from service.settings import Settings
from service.vacancies import operations as vacancies
from service.web import forms, integration
from service.web.repository import WorklistFilters, new_good_matches, worklist
from service.web.session import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    ApiKeyAuthenticator,
    Authenticator,
    WebSession,
    check_csrf,
    csrf_token,
    issue_session,
    load_principal,
    new_presession_nonce,
    read_session,
)

WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")
router = APIRouter(include_in_schema=False)
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _municipality_name(code: str) -> str:
    """The name of a Twente municipality ("GM0153" → "Enschede"); other codes as they are."""
    known = TWENTE_MUNICIPALITIES.get(code)
    return known[0] if known else code


def _local_date(value: date | datetime | None) -> str:
    """Dutch notation in local time: 23-11-2026 14:05 (stored timestamps are UTC)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(_AMSTERDAM).strftime("%d-%m-%Y %H:%M")
    return value.strftime("%d-%m-%Y")


templates.env.filters["gemeente"] = _municipality_name
templates.env.filters["gemeente_option"] = lambda code: (code, _municipality_name(code))
templates.env.filters["datum"] = _local_date

#: A stored batch match at or above this score counts as a "good" match on the worklist.
GOOD_MATCH_SCORE = 60.0
WORKLIST_PAGE = 50
MATCHES_SHOWN = 20

_HEADERS = {
    # Pages carry personal data: never cached, never framed, no third-party anything.
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def static_files() -> StaticFiles:
    """The stylesheet and the small script, for `app.mount("/static", ...)`."""
    return StaticFiles(directory=WEB_DIR / "static")


# ------------------------------------------------------------------------------------------------ helpers
@dataclass(frozen=True, slots=True)
class WebUser:
    """A signed-in coach: the principal every operation scopes by, and the session's CSRF token."""

    principal: Principal
    session: WebSession
    csrf: str

    @property
    def municipalities(self) -> list[str]:
        return sorted(self.principal.municipalities)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _authenticator(request: Request) -> Authenticator:
    # The seam for OpenID Connect: an app may set `app.state.web_authenticator` to another implementation.
    return getattr(request.app.state, "web_authenticator", None) or ApiKeyAuthenticator()


def _current_user(request: Request, session: Session) -> WebUser | None:
    secret = _settings(request).secret_key
    web_session = read_session(request.cookies.get(SESSION_COOKIE), secret=secret)
    if web_session is None:
        return None
    principal = load_principal(session, web_session)
    if principal is None:
        return None
    return WebUser(
        principal=principal, session=web_session, csrf=csrf_token(nonce=web_session.nonce, secret=secret)
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or _settings(request).environment == "production"


def _safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or len(target) > 500
    ):
        return "/"
    return target


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    user: WebUser | None = None,
) -> HTMLResponse:
    context = {"user": user, "labels": LABELS, **context}
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(_HEADERS)
    return response


def _to_signin(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/aanmelden?" + urlencode({"next": target}), status_code=303)


def _not_found(request: Request, user: WebUser | None) -> HTMLResponse:
    return _render(request, "not_found.html", {"title": "Niet gevonden"}, status_code=404, user=user)


def _forbidden_form(request: Request, user: WebUser | None) -> HTMLResponse:
    return _render(
        request,
        "error.html",
        {
            "title": "Formulier verlopen",
            "message": "Het formulier is verlopen of niet van deze sessie. "
            "Laad de pagina opnieuw en probeer het nog eens.",
        },
        status_code=403,
        user=user,
    )


def _parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _readable(getter: Any, session: Session, user: Any, raw_id: str) -> Any:
    """The object behind a URL id, read through the scoped operation `getter`; an unparsable id is as unknown
    as a foreign one (NotFound)."""
    parsed = _parse_id(raw_id)
    if parsed is None:
        raise NotFound()
    return getter(session, user.principal, parsed)


def _session_csrf_ok(request: Request, user: Any, form: Any) -> bool:
    """The form's CSRF token belongs to this signed-in session."""
    return check_csrf(
        str(form.get("csrf_token") or ""), nonce=user.session.nonce, secret=_settings(request).secret_key
    )


def _choice(value: str | None, allowed: tuple[tuple[str, str], ...] | tuple[str, ...]) -> str | None:
    """A query value if it is one of the allowed ones; anything else means: no filter."""
    keys = {item[0] if isinstance(item, tuple) else item for item in allowed}
    return value if value in keys else None


def _int_or_none(value: str | None, *, low: int, high: int) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return number if low <= number <= high else None


LABELS: dict[str, dict[str, str]] = {
    "sector": dict(forms.SECTORS),
    "support": dict(forms.SUPPORT_LEVELS),
    "status": dict(forms.STATUSES),
    "country": dict(forms.COUNTRIES),
    "education": dict(forms.EDUCATION_LEVELS),
    "contract": {
        "permanent": "vast",
        "temporary": "tijdelijk",
        "flex": "flex",
        "internship": "stage",
        "apprenticeship": "leerbaan (BBL)",
    },
    "proposal": {
        "proposed": "voorgedragen",
        "interview": "gesprek",
        "hired": "aangenomen",
        "rejected": "afgewezen",
    },
    "factor": integration.FACTOR_LABELS,
}


# ------------------------------------------------------------------------------------------------ sign-in
@router.get("/aanmelden", response_class=HTMLResponse)
def signin_page(
    request: Request,
    session: SessionDep,
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
) -> Response:
    """The sign-in form (a pre-session cookie binds its CSRF token)."""
    if _current_user(request, session) is not None:
        return RedirectResponse(_safe_next(next_), status_code=303)
    return _signin_form(
        request, next_=_safe_next(next_), signed_out=request.query_params.get("afgemeld") == "1"
    )


def _signin_form(
    request: Request,
    *,
    next_: str,
    error: str | None = None,
    signed_out: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    nonce = new_presession_nonce()
    token = csrf_token(nonce=nonce, secret=_settings(request).secret_key, purpose="signin")
    response = _render(
        request,
        "signin.html",
        {"title": "Aanmelden", "csrf": token, "next": next_, "error": error, "signed_out": signed_out},
        status_code=status_code,
    )
    response.set_cookie(
        PRESESSION_COOKIE,
        nonce,
        max_age=1800,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    return response


@router.post("/aanmelden", response_class=HTMLResponse)
async def signin(request: Request, session: SessionDep) -> Response:
    """Check the key; on success a signed session cookie, on failure the form again with a clear error."""
    form = await request.form()
    next_ = _safe_next(str(form.get("next") or "/"))
    nonce = request.cookies.get(PRESESSION_COOKIE, "")
    if not nonce or not check_csrf(
        str(form.get("csrf_token") or ""), nonce=nonce, secret=_settings(request).secret_key, purpose="signin"
    ):
        return _signin_form(
            request,
            next_=next_,
            status_code=403,
            error="Het aanmeldformulier is verlopen. Probeer het opnieuw.",
        )
    credential = str(form.get("api_key") or "")[:200]
    principal = _authenticator(request).authenticate(session, credential) if credential.strip() else None
    if principal is None:
        return _signin_form(
            request,
            next_=next_,
            status_code=401,
            error="Aanmelden mislukt: deze sleutel is onbekend, ingetrokken of niet van een adviseur werk.",
        )
    token, _ = issue_session(principal=principal, secret=_settings(request).secret_key)
    response = RedirectResponse(next_, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/")
    return response


@router.post("/afmelden")
async def signout(request: Request, session: SessionDep) -> Response:
    """End the session in this browser (the cookie is deleted)."""
    user = _current_user(request, session)
    form = await request.form()
    if user is not None and not _session_csrf_ok(request, user, form):
        return _forbidden_form(request, user)
    response = RedirectResponse("/aanmelden?afgemeld=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------------------------------------ worklist
@router.get("/", response_class=HTMLResponse)
@audited
def worklist_page(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sector: Annotated[str | None, Query(max_length=20)] = None,
    support: Annotated[str | None, Query(max_length=20)] = None,
    municipality: Annotated[str | None, Query(max_length=6)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Own candidates with status, last change and new good matches since the last batch run."""
    user = _current_user(request, session)
    if user is None:
        return _to_signin(request)
    query = (q or "").replace("\x00", "").strip() or None
    filters = WorklistFilters(
        q=query,
        sector=_choice(sector, forms.SECTORS),
        support=_choice(support, forms.SUPPORT_LEVELS),
        municipality=municipality if municipality in user.principal.municipalities else None,
        status=_choice(status, forms.STATUSES),
    )
    rows, total = worklist(
        session, user.principal, filters=filters, limit=WORKLIST_PAGE, offset=(page - 1) * WORKLIST_PAGE
    )
    news = new_good_matches(session, [row.id for row in rows], min_score=GOOD_MATCH_SCORE)
    integration.audit_view(
        session,
        user.principal,
        candidate_ids=[row.id for row in rows],
        action="candidate.list",
        request=request,
    )
    pages = max(1, -(-total // WORKLIST_PAGE))
    params = {
        k: v
        for k, v in {
            "q": query,
            "sector": filters.sector,
            "support": filters.support,
            "municipality": filters.municipality,
            "status": filters.status,
        }.items()
        if v
    }
    return _render(
        request,
        "worklist.html",
        {
            "title": "Werklijst",
            "rows": rows,
            "total": total,
            "filters": filters,
            "news": news,
            "good_score": GOOD_MATCH_SCORE,
            "page": page,
            "pages": pages,
            "params": params,
            "sectors": forms.SECTORS,
            "support_levels": forms.SUPPORT_LEVELS,
            "statuses": forms.STATUSES,
            "query_string": urlencode(params),
        },
        user=user,
    )


# ------------------------------------------------------------------------------------------------ candidate
@dataclass(frozen=True, slots=True)
class MatchFilterForm:
    """The filters above the ranked vacancies, as given (invalid values are ignored)."""

    sector: str | None = None
    country: str | None = None
    max_km: int | None = None
    hours_min: int | None = None
    hours_max: int | None = None

    @property
    def active(self) -> bool:
        return any(
            value is not None
            for value in (self.sector, self.country, self.max_km, self.hours_min, self.hours_max)
        )


def _match_filters(request: Request) -> MatchFilterForm:
    params = request.query_params
    return MatchFilterForm(
        sector=_choice(params.get("sector"), forms.SECTORS),
        country=_choice(params.get("country"), forms.COUNTRIES),
        max_km=_int_or_none(params.get("max_km"), low=0, high=500),
        hours_min=_int_or_none(params.get("uren_min"), low=0, high=48),
        hours_max=_int_or_none(params.get("uren_max"), low=0, high=48),
    )


def _candidate_page(
    request: Request,
    session: Session,
    user: WebUser,
    candidate: Candidate,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    filters = _match_filters(request)
    ranking = integration.rank_vacancies(
        session, user.principal, candidate=candidate, filters=filters, limit=MATCHES_SHOWN, app=request.app
    )
    proposed = integration.proposed_vacancy_ids(session, user.principal, candidate_id=candidate.id)
    integration.audit_view(
        session,
        user.principal,
        candidate_ids=[candidate.id],
        action="candidate.read",
        request=request,
        object_id=candidate.id,
        municipality=candidate.municipality,
    )
    proposed_for = _parse_id(request.query_params.get("voorgedragen", ""))
    return _render(
        request,
        "candidate.html",
        {
            "title": f"{candidate.given_name} {candidate.family_name}",
            "candidate": candidate,
            "values": values or forms.form_values(candidate),
            "errors": errors or {},
            "message": message,
            "saved": request.query_params.get("opgeslagen") == "1",
            "proposed_for": proposed_for,
            "ranking": ranking,
            "proposed": proposed,
            "filters": filters,
            "choices": forms,
            "empty_rows": forms.EMPTY_ROWS,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/kandidaten/{candidate_id}", response_class=HTMLResponse)
@audited
def candidate_page(candidate_id: str, request: Request, session: SessionDep) -> Response:
    """The profile (editable) and the ranked vacancies with their explanations."""
    user = _current_user(request, session)
    if user is None:
        return _to_signin(request)
    try:
        candidate = _readable(candidates.get_candidate, session, user, candidate_id)
    except NotFound:
        return _not_found(request, user)
    return _candidate_page(request, session, user, candidate)


@router.post("/kandidaten/{candidate_id}", response_class=HTMLResponse)
async def save_candidate(candidate_id: str, request: Request, session: SessionDep) -> Response:
    """Save the profile with the API's validation; errors are shown next to their fields."""
    user = _current_user(request, session)
    if user is None:
        return _to_signin(request)
    form = await request.form()
    if not _session_csrf_ok(request, user, form):
        return _forbidden_form(request, user)
    try:
        candidate = _readable(candidates.get_candidate, session, user, candidate_id)
    except NotFound:
        return _not_found(request, user)
    payload = forms.payload_from_form(form, current=candidate)
    expected = _int_or_none(str(form.get("version") or ""), low=1, high=10**9)
    data, errors = forms.validate(payload)
    message = None
    if data is not None:
        try:
            candidates.replace_candidate(
                session,
                user.principal,
                candidate.id,
                data,
                expected_version=expected,
                secret=_settings(request).secret_key,
            )
        except InvalidInput as exc:
            errors = forms.errors_by_field(exc.errors) or {
                "postcode": forms.dutch_message({"msg": exc.detail})
            }
        except NotFound:
            errors = {"municipality": "U werkt niet voor deze gemeente."}
        except Conflict as exc:
            if "external_ref" in exc.detail:
                errors = {"external_ref": "Dit klantnummer bestaat al in deze gemeente."}
            else:
                message = (
                    "Iemand anders heeft dit profiel intussen gewijzigd. Laad de pagina opnieuw; "
                    "uw wijzigingen zijn niet opgeslagen."
                )
        else:
            return RedirectResponse(f"/kandidaten/{candidate.id}?opgeslagen=1", status_code=303)
    # Nothing of a refused save may stick: roll back, reload the stored profile for the rest of the page.
    session.rollback()
    candidate = candidates.get_candidate(session, user.principal, candidate.id)
    values = forms.form_values_from_payload(
        payload, version=candidate.version, has_bsn=candidate.bsn_hash is not None
    )
    if message is None:
        message = "Het profiel is niet opgeslagen: controleer de gemarkeerde velden."
    return _candidate_page(
        request,
        session,
        user,
        candidate,
        values=values,
        errors=errors,
        message=message,
        status_code=422 if errors else 409,
    )


@router.post("/kandidaten/{candidate_id}/voordragen", response_class=HTMLResponse)
async def propose(candidate_id: str, request: Request, session: SessionDep) -> Response:
    """Propose the candidate to a vacancy, with the coach's note."""
    user = _current_user(request, session)
    if user is None:
        return _to_signin(request)
    form = await request.form()
    if not _session_csrf_ok(request, user, form):
        return _forbidden_form(request, user)
    parsed = _parse_id(candidate_id)
    vacancy_id = _parse_id(str(form.get("vacancy_id") or ""))
    note = str(form.get("note") or "").replace("\x00", "").strip()
    try:
        if parsed is None or vacancy_id is None:
            raise NotFound()
        candidate = candidates.get_candidate(session, user.principal, parsed)
        integration.propose(
            session,
            user.principal,
            candidate_id=candidate.id,
            vacancy_id=vacancy_id,
            note=note,
            request=request,
        )
    except NotFound:
        session.rollback()
        return _not_found(request, user)
    except ServiceError as exc:
        session.rollback()
        candidate = candidates.get_candidate(session, user.principal, parsed)  # type: ignore[arg-type]
        text = integration.dutch_error(exc)
        return _candidate_page(
            request,
            session,
            user,
            candidate,
            message=f"Voordragen is niet gelukt: {text}",
            status_code=exc.status,
        )
    return RedirectResponse(
        f"/kandidaten/{candidate.id}?voorgedragen={vacancy_id}#match-{vacancy_id}", status_code=303
    )


# ------------------------------------------------------------------------------------------------ vacancy
@router.get("/vacatures/{vacancy_id}", response_class=HTMLResponse)
@audited
def vacancy_page(vacancy_id: str, request: Request, session: SessionDep) -> Response:
    """The vacancy, the coach's own candidates ranked for it, and the proposals made to it."""
    user = _current_user(request, session)
    if user is None:
        return _to_signin(request)
    try:
        vacancy = _readable(vacancies.get_vacancy, session, user, vacancy_id)
    except NotFound:
        return _not_found(request, user)
    employer = vacancies.to_out(session, vacancy).employer.name
    ranking = integration.rank_candidates(
        session, user.principal, vacancy=vacancy, limit=MATCHES_SHOWN, app=request.app
    )
    proposals = integration.vacancy_proposals(session, user.principal, vacancy_id=vacancy.id)
    shown = [item.candidate.id for item in ranking.items] + [
        p.candidate_id for p in proposals if p.candidate_id
    ]
    integration.audit_view(
        session,
        user.principal,
        candidate_ids=shown,
        action="vacancy.matches",
        request=request,
        object_type="vacancy",
        object_id=vacancy.id,
    )
    return _render(
        request,
        "vacancy.html",
        {
            "title": vacancy.title,
            "vacancy": vacancy,
            "employer": employer,
            "ranking": ranking,
            "proposals": proposals,
        },
        user=user,
    )


# ------------------------------------------------------------------------------------------------ taxonomy
def _taxonomy(request: Request, session: Session, kind: str, q: str | None, lang: str | None) -> Response:
    if _current_user(request, session) is None:
        return JSONResponse({"items": []}, status_code=401)
    items = integration.taxonomy_search(kind=kind, q=(q or "").replace("\x00", ""), lang=lang, limit=10)
    response = JSONResponse({"items": items})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/ui/taxonomy/skills")
def taxonomy_skills(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    lang: Annotated[str | None, Query(pattern="^(nl|de|en)$")] = None,
) -> Response:
    """Competences for search-as-you-type (cookie-authenticated twin of `/api/v1/taxonomy/skills`)."""
    return _taxonomy(request, session, "skills", q, lang)


@router.get("/ui/taxonomy/occupations")
def taxonomy_occupations(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    lang: Annotated[str | None, Query(pattern="^(nl|de|en)$")] = None,
) -> Response:
    """Occupations for search-as-you-type (cookie-authenticated twin of `/api/v1/taxonomy/occupations`)."""
    return _taxonomy(request, session, "occupations", q, lang)

"""Sign-in for the web page: the `Authenticator` seam, signed session cookies and CSRF tokens.

How a coach signs in is behind one small interface, :class:`Authenticator`: it turns what the sign-in form
(or, later, an identity provider's callback) delivered into a :class:`~service.auth.principal.Principal`
bound to an API key row. Today :class:`ApiKeyAuthenticator` checks a pasted API key of role ``coach``.
The municipality's OpenID Connect sign-in plugs in as a second implementation: its callback route validates
the ID token, maps the ``sub``/group claims to a coach key row (the key row stays the unit of authorization,
revocation and audit) and calls :func:`issue_session` exactly as the key sign-in does. Nothing after sign-in
knows which one was used. An app selects the implementation with ``app.state.web_authenticator``.

The session cookie is stateless and never contains the API key: it carries the key's row id, an expiry and
a random nonce, signed with HMAC-SHA256 under ``settings.secret_key``. Every request re-reads the key row,
so a revoked key (or one whose role changed) ends every session at once. Sign-out deletes the cookie; a
copied cookie stays valid until its expiry (8 hours) unless the key is revoked: the trade-off of not keeping
a session table.

CSRF: a synchronizer token per session, ``HMAC(secret, "csrf" | nonce)``, embedded in every form and checked
on every POST. The sign-in form, which has no session yet, is bound the same way to a short-lived
pre-session cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from service.auth.keys import authenticate
from service.auth.principal import Principal, Role
from service.web.repository import principal_for_key_id

SESSION_COOKIE = "wm_session"
PRESESSION_COOKIE = "wm_signin"
SESSION_SECONDS = 8 * 3600
_VERSION = "v1"


class Authenticator(Protocol):
    """Turns sign-in credentials into a coach principal, or None; never raises for bad input."""

    def authenticate(self, session: Session, credential: str) -> Principal | None:
        """The coach principal of a credential; None when it is wrong, revoked or not a coach's."""
        ...


class ApiKeyAuthenticator:
    """Sign-in with an API key of role ``coach`` (the key itself is never stored in the browser)."""

    def authenticate(self, session: Session, credential: str) -> Principal | None:
        """The principal of a valid, unrevoked coach key; None for anything else."""
        principal = authenticate(session, credential.strip())
        if principal is None or principal.role is not Role.COACH:
            return None
        return principal


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest())


@dataclass(frozen=True, slots=True)
class WebSession:
    """A verified session cookie: whose key, until when, and the nonce its CSRF token derives from."""

    key_id: uuid.UUID
    expires_at: int
    nonce: str


def issue_session(*, principal: Principal, secret: str, now: float | None = None) -> tuple[str, WebSession]:
    """A new signed session token for a signed-in principal (and the session it stands for)."""
    expires_at = int(now if now is not None else time.time()) + SESSION_SECONDS
    nonce = secrets.token_urlsafe(18)
    body = f"{_VERSION}.{principal.key_id.hex}.{expires_at}.{nonce}"
    token = f"{body}.{_mac(secret, 'session|' + body)}"
    return token, WebSession(key_id=principal.key_id, expires_at=expires_at, nonce=nonce)


def read_session(token: str | None, *, secret: str, now: float | None = None) -> WebSession | None:
    """The session of a cookie value when its signature is valid and it has not expired; else None."""
    if not token or len(token) > 300:
        return None
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        return None
    body, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(signature, _mac(secret, "session|" + body)):
        return None
    try:
        key_id = uuid.UUID(hex=parts[1])
        expires_at = int(parts[2])
    except ValueError:
        return None
    if expires_at <= int(now if now is not None else time.time()):
        return None
    return WebSession(key_id=key_id, expires_at=expires_at, nonce=parts[3])


def load_principal(session: Session, web_session: WebSession) -> Principal | None:
    """Re-read the key row behind a session: revoked keys and non-coach keys end the session."""
    principal = principal_for_key_id(session, web_session.key_id)
    if principal is None or principal.role is not Role.COACH:
        return None
    return principal


def csrf_token(*, nonce: str, secret: str, purpose: str = "csrf") -> str:
    """The synchronizer token of a session (or of a pre-session for the sign-in form)."""
    return _mac(secret, f"{purpose}|{nonce}")


def check_csrf(presented: str | None, *, nonce: str, secret: str, purpose: str = "csrf") -> bool:
    """Whether a form's token belongs to this session (constant-time comparison)."""
    if not presented or len(presented) > 100:
        return False
    return hmac.compare_digest(presented, csrf_token(nonce=nonce, secret=secret, purpose=purpose))


def new_presession_nonce() -> str:
    """A random value for the sign-in form's pre-session cookie."""
    return secrets.token_urlsafe(18)

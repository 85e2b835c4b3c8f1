"""Keep BSNs and API keys out of log output: a logging filter that masks both in every record it sees.

werkmatch never logs request bodies or query strings itself; this is the second line of defence for what
libraries log (uvicorn's access log has the query string, exception messages may quote input)."""

from __future__ import annotations

import logging
import re

# 9 digits not part of a longer digit run: the BSN shape (the 11-check is applied before masking).
_NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
# werkmatch API keys: `wm_` + 43 url-safe base64 characters (secrets.token_urlsafe(32));
# mask anything longer too.
_API_KEY = re.compile(r"wm_[A-Za-z0-9_\-]{20,}")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def is_bsn(digits: str) -> bool:
    """The BSN 11-check (9 digits, weights 9..2 and -1, sum divisible by 11, not all zero)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0 and total != 0


def find_bsns(text: str) -> list[str]:
    """Every 9-digit run in `text` that passes the 11-check."""
    return [m.group(0) for m in _NINE_DIGITS.finditer(text) if is_bsn(m.group(0))]


def find_api_keys(text: str) -> list[str]:
    return _API_KEY.findall(text)


def redact(text: str) -> str:
    """Mask 11-check numbers, werkmatch API keys and bearer tokens."""
    text = _API_KEY.sub("wm_[REDACTED]", text)
    text = _BEARER.sub(r"\1[REDACTED]", text)
    return _NINE_DIGITS.sub(lambda m: "[BSN?]" if is_bsn(m.group(0)) else m.group(0), text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (after %-formatting) and its exception text with `redact`.

    Where it can, the filter redacts the record's template and each string argument and keeps them apart:
    formatters that read ``record.args`` themselves (uvicorn's access log unpacks client, method, path,
    version and status from it) then still work. Only when that would leave something unmasked (a number
    split across two arguments) is the record collapsed to its redacted message without arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error reporting
            return True
        cleaned = redact(message)
        if cleaned != message and not _redact_parts(record, cleaned):
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _redact_parts(record: logging.LogRecord, cleaned: str) -> bool:
    """Redact a record's template and string arguments in place when that gives exactly ``cleaned``."""
    if not isinstance(record.msg, str) or not isinstance(record.args, tuple) or not record.args:
        return False
    msg = redact(record.msg)
    args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
    try:
        if msg % args != cleaned:
            return False
    except (TypeError, ValueError):
        return False
    record.msg, record.args = msg, args
    return True


_FILTER = RedactingFilter()
_LOGGERS = ("", "werkmatch", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "sqlalchemy.engine")


def install_log_redaction() -> None:
    """Add the filter to every handler of the root, werkmatch, uvicorn and SQLAlchemy loggers (idempotent).

    Handler filters see propagated records too, so children (`werkmatch.access`, ...) are covered."""
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)

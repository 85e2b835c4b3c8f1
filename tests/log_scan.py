"""pytest plugin: capture every log record of the test run and fail the run if one holds a BSN or an API key.

Registered from tests/conftest.py (`pytest_plugins`). A handler on the root logger (level INFO) keeps the
formatted messages, exception texts included; at the end of the session every line is scanned for 9-digit
numbers passing the BSN 11-check and for werkmatch API keys (`wm_...`). Subprocess output (the CLI tests) is
not covered here; those tests assert on their own stderr."""

from __future__ import annotations

import logging

import pytest

from service.security.redaction import find_api_keys, find_bsns


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # keep the raw template if formatting fails
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        self.lines.append(f"{record.name}: {text}")


COLLECTOR = _Collector()


def scan(lines: list[str]) -> list[str]:
    """Lines that contain a BSN (11-check) or an API key."""
    return [line for line in lines if find_bsns(line) or find_api_keys(line)]


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(COLLECTOR)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = scan(COLLECTOR.lines)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"log scan: {len(COLLECTOR.lines)} log lines, {len(leaks)} with a BSN or API key")
    if leaks:
        if reporter is not None:
            for line in leaks[:20]:
                reporter.write_line(f"  LEAK {line[:300]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

"""The log redaction filter masks BSNs and API keys without breaking formatters that read a record's
arguments (uvicorn's access log)."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from service.security.redaction import RedactingFilter, find_bsns

BSN = "111222333"  # passes the 11-check


def _access_record(path: str) -> logging.LogRecord:
    # What uvicorn's HTTP protocols log for every response.
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )


@pytest.mark.parametrize(
    ("description", "path"),
    [
        ("a BSN in the query string", f"/api/v1/candidates?bsn={BSN}"),
        ("a uuid whose digit run passes the 11-check", f"/api/v1/vacancies/07a80cde-0c46-4f5f-8439-a{BSN}be"),
    ],
)
def test_access_log_lines_are_masked_and_still_format(description, path):
    record = _access_record(path)
    assert RedactingFilter().filter(record), description
    line = AccessFormatter(fmt="%(client_addr)s - %(request_line)s %(status_code)s", use_colors=False).format(
        record
    )
    assert BSN not in line, description
    assert find_bsns(line) == [], description
    assert "[BSN?]" in line, description
    assert line.endswith("200 OK"), description


def test_a_number_split_across_arguments_collapses_the_record():
    record = logging.LogRecord("werkmatch", logging.INFO, __file__, 1, "%s%s", ("11122", "2333"), None)
    RedactingFilter().filter(record)
    assert record.args is None
    assert record.getMessage() == "[BSN?]"


def test_records_without_secrets_are_untouched():
    record = _access_record("/api/v1/vacancies")
    RedactingFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", "/api/v1/vacancies", "1.1", 200)

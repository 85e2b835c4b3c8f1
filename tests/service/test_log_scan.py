"""The log scan (tests/log_scan.py) itself: it finds what it must, and the app's own logs of a BSN-carrying
request flow contain neither the BSN nor the key."""

from __future__ import annotations

import logging

from tests.conftest import candidate_payload
from tests.log_scan import COLLECTOR, scan


class TestLogScan:
    def test_the_scanner_finds_bsns_and_keys_only(self):
        assert scan(["bsn 111222333 here"]) == ["bsn 111222333 here"]
        assert scan(["key wm_" + "A" * 43]) != []
        assert scan(["order 123456789 is not an 11-check number", "phone 0612345678"]) == []

    def test_a_request_flow_with_a_bsn_logs_none(self, client, keys, caplog):
        caplog.set_level(logging.INFO)
        start = len(COLLECTOR.lines)
        coach = keys["coach_a"]
        created = client.post(
            "/api/v1/candidates", json=candidate_payload(bsn="123456782"), headers=coach.headers
        )
        client.get("/api/v1/candidates?q=123456782", headers=coach.headers)
        client.get("/api/v1/candidates/123456782", headers=coach.headers)
        client.get(
            f"/api/v1/candidates/{created.json()['id']}", headers={"Authorization": "Bearer wm_" + "x" * 43}
        )
        client.post(
            "/api/v1/candidates", json=candidate_payload(bsn="123456789"), headers=coach.headers
        )  # 422
        new_lines = COLLECTOR.lines[start:]
        assert any("werkmatch.access" in line for line in new_lines)
        assert scan(new_lines) == []
        assert scan([record.getMessage() for record in caplog.records]) == []

"""Tests for matching.geo: postcode normalisation, lookup against the shipped gazetteer, distances."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import geo
from matching.geo import Location, haversine_km, locate, municipality_code, normalise_postcode


class TestNormalisePostcode:
    @pytest.mark.parametrize(
        ("raw", "country", "expected", "description"),
        [
            ("7601 AB", "NL", "7601 AB", "canonical PC6 stays as is"),
            ("7601ab", "NL", "7601 AB", "lower case without space"),
            ("  7601   ab ", "nl", "7601 AB", "extra whitespace, lower-case country"),
            ("7601", "NL", "7601", "PC4 alone is allowed"),
            ("0601 AB", "NL", None, "Dutch postcodes never start with 0"),
            ("7601 SS", "NL", None, "SS/SA/SD letter pairs are never issued"),
            ("760 AB", "NL", None, "too few digits"),
            ("7601 A", "NL", None, "one letter"),
            ("7601-AB", "NL", None, "dash is not a separator"),
            ("48599", "DE", "48599", "German PLZ"),
            ("D-48599", "DE", "48599", "PLZ with D- prefix"),
            ("DE 48599", "DE", "48599", "PLZ with DE prefix"),
            ("4859", "DE", None, "four digits are not a PLZ"),
            ("00123", "DE", None, "00xxx is not issued"),
            ("48599", "BE", None, "unsupported country"),
            ("", "NL", None, "empty"),
        ],
    )
    def test_cases(self, raw: str, country: str, expected: str | None, description: str) -> None:
        assert normalise_postcode(raw, country) == expected, description

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=12), st.sampled_from(["NL", "DE", "nl", "XX"]))
    def test_never_raises_and_is_idempotent(self, raw: str, country: str) -> None:
        out = normalise_postcode(raw, country)
        if out is not None:
            assert normalise_postcode(out, country) == out


class TestLocate:
    def test_almelo_pc6_resolves_via_pc4(self) -> None:
        loc = locate("7601ab", "NL")
        assert loc == Location(postcode="7601 AB", country="NL", lat=loc.lat, lon=loc.lon, place="Almelo")
        pc4 = locate("7601", "NL")
        assert pc4 is not None
        assert (loc.lat, loc.lon) == (pc4.lat, pc4.lon)
        assert 52.2 < loc.lat < 52.5
        assert 6.5 < loc.lon < 6.8

    def test_gronau_plz(self) -> None:
        loc = locate("48599", "DE")
        assert loc is not None
        assert loc.place == "Gronau (Westfalen)"
        assert loc.country == "DE"

    def test_company_names_are_not_places(self) -> None:
        # 10875 is a large-customer PLZ listing only companies ("Daimler ... GmbH"): the Kreis names it.
        loc = locate("10875", "DE")
        assert loc is not None
        assert "GmbH" not in loc.place
        assert "AG" not in loc.place.split()

    @pytest.mark.parametrize(
        ("postcode", "country", "description"),
        [
            ("1000", "NL", "well-formed but unused PC4 (post-office boxes range)"),
            ("abcd", "NL", "malformed"),
            ("99999", "DE", "well-formed but unknown PLZ"),
            ("7601", "DE", "a Dutch postcode asked as German"),
            ("7601", "BE", "unsupported country"),
        ],
    )
    def test_unknown_is_none_never_zero(self, postcode: str, country: str, description: str) -> None:
        assert locate(postcode, country) is None, description

    def test_municipality_code(self) -> None:
        assert municipality_code("7601 AB", "NL") == "GM0141"
        assert municipality_code("7511", "NL") == "GM0153"
        assert municipality_code("1000", "NL") is None

    def test_every_shipped_row_resolves(self) -> None:
        for country in ("NL", "DE"):
            table = geo._gazetteer(country)
            assert len(table) > 4000
            for pc, entry in table.items():
                assert normalise_postcode(pc, country) == pc
                assert 47.0 < entry.lat < 55.5
                assert 3.0 < entry.lon < 15.5
                assert entry.place

    def test_cold_load_is_fast(self) -> None:
        # Not a timing assertion on the product: this guards the loader against an accidental O(n^2) or a
        # heavyweight parser, with a bound 10x above the measured ~20 ms.
        geo._gazetteer.cache_clear()
        start = time.perf_counter()
        geo._gazetteer("NL")
        geo._gazetteer("DE")
        assert time.perf_counter() - start < 2.0


class TestHaversine:
    def test_known_distance_almelo_enschede(self) -> None:
        almelo, enschede = locate("7601", "NL"), locate("7511", "NL")
        assert almelo is not None
        assert enschede is not None
        d = haversine_km(almelo.lat, almelo.lon, enschede.lat, enschede.lon)
        assert isinstance(d, float)
        assert 18.0 < d < 26.0

    def test_zero_and_symmetry(self) -> None:
        assert haversine_km(52.0, 6.0, 52.0, 6.0) == 0.0
        assert haversine_km(52.0, 6.0, 51.0, 7.0) == pytest.approx(haversine_km(51.0, 7.0, 52.0, 6.0))

    def test_vectorised_matches_scalar(self) -> None:
        lats = np.array([52.0, 51.5, 53.1])
        lons = np.array([6.0, 7.2, 5.5])
        out = haversine_km(52.3, 6.6, lats, lons)
        assert isinstance(out, np.ndarray)
        assert out.shape == (3,)
        for i in range(3):
            assert out[i] == pytest.approx(haversine_km(52.3, 6.6, float(lats[i]), float(lons[i])))

    def test_one_degree_latitude(self) -> None:
        assert haversine_km(52.0, 6.0, 53.0, 6.0) == pytest.approx(111.2, abs=0.2)

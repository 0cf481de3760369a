"""The built-in detectors: DTGs, clock times, MGRS and latitude/longitude, English and Japanese."""

from __future__ import annotations

import pytest

from kyodo.spillage import find_clock_times, find_dtgs, find_latlon, find_mgrs


def found(detector: object, text: str) -> list[str]:
    assert callable(detector)
    return [text[s:e] for s, e in detector(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TOT 151200ZMAR25 confirmed", ["151200ZMAR25"]),
        ("at 030500Z MAY 2025", ["030500Z MAY 2025"]),
        ("161200zapr25", ["161200zapr25"]),
        ("151200ZMAR", ["151200ZMAR"]),
        ("攻撃開始は151200ZMAR25とする", ["151200ZMAR25"]),
    ],
)
def test_dtgs_are_found(text: str, expected: list[str]) -> None:
    assert found(find_dtgs, text) == expected


@pytest.mark.parametrize(
    "text",
    ["321200ZMAR25", "152500ZMAR25", "151200JMAR25", "X151200ZMAR25", "151200ZMARCH", "0330Z"],
)
def test_dtg_lookalikes_are_not(text: str) -> None:
    assert found(find_dtgs, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("launch 0330Z, TOT 0412Z", ["0330Z", "0412Z"]),
        ("meeting at 1400 in room 2", ["1400"]),
        ("open 0200-0400Z", ["0200", "0400Z"]),
        ("departs 2155 hrs", ["2155 hrs"]),
        ("at 14:30 today", ["14:30"]),
        ("射撃開始は05時30分", ["05時30分"]),
        ("本日14時から", ["14時"]),
        ("午前5時半に集合", ["午前5時半"]),
        ("0530Iとする", ["0530I"]),
    ],
)
def test_clock_times_are_found(text: str, expected: list[str]) -> None:
    assert found(find_clock_times, text) == expected


@pytest.mark.parametrize(
    "text",
    ["FY2025", "2460 dollars", "12345", "週5時間", "1時間繰り下げ", "v1.2400", "$1200", "25:10"],
)
def test_clock_lookalikes_are_not(text: str) -> None:
    assert found(find_clock_times, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at MGRS 52S CB 41200 88300 at 0545", ["52S CB 41200 88300"]),
        ("the launcher at 51R UG 12 34.", ["51R UG 12 34"]),
        ("54SVE1234567890", ["54SVE1234567890"]),
        ("displaced to 52S DB 555 444, awaiting", ["52S DB 555 444"]),
        ("グリッド52R CU 1234 5678。", ["52R CU 1234 5678"]),
        ("grid CB 123 456", ["grid CB 123 456"]),
        ("grid 123456", ["grid 123456"]),
        ("グリッド 12345678", ["グリッド 12345678"]),
    ],
)
def test_mgrs_references_are_found(text: str, expected: list[str]) -> None:
    assert found(find_mgrs, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Kill box 52RCV3",  # odd number of digits
        "52S CB 123 4567",  # easting and northing of different precision
        "grid 12",  # too coarse to be a location without a square
        "61S CB 1234",  # no zone 61
        "52I CB 1234",  # no band I
        "the grid is down",
        "Room 3B 1234",
    ],
)
def test_mgrs_lookalikes_are_not(text: str) -> None:
    assert found(find_mgrs, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in position at 26.3341N 127.8012E and", ["26.3341N 127.8012E"]),
        ("at 28.1N 126.3E by 0200", ["28.1N 126.3E"]),
        ("carrier at 24°30'N 124°10'E, course", ["24°30'N 124°10'E"]),
        ("at 35°41'22\"N 139°41'30\"E", ["35°41'22\"N 139°41'30\"E"]),
        ("N35.1234 E139.1234", ["N35.1234 E139.1234"]),
        ("position at launch: 30-12N 131-45E.", ["30-12N 131-45E"]),
        ("354122N1394130E", ["354122N1394130E"]),
        ("set at 24.3442, 123.9912, ready", ["24.3442, 123.9912"]),
        ("北緯26度21分 東経127度48分に展開", ["北緯26度21分 東経127度48分"]),
        ("北緯27.1234度、東経125.5678度。", ["北緯27.1234度、東経125.5678度"]),
        ("南緯33度52分 東経151度12分", ["南緯33度52分 東経151度12分"]),
    ],
)
def test_latlon_is_found(text: str, expected: list[str]) -> None:
    assert found(find_latlon, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "95.1234N 139.1234E",  # latitude above 90
        "35.1234N 190.1234E",  # longitude above 180
        "24°75'N 124°10'E",  # 75 minutes
        "35.6, 139.7",  # two decimals: a price list as much as a place
        "version 1.234, 5.678.9",
        "北緯35度",  # a latitude alone
        "0.000, 0.000",
    ],
)
def test_latlon_lookalikes_are_not(text: str) -> None:
    assert found(find_latlon, text) == []

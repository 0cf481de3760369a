"""Built-in detectors: date-time groups, clock times, MGRS grid references, latitude/longitude."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

Span = tuple[int, int]

# An ASCII letter or digit may not touch a match (Japanese text around it may).
_L = r"(?<![A-Za-z0-9])"
_R = r"(?![A-Za-z0-9])"
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"

# DDHHMM, a time-zone letter (J is local time and is not used in a DTG), month, optional year.
_DTG = re.compile(
    rf"{_L}(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d ?[A-IK-Z] ?(?:{_MONTHS})"
    rf"(?: ?(?:\d{{4}}|\d{{2}}))?{_R}",
    re.IGNORECASE,
)

_CLOCK = re.compile(
    # 0330Z, 0245L, 1400, 2155 hrs (a bare four-digit time: the military way of writing one)
    r"(?<![A-Za-z0-9:.,$])(?:[01]\d|2[0-3])[0-5]\d(?![0-9])"
    r"(?: ?(?:[A-IK-Z]|hrs|hours|JST|UTC)(?![A-Za-z0-9]))?"
    # 14:30
    r"|(?<![A-Za-z0-9:.])(?:[01]?\d|2[0-3]):[0-5]\d(?![0-9])"
    # 14時, 4時30分, 午前5時半 — but not 5時間 (a duration)
    r"|(?:(?:午前|午後) ?)?(?<![0-9])(?:[01]?\d|2[0-4])時(?!間)(?: ?[0-5]?\d分|半)?"
)

_MGRS = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?P<gzd>(?:[1-9]|[1-5]\d|60)[C-HJ-NP-X]) ?(?P<sq>[A-HJ-NP-Z][A-HJ-NP-V])"
    r"|(?P<kw>(?i:grid)|グリッド) ?(?P<sq2>[A-HJ-NP-Z][A-HJ-NP-V])?"
    r") ?(?P<e>\d{1,10})(?: (?P<n>\d{1,5}))?(?![A-Za-z0-9])"
)

_DEG = r"\d{1,2}(?:\.\d+)?"
_LONDEG = r"\d{1,3}(?:\.\d+)?"
_MIN = r"\d{1,2}(?:\.\d+)?"
_SEP = r"[\s,/、]{0,3}"
_LATLON: Final = (
    # 26.3341N 127.8012E, 24°30'N 124°10'E, 35°41'22"N 139°41'30"E
    re.compile(
        rf"(?<![A-Za-z0-9.])(?P<lat>{_DEG}) ?°? ?"
        rf"(?:(?P<latm>{_MIN}) ?['′] ?(?:(?P<lats>{_MIN}) ?[\"″] ?)?)?(?P<ns>[NS]){_SEP}"
        rf"(?P<lon>{_LONDEG}) ?°? ?"
        rf"(?:(?P<lonm>{_MIN}) ?['′] ?(?:(?P<lons>{_MIN}) ?[\"″] ?)?)?(?P<ew>[EW])(?![A-Za-z])"
    ),
    # N35.1234 E139.1234, N35°41' E139°41'
    re.compile(
        rf"(?<![A-Za-z0-9])(?P<ns>[NS]) ?(?P<lat>\d{{1,2}}(?:\.\d+°?|°))"
        rf"(?: ?(?P<latm>{_MIN})['′])?{_SEP}"
        rf"(?P<ew>[EW]) ?(?P<lon>\d{{1,3}}(?:\.\d+°?|°))(?: ?(?P<lonm>{_MIN})['′])?(?![0-9])"
    ),
    # 30-12N 131-45E (degrees-minutes)
    re.compile(
        rf"(?<![A-Za-z0-9.-])(?P<lat>\d{{1,2}})-(?P<latm>{_MIN})(?P<ns>[NS]){_SEP}"
        rf"(?P<lon>\d{{1,3}})-(?P<lonm>{_MIN})(?P<ew>[EW])(?![A-Za-z])"
    ),
    # 354122N1394130E, 3541N 13941E (DDMM[SS], DDDMM[SS])
    re.compile(
        r"(?<![A-Za-z0-9.])(?P<latc>\d{4}(?:\d{2})?(?:\.\d+)?)(?P<ns>[NS]) ?"
        r"(?P<lonc>\d{5}(?:\d{2})?(?:\.\d+)?)(?P<ew>[EW])(?![A-Za-z])"
    ),
    # 24.3442, 123.9912 (decimal degrees: three decimals or more on both, so not a price list)
    re.compile(
        r"(?<![A-Za-z0-9.])(?P<lat>[-+]?\d{1,2}\.\d{3,}) ?, ?"
        r"(?P<lon>[-+]?\d{1,3}\.\d{3,})(?![0-9.])"
    ),
    # 北緯26度21分 東経127度48分, 北緯27.1234度、東経125.5678度
    re.compile(
        rf"(?P<ns>北緯|南緯) ?(?P<lat>{_DEG})度(?: ?(?P<latm>{_MIN})分)?(?: ?(?P<lats>{_MIN})秒)?"
        rf"{_SEP}(?P<ew>東経|西経) ?(?P<lon>{_LONDEG})度(?: ?(?P<lonm>{_MIN})分)?"
        rf"(?: ?(?P<lons>{_MIN})秒)?"
    ),
)


def find_dtgs(text: str) -> Iterator[Span]:
    """Date-time groups such as `151200ZMAR25` or `030500Z MAY 2025`."""
    for found in _DTG.finditer(text):
        yield found.span()


def find_clock_times(text: str) -> Iterator[Span]:
    """Clock times: `0330Z`, `1400`, `14:30`, `4時30分` (not durations such as `5時間`)."""
    for found in _CLOCK.finditer(text):
        yield found.span()


def find_mgrs(text: str) -> Iterator[Span]:
    """MGRS grid references (`52S CB 41200 88300`, `51R UG 12 34`), and `grid …` forms."""
    for found in _MGRS.finditer(text):
        easting, northing = found["e"], found["n"]
        if northing is not None:
            if len(easting) != len(northing) or len(easting) > 5:
                continue
            digits = 2 * len(easting)
        elif len(easting) % 2:
            continue
        else:
            digits = len(easting)
        # After the word "grid" without a 100 km square, only a six-figure grid or finer is
        # clearly a location (a "grid 12" is not).
        if found["kw"] is not None and found["sq2"] is None and digits < 6:
            continue
        yield found.span()


def _compact(digits: str, degree_digits: int) -> tuple[float, float, float]:
    whole, _, fraction = digits.partition(".")
    degrees = float(whole[:degree_digits])
    minutes = float(whole[degree_digits : degree_digits + 2])
    seconds = float(whole[degree_digits + 2 :] or 0)
    if fraction:
        seconds += float("0." + fraction)
    return degrees, minutes, seconds


def _in_range(found: re.Match[str]) -> bool:
    groups = found.groupdict()
    if groups.get("latc") is not None:
        lat, latm, lats = _compact(groups["latc"], 2)
        lon, lonm, lons = _compact(groups["lonc"], 3)
    else:
        lat = abs(float(groups["lat"].rstrip("°")))
        lon = abs(float(groups["lon"].rstrip("°")))
        latm, lonm = float(groups.get("latm") or 0), float(groups.get("lonm") or 0)
        lats, lons = float(groups.get("lats") or 0), float(groups.get("lons") or 0)
    return (
        lat <= 90
        and lon <= 180
        and max(latm, lonm) < 60
        and max(lats, lons) < 60
        and (lat, lon) != (0, 0)
    )


def find_latlon(text: str) -> Iterator[Span]:
    """Latitude/longitude pairs in decimal, degree-minute-second, compact and Japanese forms."""
    spans: list[Span] = []
    for pattern in _LATLON:
        spans.extend(found.span() for found in pattern.finditer(text) if _in_range(found))
    end = -1
    for span in sorted(spans):
        if span[0] >= end:  # two forms can read the same coordinates; report them once
            end = span[1]
            yield span


DETECTORS: Final[Mapping[str, Callable[[str], Iterator[Span]]]] = {
    "dtg": find_dtgs,
    "clock": find_clock_times,
    "mgrs": find_mgrs,
    "latlon": find_latlon,
}
DESCRIPTIONS: Final[Mapping[str, str]] = {
    "dtg": "a date-time group",
    "clock": "a clock time",
    "mgrs": "an MGRS grid reference",
    "latlon": "a latitude/longitude",
}
DESCRIPTIONS_JA: Final[Mapping[str, str]] = {
    "dtg": "日時グループ(DTG)",
    "clock": "時刻",
    "mgrs": "MGRS座標",
    "latlon": "緯度・経度",
}

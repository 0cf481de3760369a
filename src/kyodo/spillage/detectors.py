"""Built-in detectors: DTGs, clock times, MGRS, lat/lon, weapon/platform and unit designators."""

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

_ZONE = r"(?:[A-IK-Z]|hrs|hours|h|JST|UTC|GMT|local|(?:E|C|M|P)[SD]?T)"
_CLOCK = re.compile(
    # 0330Z, 0245L, 1144ET, 1400, 2155 hrs (a bare four-digit time: the military way of writing
    # one); a year such as "Jan 2024" or "in 1986" is dropped afterwards (_is_year)
    rf"(?<![A-Za-z0-9:.,$/#])(?<![A-Za-z]-)(?P<hhmm>(?:[01]\d|2[0-3])[0-5]\d)(?![0-9])"
    rf"(?P<zone> ?{_ZONE}(?![A-Za-z0-9]))?"
    # 14:30, 2:30pm, 2 pm
    r"|(?<![A-Za-z0-9:.])(?:[01]?\d|2[0-3]):[0-5]\d(?![0-9])(?: ?(?:[ap]\.?m\.?)(?![A-Za-z]))?"
    r"|(?<![A-Za-z0-9:.])(?:1[0-2]|0?[1-9]) ?(?:[ap]\.?m\.?)(?![A-Za-z])"
    # 14時, 4時30分, 午前5時半, 〇〇時〇〇分 — but not 5時間 (a duration)
    r"|(?:(?:午前|午後|夜|朝|深夜|未明) ?)?(?<![0-9])(?:[01]?\d|2[0-4])時(?!間)(?: ?[0-5]?\d分|半)?"
    r"|(?:午前|午後)(?:[0-9]|[一二三四五六七八九十〇]{1,3})時"
    r"|〇〇時(?:〇〇分)?",
    re.IGNORECASE,
)
_MONTH_BEFORE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? ?,? ?\Z", re.IGNORECASE
)
_YEAR_WORD_BEFORE = re.compile(
    r"(?:\b(?:in|since|of|during|circa|year|summer|spring|autumn|fall|winter|early|late|mid|"
    r"the|FY|CY|before|after)|[(~'])\s?\Z",
    re.IGNORECASE,
)
_YEAR_AFTER = re.compile(r"\s?(?:年|'s|s\b|-\d{2,4}\b|–\d{2,4})")


def _is_year(text: str, found: re.Match[str]) -> bool:
    """A four-digit number 1900–2099 written as a year ("Jan 2024", "in 1986", "2018年")."""
    digits = found["hhmm"]
    if digits is None or found["zone"] is not None or not digits.startswith(("19", "20")):
        return False
    before = text[max(0, found.start() - 12) : found.start()]
    after = text[found.end() : found.end() + 6]
    return bool(
        _MONTH_BEFORE.search(before) or _YEAR_WORD_BEFORE.search(before) or _YEAR_AFTER.match(after)
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


# Mission-design-series prefixes of military aircraft (DoD 4120.15-L, public) and Japanese
# types written the same way: F/A-18E, EA-18G, B-1B, MQ-9A, KC-135, P-8A, F-15J, US-2.
_AIRCRAFT = (
    "F/A|EA|EF|EC|EP|AC|HC|HH|KC|MC|MH|MQ|RQ|RC|UH|AH|CH|OH|SH|MV|CV|TH|WC|VC|LC|NC|"
    "A|B|C|E|F|K|O|P|S|T|U|V|X|Y|US"
)
# Ship hull classifications (public): CVN-73, DDG-1000, LHA-6, T-AKE-1; Japanese DDH-183.
_HULLS = (
    "CVN|CV|DDG|DDH|CG|FFG|FFM|LHA|LHD|LPD|LSD|LCS|SSN|SSBN|SSGN|SS|T-AO|T-AKE|T-AOE|"
    "AOE|ESB|ESD|EPF|MCM|LST|PCU|AGS|T-AGOS|LCAC"
)
# Missile and munition designations: SM-6, PAC-3, AGM-158, GBU-31, ASM-3, Type 12.
_MISSILES = "SM|PAC|AGM|AIM|RIM|UGM|BGM|MIM|GBU|EGBU|CBU|ASM|AAM|SSM|SAM|KEM|XASM|HVGP"
_DESIGNATOR = re.compile(
    rf"(?<![A-Za-z0-9/-])(?:"
    rf"(?:{_AIRCRAFT})-\d{{1,3}}[A-Z]{{0,2}}(?:s|'s)?"
    rf"|(?:{_HULLS})[- ]?\d{{1,4}}"
    rf"|(?:{_MISSILES})-?\d{{1,3}}[A-Z]?(?: ?(?:MSE|Block ?[IV]+[AB]?|ER))?s?"
    rf"|Type[- ]?\d{{2}}(?: (?:SSM|SAM|ASM|missile|launcher)s?)?"
    rf")(?![A-Za-z0-9]|-\d)"
    # 12式地対艦誘導弾, 03式中SAM, 16式機動戦闘車, 12式 on its own
    r"|(?<![0-9])(?:\d{2}|０\d)式(?:[^\s、。,.()（）「」]{0,10}?"
    r"(?:誘導弾|ミサイル|SSM|SAM|ASM|機動戦闘車|戦車|自走砲|ロケット|魚雷|装甲車))?"
    # 護衛艦「いずも」, イージス艦「こんごう」
    r"|(?:護衛艦|イージス艦|潜水艦|輸送艦|補給艦|掃海艦|哨戒艦)「[^」]{1,10}」",
)
# Forms and other designators that look like the above but are paperwork or civilian.
_NOT_DESIGNATOR = re.compile(
    r"(?:(?:DD|SF|DA|AF|F|C|A|B|P|K|S|T|U)-?(?:214|86|31|1351|4|9|19|1|95)|[EOW]-\d)s?\Z"
)


def find_designators(text: str) -> Iterator[Span]:
    """Aircraft, ship-hull and missile designators (`F/A-18E`, `CVN-73`, `SM-6`, `12式…`)."""
    for found in _DESIGNATOR.finditer(text):
        word = found.group()
        # E-7, O-4, W-2 are pay grades (the E-2D and E-767 are aircraft and keep their letters).
        if word.isascii() and _NOT_DESIGNATOR.match(word) and not word.startswith(("B-1", "P-1")):
            continue
        yield found.span()


_ORDINAL = r"\d{1,3}(?:st|nd|rd|th|d)"
_UNIT_WORD = (
    r"MLRs?|MEUs?|MEF|MEB|MLG|MAW|MARDIV|Marines|Marine (?:Regiment|Division|Littoral Regiment)|"
    r"Brigades?|Bde|Battalions?|Bn|Regiments?|Regt|Divisions?|Div|Fleet|Wing|Squadrons?|Sqn|"
    r"Groups?|Air Wing|ADA|Artillery|FA|Fires|Compan(?:y|ies)|Co|Platoons?|Plt|Batter(?:y|ies)|"
    r"Btry|SFG|Rangers?|Cav(?:alry)?|Inf(?:antry)?|Signal|MP|Engineers?|Engr|Sustainment|LAR|"
    r"CLB|BLT|Task Force|TF|Air Defense|Air Defence|SBCT|BCT|IBCT|Corps|Army|MDTF"
)
_UNIT = re.compile(
    rf"(?<![A-Za-z0-9])(?:"
    rf"{_ORDINAL} (?:{_UNIT_WORD})"
    rf"|\d{{1,2}}[-/]\d{{1,3}}"
    rf"(?: (?:ADA|FA|IN|Inf|Cav|CAV|AR|AVN|SFG|Marines|Aviation|Field Artillery))"
    rf"|[A-H]/\d{{1,2}}-\d{{1,3}}(?: (?:ADA|FA|IN|Inf|Cav|AR|AVN))?"
    rf"|(?:[A-H]|Alpha|Bravo|Charlie|Delta|Echo|Foxtrot|Golf|Hotel)"
    rf" (?:Battery|Btry|Company|Co\.?|Troop)"
    rf"|C?T[FG][- ]?\d{{2,3}}(?:\.\d{{1,2}})*"
    rf")(?![A-Za-z0-9])"
    r"|第\d{1,3}(?:普通科|特科|高射特科|地対艦ミサイル|地対艦誘導弾|戦車|偵察|施設|後方支援|通信|"
    r"航空|水陸機動|沿岸監視|警備|即応機動|電子戦|護衛|掃海|飛行|高射|整備)?"
    r"(?:旅団|師団|連隊|大隊|中隊|小隊|群|航空団|護衛隊群|護衛隊|航空隊|飛行隊|高射隊|特科隊|"
    r"方面隊|作業隊|飛行群|航空群|警備隊|部隊)",
    re.IGNORECASE,
)


def find_units(text: str) -> Iterator[Span]:
    """Unit designators: `3rd MLR`, `1-1 ADA`, `B Battery`, `CTF-151`, `第15旅団`."""
    for found in _UNIT.finditer(text):
        yield found.span()


def find_dtgs(text: str) -> Iterator[Span]:
    """Date-time groups such as `151200ZMAR25` or `030500Z MAY 2025`."""
    for found in _DTG.finditer(text):
        yield found.span()


def find_clock_times(text: str) -> Iterator[Span]:
    """Clock times: `0330Z`, `1144ET`, `1400`, `14:30`, `2 pm`, `4時30分`, `午後2時`.

    Not durations such as `5時間`, nor years written as years (`Jan 2024`, `in 1986`).
    """
    for found in _CLOCK.finditer(text):
        if not _is_year(text, found):
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
    "designator": find_designators,
    "unit": find_units,
}
DESCRIPTIONS: Final[Mapping[str, str]] = {
    "dtg": "a date-time group",
    "clock": "a clock time",
    "mgrs": "an MGRS grid reference",
    "latlon": "a latitude/longitude",
    "designator": "a weapon, aircraft or ship designator",
    "unit": "a unit designator",
}
DESCRIPTIONS_JA: Final[Mapping[str, str]] = {
    "dtg": "日時グループ(DTG)",
    "clock": "時刻",
    "mgrs": "MGRS座標",
    "latlon": "緯度・経度",
    "designator": "兵器・航空機・艦艇の名称",
    "unit": "部隊名",
}

"""The realistic read mix: who reads, and what is marked how (weights are shares of traffic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.labels import Label, parse_marking
from kyodo.policy import Subject, make_subject

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

    from kyodo.labels import SchemeRegistry

SEED = 4774


# (level, weight) — shares within each nation's classified traffic.
US_LEVELS = [("CONFIDENTIAL", 0.20), ("SECRET", 0.60), ("TOP SECRET", 0.20)]
# (SCI block, dissemination block, weight, lowest level it may appear at)
US_CONTROLS = [
    ("", "", 10.0, "CONFIDENTIAL"),
    ("SI", "", 1.5, "CONFIDENTIAL"),
    ("", "ORCON", 0.8, "CONFIDENTIAL"),
    ("SI", "ORCON", 0.4, "CONFIDENTIAL"),
    ("TK", "", 0.5, "SECRET"),
    ("HCS", "", 0.3, "SECRET"),
    ("SI/TK", "", 0.8, "SECRET"),
    ("SI/TK/HCS", "", 0.2, "TOP SECRET"),
]
US_RELEASABILITY = [
    ("REL TO USA, JPN", 6.0),
    ("NOFORN", 2.0),
    ("REL TO USA, FVEY", 1.0),
    ("REL TO USA, AUS, GBR, JPN", 1.0),
    ("REL TO USA, FVEY, JPN", 0.5),
    ("REL TO USA, AUS, JPN", 0.5),
    ("REL TO USA, GBR, JPN", 0.5),
]
JPN_LEVELS = [("秘", 0.25), ("極秘", 0.55), ("機密", 0.20)]
# (category block, weight, levels it may appear at)
JPN_CONTROLS = [
    ("", 10.0, {"秘", "極秘", "機密"}),
    ("特別防衛秘密", 1.0, {"秘", "極秘", "機密"}),
    ("重要経済安保情報", 0.8, {"秘"}),
    ("特定秘密", 1.5, {"極秘", "機密"}),
    ("特定秘密/特別防衛秘密", 0.3, {"機密"}),
]
JPN_RELEASABILITY = [
    ("REL TO JPN, USA", 6.0),
    ("日本限り", 2.5),
    ("REL TO JPN, USA, AUS", 0.5),
    ("REL TO JPN, USA, AUS, GBR", 0.7),
]
UNCLASSIFIED = [
    ("UNCLASSIFIED", 6.0),
    ("UNCLASSIFIED//FOUO", 3.0),
    ("UNCLASSIFIED//EXERCISE", 1.5),
    ("UNCLASSIFIED//FOUO//EXERCISE", 1.0),
    ("区分なし", 4.0),
    ("区分なし//演習", 1.0),
    ("NATO UNCLASSIFIED", 0.3),
]
NATO = [
    ("NATO RESTRICTED", 1.0),
    ("NATO CONFIDENTIAL", 1.0),
    ("NATO SECRET", 1.0),
    ("NATO SECRET//RELEASABLE TO JPN, USA", 0.5),
]
# Shares of all read traffic by family; exercise traffic is a share of each classified family.
FAMILY_SHARE = {"USA": 0.50, "JPN": 0.23, "UNCLASSIFIED": 0.25, "NATO": 0.02}
EXERCISE_SHARE = 0.15


def _normalised(weights: dict[str, float], total: float) -> dict[str, float]:
    scale = total / sum(weights.values())
    return {marking: w * scale for marking, w in weights.items()}


def realistic_markings() -> dict[str, float]:
    """Every marking of the mix with its share of read traffic (shares sum to 1)."""
    order = {"CONFIDENTIAL": 0, "SECRET": 1, "TOP SECRET": 2}
    us: dict[str, float] = {}
    for level, w_level in US_LEVELS:
        for sci, dissem, w_ctl, lowest in US_CONTROLS:
            if order[level] < order[lowest]:
                continue
            for rel, w_rel in US_RELEASABILITY:
                blocks = [level, *(b for b in (sci, dissem) if b), rel]
                base = "//".join(blocks)
                us[base] = w_level * w_ctl * w_rel * (1 - EXERCISE_SHARE)
                us[base + "//EXERCISE"] = w_level * w_ctl * w_rel * EXERCISE_SHARE
    jpn: dict[str, float] = {}
    for level, w_level in JPN_LEVELS:
        for cats, w_ctl, levels in JPN_CONTROLS:
            if level not in levels:
                continue
            for rel, w_rel in JPN_RELEASABILITY:
                base = "//".join(b for b in (level, cats, rel) if b)
                jpn[base] = w_level * w_ctl * w_rel * (1 - EXERCISE_SHARE)
                jpn[base + "//演習"] = w_level * w_ctl * w_rel * EXERCISE_SHARE
    mix: dict[str, float] = {}
    mix |= _normalised(us, FAMILY_SHARE["USA"])
    mix |= _normalised(jpn, FAMILY_SHARE["JPN"])
    mix |= _normalised(dict(UNCLASSIFIED), FAMILY_SHARE["UNCLASSIFIED"])
    mix |= _normalised(dict(NATO), FAMILY_SHARE["NATO"])
    return mix


def realistic_labels(registry: SchemeRegistry) -> tuple[list[Label], list[float]]:
    """The distinct labels of the mix (parsed from their markings) and their traffic weights."""
    weights: dict[Label, float] = {}
    for marking, weight in realistic_markings().items():
        label = parse_marking(marking, registry)
        weights[label] = weights.get(label, 0.0) + weight
    return list(weights), list(weights.values())


def realistic_subjects(registry: SchemeRegistry, rng: random.Random) -> list[Subject]:
    """US and JPN staff at several clearances, AUS/GBR liaison officers, a few uncleared."""
    subjects: list[Subject] = []

    def add(nation: str, clearance: str, grants: list[str], rel_grants: Sequence[str] = ()) -> None:
        subjects.append(
            make_subject(
                registry,
                id=f"{nation.lower()}-{len(subjects):04d}",
                nation=nation,
                clearance=clearance,
                grants=grants,
                releasability_grants=rel_grants,
            )
        )

    def maybe(p: float, grant: str) -> list[str]:
        return [grant] if rng.random() < p else []

    for _ in range(160):  # US staff
        level = rng.choices(["CONFIDENTIAL", "SECRET", "TOP SECRET"], [0.15, 0.55, 0.30])[0]
        grants = maybe(0.25, "ORCON")
        if level == "TOP SECRET":
            grants += maybe(0.55, "SI")
            grants += maybe(0.50, "TK") if "SI" in grants else []
            grants += maybe(0.10, "HCS")
        elif level == "SECRET":
            grants += maybe(0.15, "SI")
        if level != "CONFIDENTIAL":
            grants += maybe(0.05, "SDS") + maybe(0.10, "SDMDA")
        add("USA", level, grants)
    for _ in range(130):  # JSDF / MOD staff
        level = rng.choices(["HI", "GOKUHI", "KIMITSU"], [0.20, 0.55, 0.25])[0]
        grants = maybe(0.20, "SDMDA") + maybe(0.15, "CESI")
        if level != "HI":
            grants += maybe(0.35, "SDS")
        add("JPN", level, grants)
    for nation in ("AUS", "GBR"):  # liaison officers
        for i in range(6):
            level = "TOP SECRET" if i < 2 else "SECRET"
            grants = ["SI"] if i == 0 else []
            # Two AUS officers accredited to the JSDF hold an explicit JPN releasability grant.
            rel_grants = ["JPN"] if nation == "AUS" and i in (1, 3) else []
            add(nation, level, grants, rel_grants)
    for nation in ("USA", "JPN"):  # uncleared contractors and local staff
        for _ in range(5):
            add(nation, "UNCLASSIFIED", [])
    return subjects

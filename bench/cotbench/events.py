"""The CoT events the load clients send: friendly units of a combined picture on the move."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random


UNITS = (  # CoT type, callsign prefix: US and JSDF units of a combined picture
    ("a-f-S-C-L-CC", "USN-CG"),
    ("a-f-G-U-C-I", "JGSDF-INF"),
    ("a-f-A-M-F-F", "VMFA"),
    ("a-f-S-C-L-DD", "JMSDF-DD"),
    ("a-f-G-U-C-R", "USMC-RCN"),
    ("a-f-A-M-H", "JGSDF-HEL"),
    ("a-f-G-E-V-A", "USA-ARM"),
    ("a-f-S-C-L-FF", "JMSDF-FF"),
)
TEAMS = ("Cyan", "Blue", "Dark Blue", "Green")


def cot_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Unit:
    """One TAK client's own position: a friendly unit moving on a course."""

    index: int
    uid: str
    callsign: str
    cot_type: str
    team: str
    lat: float
    lon: float
    course: float
    speed: float  # m/s

    @classmethod
    def make(cls, run: str, index: int, rng: random.Random) -> Unit:
        cot_type, prefix = UNITS[index % len(UNITS)]
        return cls(
            index=index,
            uid=f"kb{run}-{index:04d}",
            callsign=f"{prefix}-{run}-{index:03d}",
            cot_type=cot_type,
            team=TEAMS[index % len(TEAMS)],
            lat=24.3 + rng.random() * 8.0,  # Sakishima to Kyushu
            lon=123.5 + rng.random() * 7.0,
            course=round(rng.random() * 360.0, 1),
            speed=round(2.0 + rng.random() * 12.0, 1),
        )

    def event(self, remarks: str) -> bytes:
        rad = math.radians(self.course)
        self.lat = max(-89.0, min(89.0, self.lat + math.cos(rad) * self.speed * 1e-5))
        self.lon = (self.lon + math.sin(rad) * self.speed * 1e-5 + 180.0) % 360.0 - 180.0
        now = datetime.now(UTC)
        t = cot_time(now)
        stale = cot_time(now + timedelta(minutes=2))
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<event version="2.0" uid="{self.uid}" type="{self.cot_type}" how="m-g" '
            f'time="{t}" start="{t}" stale="{stale}">'
            f'<point lat="{self.lat:.6f}" lon="{self.lon:.6f}" hae="12.0" ce="9.9" '
            'le="9999999.0"/><detail>'
            '<takv device="kyodo-bench" platform="kyodo-bench" os="linux" version="1.0"/>'
            f'<contact callsign="{self.callsign}" endpoint="*:-1:stcp"/>'
            f'<__group name="{self.team}" role="Team Member"/>'
            '<status battery="87"/><precisionlocation geopointsrc="GPS" altsrc="GPS"/>'
            f'<track course="{self.course:.1f}" speed="{self.speed:.1f}"/>'
            f"<remarks>{remarks}</remarks></detail></event>"
        ).encode()

"""Whether events pass through unchanged: what a receiver got against what a sender sent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from defusedxml import ElementTree as SafeET

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

ADDED_BY_SERVER = frozenset({"access", "caveat", "releasableTo"})  # may be added on <event>


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip_event(raw: bytes) -> bytes:
    """The <event> element alone: no XML declaration, no surrounding whitespace."""
    start = raw.find(b"<event")
    return raw[start:].strip() if start >= 0 else raw.strip()


Difference = tuple[str, str]  # (what changed, an example)


def compare_events(sent: bytes, got: bytes) -> tuple[list[Difference], bool]:
    """Differences between what a sender sent and what a receiver got, ignoring what a
    labelling server may add: a ConfidentialityLabel element in <detail> and the access,
    caveat and releasableTo attributes on <event> (the flag says whether it added any).
    Attribute order is not significant."""
    try:
        a = SafeET.fromstring(_strip_event(sent))
        b = SafeET.fromstring(_strip_event(got))
    except SafeET.ParseError as exc:
        return [("the received event does not parse", str(exc))], False
    labelled = False
    for attr in ADDED_BY_SERVER:
        if attr in b.attrib and attr not in a.attrib:
            labelled = True
            del b.attrib[attr]
    detail = b.find("detail")
    if detail is not None:
        for child in list(detail):
            if _local(child.tag) == "ConfidentialityLabel":
                labelled = True
                detail.remove(child)
    diffs: list[Difference] = []
    _diff(a, b, "event", diffs)
    return diffs, labelled


def _same_number(x: str, y: str) -> bool:
    try:
        return float(x) == float(y)
    except ValueError:
        return False


def _diff(a: Element, b: Element, path: str, out: list[Difference]) -> None:
    for key in sorted(set(a.attrib) | set(b.attrib)):
        if key not in b.attrib:
            out.append((f"{path}@{key} removed", ""))
        elif key not in a.attrib:
            out.append((f"{path}@{key} added", repr(b.attrib[key])[:40]))
        elif a.attrib[key] != b.attrib[key]:
            change = f"{a.attrib[key]!r} → {b.attrib[key]!r}"
            if _same_number(a.attrib[key], b.attrib[key]):
                out.append((f"{path}@{key} number rewritten (same value)", change))
            else:
                out.append((f"{path}@{key} changed", change))
    if (a.text or "").strip() != (b.text or "").strip():
        out.append((f"{path} text changed", ""))
    tags_a = [_local(c.tag) for c in a]
    tags_b = [_local(c.tag) for c in b]
    for tag in sorted(set(tags_a) - set(tags_b)):
        out.append((f"{path}/{tag} removed", ""))
    for tag in sorted(set(tags_b) - set(tags_a)):
        out.append((f"{path}/{tag} added", ""))
    common_a = [t for t in tags_a if t in tags_b]
    common_b = [t for t in tags_b if t in tags_a]
    if common_a != common_b:
        out.append((f"{path} children reordered", ""))
    for tag in dict.fromkeys(common_a):
        pairs = zip(
            [c for c in a if _local(c.tag) == tag],
            [c for c in b if _local(c.tag) == tag],
            strict=False,
        )
        for ca, cb in pairs:
            _diff(ca, cb, f"{path}/{tag}", out)


@dataclass
class PassThrough:
    compared: int = 0
    identical_bytes: int = 0
    labelled: int = 0  # events that came with a label element or attributes added
    differences: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, sent: bytes, got: bytes) -> None:
        self.compared += 1
        if _strip_event(sent) == _strip_event(got):
            self.identical_bytes += 1
        diffs, labelled = compare_events(sent, got)
        self.labelled += labelled
        for what, example in diffs:
            self.differences[what] += 1
            if example:
                self.examples.setdefault(what, example)

    def summary(self) -> str:
        if not self.compared:
            return "not checked (no sampled event arrived)"
        label = f"; a label added to {self.labelled}" if self.labelled else ""
        if not self.differences:
            same = (
                "byte for byte"
                if self.identical_bytes == self.compared
                else f"same XML content, {self.identical_bytes} byte for byte"
            )
            return f"✓ unchanged ({self.compared} events compared: {same}{label})"
        top = "; ".join(
            f"{what} ({self.examples[what]})" if what in self.examples else what
            for what, _ in self.differences.most_common(8)
        )
        return f"✗ rewritten ({self.compared} events compared{label}): {top}"

"""Markings written in a text: portions such as `(S//NF)` or `【秘】`, banners `SECRET//NOFORN`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from kyodo.errors import LabelError
from kyodo.labels import Label, parse_marking
from kyodo.labels.scheme import normalise_token

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kyodo.labels import SchemeRegistry

MAX_BANNER_LENGTH: Final = 100
MAX_BANNERS: Final = 8  # banner candidates tried per text, to bound the parsing work

_PORTION = re.compile(r"[(【]([^()【】\n]{1,64})[)】]")
# A single-token portion such as "(C)" counts only where a portion begins: at the start of the
# text or a line, or after sentence punctuation, a bullet or a quote. "Option (A), (B) or (C)"
# and "item(s)" are not markings.
_PORTION_LEADS: Final = frozenset("\n.:;!?。」>*•・-")
_LETTERED_LIST = re.compile(r"\((?:A|B)\)")
_SHORT_REL = re.compile(r"\s*//\s*REL\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FoundMarking:
    """A marking found in the text and the label it parses to."""

    start: int
    end: int
    label: Label


def _ascii_alnum(char: str) -> bool:
    return bool(char) and char.isascii() and char.isalnum()


class MarkingFinder:
    """Finds markings using the level spellings of a registry's schemes."""

    def __init__(self, registry: SchemeRegistry) -> None:
        tokens = {
            token
            for scheme in registry.schemes.values()
            for level in scheme.levels
            for token in level.tokens()
        }
        self._level_tokens = frozenset(normalise_token(t) for t in tokens)
        # Banners: a level spelt in full (one-letter portions like "S" are too common) and "//".
        banner = sorted((t for t in tokens if len(t) > 1 or not t.isascii()), key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, t.split())) for t in banner)
        self._banner = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})\s*//", re.IGNORECASE)

    def find(self, text: str, label: Label, registry: SchemeRegistry) -> Iterator[FoundMarking]:
        """Each marking in `text` that parses; `label` gives the releasability of `//REL`."""
        taken: list[tuple[int, int]] = []
        for found in _PORTION.finditer(text):
            parsed = self._portion(text, found, label, registry)
            if parsed is not None:
                taken.append(found.span())
                yield FoundMarking(found.start(), found.end(), parsed)
        for index, found in enumerate(self._banner.finditer(text)):
            if index >= MAX_BANNERS:
                break
            if any(s <= found.start() < e for s, e in taken):
                continue
            banner = self._banner_at(text, found.start(), found.end(), label, registry)
            if banner is not None:
                taken.append((banner.start, banner.end))
                yield banner

    def _portion(
        self, text: str, found: re.Match[str], label: Label, registry: SchemeRegistry
    ) -> Label | None:
        content = found.group(1).strip()
        first = normalise_token(re.split(r"/", content, maxsplit=1)[0])
        if first not in self._level_tokens:
            return None
        start = found.start()
        if start > 0 and _ascii_alnum(text[start - 1]):
            return None  # "item(s)", "f(C)"
        if "//" not in content:
            before = text[:start].rstrip(" \t")
            if before and before[-1] not in _PORTION_LEADS:
                return None
            if content.isascii() and content != content.upper():
                return None
            if len(content) == 1 and _LETTERED_LIST.search(text):
                return None
        return _parse(content, label, registry)

    def _banner_at(
        self, text: str, start: int, after_slashes: int, label: Label, registry: SchemeRegistry
    ) -> FoundMarking | None:
        line_end = text.find("\n", start)
        limit = min(len(text) if line_end < 0 else line_end, start + MAX_BANNER_LENGTH)
        # The longest stretch that parses is the banner; it ends where a word ends.
        for end in range(limit, after_slashes, -1):
            if end < len(text) and _ascii_alnum(text[end]) and _ascii_alnum(text[end - 1]):
                continue
            if text[end - 1].isspace():
                continue
            parsed = _parse(text[start:end], label, registry)
            if parsed is not None:
                return FoundMarking(start, end, parsed)
        return None


def _parse(content: str, label: Label, registry: SchemeRegistry) -> Label | None:
    # "(S//REL)" is the CAPCO portion for "releasable as the banner says": the message's label.
    short = _SHORT_REL.search(content)
    if short is not None:
        content = content[: short.start()]
    try:
        parsed = parse_marking(content, registry)
    except LabelError:
        return None
    if short is not None and label.releasable_to is not None and parsed.rank > 0:
        return Label(
            parsed.policy,
            parsed.level,
            parsed.rank,
            parsed.restrictive,
            label.releasable_to,
            parsed.informative,
        )
    return parsed

"""The text under check: folded to half-width forms, each detector's spans computed once."""

from __future__ import annotations

from itertools import islice
from typing import Final

from kyodo.spillage.detectors import DETECTORS, Span

MAX_SPANS: Final = 1000  # per detector or term list: bounds the work on pathological text

# Full-width ASCII (ＳＭ－６, ０３００Ｚ, （秘）), the ideographic space and the dashes become
# their ASCII forms. One character maps to one character, so offsets stay those of the original.
_FOLD: Final[dict[int, int]] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD.update(dict.fromkeys((0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212), 0x2D))


def fold(text: str) -> str:
    """The text with full-width ASCII, ideographic spaces and dashes folded; same length."""
    return text.translate(_FOLD)


class ScannedText:
    """One message's text, original and folded, with memoised detector spans."""

    __slots__ = ("_spans", "lowered", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        self.text = fold(original)
        # For the literal pre-checks of term lists only (lower() may change the length).
        self.lowered = self.text.lower()
        self._spans: dict[str, tuple[Span, ...]] = {}

    def detector_spans(self, name: str) -> tuple[Span, ...]:
        """Where the built-in detector `name` matches (each detector runs once per text)."""
        found = self._spans.get(name)
        if found is None:
            found = tuple(islice(DETECTORS[name](self.text), MAX_SPANS))
            self._spans[name] = found
        return found

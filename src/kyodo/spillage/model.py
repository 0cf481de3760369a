"""A small learned model of operational wording: logistic regression over words and signals.

Pure Python scoring of weights shipped as plain data (JSON); trained by
`bench/guardbench/train.py`. The features are readable on purpose, so a refusal can name the
words that weighed most: lower-case English words and word pairs (digits folded to 0),
Japanese character pairs, and the guard's own signals and contexts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from kyodo.errors import GuardRulesError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from kyodo.spillage.detectors import Span
    from kyodo.spillage.signals import Evidence

MODEL_FORMAT: Final = "kyodo-guard-model/1"
_WORD = re.compile(r"[a-z0-9][a-z0-9/'+-]*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f0-9]+")
_DIGITS = re.compile(r"[0-9]+")


def _fold_digits(token: str) -> str:
    return _DIGITS.sub("0", token)


def text_features(lowered: str) -> Iterator[tuple[str, Span]]:
    """Word, word-pair and Japanese character-pair features, each with where it is."""
    previous: tuple[str, int] | None = None
    for found in _WORD.finditer(lowered):
        token = _fold_digits(found.group())
        yield "w:" + token, found.span()
        if previous is not None:
            yield f"b:{previous[0]} {token}", (previous[1], found.end())
        previous = (token, found.start())
    for found in _CJK.finditer(lowered):
        run = _fold_digits(found.group())
        start = found.start()
        for index in range(len(run) - 1):
            pair = run[index : index + 2]
            if not pair.isascii():
                yield "j:" + pair, (start + index, start + index + 2)


def evidence_features(evidence: Evidence) -> list[str]:
    """The signals and contexts present, as features (`s:time`, `c:history`)."""
    present = [f"s:{name}" for name in evidence.signals if evidence.spans(name)]
    present += [f"c:{name}" for name in evidence.lowering()[1]]
    return present


@dataclass(frozen=True, slots=True)
class WordModel:
    """Weights of a logistic regression; `threshold` is the probability that refuses."""

    bias: float
    weights: Mapping[str, float]
    threshold: float
    trained_on: str = ""

    def probability(self, evidence: Evidence) -> float:
        """The probability the text is operational (the fast path: no positions kept)."""
        weights = self.weights
        total = self.bias
        seen: set[str] = set()
        lowered = evidence.scanned.lowered
        previous = ""
        for token in _WORD.findall(lowered):
            if not token.isalpha():
                token = _DIGITS.sub("0", token)
            for feature in ("w:" + token, f"b:{previous} {token}" if previous else ""):
                if feature and feature not in seen:
                    seen.add(feature)
                    total += weights.get(feature, 0.0)
            previous = token
        for run in _CJK.findall(lowered):
            run = _DIGITS.sub("0", run)
            for index in range(len(run) - 1):
                pair = run[index : index + 2]
                feature = "j:" + pair
                if not pair.isascii() and feature not in seen:
                    seen.add(feature)
                    total += weights.get(feature, 0.0)
        for feature in evidence_features(evidence):
            total += weights.get(feature, 0.0)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total))))

    def score(self, evidence: Evidence) -> tuple[float, list[tuple[float, str, Span | None]]]:
        """The probability the text is operational, and each feature's contribution."""
        # Positions in `lowered` are those of the text while lower() keeps the length.
        lowered = evidence.scanned.lowered
        same_length = len(lowered) == len(evidence.scanned.text)
        contributions: list[tuple[float, str, Span | None]] = []
        seen: set[str] = set()
        total = self.bias
        for feature, span in text_features(lowered):
            weight = self.weights.get(feature)
            if weight is None or feature in seen:
                continue
            seen.add(feature)
            total += weight
            contributions.append((weight, feature, span if same_length else None))
        for feature in evidence_features(evidence):
            weight = self.weights.get(feature)
            if weight is not None:
                total += weight
                contributions.append((weight, feature, None))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total)))), contributions


def model_from_mapping(data: Mapping[str, Any], origin: str) -> WordModel:
    """A model from its JSON form; GuardRulesError says what is wrong."""
    if data.get("format") != MODEL_FORMAT:
        raise GuardRulesError(f"{origin}: format must be {MODEL_FORMAT!r}")
    weights = data.get("weights")
    bias, threshold = data.get("bias"), data.get("threshold")
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) for k, v in weights.items()
    ):
        raise GuardRulesError(f"{origin}: weights must map features to numbers")
    if not isinstance(bias, int | float) or not isinstance(threshold, int | float):
        raise GuardRulesError(f"{origin}: bias and threshold must be numbers")
    if not 0 < threshold < 1:
        raise GuardRulesError(f"{origin}: threshold must be between 0 and 1")
    return WordModel(
        float(bias),
        {k: float(v) for k, v in weights.items()},
        float(threshold),
        str(data.get("trained_on", "")),
    )


def model_to_mapping(model: WordModel) -> dict[str, Any]:
    """The JSON form of a model (features sorted, weights rounded: a stable, small file)."""
    return {
        "format": MODEL_FORMAT,
        "trained_on": model.trained_on,
        "bias": round(model.bias, 5),
        "threshold": round(model.threshold, 5),
        "weights": {k: round(model.weights[k], 5) for k in sorted(model.weights)},
    }

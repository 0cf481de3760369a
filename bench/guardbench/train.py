"""Trains the guard's small model (logistic regression on words and signals) from a corpus.

`python -m bench.guardbench.train` fits on every kind in bench/data/guard_eval/ plus the old
corpus and writes src/kyodo/spillage/guard_model.json (plain JSON weights, scored in pure Python
at run time). The evaluation calls `fit` once per left-out kind, on the other kinds only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kyodo.spillage.model import (
    WordModel,
    evidence_features,
    model_to_mapping,
    text_features,
)
from kyodo.spillage.scanned import ScannedText
from kyodo.spillage.signals import Evidence
from kyodo.spillage_files import load_rules

from .evalcorpus import Sample, read_corpus

if TYPE_CHECKING:
    from kyodo.spillage import RuleSet

BENCH = Path(__file__).resolve().parent.parent
EVAL_DIR = BENCH / "data" / "guard_eval"
OLD_CORPUS = BENCH / "data" / "guard_corpus.jsonl"
MODEL_OUT = BENCH.parent / "src" / "kyodo" / "spillage" / "guard_model.json"
THRESHOLD = 0.9  # probability that refuses: high, since the model only adds to the rules
MIN_WEIGHT = 0.02  # smaller weights are dropped from the shipped file
C = 1.0


def features(text: str, rules: RuleSet) -> dict[str, float]:
    """The features of one message, as the runtime model sees them."""
    scanned = ScannedText(text)
    evidence = Evidence(scanned, rules.signals, rules.contexts)
    found = {name: 1.0 for name, _ in text_features(scanned.lowered)}
    found.update(dict.fromkeys(evidence_features(evidence), 1.0))
    return found


def old_corpus() -> list[Sample]:
    """The first corpus (bench/data/guard_corpus.jsonl) as samples of kind "old-corpus"."""
    rows = [json.loads(line) for line in OLD_CORPUS.read_text(encoding="utf-8").splitlines()]
    return [
        Sample(r["text"], r["lang"], bool(r["operational"]), r["label"], "old-corpus")
        for r in rows
        if r.get("text")
    ]


def fit(samples: list[Sample], rules: RuleSet, name: str = "") -> WordModel:
    """A logistic regression on `samples` (scikit-learn, imported only here)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([features(s.text, rules) for s in samples])
    y = [int(s.operational) for s in samples]
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    model.fit(x, y)
    weights = {
        feature: float(weight)
        for feature, weight in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
        if abs(weight) >= MIN_WEIGHT
    }
    return WordModel(float(model.intercept_[0]), weights, THRESHOLD, name)


def main(argv: list[str] | None = None) -> int:
    """Trains on every kind of the corpus (never a sealed one) and writes the model JSON."""
    parser = argparse.ArgumentParser(description="Train the guard's model; write its JSON.")
    parser.add_argument("--corpus", type=Path, default=EVAL_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_OUT)
    parser.add_argument("--no-old-corpus", action="store_true")
    args = parser.parse_args(argv)
    corpus = read_corpus(args.corpus)
    samples = [s for rows in corpus.values() for s in rows]
    kinds = sorted(corpus)
    if not args.no_old_corpus:
        samples += old_corpus()
        kinds.append("old-corpus")
    rules = load_rules()
    model = fit(samples, rules, f"{len(samples)} messages: {', '.join(kinds)}")
    args.out.write_text(
        json.dumps(model_to_mapping(model), ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    print(f"{args.out}: {len(model.weights)} weights from {len(samples)} messages ({kinds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
from typing import TYPE_CHECKING, Any

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
C_GRID = (0.3, 1.0, 3.0)  # regularisation tried; chosen by leave-one-kind-out
_FEATURES: dict[tuple[int, str], dict[str, float]] = {}  # per rule set and text: folds share them


def features(text: str, rules: RuleSet) -> dict[str, float]:
    """The features of one message, as the runtime model sees them."""
    key = (id(rules), text)
    cached = _FEATURES.get(key)
    if cached is not None:
        return cached
    scanned = ScannedText(text)
    evidence = Evidence(scanned, rules.signals, rules.contexts)
    found = {name: 1.0 for name, _ in text_features(scanned.lowered)}
    found.update(dict.fromkeys(evidence_features(evidence), 1.0))
    _FEATURES[key] = found
    return found


def _int32(matrix: Any) -> Any:
    """The sparse matrix with 32-bit indices (liblinear refuses 64-bit ones)."""
    from scipy.sparse import csr_matrix

    matrix = csr_matrix(matrix)
    matrix.indices = matrix.indices.astype("int32")
    matrix.indptr = matrix.indptr.astype("int32")
    return matrix


def choose_c(samples: list[Sample], rules: RuleSet) -> float:
    """The regularisation with the best leave-one-kind-out log-loss over the kinds of `samples`.

    Each kind is predicted by a model fitted on the others (class-weighted, as the final fit), so
    the choice rewards what carries over to a kind of source not seen, never the score on a kind
    the caller then reports (the caller leaves that kind out of `samples`).
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    kinds = sorted({s.kind for s in samples} - {"old-corpus"})
    if len(kinds) < 2:
        return 1.0
    rows = [features(s.text, rules) for s in samples]
    labels = [int(s.operational) for s in samples]
    best: tuple[float, float] | None = None
    for c in C_GRID:
        truth: list[int] = []
        predicted: list[float] = []
        for kind in kinds:
            train = [i for i, s in enumerate(samples) if s.kind != kind]
            test = [i for i, s in enumerate(samples) if s.kind == kind]
            if len({labels[i] for i in train}) < 2:
                continue
            vectorizer = DictVectorizer()
            x = _int32(vectorizer.fit_transform([rows[i] for i in train]))
            model = LogisticRegression(
                C=c, class_weight="balanced", solver="liblinear", max_iter=5000
            )
            model.fit(x, [labels[i] for i in train])
            test_x = _int32(vectorizer.transform([rows[i] for i in test]))
            probabilities = model.predict_proba(test_x)
            truth += [labels[i] for i in test]
            predicted += [float(p) for p in probabilities[:, 1]]
        positives = sum(truth) or 1
        negatives = (len(truth) - sum(truth)) or 1
        # Balanced, as the fit: each class weighs the same in the loss.
        weights = [0.5 / positives if t else 0.5 / negatives for t in truth]
        loss = float(log_loss(truth, predicted, sample_weight=weights, labels=[0, 1]))
        if best is None or loss < best[0]:
            best = (loss, c)
    return 1.0 if best is None else best[1]


def old_corpus() -> list[Sample]:
    """The first corpus (bench/data/guard_corpus.jsonl) as samples of kind "old-corpus"."""
    rows = [json.loads(line) for line in OLD_CORPUS.read_text(encoding="utf-8").splitlines()]
    return [
        Sample(r["text"], r["lang"], bool(r["operational"]), r["label"], "old-corpus")
        for r in rows
        if r.get("text")
    ]


def fit(samples: list[Sample], rules: RuleSet, name: str = "", c: float | None = None) -> WordModel:
    """A logistic regression on `samples` (scikit-learn, imported only here); `c` the
    regularisation (None: chosen by leave-one-kind-out over the kinds of `samples`)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    if c is None:
        c = choose_c(samples, rules)
    vectorizer = DictVectorizer()
    x = _int32(vectorizer.fit_transform([features(s.text, rules) for s in samples]))
    y = [int(s.operational) for s in samples]
    model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=5000)
    model.fit(x, y)
    weights = {
        feature: float(weight)
        for feature, weight in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
        if abs(weight) >= MIN_WEIGHT
    }
    label = f"{name}; C={c:g}" if name else f"C={c:g}"
    return WordModel(float(model.intercept_[0]), weights, THRESHOLD, label)


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

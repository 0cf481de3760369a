"""`make guard-eval`: the guard on a corpus of source kinds, each kind left out in turn."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from kyodo.labels import parse_marking
from kyodo.scheme_files import default_registry
from kyodo.spillage import RuleSet, check
from kyodo.spillage.rules import ModelRule, Requirement
from kyodo.spillage_files import load_rules

from ..report import Grid, markdown_table, rich_table
from .evalcorpus import LANGS, CorpusError, read_corpus
from .evaluate import FP_TARGET, RECALL_TARGET, leave_kinds_out

if TYPE_CHECKING:
    from kyodo.labels import Label, SchemeRegistry
    from kyodo.spillage.model import WordModel

    from .evalcorpus import Sample
    from .evaluate import Counts, Evaluation, Judge

BENCH = Path(__file__).resolve().parent.parent
EVAL_DIR = BENCH / "data" / "guard_eval"


@dataclass
class RulesJudge:
    """The rules alone: nothing to learn, the same judge for every fold."""

    rules: RuleSet
    registry: SchemeRegistry
    _labels: dict[str, Label]

    def refuses(self, sample: Sample) -> bool:
        """Whether the rules refuse the message at its label."""
        label = self._labels.get(sample.label)
        if label is None:
            label = self._labels[sample.label] = parse_marking(sample.label, self.registry)
        return check(sample.text, label, self.rules, self.registry).refused


def without_model(rules: RuleSet) -> RuleSet:
    """The rules alone: any learned-model rule removed."""
    return RuleSet(
        tuple(r for r in rules.rules if not isinstance(r, ModelRule)), rules.signals, rules.contexts
    )


def with_model(rules: RuleSet, model: WordModel) -> RuleSet:
    """The rules plus the model: the shipped model rule with this model, or a plain one."""
    template = next((r for r in rules.rules if isinstance(r, ModelRule)), None)
    if template is None:
        template = ModelRule(
            "learned-wording",
            "Wording like operational traffic",
            "",
            Requirement("SECRET", 30, "USA", "SECRET"),
            model,
            strength=3,
            signal_names={s.id: s.name for s in rules.signals.values()},
        )
    if not any(isinstance(r, ModelRule) for r in rules.rules):
        added = (*rules.rules, replace(template, model=model))
        return RuleSet(added, rules.signals, rules.contexts)
    # Every model rule of the file (the plain one, the one with weaker rule evidence) gets it.
    swapped = tuple(replace(r, model=model) if isinstance(r, ModelRule) else r for r in rules.rules)
    return RuleSet(swapped, rules.signals, rules.contexts)


def _ratio(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _met(flag: bool | None) -> str:
    return "–" if flag is None else ("met" if flag else "NOT met")


def counts_row(name: str, lang: str, counts: Counts) -> list[str]:
    """One table row: the set, its counts, recall, FP rate and the targets."""
    recall_met, fp_met = counts.met()
    return [
        name,
        lang,
        str(counts.n),
        str(counts.tp),
        str(counts.fn),
        str(counts.fp),
        str(counts.tn),
        _ratio(counts.recall),
        _ratio(counts.fp_rate, percent=True),
        _met(recall_met),
        _met(fp_met),
    ]


HEADERS = ["kind (left out)", "lang", "n", "TP", "FN", "FP", "TN", "recall", "FP rate"]
HEADERS += [f"recall ≥ {RECALL_TARGET:.2f}", f"FP ≤ {FP_TARGET:.0%}"]


def evaluation_grids(evaluation: Evaluation) -> list[Grid]:
    """Per kind and language, then the pooled rows with the targets."""
    per_kind = Grid(
        f"{evaluation.name}: each kind scored while left out",
        HEADERS,
        left=frozenset({"lang"}),
    )
    for kind, counts in evaluation.per_kind.items():
        for key in ("all", *LANGS):
            if counts[key].n:
                per_kind.rows.append(counts_row(kind if key == "all" else "", key, counts[key]))
    pooled = Grid(
        f"{evaluation.name}: all left-out kinds pooled (targets: recall ≥ {RECALL_TARGET:.2f}, "
        f"FP ≤ {FP_TARGET:.0%})",
        HEADERS,
        left=frozenset({"lang"}),
    )
    for key in ("all", *LANGS):
        pooled.rows.append(counts_row("pooled", key, evaluation.pooled[key]))
    return [per_kind, pooled]


def misses_grid(evaluation: Evaluation, limit: int) -> Grid:
    """The messages the judge got wrong (at most `limit`)."""
    grid = Grid(
        f"{evaluation.name}: misses",
        ["kind", "what", "lang", "text"],
        left=frozenset({"what", "lang", "text"}),
    )
    for miss in evaluation.misses[:limit]:
        grid.rows.append([miss.kind, miss.what, miss.sample.lang, miss.sample.text])
    return grid


def main(argv: list[str] | None = None) -> int:
    """Prints the tables (and writes Markdown); 0, or 2 when the corpus cannot be read."""
    parser = argparse.ArgumentParser(
        description="Spillage guard, leave-whole-kinds-out: recall and false positives."
    )
    parser.add_argument("--corpus", type=Path, default=EVAL_DIR, help="a directory of <kind>.jsonl")
    parser.add_argument("--kinds", default=None, help="comma-separated kinds (default: all)")
    parser.add_argument("--rules", type=Path, default=None, help="rules file (default: shipped)")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables here")
    parser.add_argument("--misses", type=int, default=0, help="print up to N misses")
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="the rules alone (default: also rules + a model trained per fold, if scikit-learn)",
    )
    parser.add_argument(
        "--no-old-corpus", action="store_true", help="train the fold models without it"
    )
    args = parser.parse_args(argv)

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    try:
        corpus = read_corpus(args.corpus, kinds)
    except CorpusError as exc:
        print(f"guard-eval: {exc}", file=sys.stderr)
        return 2
    if not corpus:
        print(f"guard-eval: no <kind>.jsonl in {args.corpus}", file=sys.stderr)
        return 2
    registry = default_registry()
    loaded = load_rules(args.rules, registry)
    rules = without_model(loaded)
    judge = RulesJudge(rules, registry, {})

    def rules_alone(training: list[Sample]) -> Judge:
        return judge

    evaluations = [leave_kinds_out("rules alone", corpus, rules_alone)]
    if not args.no_model and _have_sklearn():
        from .train import fit, old_corpus

        extra = [] if args.no_old_corpus else old_corpus()

        def combined(training: list[Sample]) -> Judge:
            model = fit(training + extra, rules)
            return RulesJudge(with_model(loaded, model), registry, {})

        evaluations.append(
            leave_kinds_out("rules + model (trained on the other kinds)", corpus, combined)
        )
    console = Console(width=160)
    grids: list[Grid] = []
    for evaluation in evaluations:
        grids += evaluation_grids(evaluation)
    for grid in grids:
        console.print(rich_table(grid))
    if args.misses:
        for evaluation in evaluations:
            console.print(rich_table(misses_grid(evaluation, args.misses)))
    if args.markdown is not None:
        lines = [line for grid in grids for line in markdown_table(grid, heading="####")]
        args.markdown.write_text("\n".join(lines), encoding="utf-8")
        console.print(f"written: {args.markdown}")
    return 0


def _have_sklearn() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())

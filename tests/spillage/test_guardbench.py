"""The leave-kinds-out evaluation on a tiny corpus, and the old corpus's floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.guardbench.evalcorpus import CorpusError, Sample, read_corpus
from bench.guardbench.evalmain import main
from bench.guardbench.evaluate import Counts, leave_kinds_out

from kyodo.labels import SchemeRegistry, parse_marking
from kyodo.spillage import RuleSet, check

OLD_CORPUS = Path(__file__).resolve().parents[2] / "bench" / "data" / "guard_corpus.jsonl"


def write(directory: Path, kind: str, rows: list[tuple[str, str, bool]]) -> None:
    lines = [
        json.dumps({"text": t, "lang": lang, "operational": op, "kind": kind}, ensure_ascii=False)
        for t, lang, op in rows
    ]
    (directory / f"{kind}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "orders",
        [
            ("Tomahawk launch from USS Dewey at 0330Z", "en", True),  # TP
            ("TOT for the GMLRS mission is 0417L", "en", True),  # TP
            ("the plan is on the portal", "en", True),  # FN: nothing to find
            ("12式地対艦誘導弾の射撃開始は05時30分", "ja", True),  # TP
            ("命令の様式について質問です", "ja", False),  # TN
        ],
    )
    write(
        tmp_path,
        "social",
        [
            ("softball tonight: our strike team takes the field at 1830", "en", False),  # TN
            ("lunch at 1200?", "en", False),  # TN
            ("(S//NF) the plan", "en", False),  # FP: a marking above the label
            ("今夜の飲み会、19時に駅前集合", "ja", False),  # TN
        ],
    )
    return tmp_path


class RulesOnly:
    def __init__(self, rules: RuleSet, registry: SchemeRegistry) -> None:
        self.rules, self.registry = rules, registry
        self.trained_on: list[set[str]] = []

    def train(self, training: list[Sample]) -> RulesOnly:
        self.trained_on.append({s.kind for s in training})
        return self

    def refuses(self, sample: Sample) -> bool:
        label = parse_marking(sample.label, self.registry)
        return check(sample.text, label, self.rules, self.registry).refused


def test_each_kind_is_scored_while_left_out(
    corpus: Path, rules: RuleSet, registry: SchemeRegistry
) -> None:
    data = read_corpus(corpus)
    assert list(data) == ["orders", "social"]
    judge = RulesOnly(rules, registry)
    evaluation = leave_kinds_out("rules", data, judge.train)
    # The judge for a kind was fitted on the other kinds only.
    assert judge.trained_on == [{"social"}, {"orders"}]
    orders, social = evaluation.per_kind["orders"], evaluation.per_kind["social"]
    assert (orders["all"].tp, orders["all"].fn, orders["all"].fp, orders["all"].tn) == (3, 1, 0, 1)
    assert (orders["en"].tp, orders["en"].fn, orders["ja"].tp, orders["ja"].tn) == (2, 1, 1, 1)
    assert (social["all"].fp, social["all"].tn, social["ja"].tn) == (1, 3, 1)
    pooled = evaluation.pooled["all"]
    assert (pooled.n, pooled.tp, pooled.fn, pooled.fp, pooled.tn) == (9, 3, 1, 1, 4)
    assert pooled.recall == pytest.approx(0.75)
    assert pooled.fp_rate == pytest.approx(0.2)
    assert pooled.met() == (False, False)
    assert [m.what for m in evaluation.misses] == ["missed", "false positive"]


def test_counts_without_a_class_have_no_rate() -> None:
    counts = Counts(tn=3)
    assert (counts.recall, counts.fp_rate, counts.met()) == (None, 0.0, (None, True))


def test_the_command_prints_and_writes_markdown(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "table.md"
    assert main(["--corpus", str(corpus), "--kinds", "orders", "--markdown", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pooled" in printed and "orders" in printed and "social" not in printed
    table = out.read_text(encoding="utf-8")
    assert "| orders | all | 5 | 3 | 1 | 0 | 1 | 0.750 | 0.0% | NOT met | met |" in table


def test_bad_corpora_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no file for kind"):
        read_corpus(tmp_path, ["missing"])
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.jsonl:1: missing lang, operational"):
        read_corpus(tmp_path)
    assert main(["--corpus", str(tmp_path / "nowhere")]) == 2


def test_the_old_corpus_still_does_well(rules: RuleSet, registry: SchemeRegistry) -> None:
    counts = Counts()
    for line in OLD_CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        label = parse_marking(row["label"], registry)
        counts.add(row["operational"], check(row["text"], label, rules, registry).refused)
    # Measured after round 2: recall 1.000, no false positive (263 messages; round 1 the same).
    assert counts.n == 263
    assert counts.recall is not None and counts.recall >= 0.97
    assert counts.fp_rate is not None and counts.fp_rate <= 0.02

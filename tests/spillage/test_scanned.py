"""Folding full-width text keeps offsets; detectors run once per text."""

from __future__ import annotations

from kyodo.spillage.scanned import ScannedText, fold


def test_full_width_ascii_spaces_and_dashes_fold_to_ascii() -> None:
    assert fold("ＳＭ－６を２３１０Ｚに発射") == "SM-6を2310Zに発射"
    assert fold("（秘）\u3000弾薬") == "(秘) 弾薬"
    assert fold("F\u20132 and 5\u22123") == "F-2 and 5-3"


def test_folding_never_changes_the_length() -> None:
    text = "ＰＡＣ－３、北緯２６度　東経１２７度、トマホーク"
    assert len(fold(text)) == len(text)


def test_detector_spans_are_memoised_per_text() -> None:
    scanned = ScannedText("launch ０３３０Ｚ")
    first = scanned.detector_spans("clock")
    assert first == ((7, 12),)
    assert scanned.detector_spans("clock") is first
    assert scanned.original[7:12] == "０３３０Ｚ"

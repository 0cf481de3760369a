"""The evaluation corpus: one `<kind>.jsonl` file per source kind, each line one message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

LANGS = ("en", "ja")


class CorpusError(ValueError):
    """A corpus file or line that cannot be read; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One message of the evaluation corpus."""

    text: str
    lang: str
    operational: bool
    label: str
    kind: str


def read_kind(path: Path) -> list[Sample]:
    """The messages of one `<kind>.jsonl` file; the kind is the file's stem."""
    kind = path.stem
    samples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: not JSON: {exc}") from None
        missing = {"text", "lang", "operational"} - set(row)
        if not isinstance(row, dict) or missing:
            raise CorpusError(f"{path}:{number}: missing {', '.join(sorted(missing))}")
        lang = row["lang"]
        if lang not in LANGS:
            raise CorpusError(f"{path}:{number}: lang must be en or ja, not {lang!r}")
        default = "区分なし" if lang == "ja" else "UNCLASSIFIED"
        samples.append(
            Sample(
                str(row["text"]),
                lang,
                bool(row["operational"]),
                str(row.get("label") or default),
                kind,
            )
        )
    return samples


def read_corpus(directory: Path, kinds: list[str] | None = None) -> dict[str, list[Sample]]:
    """Every kind in `directory` (or only `kinds`), by kind name, in name order."""
    if not directory.is_dir():
        raise CorpusError(f"{directory}: not a directory")
    found = {p.stem: p for p in sorted(directory.glob("*.jsonl"))}
    if kinds is not None:
        unknown = [k for k in kinds if k not in found]
        if unknown:
            raise CorpusError(
                f"{directory}: no file for kind(s) {', '.join(unknown)}; "
                f"present: {', '.join(found) or 'none'}"
            )
        found = {k: found[k] for k in kinds}
    return {kind: read_kind(path) for kind, path in found.items()}

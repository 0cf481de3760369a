"""The report writer every bench shares: Rich tables, Markdown, JSON and a PNG plot."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from matplotlib.figure import Figure
    from rich.console import Console

    from .machine import MachineRun


@dataclass
class Grid:
    """A table as data: title, headers and rows of text cells, printed or written as Markdown."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    left: frozenset[str] = frozenset()  # headers justified left besides the first column
    styles: list[str | None] = field(default_factory=list)  # one Rich style per row, or none

    def is_left(self, index: int) -> bool:
        """Whether a column is text (left) rather than a figure (right)."""
        return index == 0 or self.headers[index] in self.left


def rich_table(grid: Grid) -> Table:
    """The grid as a Rich table."""
    table = Table(
        title=grid.title, title_justify="left", caption=grid.caption or None, caption_justify="left"
    )
    for i, header in enumerate(grid.headers):
        table.add_column(header, justify="left" if grid.is_left(i) else "right")
    for i, cells in enumerate(grid.rows):
        table.add_row(*cells, style=grid.styles[i] if i < len(grid.styles) else None)
    return table


def markdown_table(grid: Grid, heading: str = "##") -> list[str]:
    """The grid as Markdown lines: a heading (none if `heading` is empty), the table, caption."""
    lines = [f"{heading} {grid.title}", ""] if heading else []
    lines.append("| " + " | ".join(grid.headers) + " |")
    lines.append(
        "|" + "|".join("---" if grid.is_left(i) else "---:" for i in range(len(grid.headers))) + "|"
    )
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in grid.rows]
    if grid.caption:
        lines += ["", f"**{grid.caption}**"]
    return [*lines, ""]


def fmt(value: float, digits: int = 0) -> str:
    """A figure with thousands separators, '–' for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ms(value: float) -> str:
    """Milliseconds: one decimal below 100."""
    if math.isnan(value):
        return "–"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    """a ÷ b as '3.2×' (or '1/40' below 0.1), '–' when either is missing."""
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "–"
    r = a / b
    return f"{r:,.2f}×" if r >= 0.1 else f"1/{1 / r:,.0f}"


@dataclass
class Versus:
    """One figure of Kyodo beside the same figure of the floor."""

    measure: str
    kyodo: float | None
    floor: float | None
    unit: str = ""

    def cells(self) -> list[str]:
        """measure, Kyodo, floor, Kyodo ÷ floor."""

        def show(v: float | None) -> str:
            if v is None or math.isnan(v):
                return "–"
            if abs(v) < 10:
                return f"{v:,.2f}"
            return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"

        return [self.measure, show(self.kyodo), show(self.floor), ratio(self.kyodo, self.floor)]


def versus_grid(title: str, floor_name: str, pairs: list[Versus], machine: MachineRun) -> Grid:
    """Kyodo vs its floor, with the run's machine speed and steal in the caption."""
    return Grid(
        title=title,
        headers=["measure", "Kyodo", floor_name, "Kyodo ÷ floor"],
        rows=[p.cells() for p in pairs],
        caption=machine.line(),
    )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def write_json(path: Path, data: object) -> None:
    """`data` as indented JSON; dataclasses as objects, anything else unknown as text."""
    path.write_text(json.dumps(data, indent=1, default=_plain, ensure_ascii=False))


def have_matplotlib() -> bool:
    """Whether matplotlib is installed (the bench extra has it)."""
    return importlib.util.find_spec("matplotlib") is not None


def write_png(path: Path, draw: Callable[[], Figure], dpi: int = 110) -> bool:
    """Saves the figure `draw()` makes (with the Agg back-end); False without matplotlib."""
    if not have_matplotlib():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw()
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


@dataclass
class Report:
    """One bench's outputs under `out_dir`: <name>.md, <name>.json and <name>.png."""

    name: str
    out_dir: Path
    console: Console

    def show(self, grids: list[Grid]) -> None:
        """Prints every grid as a Rich table."""
        for grid in grids:
            self.console.print(rich_table(grid))

    def write(
        self, markdown: str, data: object, draw: Callable[[], Figure] | None = None
    ) -> list[Path]:
        """Writes the Markdown, the JSON and (with matplotlib) the plot; returns the paths."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        md = self.out_dir / f"{self.name}.md"
        md.write_text(markdown, encoding="utf-8")
        js = self.out_dir / f"{self.name}.json"
        write_json(js, data)
        paths = [md, js]
        png = self.out_dir / f"{self.name}.png"
        if draw is not None and write_png(png, draw):
            paths.append(png)
        self.console.print("wrote " + ", ".join(str(p) for p in paths))
        return paths

"""Figures, their targets, the printed table and the JSON file (one key per figure).

A :class:`Figure` is one measured number (or a reason why it was not measured). Ratio figures carry ``ratio``
in their key. The JSON maps each key to its value (``null`` when not measured) and adds ``not_measured``
(key → reason) and ``targets`` (key → target text and whether it was met), so a reader never has to guess
whether a missing number is a failure or a gap.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Figure", "Report", "at_least", "at_most"]

Value = float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class Target:
    """A target as text (``≤ 3 ms``) and the check that decides it."""

    text: str
    check: Callable[[float], bool]


def at_most(limit: float, unit: str) -> Target:
    """Target met when the value is at most ``limit``."""
    return Target(f"≤ {limit:g}{unit}", lambda value: value <= limit)


def at_least(limit: float, unit: str) -> Target:
    """Target met when the value is at least ``limit``."""
    return Target(f"≥ {limit:g}{unit}", lambda value: value >= limit)


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: a key (JSON), a section and label (table), a value with its unit, optionally a target.

    ``value`` is ``None`` exactly when the figure was not measured; ``reason`` then says why.
    """

    key: str
    section: str
    label: str
    value: Value
    unit: str = ""
    target: Target | None = None
    reason: str | None = None

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None: no target, or not measured)."""
        if self.target is None or self.value is None or isinstance(self.value, (str, bool)):
            return None
        return bool(self.target.check(float(self.value)))

    def shown(self) -> str:
        """The value as printed in the table."""
        if self.value is None:
            return "not measured"
        if isinstance(self.value, bool):
            return "yes" if self.value else "NO"
        if isinstance(self.value, float):
            magnitude = abs(self.value)
            text = (
                f"{self.value:,.0f}"
                if magnitude >= 1000
                else f"{self.value:.3g}"
                if magnitude < 10
                else (f"{self.value:.1f}")
            )
            return f"{text}{self.unit}"
        return f"{self.value}{self.unit}"


@dataclass
class Report:
    """All figures of one bench run plus the context needed to read them (machine, scale, command)."""

    scale: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        """Add (or replace, by key) a figure."""
        self.figures = [f for f in self.figures if f.key != figure.key]
        self.figures.append(figure)
        return figure

    def missing(
        self, *, key: str, section: str, label: str, reason: str, unit: str = "", target: Target | None = None
    ) -> Figure:
        """Record a figure that could not be measured, with the reason."""
        return self.add(Figure(key, section, label, None, unit, target, reason))

    def value(self, key: str) -> Value:
        """A figure's value by key (None if absent or not measured)."""
        for figure in self.figures:
            if figure.key == key:
                return figure.value
        return None

    def to_json(self) -> dict[str, Any]:
        """One key per figure, plus ``not_measured``, ``targets`` and the run's context."""
        out: dict[str, Any] = {
            "scale": self.scale,
            "command": self.command,
            "cpu_cores": os.cpu_count(),
            "cpu_cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            # Other processes on the machine inflate absolute times: the load average says how busy it was.
            "load_average_at_end": (
                [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
            ),
        }
        out.update(self.context)
        for figure in self.figures:
            out[figure.key] = figure.value
        out["not_measured"] = {f.key: f.reason for f in self.figures if f.value is None}
        out["targets"] = {
            f.key: {"target": f.target.text, "met": f.met} for f in self.figures if f.target is not None
        }
        return out

    def write_json(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path`` (pretty, sorted keys)."""
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True, default=str) + "\n")

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(section, figure, value, target, verdict) per figure, in the order they were added."""
        out = []
        for f in self.figures:
            verdict = {True: "met", False: "MISSED", None: ""}[f.met]
            if f.value is None:
                verdict = f.reason or ""
            out.append((f.section, f.label, f.shown(), f.target.text if f.target else "", verdict))
        return out

    def markdown(self) -> str:
        """The table as GitHub markdown (for docs/performance.md)."""
        lines = [
            f"Scale `{self.scale}`, {os.cpu_count()} CPU cores, {platform.python_version()} on "
            f"{platform.system()} — `{self.command}`",
            "",
            "| part | figure | value | target | verdict |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {' | '.join(cell.replace('|', '/') for cell in row)} |" for row in self.rows()]
        return "\n".join(lines) + "\n"

    def print_table(self, *, file: Any = None) -> None:
        """Print the table (rich when available, plain text otherwise) with the core count in the title."""
        stream = file or sys.stdout
        title = f"werkmatch bench — scale {self.scale} — {os.cpu_count()} CPU cores"
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:  # pragma: no cover - rich ships with typer
            stream.write(title + "\n")
            for row in self.rows():
                stream.write("  ".join(f"{cell:<28}" for cell in row).rstrip() + "\n")
            return
        table = Table(title=title, show_lines=False)
        for name in ("part", "figure", "value", "target", "verdict"):
            table.add_column(name, overflow="fold")
        for row in self.rows():
            style = "red" if row[4] == "MISSED" else ("yellow" if row[2] == "not measured" else None)
            table.add_row(*row, style=style)
        Console(file=stream, width=160).print(table)

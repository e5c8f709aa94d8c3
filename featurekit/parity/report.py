"""Parity reports: per output column, mismatch counts, kinds, worst difference, examples.

:class:`ParityReport` is the one result type of every parity entry point
(:mod:`featurekit.parity.api`); :func:`column_report` assembles one column's part from the
mismatching cells, shrinking the first few to minimal reproducers.

Formats: ``to_text`` (coloured on a terminal unless ``NO_COLOR`` is set), ``to_json`` (strict
JSON with ``schema_version``; values tagged as in :mod:`featurekit.values.codec`),
``to_junit`` (one testcase per column) and ``to_github`` (workflow annotations).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from featurekit.parity.constants import ConstantHint, hint_lines
from featurekit.parity.shrinking import shrink, signature
from featurekit.values import codec
from featurekit.values.equality import MISSING, Equality, Raised

SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Example:
    """One mismatching row: the input, both outputs, and (for the first few) a shrunk reproducer."""

    row: int
    given: bool
    input: dict[str, Any]
    kind: str
    batch: Any
    served: Any
    reproducer: dict[str, Any] | None = None
    first_divergent_op: str | None = None


@dataclasses.dataclass(frozen=True)
class ColumnReport:
    column: str
    mismatches: int
    kinds: dict[str, int]
    worst_difference: float
    examples: list[Example]
    tolerance: dict[str, Any]
    constant_hints: tuple[ConstantHint, ...] = ()
    """The fitted constants behind value mismatches, when compared with a fitted transform
    (:mod:`featurekit.parity.constants`)."""


@dataclasses.dataclass(frozen=True)
class ParityReport:
    """The result of a parity run (see :mod:`featurekit.parity.api`)."""

    label: str
    rows: int
    given_rows: int
    generated_rows: int
    columns: list[ColumnReport]
    seconds: float
    notes: tuple[str, ...] = ()
    """What the run skipped or could not check (e.g. unparseable log lines), one sentence each."""
    equality: str = "strict"
    """How cells were compared: ``strict`` or ``value`` (:class:`~featurekit.values.equality.Equality`)."""
    batch_raised: int = 0
    """Rows the batch side raised on (a featurekit input error or any other exception)."""
    row_raised: int = 0
    """Rows the row side raised on."""
    boundary_rows: int = 0
    """Of the generated rows, those placed at boundaries the search found (:mod:`featurekit.parity.boundaries`)."""

    @property
    def ok(self) -> bool:
        return all(c.mismatches == 0 for c in self.columns)

    @property
    def mismatches(self) -> int:
        return sum(c.mismatches for c in self.columns)

    @property
    def failing(self) -> list[ColumnReport]:
        return [c for c in self.columns if c.mismatches]

    def summary(self) -> str:
        """One line: the verdict and what was compared.

        >>> ParityReport("x", 10, 10, 0, [], 0.0).summary()
        'parity ok: 10 rows x 0 columns agree (strict equality)'
        """
        if self.ok:
            return f"parity ok: {self.rows:,} rows x {len(self.columns)} columns agree ({self.equality} equality)"
        failing = ", ".join(c.column for c in sorted(self.failing, key=lambda c: -c.mismatches)[:5])
        more = f" and {len(self.failing) - 5} more" if len(self.failing) > 5 else ""
        return (
            f"FAILED: {self.mismatches:,} mismatching cell(s) in {len(self.failing)} of {len(self.columns)} "
            f"column(s) ({failing}{more}) over {self.rows:,} rows ({self.equality} equality)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "label": self.label,
            "ok": self.ok,
            "rows": self.rows,
            "given_rows": self.given_rows,
            "generated_rows": self.generated_rows,
            "boundary_rows": self.boundary_rows,
            "mismatches": self.mismatches,
            "equality": self.equality,
            "compared_columns": len(self.columns),
            "batch_raised": self.batch_raised,
            "row_raised": self.row_raised,
            "seconds": round(self.seconds, 4),
            "notes": list(self.notes),
            "columns": [dataclasses.asdict(c) | {"rate": c.mismatches / max(self.rows, 1)} for c in self.columns],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(codec.to_jsonable(self.to_dict(), default=repr), indent=indent, allow_nan=False)

    def to_text(self, color: bool | None = None) -> str:
        color = _use_color() if color is None else color
        red, green, dim, reset = ("\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m") if color else ("", "", "", "")
        head = (
            f"{self.label}\n{self.rows:,} rows ({self.given_rows:,} given, {self.generated_rows:,} generated"
            + (f", {self.boundary_rows:,} of them at boundaries" if self.boundary_rows else "")
            + ") "
            f"x {len(self.columns)} columns, {self.equality} equality, in {self.seconds:.2f}s; "
            f"raised on {self.batch_raised:,} row(s) batch side, {self.row_raised:,} row side"
        ) + "".join(f"\nnote: {n}" for n in self.notes)
        if self.ok:
            return f"{head}\n{green}parity ok: every cell agrees{reset}"
        lines = [head, f"{red}{self.mismatches:,} mismatching cell(s) in {len(self.failing)} column(s){reset}"]
        for col in sorted(self.failing, key=lambda c: -c.mismatches):
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(col.kinds.items()))
            worst = (
                f", worst difference {col.worst_difference:.3g}"
                if col.worst_difference not in (0.0, float("inf"))
                else ""
            )
            lines.append(
                f"\n{red}{col.column}{reset}: {col.mismatches:,} ({col.mismatches / max(self.rows, 1):.2%}) "
                f"[{kinds}]{worst}"
            )
            for ex in col.examples[:3]:
                origin = "given" if ex.given else "generated"
                lines.append(f"  row {ex.row} ({origin}, {ex.kind}): batch {ex.batch!r} | served {ex.served!r}")
                if ex.reproducer is not None:
                    lines.append(f"    {dim}minimal input:{reset} {_short(ex.reproducer)}")
                if ex.first_divergent_op:
                    lines.append(f"    {dim}first divergence:{reset} {ex.first_divergent_op}")
            lines += hint_lines(col.constant_hints, dim, reset)
        return "\n".join(lines)

    def to_junit(self) -> str:
        cases = []
        for col in self.columns:
            name = quoteattr(col.column)
            if col.mismatches:
                ex = col.examples[0] if col.examples else None
                detail = (
                    ""
                    if ex is None
                    else (
                        f"row {ex.row} ({ex.kind}): batch {ex.batch!r} vs served {ex.served!r}; "
                        f"input {_short(ex.reproducer or ex.input)}"
                    )
                )
                message = quoteattr(f"{col.mismatches} mismatching rows ({', '.join(col.kinds)})")
                cases.append(
                    f'  <testcase classname="featurekit.parity" name={name}>'
                    f"<failure message={message}>{escape(detail)}</failure></testcase>"
                )
            else:
                cases.append(f'  <testcase classname="featurekit.parity" name={name}/>')
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuite name={quoteattr(self.label)} tests="{len(self.columns)}" '
            f'failures="{len(self.failing)}" time="{self.seconds:.3f}">\n' + "\n".join(cases) + "\n</testsuite>\n"
        )

    def to_github(self) -> str:
        if self.ok:
            return f"::notice title=featurekit parity::{self.rows} rows x {len(self.columns)} columns agree"
        out = []
        for col in self.failing:
            ex = col.examples[0] if col.examples else None
            msg = f"{col.mismatches} mismatching rows ({', '.join(col.kinds)})"
            if ex is not None:
                msg += f"; e.g. batch {ex.batch!r} vs served {ex.served!r} for {_short(ex.reproducer or ex.input)}"
            out.append(f"::error title=parity {col.column}::{msg.replace(chr(10), ' ')}")
        return "\n".join(out)

    def render(self, fmt: str) -> str:
        return {"text": self.to_text, "json": self.to_json, "junit": self.to_junit, "github": self.to_github}[fmt]()


def _short(value: Any, limit: int = 240) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _use_color() -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _difference(a: Any, b: Any) -> float:
    if isinstance(a, float) and isinstance(b, float) and math.isfinite(a) and math.isfinite(b):
        return abs(a - b)
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        try:
            return float(abs(a - b))
        except OverflowError:  # ints beyond the float range (a logged served value)
            return math.inf
    return math.inf


def shown(v: Any) -> Any:
    """A side's value as an example shows it (a raised side as its exception summary)."""
    if isinstance(v, Raised):
        return {"raised": v.summary()}
    if v is MISSING:
        return {"missing": True}
    return v


def example_input(row: Mapping[str, Any]) -> dict[str, Any]:
    """An input row as an example shows it: codec-tagged values, long strings cut at 200 chars."""
    out = {}
    for k, v in row.items():
        if isinstance(v, str) and len(v) > 200:
            out[k] = v[:200] + f"... ({len(v)} chars)"
        else:
            out[k] = codec.to_jsonable(v, default=repr)
    return out


def column_report(
    col: str,
    items: list[tuple[int, str, Any, Any]],
    rows: Sequence[Mapping[str, Any]],
    policy: Equality,
    max_examples: int,
    *,
    n_given: int | None = None,
    still_fail: Callable[[list[dict[str, Any]], str, tuple], list[bool]] | None = None,
    divergence: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> ColumnReport:
    """Summarize one column's mismatching cells; shrink the first three to minimal reproducers.

    ``still_fail(trial_rows, kind, signature)``: which trial rows still fail this way (enables
    shrinking); ``divergence(row)``: names the first op where the paths diverge for a row.
    """
    kinds: dict[str, int] = {}
    for _, kind, _, _ in items:
        kinds[kind] = kinds.get(kind, 0) + 1
    worst = max((_difference(b, s) for _, k, b, s in items if k == "value"), default=0.0)
    examples: list[Example] = []
    for i, kind, b, s in items[:max_examples]:
        reproducer = first_op = None
        if still_fail is not None and len(examples) < 3:
            sig = signature(b, s)

            def fails(trials: list[dict[str, Any]], kind: str = kind, sig: tuple = sig) -> list[bool]:
                return still_fail(trials, kind, sig)

            reproducer = shrink(rows[i], fails)
            first_op = divergence(reproducer) if divergence is not None else None
        examples.append(
            Example(
                row=i,
                given=n_given is None or i < n_given,
                input=example_input(rows[i]),
                kind=kind,
                batch=shown(b),
                served=shown(s),
                reproducer=example_input(reproducer) if reproducer is not None else None,
                first_divergent_op=first_op,
            )
        )
    return ColumnReport(
        column=col,
        mismatches=len(items),
        kinds=kinds,
        worst_difference=worst,
        examples=examples,
        tolerance=dataclasses.asdict(policy),
    )

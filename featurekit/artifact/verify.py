"""Prove a serving host computes an artifact's features bit for bit: replay its golden vectors.

``featurekit verify ARTIFACT`` (exit 0 identical, 1 differences, 2 bad artifact or usage),
``featurekit.verify(path)`` (a :class:`VerifyReport`; :func:`featurekit.artifact.load.verify`) and ``featurekit.load(path,
verify=True)`` (raises :class:`~featurekit.errors.VerificationError`) run every golden vector
(:mod:`featurekit.artifact.golden`) through this host's row path and compare each cell bit
for bit with what the saving host recorded: NaN equals NaN, ``-0.0`` is not ``0.0``, int
``1`` is not float ``1.0``; a row refused at save must be refused here with the same error.
A difference names the column, the vector, both values (``repr``, and for floats the hex
form and the IEEE bits) and both hosts' environments
(:mod:`featurekit.artifact.environment`), so environment skew — another CPU, C library,
Python or featurekit build — shows before traffic arrives.

>>> import featurekit as fk
>>> report = fk.verify("model/features")       # doctest: +SKIP
>>> report.ok, report.vectors                  # doctest: +SKIP
(True, 256)
"""

from __future__ import annotations

import dataclasses
import struct
from typing import TYPE_CHECKING, Any

from featurekit.artifact import environment as env
from featurekit.artifact.golden import Difference, decode_value, replay
from featurekit.errors import ArtifactError, VerificationError
from featurekit.values import codec
from featurekit.values.equality import ulp_distance

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform

_SOURCES = {"sample": "training sample", "edge": "edge row"}


def show_value(encoded: Any) -> str:
    """A recorded or computed value for people: ``repr`` and type; floats with hex and bits.

    >>> show_value(0.1)
    '0.1 (float; hex 0x1.999999999999ap-4; bits 0x3fb999999999999a)'
    >>> show_value({"type": "ContractError", "message": "input 'x' ...", "input": "x"})
    "raises ContractError: input 'x' ..."
    """
    if isinstance(encoded, dict) and "message" in encoded and "type" in encoded:
        return f"raises {encoded['type']}: {encoded['message'].splitlines()[0][:300]}"
    if isinstance(encoded, dict) and "output" in encoded:
        return f"returns {_short(encoded['output'])}"
    if isinstance(encoded, dict) and "$object" in encoded:
        return f"{encoded['repr']} ({encoded['$object']})"
    value = decode_value(encoded)
    if isinstance(value, float):
        bits = struct.unpack(">Q", struct.pack(">d", value))[0]
        return f"{value!r} (float; hex {value.hex()}; bits 0x{bits:016x})"
    return f"{_short(value)} ({type(value).__name__})"


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ulps(a: Any, b: Any) -> str:
    if isinstance(a, float) and isinstance(b, float) and a == a and b == b and abs(a) != float("inf") != abs(b):
        return f"  ({ulp_distance(a, b)} ULP apart)"
    return ""


@dataclasses.dataclass
class VerifyReport:
    """The outcome of replaying an artifact's golden vectors on this host."""

    artifact: str
    pin: str
    vectors: int
    columns: int
    sources: dict[str, int]
    differences: list[Difference]
    saved_environment: dict[str, Any] | None
    host_environment: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.differences

    def by_column(self) -> dict[str, int]:
        """Column -> number of differing vectors, in the order first seen."""
        counts: dict[str, int] = {}
        for d in self.differences:
            counts[d.column] = counts.get(d.column, 0) + 1
        return counts

    def examples(self, limit: int) -> list[Difference]:
        """The first difference of every column, then the others in order, ``limit`` at most."""
        firsts: dict[str, Difference] = {}
        for d in self.differences:
            firsts.setdefault(d.column, d)
        rest = [d for d in self.differences if firsts[d.column] is not d]
        return (list(firsts.values()) + rest)[:limit]

    def environment_lines(self) -> list[str]:
        differs = env.differing(self.saved_environment, self.host_environment)
        lines = [
            f"saved on:  {env.describe(self.saved_environment)}",
            f"this host: {env.describe(self.host_environment)}",
        ]
        if self.saved_environment:
            lines.append(f"differs:   {', '.join(differs)}" if differs else "differs:   nothing recorded differs")
        return lines

    def _difference_lines(self, d: Difference) -> list[str]:
        recorded, here = decode_value(d.recorded), decode_value(d.here)
        return [
            f"  column {d.column!r}, vector {d.vector} ({_SOURCES[d.source]}):",
            f"    recorded:  {show_value(d.recorded)}",
            f"    this host: {show_value(d.here)}{_ulps(recorded, here)}",
            f"    input:     {_short({k: decode_value(v) for k, v in d.input.items()})}",
        ]

    def summary(self) -> str:
        head = (
            f"verify {self.artifact!r} ({self.pin}): {self.vectors} golden vectors "
            f"({self.sources.get('sample', 0)} training sample, {self.sources.get('edge', 0)} edge rows) "
            f"x {self.columns} columns"
        )
        if self.ok:
            return f"{head}: all identical on this host"
        cols = ", ".join(f"{c} ({n})" for c, n in self.by_column().items())
        return f"{head}: {len(self.differences)} cell(s) differ on this host, in: {cols}"

    def to_text(self, max_examples: int = 20) -> str:
        lines = [self.summary()]
        shown = self.examples(max_examples)
        for d in shown:
            lines += self._difference_lines(d)
        if len(self.differences) > len(shown):
            lines.append(f"  ... and {len(self.differences) - len(shown)} more (--max-examples, --format json)")
        lines += self.environment_lines()
        if not self.ok:
            lines.append(
                f"FAIL: this host computes other features than the host that saved the artifact\n  Fix: {self.fix()}"
            )
        return "\n".join(lines)

    def fix(self) -> str:
        differs = env.differing(self.saved_environment, self.host_environment)
        if differs:
            where = f" (differing: {', '.join(differs)})"
        elif self.saved_environment:
            where = (
                " (the recorded fields match, so look at what they do not show: a patched or rebuilt C "
                "library or Python, LD_PRELOAD, a helper a custom function calls)"
            )
        else:
            where = ""
        return (
            "serve on a host that matches the saving one: same featurekit, Python, C library and numpy"
            f"{where}; or, if this host's features are the right ones, retrain the model on features "
            "computed like this, then refit and re-save"
        )

    def to_dict(self, max_examples: int | None = None) -> dict[str, Any]:
        shown = self.differences if max_examples is None else self.examples(max_examples)
        return {
            "ok": self.ok,
            "artifact": self.artifact,
            "pin": self.pin,
            "vectors": self.vectors,
            "columns": self.columns,
            "sources": self.sources,
            "differences": len(self.differences),
            "by_column": self.by_column(),
            "examples": [
                {
                    "vector": d.vector,
                    "source": d.source,
                    "column": d.column,
                    "recorded": {"value": d.recorded, "text": show_value(d.recorded)},
                    "here": {"value": d.here, "text": show_value(d.here)},
                    "input": d.input,
                }
                for d in shown
            ],
            "environment": {
                "saved": self.saved_environment,
                "here": self.host_environment,
                "differs": env.differing(self.saved_environment, self.host_environment),
            },
        }

    def render(self, fmt: str = "text", max_examples: int = 20) -> str:
        if fmt == "json":
            return codec.dumps(self.to_dict(max_examples), indent=2)
        return self.to_text(max_examples)

    def raise_for_differences(self) -> None:
        """Raise :class:`VerificationError` unless every golden cell is identical."""
        if self.ok:
            return
        first = self.differences[0]
        cols = list(self.by_column())
        raise VerificationError(
            f"load {self.artifact!r}: this host computes other features than the host that saved the artifact: "
            f"{len(self.differences)} golden cell(s) differ, in column(s) {cols}; first: column {first.column!r}, "
            f"vector {first.vector} ({_SOURCES[first.source]}): recorded {show_value(first.recorded)}, this host "
            f"{show_value(first.here)}\n  "
            + "\n  ".join(self.environment_lines())
            + f"\n  Fix: {self.fix()}; `featurekit verify {self.artifact}` lists every difference",
            path=self.artifact,
            column=first.column,
            vector=first.vector,
            recorded=decode_value(first.recorded),
            here=decode_value(first.here),
            differences=len(self.differences),
            report=self,
        )


def verify_fitted(fitted: FittedTransform, where: str) -> VerifyReport:
    """Replay the golden vectors ``fitted`` was loaded with (see the module docstring)."""
    golden = fitted.golden_
    if golden is None:
        raise ArtifactError(
            f"verify {where!r}: the artifact has no golden vectors (saved by a featurekit that did "
            "not record them)\n  Fix: re-save it with this featurekit on the host that fitted it "
            "(featurekit.load(path).save(path)), so the vectors hold that host's outputs",
            path=where,
        )
    differences = replay(fitted, golden)
    return VerifyReport(
        artifact=where,
        pin=f"{fitted.spec.name}@{fitted.spec.version}#{fitted.fingerprint[:12]}",
        vectors=len(golden),
        columns=len(golden.columns),
        sources=golden.sources(),
        differences=differences,
        saved_environment=golden.environment,
        host_environment=env.current_environment(),
    )

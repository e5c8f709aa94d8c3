"""Generate the op reference (``docs/ops.md``) from the op registry, so it cannot drift.

Run ``python -m featurekit.docs_gen`` to rewrite the file; a test fails when it is stale.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry


def _params(op: registry.Op) -> str:
    if not op.params:
        return "—"
    parts = []
    for name, param in op.params.items():
        default = "required" if param.required else f"default `{param.default!r}`"
        parts.append(f"`{name}`: {param.describe()}, {default}")
    return "<br>".join(parts)


def op_reference() -> str:
    """The markdown op reference."""
    lines = [
        "# Op reference",
        "",
        "Generated from the op registry by `python -m featurekit.docs_gen`; do not edit by hand.",
        "",
        "Every op gives bit-identical results on the batch and the row path, on every CPU: library",
        "math runs through the same CPython `math` call in both paths.",
        "",
        "| op | kind | arguments | parameters |",
        "|---|---|---|---|",
    ]
    for op in registry.all_ops():
        args = ", ".join("/".join(sorted(t.value for t in a)) for a in op.args) + (", ..." if op.variadic else "")
        name = f"`{op.name}`" + (f" (`{op.symbol}`)" if op.symbol else "")
        lines.append(f"| {name} | {op.kind.value} | {args} | {_params(op)} |")
    lines.append("")
    for op in registry.all_ops():
        lines += [f"## {op.name}", "", inspect.cleandoc(op.doc), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    target = Path(argv[0] if argv else Path(__file__).resolve().parent.parent / "docs" / "ops.md")
    target.write_text(op_reference(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))

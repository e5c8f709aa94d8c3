"""The ``featurekit`` command line.

Exit codes: 0 success; 1 findings (reserved for checking commands such as ``parity``);
2 bad usage, spec, data or artifact; 3 internal error (a bug: please report it); 130 when
interrupted. Results go to stdout, progress and errors to stderr; errors print without a
Python traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Sequence

from featurekit.errors import FeaturekitError

EXAMPLES = {
    "validate": "featurekit validate specs/churn.yaml",
    "fit": "featurekit fit specs/churn.yaml --data train.parquet --out model/features",
    "transform": "featurekit transform model/features --data in.csv --out features.parquet",
    "describe": "featurekit describe model/features",
    "ops": "featurekit ops",
}


def _stderr(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


def _load_spec_or_artifact(path: str) -> tuple[Any, Any]:
    """``(spec, fitted or None)`` for a spec file or an artifact directory."""
    import featurekit as fk

    if os.path.isdir(path):
        fitted = fk.load(path)
        return fitted.spec, fitted
    return fk.load_spec(path), None


def cmd_validate(args: argparse.Namespace) -> int:
    import featurekit as fk

    spec = fk.load_spec(args.spec)
    if args.format == "json":
        print(json.dumps({"ok": True, "name": spec.name, "version": spec.version,
                          "fingerprint": spec.fingerprint, "features": spec.feature_fingerprints}, indent=2))
    else:
        print(f"ok: {spec.name}@{spec.version}: {len(spec.inputs)} inputs, {len(spec.features)} features "
              f"(fingerprint {spec.fingerprint[:12]})")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    import featurekit as fk
    from featurekit.io import read_table

    spec = fk.load_spec(args.spec)
    started = time.perf_counter()
    _stderr(f"reading {args.data} ...", args.quiet)
    df = read_table(args.data, spec)
    _stderr(f"fitting {spec.name}@{spec.version} on {len(df):,} rows ...", args.quiet)
    fitted = spec.fit(df, progress=None if args.quiet else _stderr)
    path = fitted.save(args.out)
    _stderr(f"done in {time.perf_counter() - started:.2f}s", args.quiet)
    print(f"saved {path} ({fitted.pin[:len(spec.name) + len(spec.version) + 14]}, "
          f"{len(fitted.output_columns)} columns)")
    return 0


def cmd_transform(args: argparse.Namespace) -> int:
    import featurekit as fk
    from featurekit.io import read_table, write_table

    fitted = fk.load(args.artifact, expect=args.expect)
    df = read_table(args.data, fitted.spec)
    _stderr(f"transforming {len(df):,} rows ...", args.quiet)
    out = fitted.transform(df)
    if args.keep:
        for col in args.keep:
            out.insert(0, col, df[col].to_numpy())
    write_table(out, args.out)
    print(f"wrote {len(out):,} rows x {out.shape[1]} columns to {args.out}")
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    spec, fitted = _load_spec_or_artifact(args.target)
    print(fitted.describe() if fitted is not None else spec.describe())
    return 0


def cmd_ops(args: argparse.Namespace) -> int:
    from featurekit import registry

    for op in registry.all_ops():
        first = op.doc.strip().splitlines()[0]
        print(f"{op.name:18s} {op.kind.value:11s} {first}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featurekit", description="Declare features once; serve them without training-serving skew.",
        epilog="exit codes: 0 ok, 1 findings, 2 bad usage/spec/data, 3 internal error")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, epilog=f"example: {EXAMPLES[name]}")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        p.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = add("validate", "check a spec file: parse, types, params, cycles; print its fingerprint")
    p.add_argument("spec")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_validate)
    p = add("fit", "fit a spec on training data and save the artifact directory")
    p.add_argument("spec")
    p.add_argument("--data", required=True, help="CSV, parquet or JSONL file (or a glob)")
    p.add_argument("--out", required=True, help="artifact directory to write")
    p.set_defaults(func=cmd_fit)
    p = add("transform", "batch-transform a data file with a saved artifact")
    p.add_argument("artifact")
    p.add_argument("--data", required=True, help="CSV, parquet or JSONL file (or a glob)")
    p.add_argument("--out", required=True, help="output file: .csv, .parquet or .jsonl")
    p.add_argument("--expect", help="refuse unless the artifact is name@version#fingerprint")
    p.add_argument("--keep", nargs="*", help="input columns to copy into the output (e.g. an id)")
    p.set_defaults(func=cmd_transform)
    p = add("describe", "show a spec's or artifact's inputs, features, state and fingerprints")
    p.add_argument("target", help="spec file or artifact directory")
    p.set_defaults(func=cmd_describe)
    p = add("ops", "list the registered ops")
    p.set_defaults(func=cmd_ops)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _stderr("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except FeaturekitError as exc:
        if args.debug:
            raise
        _stderr(f"error: {exc}")
        return 2
    except Exception as exc:  # a bug in featurekit: say so
        if args.debug:
            raise
        _stderr(f"internal error: {type(exc).__name__}: {exc}\n  This is a featurekit bug; rerun with --debug "
                "and report the traceback.")
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

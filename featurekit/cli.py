"""The ``featurekit`` command line.

Exit codes: 0 success; 1 findings (reserved for checking commands such as ``parity``);
2 bad usage, spec, data or artifact; 3 internal error (a bug: please report it); 130 when
interrupted. Results go to stdout, progress and errors to stderr; errors print without a
Python traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from featurekit.errors import FeaturekitError

BOUNDARY_BUDGET = 8
"""``parity --boundaries`` default: :data:`featurekit.parity.boundaries.BUDGET` (not imported here,
so that the CLI starts without pandas; a test keeps the two equal)."""

EXAMPLES = {
    "validate": "featurekit validate specs/churn.yaml",
    "fit": "featurekit fit specs/churn.yaml --data train.parquet --out model/features",
    "transform": "featurekit transform model/features --data in.csv --out features.parquet",
    "describe": "featurekit describe model/features",
    "ops": "featurekit ops",
    "parity": "featurekit parity model/features --data sample.parquet --format junit --output parity.xml",
    "diff": "featurekit diff old/features new/features --check-version --data sample.parquet",
    "skew": "featurekit skew model/features --log 'logs/*.jsonl' --html skew.html",
    "schema": "featurekit schema --out docs/spec.schema.json",
    "verify": "featurekit verify model/features --format json",
    "golden": "featurekit golden model/features --out vectors.jsonl",
}


def _stderr(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


def _load_spec_or_artifact(path: str) -> tuple[Any, Any]:
    """``(spec, fitted or None)`` for a spec file, an artifact directory or a ``.fkit`` archive."""
    from featurekit.diff import load_side

    return load_side(path)


def cmd_validate(args: argparse.Namespace) -> int:
    import featurekit as fk

    spec = fk.load_spec(args.spec)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": True,
                    "name": spec.name,
                    "version": spec.version,
                    "fingerprint": spec.fingerprint,
                    "features": spec.feature_fingerprints,
                },
                indent=2,
            )
        )
    else:
        print(
            f"ok: {spec.name}@{spec.version}: {len(spec.inputs)} inputs, {len(spec.features)} features "
            f"(fingerprint {spec.fingerprint[:12]})"
        )
    return 0


def _dask_session(args: argparse.Namespace) -> Any:
    """A context manager connecting to ``--scheduler`` or starting ``--workers`` local workers."""

    if args.engine != "dask":
        if args.workers or args.scheduler:
            raise FeaturekitError("--workers and --scheduler need --engine dask")
        return contextlib.nullcontext()
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        raise FeaturekitError("--engine dask needs the dask extra\n  Fix: pip install 'featurekit[dask]'") from None
    stack = contextlib.ExitStack()
    if args.scheduler or args.workers:
        from distributed import Client, LocalCluster

        if args.scheduler:
            stack.enter_context(Client(args.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
            )
            stack.enter_context(Client(cluster))
    return stack


@contextlib.contextmanager
def _spark_session(args: argparse.Namespace) -> Iterator[Any]:
    """A SparkSession for ``--engine spark`` (``--master``, default ``local[2]``; the active
    session when there is one), stopped after when this command started it."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise FeaturekitError(
            "--engine spark needs the spark extra (and Java 17)\n  Fix: pip install 'featurekit[spark]'"
        ) from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this environment
    running = SparkSession.getActiveSession()
    spark = running or (
        SparkSession.builder.master(args.master)
        .appName("featurekit")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    try:
        yield spark
    finally:
        if running is None:  # a session this command started (not one it was called inside)
            spark.stop()


def _read_spark(spark: Any, path: str) -> Any:
    from featurekit.io import DataFileError, _kind

    if os.path.isdir(path) or _kind(path) == ".parquet":
        return spark.read.parquet(path)
    if _kind(path) == ".csv":
        return spark.read.csv(path, header=True, inferSchema=True)
    raise DataFileError(f"{path!r}: --engine spark reads parquet or CSV\n  Fix: convert the data to parquet")


def _read_dask(path: str, spec: Any) -> Any:
    """A Dask DataFrame over a parquet/CSV file, glob or directory (one partition per file or more)."""
    import dask.dataframe as dd

    from featurekit.io import DataFileError, _kind

    if os.path.isdir(path):
        return dd.read_parquet(path)
    kind = _kind(path)
    if kind == ".parquet":
        return dd.read_parquet(path)
    if kind == ".csv":
        text_cols = {i.name: "str" for i in spec.inputs if i.type in ("str", "category")}
        return dd.read_csv(path, dtype=text_cols, keep_default_na=True)
    raise DataFileError(f"{path!r}: --engine dask reads parquet or CSV\n  Fix: convert the data to parquet")


def _warnings_to_stderr(command: Any) -> Any:
    """Run ``command`` printing featurekit's warnings as ``warning: ...`` on stderr (even with -q)."""

    def run(args: argparse.Namespace) -> int:
        import warnings

        from featurekit.errors import FeaturekitWarning

        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", FeaturekitWarning)
                return command(args)
        finally:  # after the block: showwarning inside it would record instead of print
            for w in caught:
                if issubclass(w.category, FeaturekitWarning):
                    _stderr(f"warning: {w.message}")
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)

    return run


@_warnings_to_stderr
def cmd_fit(args: argparse.Namespace) -> int:
    import featurekit as fk

    spec = fk.load_spec(args.spec)
    started = time.perf_counter()
    _stderr(f"reading {args.data} ...", args.quiet)
    if args.engine == "dask":
        with _dask_session(args):
            from featurekit.engines.dask import DaskEngine

            ddf = _read_dask(args.data, spec)
            _stderr(f"fitting {spec.name}@{spec.version} on {ddf.npartitions} partition(s) with dask ...", args.quiet)
            engine = DaskEngine(progress_bar=not args.quiet and sys.stderr.isatty())
            fitted = spec.fit(ddf, engine=engine, progress=None if args.quiet else _stderr)
    elif args.engine == "spark":
        with _spark_session(args) as spark:
            sdf = _read_spark(spark, args.data)
            _stderr(f"fitting {spec.name}@{spec.version} with spark ({args.master}) ...", args.quiet)
            fitted = spec.fit(sdf, progress=None if args.quiet else _stderr)
    else:
        from featurekit.io import read_table

        df = read_table(args.data, spec)
        _stderr(f"fitting {spec.name}@{spec.version} on {len(df):,} rows ...", args.quiet)
        fitted = spec.fit(df, progress=None if args.quiet else _stderr)
    path = fitted.save(args.out)
    _stderr(f"done in {time.perf_counter() - started:.2f}s", args.quiet)
    print(
        f"saved {path} ({fitted.pin[: len(spec.name) + len(spec.version) + 14]}, {len(fitted.output_columns)} columns)"
    )
    return 0


def cmd_transform(args: argparse.Namespace) -> int:
    import featurekit as fk
    from featurekit.io import read_table, write_table

    fitted = fk.load(args.artifact, expect=args.expect)
    if args.engine == "dask":
        with _dask_session(args):
            from featurekit.engines.dask import DaskEngine
            from featurekit.transform import FrameTransform

            ddf = _read_dask(args.data, fitted.spec)
            _stderr(f"transforming {ddf.npartitions} partition(s) with dask into {args.out}/ ...", args.quiet)
            engine = DaskEngine(progress_bar=not args.quiet and sys.stderr.isatty())
            fn = FrameTransform(fitted, keep=args.keep or ())
            out = engine.map_frames(ddf, fn, fn.meta(ddf._meta))
            engine.compute(out.to_parquet(args.out, write_index=False, compute=False))
            print(f"wrote {len(out.columns)} columns x {ddf.npartitions} partition(s) of parquet to {args.out}")
        return 0
    if args.engine == "spark":
        with _spark_session(args) as spark:
            sdf = _read_spark(spark, args.data)
            if args.keep:
                from featurekit.engines.spark import SparkEngine, kept_columns
                from featurekit.transform import FrameTransform

                kept = kept_columns(sdf, args.keep)
                fn = FrameTransform(fitted, keep=args.keep)
                out = SparkEngine().map_frames(sdf, fn, fn.meta().astype(dict(kept.dtypes)))
            else:
                out = fitted.transform(sdf)
            _stderr(f"transforming with spark ({args.master}) into {args.out}/ ...", args.quiet)
            from featurekit.engines.spark import worker_errors

            with worker_errors():
                out.write.mode("error").parquet(args.out)
            print(f"wrote {len(out.columns)} columns of parquet to {args.out}")
        return 0
    df = read_table(args.data, fitted.spec)
    _stderr(f"transforming {len(df):,} rows ...", args.quiet)
    out = fitted.transform(df)
    if args.keep:
        for col in args.keep:
            out.insert(0, col, df[col].to_numpy())
    write_table(out, args.out)
    print(f"wrote {len(out):,} rows x {out.shape[1]} columns to {args.out}")
    return 0


def _import_callable(target: str) -> Any:
    """``module:function`` -> the function (the user named this code explicitly on the command line)."""
    import importlib

    from featurekit.errors import FeaturekitError

    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise FeaturekitError(
            f"--serving {target!r}: expected module:function\n  Fix: e.g. --serving app.serving:features"
        )
    sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise FeaturekitError(
            f"--serving {target!r}: cannot import it ({exc})\n  Fix: check the module path "
            "and run from the directory that contains it"
        ) from None
    return obj


def _import_modules(names: list[str]) -> None:
    """Import the modules named with --import (they register UDFs); run from the current directory."""
    import importlib

    if names:
        sys.path.insert(0, os.getcwd())
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise FeaturekitError(
                f"--import {name!r}: cannot import it ({exc})\n  Fix: check the module name "
                "and run from the directory that contains it"
            ) from None


def cmd_parity(args: argparse.Namespace) -> int:
    import featurekit as fk
    from featurekit import parity
    from featurekit.io import read_table
    from featurekit.values.equality import Mode

    spec, fitted = _load_spec_or_artifact(args.target)
    data = read_table(args.data, spec) if args.data else None
    if fitted is None:
        fit_path = args.fit_data or args.data
        if not fit_path:
            raise fk.FeaturekitError(
                "parity on a spec needs training data\n  Fix: pass --fit-data FILE (or an "
                "artifact directory instead of the spec)"
            )
        fitted = spec.fit(read_table(fit_path, spec))
    tol = dict(rtol=args.rtol, atol=args.atol, ulps=args.ulps, max_examples=args.max_examples)
    foreign = bool(args.serving or args.serving_url)
    equality: Mode = args.equality or ("value" if foreign else "strict")
    if args.log:
        report = parity.replay(fitted, args.log, equality=equality, **tol)
    elif foreign:
        if args.serving_url:
            from featurekit.parity.http import HttpServing

            row_fn = HttpServing(args.serving_url, timeout=args.serving_timeout, concurrency=args.serving_concurrency)
        else:
            row_fn = _import_callable(args.serving)
        report = parity.compare(
            fitted.transform,
            row_fn,
            data,
            contract=fitted,
            fuzz=args.fuzz,
            seed=args.seed,
            invalid=not args.valid_only,
            columns=fitted.output_columns,
            label=f"batch path vs {args.serving or args.serving_url}",
            equality=equality,
            boundaries=args.boundaries,
            **tol,
        )
    else:
        report = parity.check(
            fitted,
            data,
            fuzz=args.fuzz,
            seed=args.seed,
            invalid=not args.valid_only,
            equality=equality,
            boundaries=args.boundaries,
            **tol,
        )
    text = report.render(args.format)
    if args.output or args.format != "text":  # the text report shows its notes itself
        for note in report.notes:
            _stderr(f"note: {note}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        _stderr(report.summary(), args.quiet)
    else:
        print(text)
    return 0 if report.ok else 1


@contextlib.contextmanager
def _record_progress(quiet: bool) -> Iterator[Any]:
    """A progress bar of records read on stderr (tqdm, the ``skew`` extra), or None: none when
    tqdm is not installed, stderr is not a terminal, or ``--quiet``."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield None
        return
    with tqdm(desc="reading log", unit=" records", unit_scale=True, file=sys.stderr, leave=False) as bar:
        yield bar.update


def cmd_skew(args: argparse.Namespace) -> int:
    import featurekit as fk
    from featurekit.skew import skew_report
    from featurekit.skew.prometheus import render_prometheus, write_textfile

    fitted = fk.load(args.artifact)
    with _record_progress(args.quiet) as progress:
        report = skew_report(fitted, args.log, args.thresholds, by=args.by, progress=progress)
    if args.html:
        with open(args.html, "w", encoding="utf-8") as fh:
            fh.write(report.to_html())
        _stderr(f"wrote {args.html}", args.quiet)
    text = render_prometheus(report.to_dict()) if args.format == "prometheus" else report.render(args.format)
    if args.output:
        write_textfile(args.output, text if text.endswith("\n") else text + "\n")
        _stderr(f"wrote {args.output}", args.quiet)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0 if report.ok else 1


def cmd_describe(args: argparse.Namespace) -> int:
    spec, fitted = _load_spec_or_artifact(args.target)
    print(fitted.describe() if fitted is not None else spec.describe())
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from featurekit.diff import diff_paths, exit_code, format_text

    report = diff_paths(args.old, args.new, check_version=args.check_version, data=args.data)
    if args.format == "json":
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        print(format_text(report, show_unchanged=args.all))
    return exit_code(report)


def cmd_verify(args: argparse.Namespace) -> int:
    from featurekit.artifact.load import verify

    report = verify(args.artifact)
    print(report.render(args.format, max_examples=args.max_examples))
    return 0 if report.ok else 1


def cmd_golden(args: argparse.Namespace) -> int:
    import featurekit as fk
    from featurekit.artifact.export import export_vectors
    from featurekit.artifact.verify import verify_fitted

    fitted = fk.load(args.artifact)
    if fitted.golden_ is None:
        verify_fitted(fitted, args.artifact)  # raises: the artifact has no golden vectors
    if args.out == "-":
        count = export_vectors(fitted, sys.stdout)
    else:
        with open(args.out, "w", encoding="ascii", newline="\n") as fh:
            count = export_vectors(fitted, fh)
        print(f"wrote {count} golden vectors of {fitted.spec.name}@{fitted.spec.version} to {args.out}")
    return 0


def cmd_ops(args: argparse.Namespace) -> int:
    import featurekit.ir.ops  # noqa: F401  (registers the built-in ops)
    from featurekit import registry

    for op in registry.all_ops():
        first = op.doc.strip().splitlines()[0]
        print(f"{op.name:18s} {op.kind.value:11s} {first}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from featurekit.schema import schema_json

    text = schema_json()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        _stderr(f"wrote {args.out}", args.quiet)
    else:
        sys.stdout.write(text)
    return 0


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=("pandas", "dask", "spark"),
        default="pandas",
        help="pandas (in memory, default), dask (partitioned, out of core; featurekit[dask]) or spark "
        "(a Spark session, featurekit[spark] and Java 17)",
    )
    p.add_argument("--master", default="local[2]", help="with --engine spark: the Spark master (default local[2])")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, help="with --engine dask: start a local cluster of N worker processes")
    group.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: connect to this Dask scheduler")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featurekit",
        description="Declare features once; serve them without training-serving skew.",
        epilog="exit codes: 0 ok, 1 findings, 2 bad usage/spec/data, 3 internal error",
    )
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (repeatable), e.g. the module that registers a spec's UDFs",
    )
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
    _engine_options(p)
    p.set_defaults(func=cmd_fit)
    p = add("transform", "batch-transform a data file with a saved artifact")
    p.add_argument("artifact")
    p.add_argument("--data", required=True, help="CSV, parquet or JSONL file (or a glob)")
    p.add_argument(
        "--out",
        required=True,
        help="output file: .csv, .parquet or .jsonl (with --engine dask: a directory of parquet files)",
    )
    p.add_argument("--expect", help="refuse unless the artifact is name@version#fingerprint")
    p.add_argument("--keep", nargs="*", help="input columns to copy into the output (e.g. an id)")
    _engine_options(p)
    p.set_defaults(func=cmd_transform)
    p = add("parity", "prove the batch path and a serving path agree on given and generated edge rows")
    p.add_argument("target", help="spec file (with --fit-data) or artifact directory")
    p.add_argument("--data", help="rows to replay: CSV, parquet or JSONL")
    p.add_argument("--fit-data", help="training data when TARGET is a spec (default: --data)")
    p.add_argument("--fuzz", type=int, default=2000, help="random edge-value rows to add (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--boundaries",
        type=int,
        default=BOUNDARY_BUDGET,
        metavar="N",
        help=f"per numeric or time input, find up to N places where the batch side's output changes "
        f"(bisected to 1 ULP, 1 or 1 us) and compare both sides there: thresholds that live only in "
        f"code (default {BOUNDARY_BUDGET}; 0: off; not with --log)",
    )
    p.add_argument("--serving", metavar="MODULE:FUNCTION", help="compare against this row function instead")
    p.add_argument(
        "--serving-url",
        metavar="URL",
        help="compare against a serving endpoint: POST one JSON row, read a JSON object of outputs (docs/parity.md)",
    )
    p.add_argument("--serving-timeout", type=float, default=10.0, help="seconds per request (default 10)")
    p.add_argument("--serving-concurrency", type=int, default=4, help="requests in flight (default 4)")
    p.add_argument(
        "--equality",
        choices=("strict", "value"),
        help="strict: types, None vs NaN and -0.0 count (default for featurekit's own paths and --log); "
        "value: 1 == 1.0, None == NaN (default with --serving/--serving-url)",
    )
    p.add_argument(
        "--valid-only",
        action="store_true",
        help="generate only rows the input contract accepts (for serving code that does not validate)",
    )
    p.add_argument(
        "--log",
        help="compare logged serving records (JSONL of input/output: file, directory or "
        "quoted glob) with the batch path; unparseable lines are skipped and counted",
    )
    p.add_argument("--format", choices=("text", "json", "junit", "github"), default="text")
    p.add_argument("--output", help="write the report to this file (the summary still goes to stderr)")
    p.add_argument("--rtol", type=float, default=0.0)
    p.add_argument("--atol", type=float, default=0.0)
    p.add_argument(
        "--ulps",
        type=int,
        default=None,
        help="float tolerance in ULPs (default: 0, bit-exact; a custom function may declare its own)",
    )
    p.add_argument("--max-examples", type=int, default=20, help="examples kept per column (default 20)")
    p.set_defaults(func=cmd_parity)
    p = add("skew", "compare logged serving records with the training baseline and the batch path")
    p.add_argument("artifact", help="artifact directory or .fkit archive (with baseline.json)")
    p.add_argument(
        "--log",
        required=True,
        help="serving log(s) written by featurekit.ServingLogger: file, directory or quoted glob of JSONL, "
        "gzip-compressed JSONL (.jsonl.gz) or parquet (see docs/skew.md); a progress bar on a terminal with tqdm",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "junit", "prometheus"),
        default="text",
        help="prometheus: gauges in the text exposition format (OpenMetrics-compatible, ends with # EOF)",
    )
    p.add_argument(
        "--output",
        help="write the report here instead of stdout (prometheus: atomically, for a textfile collector)",
    )
    p.add_argument("--html", help="also write a self-contained HTML report to this file")
    p.add_argument(
        "--thresholds",
        help="YAML file overriding the spec's monitoring: thresholds and the defaults (see docs/skew.md)",
    )
    p.add_argument(
        "--by",
        choices=("day", "hour"),
        help="also measure every metric per UTC day or hour of the logged time (a series per column)",
    )
    p.set_defaults(func=cmd_skew)
    p = add("describe", "show a spec's or artifact's inputs, features, state and fingerprints")
    p.add_argument("target", help="spec file or artifact directory")
    p.set_defaults(func=cmd_describe)
    p = add("diff", "compare two specs or artifacts per feature: added/removed/logic changed/state changed")
    p.add_argument("old", help="spec file, artifact directory or .fkit archive")
    p.add_argument("new", help="spec file, artifact directory or .fkit archive")
    p.add_argument(
        "--check-version", action="store_true", help="exit 1 when features changed but the spec's semver was not bumped"
    )
    p.add_argument(
        "--data", help="sample file (CSV/parquet/JSONL): change impact per output column (needs two artifacts)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--all", action="store_true", help="also list unchanged features (text format)")
    p.set_defaults(func=cmd_diff)
    p = add("verify", "replay an artifact's golden vectors through this host's row path; exit 1 if any bit differs")
    p.add_argument("artifact", help="artifact directory or .fkit archive")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--max-examples", type=int, default=20, help="differences shown (default 20)")
    p.set_defaults(func=cmd_verify)
    p = add("golden", "export an artifact's golden vectors as JSON Lines for ports in other languages")
    p.add_argument("artifact", help="artifact directory or .fkit archive")
    p.add_argument("--out", required=True, help="file to write (JSON Lines; '-' for stdout); format: docs/golden.md")
    p.set_defaults(func=cmd_golden)
    p = add("ops", "list the registered ops")
    p.set_defaults(func=cmd_ops)
    p = add("schema", "print the JSON Schema (draft-07) of the spec format, for editors and CI")
    p.add_argument("--out", help="write it to this file instead of stdout")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _import_modules(args.imports)
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
        _stderr(
            f"internal error: {type(exc).__name__}: {exc}\n  This is a featurekit bug; rerun with --debug "
            "and report the traceback."
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

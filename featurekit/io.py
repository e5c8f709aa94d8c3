"""Reading and writing data files for the CLI: CSV, parquet and JSON Lines, by extension.

CSV carries no types, so columns are read as text where the spec says str, and timestamps
are parsed by the same ISO 8601 rule both paths use; everything else is checked by the input
contract as usual.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from featurekit.errors import FeaturekitError

SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


class DataFileError(FeaturekitError, ValueError):
    """A data file cannot be read or written."""


def _kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFileError(
            f"{path!r}: unknown data file type {suffix or '(none)'!r}\n  Fix: use one of {', '.join(SUFFIXES)}"
        )
    return {".pq": ".parquet", ".ndjson": ".jsonl", ".json": ".jsonl"}.get(suffix, suffix)


def read_table(path: str, spec: Any | None = None) -> Any:
    """Read a CSV, parquet or JSONL file (or a glob of them) into a pandas DataFrame."""
    import pandas as pd

    paths = sorted(glob.glob(path)) if any(ch in path for ch in "*?[") else [path]
    if not paths:
        raise DataFileError(f"{path!r}: no file matches\n  Fix: check the path or the glob pattern")
    frames = []
    for p in paths:
        if not Path(p).exists():
            raise DataFileError(f"{p!r}: file does not exist\n  Fix: check the path")
        kind = _kind(p)
        try:
            if kind == ".csv":
                text_cols = {i.name: "str" for i in (spec.inputs if spec else ()) if i.type in ("str", "category")}
                frames.append(pd.read_csv(p, dtype=text_cols, keep_default_na=True))
            elif kind == ".parquet":
                frames.append(pd.read_parquet(p))
            else:
                frames.append(pd.read_json(p, lines=True, dtype=False))  # dtype=False: no date conversion either
        except (ValueError, OSError) as exc:
            raise DataFileError(f"{p!r}: cannot read as {kind[1:]}: {exc}\n  Fix: check the file format") from None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def write_table(df: Any, path: str) -> None:
    """Write a DataFrame as CSV, parquet or JSONL, by the extension of ``path``."""
    kind = _kind(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if kind == ".csv":
        df.to_csv(path, index=False)
    elif kind == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_json(path, orient="records", lines=True, date_format="iso")

"""Compare two specs or fitted artifacts: ``featurekit diff OLD NEW``.

Per feature (by name): ``added``, ``removed``, ``logic_changed`` (its feature fingerprint
differs), ``state_changed`` (same logic, different fitted state; only when both sides are
artifacts) or ``unchanged``. A removed and an added feature with the same logic are flagged
as a probable rename.

``check_version``: the spec's semver must grow when anything changed: any bump for a logic
change or an added/removed feature, a patch bump is enough for state-only changes.

``impact(old, new, frame)``: transform the same rows with both artifacts and report, per
output column, the share of rows whose value changes, the worst absolute change (numbers)
and up to three example rows. Columns of untouched features report 0.
"""

from __future__ import annotations

import os
import re
from typing import Any

from featurekit.errors import FeaturekitError

KINDS = ("added", "removed", "logic_changed", "state_changed", "unchanged")
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


class DiffError(FeaturekitError, ValueError):
    """``featurekit diff`` was given something it cannot compare."""


def load_side(path: str) -> tuple[Any, Any]:
    """``(spec, fitted or None)`` for a spec file, an artifact directory or a ``.fkit`` archive."""
    import featurekit as fk
    from featurekit.artifact.manifest import ARCHIVE_SUFFIX

    p = str(path)
    if os.path.isdir(p) or p.endswith(ARCHIVE_SUFFIX) or _is_zip(p):
        fitted = fk.load(p)
        return fitted.spec, fitted
    return fk.load_spec(p), None


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _semver(version: str) -> tuple | None:
    m = _SEMVER.match(str(version))
    if not m:
        return None
    major, minor, patch, pre = m.groups()
    # a pre-release sorts before its release (1.0.0-rc1 < 1.0.0)
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def _feature_state(fitted: Any, feature: str) -> list:
    return [(item["op"], item["state"]) for item in fitted.state_by_feature().get(feature, [])]


def diff(old: Any, new: Any, *, check_version: bool = False) -> dict[str, Any]:
    """Compare ``old`` and ``new``, each a ``(spec, fitted or None)`` pair (see :func:`load_side`)."""
    old_spec, old_fit = old
    new_spec, new_fit = new
    old_fp, new_fp = old_spec.feature_fingerprints, new_spec.feature_fingerprints
    both_fitted = old_fit is not None and new_fit is not None
    # a feature's fingerprint includes its name; its node key is the logic alone (rename hints)
    old_key = {n: old_spec.graph.features[n].key for n in old_spec.graph.outputs}
    new_key = {n: new_spec.graph.features[n].key for n in new_spec.graph.outputs}
    rows = []
    for name in list(old_spec.graph.outputs) + [n for n in new_spec.graph.outputs if n not in old_fp]:
        entry: dict[str, Any] = {"feature": name}
        if name not in new_fp:
            entry["change"] = "removed"
            renamed = [n for n in new_spec.graph.outputs if n not in old_fp and new_key[n] == old_key[name]]
            if renamed:
                entry["detail"] = f"same logic as added feature {renamed[0]!r} (renamed?)"
        elif name not in old_fp:
            entry["change"] = "added"
            renamed = [n for n in old_spec.graph.outputs if n not in new_fp and old_key[n] == new_key[name]]
            if renamed:
                entry["detail"] = f"same logic as removed feature {renamed[0]!r} (renamed?)"
        elif old_fp[name] != new_fp[name]:
            entry["change"] = "logic_changed"
            entry["detail"] = f"fingerprint {old_fp[name][:12]} -> {new_fp[name][:12]}"
            old_src = _source(old_spec, name)
            new_src = _source(new_spec, name)
            if old_src != new_src:
                entry["old"], entry["new"] = old_src, new_src
        elif both_fitted and _feature_state(old_fit, name) != _feature_state(new_fit, name):
            entry["change"] = "state_changed"
            old_items, new_items = _feature_state(old_fit, name), _feature_state(new_fit, name)
            ops = sorted({op for (op, st), (_, st2) in zip(old_items, new_items) if st != st2})
            entry["detail"] = f"fitted state of {', '.join(ops)} differs"
            cols_old, cols_new = old_fit.output_names[name], new_fit.output_names[name]
            if cols_old != cols_new:
                entry["detail"] += f"; output columns {cols_old} -> {cols_new}"
        else:
            entry["change"] = "unchanged"
        rows.append(entry)
    summary = {k: sum(1 for r in rows if r["change"] == k) for k in KINDS}
    report: dict[str, Any] = {
        "old": _side_info(old_spec, old_fit),
        "new": _side_info(new_spec, new_fit),
        "state_compared": both_fitted,
        "features": rows,
        "summary": summary,
    }
    if old_spec.name != new_spec.name:
        report["notes"] = [f"spec name changed: {old_spec.name!r} -> {new_spec.name!r}"]
    if check_version:
        report["version_check"] = _check_version(old_spec.version, new_spec.version, rows)
    return report


def _source(spec: Any, feature: str) -> str | None:
    for f in spec.features:
        if f.name == feature:
            return str(f.source)
    return None


def _side_info(spec: Any, fitted: Any) -> dict[str, Any]:
    out = {
        "name": spec.name,
        "version": spec.version,
        "kind": "artifact" if fitted is not None else "spec",
        "spec_fingerprint": spec.fingerprint,
    }
    if fitted is not None:
        out["fingerprint"] = fitted.fingerprint
    return out


def _check_version(old: str, new: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    logic = [r["feature"] for r in rows if r["change"] in ("added", "removed", "logic_changed")]
    state = [r["feature"] for r in rows if r["change"] == "state_changed"]
    vo, vn = _semver(old), _semver(new)
    problems = []
    if vo is None or vn is None:
        bad = [v for v, p in ((old, vo), (new, vn)) if p is None]
        problems.append(f"version(s) {bad} are not semver (MAJOR.MINOR.PATCH)")
        bumped = False
    else:
        bumped = vn > vo
    if not bumped and logic:
        problems.append(
            f"logic changed (features {logic}) but the version was not bumped ({old} -> {new}); "
            "bump it (a minor or major bump for logic changes is customary, any bump is accepted)"
        )
    if not bumped and state and not logic:
        problems.append(
            f"fitted state changed (features {state}) but the version was not bumped "
            f"({old} -> {new}); a patch bump is enough"
        )
    if vo is not None and vn is not None and vn < vo:
        problems.append(f"the version went down ({old} -> {new})")
    return {
        "old_version": old,
        "new_version": new,
        "bumped": bumped,
        "logic_changed": logic,
        "state_changed": state,
        "ok": not problems,
        "problems": problems,
    }


# ------------------------------------------------------------------------------ change impact


def impact(old_fit: Any, new_fit: Any, frame: Any, *, examples: int = 3) -> dict[str, Any]:
    """Transform ``frame`` with both artifacts; per output column, how much changes."""
    import numpy as np
    import pandas as pd

    a = old_fit.transform(frame)
    b = new_fit.transform(frame)
    n = len(frame)
    col_feature: dict[str, str] = {}
    for fitted in (old_fit, new_fit):
        for feature, cols in fitted.output_names.items():
            for col in cols:
                col_feature.setdefault(col, feature)
    columns = list(b.columns) + [c for c in a.columns if c not in b.columns]
    out = []
    for col in columns:
        entry: dict[str, Any] = {"column": col, "feature": col_feature.get(col)}
        if col not in a.columns or col not in b.columns:
            entry.update(
                status="added" if col not in a.columns else "removed",
                changed_rows=n,
                changed_share=1.0 if n else 0.0,
                worst_abs_change=None,
                examples=[],
            )
            out.append(entry)
            continue
        sa, sb = a[col], b[col]
        na_a, na_b = sa.isna().to_numpy(), sb.isna().to_numpy()
        numeric = (
            pd.api.types.is_numeric_dtype(sa.dtype)
            and pd.api.types.is_numeric_dtype(sb.dtype)
            and not pd.api.types.is_bool_dtype(sa.dtype)
        )
        if numeric:
            va = sa.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
            vb = sb.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                same = (va == vb) | (na_a & na_b)
        else:
            eq = sa.astype(object).to_numpy() == sb.astype(object).to_numpy()
            same = np.asarray(eq, dtype=bool) | (na_a & na_b)
            same &= ~(na_a ^ na_b)
        changed = ~same
        k = int(changed.sum())
        worst = None
        if numeric and k:
            both = changed & ~na_a & ~na_b
            if both.any():
                with np.errstate(invalid="ignore", over="ignore"):
                    worst = float(np.nanmax(np.abs(vb[both] - va[both])))
        idx = np.flatnonzero(changed)[:examples]
        ex = [{"row": _plain(frame.index[i]), "old": _plain(sa.iloc[i]), "new": _plain(sb.iloc[i])} for i in idx]
        entry.update(
            status="changed" if k else "unchanged",
            changed_rows=k,
            changed_share=k / n if n else 0.0,
            worst_abs_change=worst,
            null_flips=int((na_a ^ na_b).sum()),
            examples=ex,
        )
        out.append(entry)
    return {"rows": n, "columns": out}


def _plain(value: Any) -> Any:
    """A JSON-able Python scalar."""
    import math

    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (int, float, str, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def diff_paths(old_path: str, new_path: str, *, check_version: bool = False, data: str | None = None) -> dict[str, Any]:
    """Everything ``featurekit diff`` reports, as JSON-able data."""
    old, new = load_side(old_path), load_side(new_path)
    report = diff(old, new, check_version=check_version)
    if data is not None:
        if old[1] is None or new[1] is None:
            which = [p for p, side in ((old_path, old), (new_path, new)) if side[1] is None]
            raise DiffError(
                f"diff --data: change impact needs two fitted artifacts; {which} "
                "is a spec file\n  Fix: pass artifact directories or .fkit archives"
            )
        from featurekit.io import read_table

        frame = read_table(data, new[0])
        report["impact"] = impact(old[1], new[1], frame)
    return report


def exit_code(report: dict[str, Any]) -> int:
    check = report.get("version_check")
    return 1 if check is not None and not check["ok"] else 0


_LABEL = {
    "added": "added",
    "removed": "removed",
    "logic_changed": "logic changed",
    "state_changed": "state changed",
    "unchanged": "unchanged",
}


def format_text(report: dict[str, Any], *, show_unchanged: bool = False) -> str:
    o, n = report["old"], report["new"]
    lines = [f"{o['name']}@{o['version']} ({o['kind']}) -> {n['name']}@{n['version']} ({n['kind']})"]
    if not report["state_compared"]:
        lines.append("  (fitted state not compared: both sides must be artifacts)")
    for note in report.get("notes", []):
        lines.append(f"  note: {note}")
    for r in report["features"]:
        if r["change"] == "unchanged" and not show_unchanged:
            continue
        line = f"  {_LABEL[r['change']]:14s} {r['feature']}"
        if r.get("detail"):
            line += f"  ({r['detail']})"
        lines.append(line)
        if "old" in r:
            lines.append(f"  {'':14s}   - {r['old']}")
            lines.append(f"  {'':14s}   + {r['new']}")
    s = report["summary"]
    lines.append("summary: " + ", ".join(f"{s[k]} {_LABEL[k]}" for k in KINDS))
    check = report.get("version_check")
    if check is not None:
        if check["ok"]:
            lines.append(f"version check: ok ({check['old_version']} -> {check['new_version']})")
        else:
            lines.append("version check: FAILED")
            lines += [f"  {p}" for p in check["problems"]]
    imp = report.get("impact")
    if imp is not None:
        lines.append(f"change impact on {imp['rows']:,} rows:")
        for c in imp["columns"]:
            text = f"  {c['column']:28s} {100 * c['changed_share']:6.2f}% changed"
            if c["status"] in ("added", "removed"):
                text += f" (column {c['status']})"
            if c.get("worst_abs_change") is not None:
                text += f", worst |change| {c['worst_abs_change']:.6g}"
            if c.get("examples"):
                text += "; e.g. " + ", ".join(f"row {e['row']}: {e['old']!r} -> {e['new']!r}" for e in c["examples"])
            lines.append(text)
    return "\n".join(lines)

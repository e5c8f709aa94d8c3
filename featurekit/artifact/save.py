"""Save a fitted transform as an artifact directory (see :mod:`featurekit.artifact.manifest`)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from featurekit import _json
from featurekit.artifact.environment import current_environment
from featurekit.artifact.golden import DEFAULT_VECTORS, record
from featurekit.artifact.manifest import (ARCHIVE_SUFFIX, BASELINE_FILE, CODE_FILE, FORMAT, FORMAT_VERSION,
                                         GOLDEN_FILE, library_versions, manifest_digest, sha256_bytes, used_udfs)
from featurekit.errors import ArtifactError

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform
    from featurekit.udf import UDF


def save(fitted: "FittedTransform", path: str | os.PathLike, *, golden: int = DEFAULT_VECTORS,
         golden_sample: bool = True) -> str:
    """Write ``fitted`` to the directory ``path`` atomically; returns the path.

    An existing artifact at ``path`` is replaced; any other existing non-empty directory is
    refused so nothing unrelated is overwritten. ``golden`` vectors are recorded
    (:mod:`featurekit.artifact.golden`; ``golden_sample=False`` leaves training rows out).
    """
    if isinstance(golden, bool) or not isinstance(golden, int) or golden < 1:
        raise ArtifactError(f"save: golden must be an int >= 1 (the number of golden vectors); got {golden!r}\n"
                            f"  Fix: pass golden={DEFAULT_VECTORS} (the default) or another positive count")
    target = Path(path)
    archive = target.suffix == ARCHIVE_SUFFIX
    if archive:
        if target.is_dir() or (target.exists() and not _is_archive(target)):
            raise ArtifactError(f"save: {str(target)!r} exists and is not a featurekit archive\n"
                                "  Fix: choose a new file name")
    elif target.exists() and any(target.iterdir()) and not (target / "manifest.json").is_file():
        raise ArtifactError(f"save: {str(target)!r} exists and is not a featurekit artifact\n"
                            "  Fix: choose an empty or new directory")
    spec = fitted.spec
    files = {
        # declaration order matters (it is the default output order): never sort these keys
        "spec.json": json.dumps(spec.to_dict(), indent=1, ensure_ascii=False).encode("utf-8"),
        "state.json": _json.dumps(fitted.state_, indent=1).encode("utf-8"),
    }
    baseline = getattr(fitted, "baseline_", None)
    if baseline is not None:
        files[BASELINE_FILE] = _json.dumps(baseline, indent=1).encode("utf-8")
    files[GOLDEN_FILE] = record(fitted, golden, golden_sample)
    udfs = used_udfs(spec)
    if udfs:
        import cloudpickle

        from featurekit.udf import get_udf

        entries = {name: get_udf(name) for name in udfs}
        files[CODE_FILE] = _pickle_by_value({name: (e.row, e.vectorized, e.dtype.value, [t.value for t in e.arg_types])
                                             for name, e in entries.items()})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": spec.name,
        "version": spec.version,
        "spec_fingerprint": spec.fingerprint,
        "feature_fingerprints": spec.feature_fingerprints,
        "state_fingerprint": fitted.state_fingerprint,
        "fingerprint": fitted.fingerprint,
        "output_columns": fitted.output_columns,
        "fit_info": fitted.fit_info_,
        "libraries": library_versions(),
        "environment": current_environment(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "files": {name: sha256_bytes(data) for name, data in files.items()},
        "udfs": {name: _udf_record(entries[name]) for name in udfs} if udfs else {},
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    files["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=1).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    if archive:
        return _write_archive(target, files)
    staging = Path(tempfile.mkdtemp(prefix=".fk-save-", dir=target.parent))
    for name, data in files.items():
        (staging / name).write_bytes(data)
    if target.exists():
        for old in target.iterdir():
            old.unlink()
        target.rmdir()
    staging.rename(target)
    return str(target)


def _is_archive(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return "manifest.json" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _write_archive(target: Path, files: dict[str, bytes]) -> str:
    """One zip of the files, flat and stored (uncompressed), written atomically."""
    import zipfile

    fd, tmp = tempfile.mkstemp(prefix=".fk-save-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            for name in ["manifest.json"] + sorted(n for n in files if n != "manifest.json"):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = 0o100644 << 16  # a regular file
                zf.writestr(info, files[name])
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return str(target)


def _udf_record(entry: "UDF") -> dict[str, str]:
    """What the manifest records of a UDF: its identity (in the fingerprint) and the digest of
    its bytecode (checked when ``code.pkl`` is unpickled)."""
    return {"code_sha256": entry.code_sha256, "bytecode_sha256": entry.bytecode_sha256,
            "identity_from": entry.identity_from}


def _pickle_by_value(payload: dict) -> bytes:
    """cloudpickle the UDFs *by value*, so serving does not need the module they were defined in."""
    import sys

    import cloudpickle

    modules = {fn.__module__ for row, vec, _, _ in payload.values() for fn in (row, vec) if fn is not None}
    registered = []
    for name in modules:
        module = sys.modules.get(name)
        if module is None or name == "__main__" or name.startswith(("featurekit", "numpy", "pandas")):
            continue
        cloudpickle.register_pickle_by_value(module)
        registered.append(module)
    try:
        return cloudpickle.dumps(payload)
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)

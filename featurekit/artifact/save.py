"""Save a fitted transform as an artifact directory (see :mod:`featurekit.artifact.manifest`)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from featurekit.artifact.environment import current_environment
from featurekit.artifact.golden import DEFAULT_VECTORS, record
from featurekit.artifact.manifest import (
    ARCHIVE_SUFFIX,
    BASELINE_FILE,
    CODE_FILE,
    FORMAT,
    FORMAT_VERSION,
    GOLDEN_FILE,
    library_versions,
    manifest_digest,
    used_udfs,
)
from featurekit.errors import ArtifactError
from featurekit.values import codec
from featurekit.values.hashing import sha256_hex

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform
    from featurekit.udf import UDF


def save(
    fitted: FittedTransform, path: str | os.PathLike, *, golden: int = DEFAULT_VECTORS, golden_sample: bool = True
) -> str:
    """Write ``fitted`` to the directory ``path`` atomically; returns the path.

    An existing artifact at ``path`` (its ``manifest.json`` has featurekit's ``format``, and
    it holds only the files that manifest lists) is replaced in one swap: a crash leaves the
    old or the new artifact. Any other non-empty directory, or an artifact holding anything
    else, is refused naming what is there, so nothing unrelated is deleted. ``golden`` vectors are recorded
    (:mod:`featurekit.artifact.golden`; ``golden_sample=False`` leaves training rows out).
    """
    if isinstance(golden, bool) or not isinstance(golden, int) or golden < 1:
        raise ArtifactError(
            f"save: golden must be an int >= 1 (the number of golden vectors); got {golden!r}\n"
            f"  Fix: pass golden={DEFAULT_VECTORS} (the default) or another positive count"
        )
    target = Path(path)
    archive = target.suffix == ARCHIVE_SUFFIX
    if archive:
        if target.is_dir() or (target.exists() and not _is_archive(target)):
            raise ArtifactError(
                f"save: {str(target)!r} exists and is not a featurekit archive\n  Fix: choose a new file name"
            )
    else:
        _check_replaceable(target)
    spec = fitted.spec
    files = {
        # declaration order matters (it is the default output order): never sort these keys
        "spec.json": json.dumps(spec.to_dict(), indent=1, ensure_ascii=False).encode("utf-8"),
        "state.json": codec.dumps(fitted.state_, indent=1).encode("utf-8"),
    }
    baseline = getattr(fitted, "baseline_", None)
    if baseline is not None:
        files[BASELINE_FILE] = codec.dumps(baseline, indent=1).encode("utf-8")
    files[GOLDEN_FILE] = record(fitted, golden, golden_sample)
    udfs = used_udfs(spec)
    if udfs:
        from featurekit.udf import get_udf

        entries = {name: get_udf(name) for name in udfs}
        files[CODE_FILE] = _pickle_by_value(
            {name: (e.row, e.vectorized, e.dtype.value, [t.value for t in e.arg_types]) for name, e in entries.items()}
        )
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
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": {name: sha256_hex(data) for name, data in files.items()},
        "udfs": {name: _udf_record(entries[name]) for name in udfs} if udfs else {},
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    files["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=1).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    if archive:
        return _write_archive(target, files)
    return _write_dir(target, files)


_MAX_MANIFEST_BYTES = 16 << 20
"""A larger manifest.json (a dbt ``target/`` one can be hundreds of MB) is not one of ours: not read."""


def _check_replaceable(target: Path) -> None:
    """Refuse ``target`` unless it is missing, an empty directory, or a featurekit artifact
    directory holding nothing its manifest does not list (re-saving replaces only that)."""
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise ArtifactError(
            f"save: {str(target)!r} exists and is not a directory\n"
            "  Fix: choose a new directory name, or a name ending in .fkit for an archive"
        )
    entries = sorted(p.name for p in target.iterdir())
    if not entries:
        return
    manifest = None
    path = target / "manifest.json"
    try:
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_MANIFEST_BYTES:
            manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        pass  # not ours: refused below
    ours = isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(manifest.get("files"), dict)
    if not ours or manifest is None:
        raise ArtifactError(
            f"save: {str(target)!r} is not empty and is not a featurekit artifact (it holds "
            f"{_shown(entries)}; no manifest.json with format {FORMAT!r})\n"
            "  Fix: choose an empty or new directory; featurekit replaces only its own artifacts"
        )
    listed = {"manifest.json", *manifest["files"]}
    foreign = [n for n in entries if n not in listed or (target / n).is_symlink() or not (target / n).is_file()]
    if foreign:
        raise ArtifactError(
            f"save: the artifact {str(target)!r} holds {_shown(foreign)}, which its manifest "
            "does not list as a file; re-saving would delete it\n"
            "  Fix: move it out of the artifact directory, or save to a new directory"
        )


def _shown(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _write_dir(target: Path, files: dict[str, bytes]) -> str:
    """Write the files into a staging directory beside ``target``, then swap it in.

    The swap is one ``renameat2(RENAME_EXCHANGE)`` where the OS offers it (Linux), so a crash
    leaves the old or the new artifact at ``target``; elsewhere the old artifact is renamed
    aside first and renamed back if the second rename fails. The staging directory is removed
    on failure, the replaced artifact after the swap.
    """
    staging = Path(tempfile.mkdtemp(prefix=".fk-save-", dir=target.parent))
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        old = _swap(staging, target) if target.is_dir() and any(target.iterdir()) else None
        if old is None:
            os.replace(staging, target)  # onto nothing or an empty directory
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # only ever our new files: the swap is the last step
        raise
    if old is not None:
        _remove_artifact(old)
    return str(target)


def _swap(new: Path, target: Path) -> Path:
    """Put ``new`` at ``target``; returns where the old ``target`` now is. One atomic exchange
    (Linux ``renameat2``), else two renames via a third name (undone if the second fails)."""
    if _rename_exchange(new, target):
        return new
    aside = Path(tempfile.mkdtemp(prefix=".fk-old-", dir=target.parent))
    try:
        os.replace(target, aside)  # onto the empty directory just made
    except BaseException:
        aside.rmdir()
        raise
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(aside, target)
        raise
    return aside


def _rename_exchange(a: Path, b: Path) -> bool:
    """True when the OS swapped ``a`` and ``b`` in one step; False when it cannot."""
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # the file system or kernel lacks it
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_artifact(path: Path) -> None:
    """Delete a replaced artifact: the regular files ``_check_replaceable`` allowed, then the folder."""
    for p in path.iterdir():
        if p.is_symlink() or not p.is_file():
            raise ArtifactError(
                f"save: {str(p)!r} appeared in the replaced artifact while saving; it was kept "
                f"in {str(path)!r} (the new artifact is in place)\n  Fix: move it out and "
                "delete that folder"
            )
        p.unlink()
    path.rmdir()


def _is_archive(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("manifest.json")
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > _MAX_MANIFEST_BYTES:
                return False  # save writes stored entries only; never inflate a foreign one
            manifest = json.loads(zf.read(info).decode("utf-8"))
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


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


def _udf_record(entry: UDF) -> dict[str, str]:
    """What the manifest records of a UDF: its identity (in the fingerprint) and the digest of
    its bytecode (checked when ``code.pkl`` is unpickled)."""
    return {
        "code_sha256": entry.code_sha256,
        "bytecode_sha256": entry.bytecode_sha256,
        "identity_from": entry.identity_from,
    }


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

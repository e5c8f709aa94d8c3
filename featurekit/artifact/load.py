"""Load an artifact: verify every hash before parsing anything, then rebuild the transform.

Refused with :class:`~featurekit.errors.ArtifactError` naming the file: a missing, extra,
renamed, symlinked or altered file; a manifest whose own hash does not match; an unknown
format version or another featurekit major version; a spec or state that does not match
the recorded fingerprints; and a failed ``expect=`` pin. Loading imports neither numpy nor
pandas, and never unpickles anything unless the caller trusts the artifact's custom code.
``verify=True`` also replays the golden vectors (:mod:`featurekit.artifact.verify`).

A ``.fkit`` archive (a zip; any existing regular file is read as one) is checked from its
central directory before any entry's data is read: an entry with a path (``../x``, an absolute
name, a folder), a duplicate or unknown name, a link or a special file, a compressed or
encrypted entry, or declared sizes over :data:`MAX_ARCHIVE_BYTES` together is refused naming
the entry; then the same rules as for a directory apply.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featurekit.artifact.golden import GoldenVectors
from featurekit.artifact.manifest import (
    ARCHIVE_SUFFIX,
    BASELINE_FILE,
    CODE_FILE,
    FILES,
    FORMAT,
    FORMAT_VERSION,
    GOLDEN_FILE,
    manifest_digest,
)
from featurekit.artifact.verify import VerifyReport, verify_fitted
from featurekit.errors import ArtifactError, SpecError, UntrustedCodeError
from featurekit.values import codec
from featurekit.values.hashing import sha256_hex

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform


def _fail(path: Path, what: str, fix: str) -> ArtifactError:
    return ArtifactError(f"load {str(path)!r}: {what}\n  Fix: {fix}", path=str(path))


MAX_ENTRY_BYTES = 1 << 30
MAX_ARCHIVE_BYTES = 1 << 30
"""The cap on all of a ``.fkit`` archive's entries together (declared sizes, checked unread)."""
ARCHIVE_NAMES = frozenset({"manifest.json", *FILES, BASELINE_FILE, GOLDEN_FILE, CODE_FILE})


def _read_archive(root: Path) -> dict[str, bytes]:
    """The entries of a ``.fkit`` zip. Every entry's name, type, compression and declared size
    is checked from the central directory before any entry's data is read."""
    import zipfile

    if root.stat().st_size > MAX_ARCHIVE_BYTES + (1 << 20):
        raise _fail(
            root,
            f"the archive is too large ({root.stat().st_size} bytes; the cap is {MAX_ARCHIVE_BYTES} bytes)",
            "pass the file written by fitted.save()",
        )
    try:
        zf = zipfile.ZipFile(root)
    except (OSError, zipfile.BadZipFile) as exc:
        raise _fail(root, f"not a readable .fkit archive ({exc})", "pass the file written by fitted.save()") from None
    with zf:
        infos = zf.infolist()
        _check_entries(root, infos)
        out: dict[str, bytes] = {}
        for info in infos:
            try:
                out[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise _fail(
                    root,
                    f"archive entry {info.filename!r} cannot be read ({exc})",
                    "restore the artifact from its source or re-save it",
                ) from None
    return out


def _check_entries(root: Path, infos: list) -> None:
    """Refuse anything but flat, stored (uncompressed), unencrypted regular files with the
    artifact's names, at most once each, within :data:`MAX_ARCHIVE_BYTES` together."""
    import stat
    import zipfile

    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if (
            not name
            or "/" in name
            or "\\" in name
            or name in (".", "..")
            or ":" in name
            or name.startswith("~")
            or info.is_dir()
        ):
            raise _fail(
                root,
                f"archive entry {name!r} has a path (folders, '..' and absolute names are refused)",
                "re-save the artifact; an archive holds flat files only",
            )
        if name in seen:
            raise _fail(
                root,
                f"archive entry {name!r} appears more than once",
                "re-save the artifact; duplicate entries are refused",
            )
        seen.add(name)
        if name not in ARCHIVE_NAMES:
            raise _fail(
                root,
                f"archive entry {name!r} is an unexpected file",
                f"remove it; an archive holds only {', '.join(sorted(ARCHIVE_NAMES))}",
            )
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the writer recorded no file type
        if kind and kind != stat.S_IFREG:
            raise _fail(
                root,
                f"archive entry {name!r} is a link or special file",
                "re-save the artifact; an archive holds regular files only",
            )
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            how = "encrypted" if info.flag_bits & 0x1 else f"compressed (zip method {info.compress_type})"
            raise _fail(
                root,
                f"archive entry {name!r} is {how}; featurekit reads stored (uncompressed) entries only",
                "re-save the artifact with fitted.save(); do not re-zip it",
            )
        if info.compress_size != info.file_size:
            raise _fail(
                root,
                f"archive entry {name!r} declares {info.file_size} bytes but stores {info.compress_size}",
                "restore the artifact from its source or re-save it",
            )
        total += info.file_size
        if total > MAX_ARCHIVE_BYTES:
            raise _fail(
                root,
                f"archive entry {name!r} takes the entries over the {MAX_ARCHIVE_BYTES}-byte cap "
                f"({total} bytes so far)",
                "re-save the artifact",
            )


def _read_dir(root: Path) -> dict[str, bytes | None]:
    """Name -> bytes of the regular files in an artifact directory; None for anything else."""
    out: dict[str, bytes | None] = {}
    for p in root.iterdir():
        out[p.name] = None if (p.is_symlink() or not p.is_file()) else b""
    return out


class _Source:
    """An artifact's files, from a directory (read lazily) or an archive (read up front)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.archive = root.is_file() or (root.suffix == ARCHIVE_SUFFIX and not root.is_dir())
        if self.archive:
            if not root.exists():
                raise _fail(root, "no such artifact archive", "pass the file written by fitted.save()")
            self.entries: dict[str, bytes | None] = dict(_read_archive(root))
        elif not root.is_dir():
            raise _fail(root, "no such artifact directory", "pass the directory written by fitted.save()")
        else:
            self.entries = _read_dir(root)

    def names(self) -> set[str]:
        return set(self.entries)

    def read(self, name: str) -> bytes | None:
        """The file's bytes; None when missing or not a regular file."""
        if name not in self.entries or self.entries[name] is None:
            return None
        if self.archive:
            return self.entries[name]
        path = self.root / name
        if path.stat().st_size > MAX_ENTRY_BYTES:  # same cap as archives: never read a huge file into memory
            raise _fail(self.root, f"{name} is too large ({path.stat().st_size} bytes)", "re-save the artifact")
        return path.read_bytes()


def _read_manifest(root: Path, source: _Source | None = None) -> dict[str, Any]:
    source = source or _Source(root)
    data = source.read("manifest.json")
    if data is None:
        raise _fail(root, "manifest.json is missing (or is a link)", "pass the directory written by fitted.save()")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(root, f"manifest.json is not valid JSON ({exc})", "re-save the artifact") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _fail(root, "manifest.json is not a featurekit artifact manifest", "re-save the artifact")
    if manifest.get("manifest_sha256") != manifest_digest(manifest):
        raise _fail(
            root,
            "manifest.json was altered after saving (its own hash does not match)",
            "restore the artifact from its source or re-save it",
        )
    fmt = manifest.get("format_version")
    if fmt != FORMAT_VERSION:
        raise _fail(
            root,
            f"format version {fmt!r} is not supported by this featurekit (reads {FORMAT_VERSION})",
            "upgrade featurekit to a version that reads it, or re-save with this one",
        )
    from featurekit._version import __version__

    saved = str((manifest.get("libraries") or {}).get("featurekit", "?"))
    if saved.split(".")[0] != __version__.split(".")[0]:
        raise _fail(
            root,
            f"saved by featurekit {saved}; this is featurekit {__version__} (another major version)",
            f"load it with featurekit {saved.split('.')[0]}.x or refit and re-save",
        )
    return manifest


def _verified_files(root: Path, manifest: dict[str, Any], source: _Source | None = None) -> dict[str, bytes]:
    source = source or _Source(root)
    listed = manifest.get("files")
    expected = set(FILES) | ({CODE_FILE} if manifest.get("udfs") else set())
    for optional in (BASELINE_FILE, GOLDEN_FILE):  # older artifacts have none
        if isinstance(listed, dict) and optional in listed:
            expected.add(optional)
    if not isinstance(listed, dict) or set(listed) != expected:
        raise _fail(
            root,
            f"manifest lists files {sorted(listed) if isinstance(listed, dict) else listed!r}; "
            f"expected {sorted(expected)}",
            "re-save the artifact",
        )
    extra = sorted(source.names() - expected - {"manifest.json"})
    if extra:
        raise _fail(
            root,
            f"unexpected file(s) {extra} in the artifact",
            f"remove them; an artifact holds only manifest.json and {', '.join(sorted(expected))}",
        )
    out = {}
    for name in sorted(expected):
        data = source.read(name)
        if data is None:
            raise _fail(root, f"{name} is missing (or is a link)", "restore the artifact or re-save it")
        if sha256_hex(data) != listed[name]:
            raise _fail(
                root,
                f"{name} was altered after saving (SHA-256 mismatch)",
                "restore the artifact from its source or re-save it",
            )
        out[name] = data
    return out


def load(
    path: str | os.PathLike, *, expect: str | None = None, trust_code: bool = False, verify: bool = False
) -> FittedTransform:
    """Load a saved :class:`FittedTransform`, checking every hash first.

    ``expect=fitted.pin`` (``"name@version#fingerprint"``) refuses an artifact whose spec or
    fitted state is not the one the model was trained with; ``"name@version"`` checks the
    spec's declared identity only (see :func:`check_pin`). ``trust_code=True``
    lets custom Python functions stored in the artifact be unpickled (see
    :mod:`featurekit.udf`). ``verify=True`` replays the golden vectors through the row path
    and raises :class:`~featurekit.errors.VerificationError` naming the first differing cell
    and both environments when this host computes any bit differently (a few ms).
    """
    from featurekit.spec.load_yaml import spec_from_dict
    from featurekit.transform import FittedTransform

    root = Path(path)
    source = _Source(root)
    manifest = _read_manifest(root, source)
    files = _verified_files(root, manifest, source)
    _provide_udfs(root, manifest, files, trust_code)
    try:
        spec_data = json.loads(files["spec.json"].decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # was reported as "state.json is not valid"
        raise _fail(root, f"spec.json is not valid JSON ({exc})", "re-save the artifact") from None
    try:
        spec = spec_from_dict(spec_data, path=str(root / "spec.json"))
        state = codec.loads(files["state.json"].decode("utf-8"))
    except SpecError as exc:
        raise _fail(root, f"spec.json does not validate: {exc}", "re-save the artifact") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _fail(root, f"state.json is not valid strict JSON ({exc})", "re-save the artifact") from None
    if spec.fingerprint != manifest.get("spec_fingerprint"):
        raise _fail(
            root,
            "spec.json does not match the fingerprint in the manifest",
            "the artifact was produced by an incompatible featurekit; refit and re-save",
        )
    if not isinstance(state, dict):
        raise _fail(root, "state.json must hold an object", "re-save the artifact")
    from featurekit.ir.analysis import analyzed_keys

    missing = sorted(analyzed_keys(spec) - set(state))
    if missing:
        raise _fail(root, f"state.json lacks fitted state for {len(missing)} op(s)", "refit and re-save")
    from featurekit.state_schema import validate_state

    try:
        validate_state(spec, state)  # each op's declared schema: an edited, re-hashed state is refused
    except ArtifactError as exc:
        raise _fail(
            root,
            f"state.json does not match the ops' state schemas: {exc.message.splitlines()[0]}",
            "restore the artifact from its source, or refit and re-save",
        ) from None
    fitted = FittedTransform(spec, state, fit_info=manifest.get("fit_info") or {})
    if fitted.fingerprint != manifest.get("fingerprint"):
        raise _fail(root, "the loaded transform's fingerprint differs from the manifest", "refit and re-save")
    if BASELINE_FILE in files:
        try:
            fitted.baseline_ = codec.loads(files[BASELINE_FILE].decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise _fail(root, f"{BASELINE_FILE} is not valid strict JSON ({exc})", "re-save the artifact") from None
    if GOLDEN_FILE in files:
        fitted.golden_ = GoldenVectors(files[GOLDEN_FILE], str(root), manifest.get("environment"))
    if expect is not None:
        check_pin(fitted, expect, root)
    if verify:
        verify_fitted(fitted, str(root)).raise_for_differences()
    return fitted


def verify(path: str | os.PathLike, *, trust_code: bool = False) -> VerifyReport:
    """Load the artifact at ``path`` (hashes checked) and replay its golden vectors here.

    Raises :class:`~featurekit.errors.ArtifactError` for an artifact that does not load or
    has no golden vectors; differences are in the report (``report.ok``).
    """
    return verify_fitted(load(path, trust_code=trust_code), os.fspath(path))


def _udf_records(root: Path, manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The manifest's ``udfs``: name -> ``{"code_sha256", "bytecode_sha256"?}`` (older artifacts
    recorded the identity alone, as a string)."""
    udfs = manifest.get("udfs") or {}
    if not isinstance(udfs, dict):
        raise _fail(root, "manifest.json 'udfs' is not an object", "re-save the artifact")
    out = {}
    for name, rec in udfs.items():
        rec = {"code_sha256": rec} if isinstance(rec, str) else rec
        if not isinstance(rec, dict) or not isinstance(rec.get("code_sha256"), str):
            raise _fail(
                root, f"manifest.json records no code identity for custom function {name!r}", "re-save the artifact"
            )
        out[name] = rec
    return out


def _provide_udfs(root: Path, manifest: dict[str, Any], files: dict[str, bytes], trust_code: bool) -> None:
    """Make the artifact's UDFs available under the identities recorded at save.

    A function registered in this process with the recorded identity is used as is (nothing
    is unpickled); a different function registered under a recorded name is refused, trusted
    or not; the others are unpickled from ``code.pkl`` only with ``trust_code=True``, checked
    against the recorded bytecode digest, and registered under the recorded identity.
    """
    from featurekit.udf import registered

    wanted = _udf_records(root, manifest)
    present = registered()
    clashes = sorted(n for n, rec in wanted.items() if n in present and present[n].code_sha256 != rec["code_sha256"])
    if clashes:
        shown = "; ".join(
            f"{n!r}: registered here {present[n].code_sha256[:12]} (from its "
            f"{present[n].identity_from}), recorded {wanted[n]['code_sha256'][:12]}"
            for n in clashes
        )
        raise ArtifactError(
            f"load {str(root)!r}: this process registered a different custom Python function under the name(s) "
            f"{clashes} than the artifact was saved with ({shown}); serving with it would compute other "
            "features\n  Fix: register the function(s) the artifact was saved with (the same source, "
            "decorators aside), or refit and re-save with the new code",
            path=str(root),
            udfs=clashes,
        )
    missing = sorted(n for n in wanted if n not in present)
    if not missing:
        return
    if not trust_code:
        raise UntrustedCodeError(
            f"load {str(root)!r}: the spec calls custom Python function(s) {missing} whose code is stored in "
            f"{CODE_FILE}; loading it would run code from the artifact\n  Fix: register the same functions in "
            "this process before loading (featurekit.register_udf), or pass trust_code=True if you trust "
            "where this artifact came from",
            path=str(root),
            udfs=missing,
        )
    _register_unpickled(root, wanted, missing, files[CODE_FILE])


def _register_unpickled(root: Path, wanted: dict[str, dict[str, str]], missing: list[str], data: bytes) -> None:
    """Unpickle ``code.pkl`` (the caller trusts it) and register the ``missing`` functions."""
    import platform

    import cloudpickle

    from featurekit.udf import bytecode_digest, register_loaded

    try:
        payload = cloudpickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the code cannot run here
        raise _fail(
            root,
            f"{CODE_FILE} cannot be unpickled by Python {platform.python_version()} ({type(exc).__name__}: {exc})",
            "load it with the Python minor version that saved it, or "
            "register the same functions in this process before loading",
        ) from None
    for name in missing:
        entry = payload.get(name) if isinstance(payload, dict) else None
        if not (isinstance(entry, tuple) and len(entry) == 4 and callable(entry[0])):
            raise _fail(root, f"{CODE_FILE} holds no function for {name!r}", "re-save the artifact")
        row, vectorized, dtype, args = entry
        recorded = wanted[name].get("bytecode_sha256")
        if recorded is not None and bytecode_digest(row, vectorized) != recorded:
            raise _fail(
                root,
                f"the function {name!r} in {CODE_FILE} is not the code recorded in the manifest "
                "(bytecode digest differs)",
                "restore the artifact from its source or re-save it",
            )
        register_loaded(name, row, dtype=dtype, args=args, vectorized=vectorized, identity=wanted[name]["code_sha256"])


MIN_PIN_PREFIX = 12
"""Fewest hex characters of a fingerprint a pin may give (48 bits; the full fingerprint has 64)."""


def check_pin(fitted: FittedTransform, expect: str, where: Any = "<transform>") -> None:
    """Refuse ``fitted`` unless it matches the pin ``expect``.

    ``name@version#fingerprint`` (``fitted.pin``) pins the exact spec and fitted state;
    ``#fingerprint`` alone does too, with at least :data:`MIN_PIN_PREFIX` hex characters.
    ``name@version`` (or ``name``) pins only the spec's declared identity: any fitted state,
    or logic edited without a version bump, passes.

    >>> import featurekit as fk
    >>> fitted = fk.spec_from_yaml('''
    ... featurekit: 1
    ... name: demo
    ... version: 1.0.0
    ... inputs: {x: {type: float}}
    ... features: {x2: x * 2.0}
    ... ''').fit([{"x": 1.0}])
    >>> check_pin(fitted, fitted.pin)  # passes
    >>> check_pin(fitted, "demo@1.0.0#ab1")
    Traceback (most recent call last):
    featurekit.errors.ArtifactError: ... at least 12 hex characters ...
    """
    name, _, rest = expect.partition("@")
    version, _, fingerprint = rest.partition("#")
    if "#" in name:
        name, _, fingerprint = name.partition("#")
    fix = (
        f"  Fix: pin the full fitted.pin, name@version#<fingerprint> (`featurekit describe ARTIFACT` "
        f"prints it; {MIN_PIN_PREFIX}+ hex characters of the fingerprint)"
    )
    if "#" in expect and (
        len(fingerprint) < MIN_PIN_PREFIX
        or len(fingerprint) > 64
        or any(c not in "0123456789abcdef" for c in fingerprint.lower())
    ):
        raise ArtifactError(
            f"load {str(where)!r}: the pin {expect!r} does not pin a fingerprint: the fingerprint "
            f"in it is {len(fingerprint)} character(s) {fingerprint!r}; at least {MIN_PIN_PREFIX} "
            f"hex characters are needed (at most 64)\n{fix}",
            path=str(where),
        )
    if not (name or version or fingerprint):
        raise ArtifactError(f"load {str(where)!r}: the pin {expect!r} names nothing\n{fix}", path=str(where))
    problems = []
    if name and name != fitted.spec.name:
        problems.append(f"name {fitted.spec.name!r} != expected {name!r}")
    if version and version != fitted.spec.version:
        problems.append(f"version {fitted.spec.version!r} != expected {version!r}")
    if fingerprint and not fitted.fingerprint.startswith(fingerprint.lower()):
        problems.append(f"fingerprint {fitted.fingerprint[:16]}... != expected {fingerprint[:16]}...")
    if problems:
        raise ArtifactError(
            f"load {str(where)!r}: this is not the expected transform: {'; '.join(problems)}\n"
            f"  Fix: deploy the artifact the model was trained with ({expect}), or retrain",
            path=str(where),
        )

"""Load an artifact: verify every hash before parsing anything, then rebuild the transform.

Refused with :class:`~featurekit.errors.ArtifactError` naming the file: a missing, extra,
renamed, symlinked or altered file; a manifest whose own hash does not match; an unknown
format version or another featurekit major version; a spec or state that does not match
the recorded fingerprints; and a failed ``expect=`` pin. Loading imports neither numpy nor
pandas, and never unpickles anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featurekit import _json
from featurekit.artifact.manifest import CODE_FILE, FILES, FORMAT, FORMAT_VERSION, manifest_digest, sha256_bytes
from featurekit.errors import ArtifactError, SpecError, UntrustedCodeError

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform


def _fail(path: Path, what: str, fix: str) -> ArtifactError:
    return ArtifactError(f"load {str(path)!r}: {what}\n  Fix: {fix}", path=str(path))


def _read_manifest(root: Path) -> dict[str, Any]:
    mpath = root / "manifest.json"
    if not root.is_dir():
        raise _fail(root, "no such artifact directory", "pass the directory written by fitted.save()")
    if mpath.is_symlink() or not mpath.is_file():
        raise _fail(root, "manifest.json is missing (or is a link)", "pass the directory written by fitted.save()")
    try:
        manifest = json.loads(mpath.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(root, f"manifest.json is not valid JSON ({exc})", "re-save the artifact") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _fail(root, "manifest.json is not a featurekit artifact manifest", "re-save the artifact")
    if manifest.get("manifest_sha256") != manifest_digest(manifest):
        raise _fail(root, "manifest.json was altered after saving (its own hash does not match)",
                    "restore the artifact from its source or re-save it")
    fmt = manifest.get("format_version")
    if fmt != FORMAT_VERSION:
        raise _fail(root, f"format version {fmt!r} is not supported by this featurekit (reads {FORMAT_VERSION})",
                    "upgrade featurekit to a version that reads it, or re-save with this one")
    from featurekit import __version__

    saved = str((manifest.get("libraries") or {}).get("featurekit", "?"))
    if saved.split(".")[0] != __version__.split(".")[0]:
        raise _fail(root, f"saved by featurekit {saved}; this is featurekit {__version__} (another major version)",
                    f"load it with featurekit {saved.split('.')[0]}.x or refit and re-save")
    return manifest


def _verified_files(root: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
    listed = manifest.get("files")
    expected = set(FILES) | ({CODE_FILE} if manifest.get("udfs") else set())
    if not isinstance(listed, dict) or set(listed) != expected:
        raise _fail(root, f"manifest lists files {sorted(listed) if isinstance(listed, dict) else listed!r}; "
                    f"expected {sorted(expected)}", "re-save the artifact")
    present = {p.name for p in root.iterdir()}
    extra = sorted(present - expected - {"manifest.json"})
    if extra:
        raise _fail(root, f"unexpected file(s) {extra} in the artifact", "remove them; an artifact holds only "
                    "manifest.json, spec.json and state.json")
    out = {}
    for name in sorted(expected):
        fpath = root / name
        if fpath.is_symlink() or not fpath.is_file():
            raise _fail(root, f"{name} is missing (or is a link)", "restore the artifact or re-save it")
        data = fpath.read_bytes()
        if sha256_bytes(data) != listed[name]:
            raise _fail(root, f"{name} was altered after saving (SHA-256 mismatch)",
                        "restore the artifact from its source or re-save it")
        out[name] = data
    return out


def load(path: str | os.PathLike, *, expect: str | None = None, trust_code: bool = False) -> "FittedTransform":
    """Load a saved :class:`FittedTransform`, checking every hash first.

    ``expect="name@version#fingerprint"`` (any part may be left out, e.g. ``"churn@1.2.0"``)
    refuses an artifact that is not the one the model was trained with. ``trust_code`` is for
    artifacts with custom Python code; this version writes none and never unpickles.
    """
    from featurekit.spec.model import spec_from_dict
    from featurekit.transform import FittedTransform

    root = Path(path)
    manifest = _read_manifest(root)
    files = _verified_files(root, manifest)
    _provide_udfs(root, manifest, files, trust_code)
    try:
        spec = spec_from_dict(json.loads(files["spec.json"].decode("utf-8")), path=str(root / "spec.json"))
        state = _json.loads(files["state.json"].decode("utf-8"))
    except SpecError as exc:
        raise _fail(root, f"spec.json does not validate: {exc}", "re-save the artifact") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(root, f"state.json is not valid strict JSON ({exc})", "re-save the artifact") from None
    if spec.fingerprint != manifest.get("spec_fingerprint"):
        raise _fail(root, "spec.json does not match the fingerprint in the manifest",
                    "the artifact was produced by an incompatible featurekit; refit and re-save")
    if not isinstance(state, dict):
        raise _fail(root, "state.json must hold an object", "re-save the artifact")
    from featurekit.ir.analysis import analyzed_keys

    missing = sorted(analyzed_keys(spec) - set(state))
    if missing:
        raise _fail(root, f"state.json lacks fitted state for {len(missing)} op(s)", "refit and re-save")
    fitted = FittedTransform(spec, state, fit_info=manifest.get("fit_info") or {})
    if fitted.fingerprint != manifest.get("fingerprint"):
        raise _fail(root, "the loaded transform's fingerprint differs from the manifest", "refit and re-save")
    if expect is not None:
        check_pin(fitted, expect, root)
    return fitted


def _provide_udfs(root: Path, manifest: dict[str, Any], files: dict[str, bytes], trust_code: bool) -> None:
    """Make the artifact's UDFs available: already registered with the same code, or unpickled
    from ``code.pkl`` when (and only when) the caller trusts it."""
    from featurekit.udf import register_udf, registered

    wanted = manifest.get("udfs") or {}
    present = registered()
    missing = sorted(n for n, h in wanted.items() if n not in present or present[n].code_sha256 != h)
    if not missing:
        return
    if not trust_code:
        raise UntrustedCodeError(
            f"load {str(root)!r}: the spec calls custom Python function(s) {missing} whose code is stored in "
            f"{CODE_FILE}; loading it would run code from the artifact\n  Fix: register the same functions in "
            "this process before loading (featurekit.register_udf), or pass trust_code=True if you trust "
            "where this artifact came from", path=str(root), udfs=missing)
    import cloudpickle

    for name, (row, vectorized, dtype, args) in cloudpickle.loads(files[CODE_FILE]).items():
        if name in missing:
            register_udf(row, dtype=dtype, args=args, name=name, vectorized=vectorized)


def check_pin(fitted: "FittedTransform", expect: str, where: Any = "<transform>") -> None:
    """Refuse ``fitted`` unless it matches ``name@version#fingerprint`` (parts optional)."""
    name, _, rest = expect.partition("@")
    version, _, fingerprint = rest.partition("#")
    if "#" in name:
        name, _, fingerprint = name.partition("#")
    problems = []
    if name and name != fitted.spec.name:
        problems.append(f"name {fitted.spec.name!r} != expected {name!r}")
    if version and version != fitted.spec.version:
        problems.append(f"version {fitted.spec.version!r} != expected {version!r}")
    if fingerprint and not fitted.fingerprint.startswith(fingerprint):
        problems.append(f"fingerprint {fitted.fingerprint[:16]}... != expected {fingerprint[:16]}...")
    if problems:
        raise ArtifactError(f"load {str(where)!r}: this is not the expected transform: {'; '.join(problems)}\n"
                            f"  Fix: deploy the artifact the model was trained with ({expect}), or retrain",
                            path=str(where))

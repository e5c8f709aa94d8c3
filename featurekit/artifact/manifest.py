"""The artifact manifest: names, versions, fingerprints and the SHA-256 of every file.

Layout of an artifact directory (format 1)::

    manifest.json   this file: format, spec name/version, fingerprints, library versions,
                    the saving host's environment (featurekit.artifact.environment),
                    creation time, {file: sha256}, and its own hash over all of that
    spec.json       the normalized spec (Spec.to_dict())
    state.json      fitted state, strict JSON (non-finite floats tagged)
    baseline.json   training baseline statistics (featurekit.baseline), strict JSON; optional:
                    artifacts saved before it existed load without it
    golden.json     golden vectors: inputs with the row path's exact outputs
                    (featurekit.artifact.golden); optional like baseline.json
    code.pkl        only if the spec calls UDFs: their functions, cloudpickled; loaded only
                    with ``trust_code=True`` (the trust decision is never read from the files)

A ``.fkit`` archive is a zip of exactly these files, stored flat (no folders), uncompressed.

The hashes detect any change after saving (they are not a signature: someone who can write
the directory can rewrite the manifest too; sign the directory if that is your threat).
"""

from __future__ import annotations

from typing import Any

from featurekit.values.hashing import canonical_json, sha256_hex

FORMAT = "featurekit-artifact"
FORMAT_VERSION = 1
FILES = ("spec.json", "state.json")
BASELINE_FILE = "baseline.json"
"""Optional: listed (and then required and hashed) only when the transform has a baseline."""
GOLDEN_FILE = "golden.json"
"""Optional like the baseline: artifacts saved before golden vectors existed load without it."""
ARCHIVE_SUFFIX = ".fkit"
"""``save``/``load`` of a path ending in this write/read one zip archive holding the same files."""
CODE_FILE = "code.pkl"
"""Only present when the spec calls custom Python functions (UDFs); unpickled only with trust."""


def manifest_digest(manifest: dict[str, Any]) -> str:
    """Hash of the manifest's content without its own ``manifest_sha256`` field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return sha256_hex(canonical_json(body))


def library_versions() -> dict[str, str]:
    """Versions recorded at save time (numpy/pandas only if already imported by fitting)."""
    import platform
    import sys

    from featurekit._version import __version__

    out = {"featurekit": __version__, "python": platform.python_version()}
    for name in ("numpy", "pandas", "pyarrow"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = getattr(module, "__version__", "unknown")
    return out


def used_udfs(spec: Any) -> list[str]:
    """Names of the UDFs a spec calls, sorted."""
    from featurekit.ir.nodes import CallNode, walk

    graph = spec.graph
    names = {
        dict(n.params)["fn"]
        for n in walk([graph.features[o] for o in graph.outputs])
        if isinstance(n, CallNode) and n.op == "udf"
    }
    return sorted(names)

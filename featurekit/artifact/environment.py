"""The computing environment an artifact was saved in, and the one verifying it.

Float results can change with the CPU (numpy picks SIMD kernels by CPU feature), the C library
(``math.log1p`` is glibc's, musl's or Apple's), the Python build and featurekit's own
version. ``save`` records :func:`current_environment` in the manifest; ``featurekit verify``
prints it next to the serving host's, so a difference in the golden vectors comes with the
likely cause. Nothing here imports numpy or pandas (their versions come from package metadata).

>>> env = current_environment()
>>> sorted(env) == sorted(FIELDS)
True
"""

from __future__ import annotations

import functools
import platform
import sys
from collections.abc import Mapping
from typing import Any

FIELDS = ("python", "implementation", "platform", "machine", "libc", "cpu", "cpu_flags", "featurekit", "numpy")
"""What is recorded, in the order it is shown."""

CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl", "asimd", "sve")
"""CPU features that select different math kernels (x86 SIMD widths, ARM NEON/SVE)."""


@functools.lru_cache(maxsize=1)
def _cpu() -> tuple[str, tuple[str, ...]]:
    """(model name, relevant flags) from /proc/cpuinfo; elsewhere the processor name, no flags."""
    model, flags = platform.processor() or "unknown", None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "cpu model", "hardware") and model in ("unknown", platform.machine()):
                    model = value.strip()
                elif key in ("flags", "features") and flags is None:
                    flags = set(value.split())
    except OSError:
        return model, ()
    return model, tuple(f for f in CPU_FLAGS if flags and f in flags)


def _version_of(distribution: str) -> str:
    """The installed version, without importing the package: its ``__version__`` when already
    imported, else the name of its ``*.dist-info`` folder (``importlib.metadata`` costs ~70 ms)."""
    module = sys.modules.get(distribution)
    if module is not None and isinstance(getattr(module, "__version__", None), str):
        return module.__version__
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(distribution)
    if spec is None or not spec.origin:
        return "not installed"
    for info in sorted(Path(spec.origin).parent.parent.glob(f"{distribution}-*.dist-info")):
        return info.name[len(distribution) + 1 : -len(".dist-info")]
    return "unknown"


@functools.lru_cache(maxsize=1)
def current_environment() -> dict[str, Any]:
    """This process's environment as recorded in a manifest (computed once per process)."""
    from featurekit._version import __version__

    lib, lib_version = platform.libc_ver()
    model, flags = _cpu()
    return {
        "python": platform.python_version(),
        "implementation": f"{platform.python_implementation()} ({sys.platform})",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "libc": f"{lib} {lib_version}".strip() or "unknown",
        "cpu": model,
        "cpu_flags": list(flags),
        "featurekit": __version__,
        "numpy": _version_of("numpy"),
    }


def _show(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(value) if value else "(none of " + " ".join(CPU_FLAGS) + ")"
    return str(value)


def differing(saved: Mapping[str, Any] | None, here: Mapping[str, Any]) -> list[str]:
    """The fields that differ between two environments (none when nothing was recorded)."""
    if not saved:
        return []
    return [f for f in FIELDS if f in saved and saved[f] != here.get(f)]


def describe(env: Mapping[str, Any] | None) -> str:
    """One line: ``Python 3.12.3 CPython (linux) | Linux-... | glibc 2.39 | x86_64 ... | ...``."""
    if not env:
        return "not recorded (the artifact was saved by a featurekit without golden vectors)"
    get = lambda k: _show(env.get(k, "?"))  # noqa: E731
    return (
        f"Python {get('python')} {get('implementation')} | {get('platform')} | {get('libc')} | "
        f"{get('machine')} {get('cpu')} | cpu flags: {get('cpu_flags')} | featurekit {get('featurekit')} | "
        f"numpy {get('numpy')}"
    )

"""Every error featurekit raises on purpose.

One base class, :class:`FeaturekitError`; each leaf also inherits the matching builtin so
``except ValueError`` keeps working. Messages answer four questions: what rule was broken,
where (file:line, feature, op, input), what value was got, and how to fix it. Recurring
messages are built by classmethod constructors so every call site says the same thing.
Structured fields (``spec_path``, ``line``, ``feature``, ``op``, ``input``, ``value``) let
reports and CI use the pieces without parsing text.

>>> err = SpecError.at("feature 'x' uses an unknown op 'lgo'", path="s.yaml", line=3,
...                    feature="x", fix="use one of the registered ops", hint="did you mean 'log'?")
>>> print(err)
s.yaml:3: feature 'x' uses an unknown op 'lgo'
  Fix: use one of the registered ops
  Hint: did you mean 'log'?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class FeaturekitError(Exception):
    """Base class of every error featurekit raises on purpose."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        for key, value in fields.items():
            setattr(self, key, value)


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest of ``choices``, or None."""
    close = difflib.get_close_matches(name, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _compose(where: str | None, what: str, fix: str | None, hint: str | None) -> str:
    text = f"{where}: {what}" if where else what
    if fix:
        text += f"\n  Fix: {fix}"
    if hint:
        text += f"\n  Hint: {hint}"
    return text


class SpecError(FeaturekitError, ValueError):
    """A spec (YAML file or DSL) is malformed: raised at validation, never at transform."""

    spec_path: str | None = None
    line: int | None = None
    feature: str | None = None
    op: str | None = None

    @classmethod
    def at(
        cls,
        what: str,
        *,
        path: str | None = None,
        line: int | None = None,
        feature: str | None = None,
        op: str | None = None,
        value: Any = None,
        fix: str | None = None,
        hint: str | None = None,
    ) -> SpecError:
        """Build an error located at ``path:line`` (either may be unknown for DSL specs)."""
        where = None
        if path is not None:
            where = f"{path}:{line}" if line is not None else str(path)
        return cls(
            _compose(where, what, fix, hint), spec_path=path, line=line, feature=feature, op=op, value=value, fix=fix
        )


class ContractError(FeaturekitError, ValueError):
    """An input value violates the declared input contract (policy ``raise``)."""

    input: str | None = None
    rule: str | None = None
    value: Any = None
    rows: list[int] | None = None
    feature: str | None = None

    @classmethod
    def violation(
        cls,
        *,
        input: str,
        rule: str,
        value: Any,
        where: str,
        fix: str,
        rows: list[int] | None = None,
        count: int | None = None,
    ) -> ContractError:
        """One message shape for every contract violation, in both paths.

        ``rows``/``count`` are given by the batch path (row positions and total count).
        """
        got = f"{value!r} ({type(value).__name__})"
        if rows is not None:
            shown = ", ".join(str(r) for r in rows)
            what = f"input {input!r} violates {rule} in {count} row(s) (positions {shown}); first value {got}"
        else:
            what = f"input {input!r} = {got} violates {rule}"
        return cls(_compose(where, what, fix, None), input=input, rule=rule, value=value, rows=rows)

    @classmethod
    def timestamp_output(
        cls, *, feature: str, value: str, where: str, rows: list[int] | None = None, count: int | None = None
    ) -> ContractError:
        """A timestamp output outside years 1-9999 UTC (what a ``datetime`` holds), in both paths.

        ``value`` is the instant as ISO text; ``rows``/``count`` come from the batch path.
        """
        at = "" if rows is None else f" in {count} row(s) (positions {', '.join(str(r) for r in rows)}); first"
        what = (
            f"feature {feature!r} is a timestamp outside years 1-9999 UTC{at}: {value}, which a datetime "
            "output cannot hold"
        )
        fix = (
            "clean the input upstream (an offset such as -23:59 moves 9999-12-31 into year 10000), or output "
            "a calendar field of it (year, month...), which works for any instant"
        )
        return cls(
            _compose(where, what, fix, None),
            feature=feature,
            input=None,
            rule="timestamp output in years 1-9999 UTC",
            value=value,
            rows=rows,
        )


class ParityError(FeaturekitError):
    """A parity run that would compare nothing (no column, or one side raising on every row):
    never a pass. The message names the side and its first exception."""


class FitError(FeaturekitError, ValueError):
    """Fitting failed: e.g. the training data lacks a declared input."""


class FitWarning(UserWarning):
    """Fit succeeded, but the training data looks wrong: e.g. a high share of an input's values
    broke the contract and were replaced as declared (``fit(..., max_violation_rate=)``)."""


class ArtifactError(FeaturekitError, ValueError):
    """A saved artifact is missing, altered, from an unsupported version, or untrusted."""


class UntrustedCodeError(ArtifactError, PermissionError):
    """The artifact holds custom Python code and the caller did not trust it."""


class VerificationError(ArtifactError):
    """This host computes other features than the artifact's golden vectors recorded at save.

    Fields: ``column``, ``vector`` (index), ``recorded`` and ``here`` (the two values),
    ``differences`` (how many cells differ) and ``report`` (the full
    :class:`featurekit.artifact.verify.VerifyReport`).
    """


class NotFittedError(FeaturekitError, AttributeError):
    """A fitted-only method was called on an unfitted object."""


class FeaturekitWarning(UserWarning):
    """Base class of every warning featurekit issues; filter them with the ``warnings`` module.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FitMemoryWarning)  # e.g. silence the exact-quantile notice
    """


class FitMemoryWarning(FeaturekitWarning):
    """``fit`` held more in memory than a bounded mode would (e.g. an exact quantile over
    millions of distinct values); the message gives the memory and the ``approx=`` fix."""


class ApproximationWarning(FeaturekitWarning):
    """A bounded analyzer's result is less certain than its declared bound (a sketch reached
    its bucket cap; a bounded vocabulary is not provably the exact top k)."""

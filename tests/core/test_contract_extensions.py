"""Contract extensions (issue 16, item 7): open ``values`` and ``tz: aware | naive | any``.

Open values are known values, not a domain; ``tz`` refuses the other timestamp shape. Both paths
agree on every accepted and refused value, the loader names input and fix, specs without the
new keys keep their fingerprints, and parity generation and the skew report read the new keys.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit import dsl, parity
from featurekit.parity.generation import edge_rows, input_edge_values
from featurekit.schema import spec_schema
from featurekit.spec.model import InputSpec
from featurekit.values.equality import Equality
from featurekit.values.hashing import fingerprint

BY_VALUE = Equality(mode="value")
UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
AWARE = dt.datetime(2026, 3, 29, 3, 30, tzinfo=PLUS2)
NAIVE = dt.datetime(2026, 3, 29, 1, 30)
TIMESTAMPS = [
    AWARE,
    AWARE.astimezone(UTC),
    NAIVE,
    pd.Timestamp("2026-01-01 10:00"),
    pd.Timestamp("2026-01-01 10:00", tz="UTC"),
    "2026-10-25T01:00:00+00:00",
    "2026-10-25T01:00:00Z",
    "2026-10-25T01:00:00",
    "2026-10-25",
    "not a date",
    1767225600,
    None,
]


def text(inputs: str, features: str = "out: x") -> str:
    return f"featurekit: 1\nname: c\nversion: 1.0.0\ninputs:\n{inputs}\nfeatures:\n  {features}\n"


def make(inputs: str, features: str = "out: x", data=None):
    frame = data if data is not None else pd.DataFrame({"x": pd.Series([], dtype=object)})
    return fk.spec_from_yaml(text(inputs, features)).fit(frame)


def both(fitted, values):
    """Row-path and batch-path results (or the error class) for each value of ``x``."""
    row, batch = [], []
    frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    for i, value in enumerate(values):
        try:
            row.append(fitted.transform_row({"x": value})["out"])
        except fk.ContractError as exc:
            row.append(type(exc))
        try:
            cell = fitted.transform(frame.iloc[i : i + 1])["out"].iloc[0]
            batch.append(None if cell is pd.NA or cell is pd.NaT else cell)
        except fk.ContractError as exc:
            batch.append(type(exc))
    return row, batch


def agree(row, batch):
    assert len(row) == len(batch)
    for r, b in zip(row, batch, strict=True):
        if isinstance(r, type) or isinstance(b, type):
            assert r is b, (row, batch)
        else:
            assert BY_VALUE.same(r, b), (row, batch)


def shape(value) -> str | None:
    """``aware``/``naive`` for a timestamp-like value, None for anything else."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return "aware" if value.utcoffset() is not None else "naive"
    return None


# ------------------------------------------------------------------------------ loader


@pytest.mark.parametrize(
    "contract, words",
    [
        ("  x: {type: category, open: true}", ["input 'x'", "'open: true' needs 'values'", "Fix", "values:"]),
        ("  x: {type: str, values: [a], open: yes}", ["input 'x'", "'open' must be true or false", "Fix"]),
        ("  x: {type: float, tz: aware}", ["input 'x'", "'tz' applies to timestamp inputs", "float", "remove 'tz'"]),
        ("  x: {type: category, values: [a], tz: naive}", ["input 'x'", "'tz' applies to timestamp inputs"]),
        ("  x: {type: timestamp, tz: awar}", ["input 'x'", "'tz' must be one of any, aware, naive", "aware"]),
        ("  x: {type: timestamp, tz: true}", ["input 'x'", "'tz' must be one of"]),
        (
            "  x: {type: timestamp, tz: aware, on_violation: default, default: '2026-01-01T00:00:00'}",
            ["input 'x'", "'default'", "naive", "tz: aware refuses", "Fix"],
        ),
        (
            "  x: {type: timestamp, tz: naive, on_violation: default, default: '2026-01-01T00:00:00Z'}",
            ["input 'x'", "tz-aware", "tz: naive refuses"],
        ),
    ],
)
def test_loader_errors_name_the_input_the_rule_and_the_fix(contract, words):
    with pytest.raises(fk.SpecError) as info:
        fk.spec_from_yaml(text(contract), path="s.yaml")
    message = str(info.value)
    assert "s.yaml:5" in message, message  # the input's line
    for word in words:
        assert word in message, message


def test_a_bad_tz_word_gets_a_did_you_mean():
    with pytest.raises(fk.SpecError, match="aware"):
        fk.spec_from_yaml(text("  x: {type: timestamp, tz: awre}"))


def test_open_values_default_may_be_any_text_and_closed_default_must_be_declared():
    open_spec = fk.spec_from_yaml(
        text("  x: {type: category, values: [a], open: true, on_violation: default, default: zz}")
    )
    assert open_spec.inputs[0].default == "zz"
    with pytest.raises(fk.SpecError, match="not one of 'values'"):
        fk.spec_from_yaml(text("  x: {type: category, values: [a], on_violation: default, default: zz}"))


# ------------------------------------------------------------------------------ round trip and fingerprints


@pytest.mark.parametrize(
    "contract",
    [
        "  x: {type: category, values: [a, b], open: true}",
        "  x: {type: str, values: [a], open: false}",
        "  x: {type: timestamp, tz: aware, on_violation: null}",
        "  x: {type: timestamp, tz: naive, timezone: Europe/Berlin}",
        "  x: {type: timestamp, tz: any}",
    ],
)
def test_to_yaml_reads_back_to_an_equal_spec(contract):
    spec = fk.spec_from_yaml(text(contract))
    back = fk.spec_from_yaml(spec.to_yaml())
    assert back == spec
    assert back.inputs[0] == spec.inputs[0]
    assert back.fingerprint == spec.fingerprint


def test_to_dict_writes_the_keys_only_when_set():
    d = fk.spec_from_yaml(text("  x: {type: category, values: [a], open: false}")).inputs[0].to_dict()
    assert "open" not in d
    d = fk.spec_from_yaml(text("  x: {type: category, values: [a], open: true}")).inputs[0].to_dict()
    assert d["open"] is True
    assert "tz" not in fk.spec_from_yaml(text("  x: {type: timestamp, tz: any}")).inputs[0].to_dict()
    assert fk.spec_from_yaml(text("  x: {type: timestamp, tz: aware}")).inputs[0].to_dict()["tz"] == "aware"


def test_the_dsl_builds_the_same_spec_as_yaml():
    built = dsl.spec(
        "c",
        "1.0.0",
        inputs={
            "x": dsl.input("category", values=["a", "b"], open=True),
            "t": dsl.input("timestamp", tz="aware"),
        },
        features={"out": "x", "h": "hour(t)"},
    )
    loaded = fk.spec_from_yaml(
        text(
            "  x: {type: category, values: [a, b], open: true}\n  t: {type: timestamp, tz: aware}",
            "out: x\n  h: hour(t)",
        )
    )
    assert built == loaded
    assert built.inputs[0].open and built.inputs[1].tz == "aware"


def _old_contract_key(inp: InputSpec) -> str:
    """The contract key as computed before ``open`` and ``tz`` existed (copied from 3d207cd)."""
    from featurekit.ir.nodes import canonical_scalar

    return fingerprint(
        [
            inp.type,
            inp.nullable,
            canonical_scalar(inp.min),
            canonical_scalar(inp.max),
            list(inp.values) if inp.values is not None else None,
            inp.on_violation,
            canonical_scalar(inp.default) if not isinstance(inp.default, dict) else None,
            inp.timezone,
        ]
    )


_contracts = st.one_of(
    st.builds(
        lambda v, n: InputSpec("x", "category", nullable=n, values=tuple(v) if v else None),
        st.lists(st.text(min_size=1, max_size=3), max_size=3, unique=True),
        st.booleans(),
    ),
    st.builds(
        lambda lo, n, p: InputSpec("x", "float", nullable=n, min=lo, on_violation=p),
        st.one_of(st.none(), st.floats(-1e6, 1e6)),
        st.booleans(),
        st.sampled_from(["raise", "clip"]),
    ),
    st.builds(
        lambda z, n: InputSpec("x", "timestamp", nullable=n, timezone=z),
        st.sampled_from(["UTC", "Europe/Berlin"]),
        st.booleans(),
    ),
)


@settings(max_examples=60, deadline=None)
@given(_contracts)
def test_contracts_without_the_new_keys_keep_their_fingerprint(inp):
    assert inp.contract_key() == _old_contract_key(inp)
    if inp.type == "timestamp":
        for mode in ("aware", "naive"):
            assert InputSpec(
                "x", "timestamp", nullable=inp.nullable, timezone=inp.timezone, tz=mode
            ).contract_key() != (inp.contract_key())
    if inp.values is not None:
        opened = InputSpec("x", inp.type, nullable=inp.nullable, values=inp.values, open=True)
        assert opened.contract_key() != inp.contract_key()


def test_explicit_defaults_leave_the_spec_fingerprint_unchanged():
    plain = fk.spec_from_yaml(
        text("  x: {type: category, values: [a]}\n  t: {type: timestamp}", "out: x\n  h: hour(t)")
    )
    explicit = fk.spec_from_yaml(
        text("  x: {type: category, values: [a], open: false}\n  t: {type: timestamp, tz: any}", "out: x\n  h: hour(t)")
    )
    assert plain.fingerprint == explicit.fingerprint
    opened = fk.spec_from_yaml(
        text("  x: {type: category, values: [a], open: true}\n  t: {type: timestamp}", "out: x\n  h: hour(t)")
    )
    assert opened.fingerprint != plain.fingerprint


def test_the_json_schema_follows_the_loader():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft7Validator(spec_schema())

    def ok(contract: str) -> bool:
        import yaml

        return validator.is_valid(yaml.safe_load(text(contract)))

    assert ok("  x: {type: category, values: [a], open: true}")
    assert ok("  x: {type: timestamp, tz: aware}")
    assert not ok("  x: {type: category, open: true}")
    assert ok("  x: {type: category, open: false}")
    assert not ok("  x: {type: float, tz: aware}")
    assert not ok("  x: {type: timestamp, tz: awre}")


def test_describe_lists_open_values_and_tz():
    spec = fk.spec_from_yaml(
        text(
            "  x: {type: category, values: [a], open: true}\n  t: {type: timestamp, tz: naive}", "out: x\n  h: hour(t)"
        )
    )
    out = spec.describe()
    assert "known values (open) ['a']" in out
    assert "tz naive" in out


# ------------------------------------------------------------------------------ both paths


@pytest.mark.parametrize("policy", ["raise", "null"])
def test_open_values_accept_unseen_text_on_both_paths(policy):
    fitted = make(f"  x: {{type: category, values: [a, b], open: true, on_violation: {policy}}}")
    values = ["a", "b", "zz", "", "ß", "\ud800", 1, None]
    row, batch = both(fitted, values)
    agree(row, batch)
    refused = fk.ContractError if policy == "raise" else None
    assert row == ["a", "b", "zz", "", "ß", refused, refused, None]
    closed = make(f"  x: {{type: category, values: [a, b], on_violation: {policy}}}")
    row, batch = both(closed, values)
    agree(row, batch)
    assert row[2] == refused  # the closed list still refuses it


@pytest.mark.parametrize("mode", ["aware", "naive", "any"])
@pytest.mark.parametrize("policy", ["raise", "null", "default"])
def test_tz_modes_accept_and_refuse_the_same_values_on_both_paths(mode, policy):
    default = {"aware": "2000-01-01T00:00:00Z", "naive": "2000-01-01T00:00:00", "any": "2000-01-01"}[mode]
    extra = f", default: '{default}'" if policy == "default" else ""
    fitted = make(f"  x: {{type: timestamp, tz: {mode}, on_violation: {policy}{extra}}}")
    row, batch = both(fitted, TIMESTAMPS)
    agree(row, batch)
    refused = {"raise": fk.ContractError, "null": None, "default": dt.datetime.fromisoformat(default)}[policy]
    if refused is not None and not isinstance(refused, type) and refused.tzinfo is None:
        refused = refused.replace(tzinfo=UTC)
    for value, out in zip(TIMESTAMPS, row, strict=True):
        s = shape(value) if not isinstance(value, int) else None
        if value is None:
            assert out is None
        elif s is None:  # not a timestamp at all: refused in every mode
            assert out == refused
        elif mode == "any" or s == mode:
            assert isinstance(out, dt.datetime) and out != refused, (value, out)
        else:
            assert out == refused, (value, out)


@pytest.mark.parametrize("mode", ["aware", "naive"])
def test_typed_datetime_columns_follow_tz_like_the_row_path(mode):
    fitted = make(f"  x: {{type: timestamp, tz: {mode}, on_violation: null}}", "out: hour(x)")
    naive = pd.DataFrame({"x": pd.to_datetime(["2026-01-01 10:00", None])})
    aware = pd.DataFrame({"x": pd.to_datetime(["2026-01-01 10:00", None]).tz_localize("Europe/Berlin")})
    for frame in (naive, aware):
        batch = [None if v is pd.NA else v for v in fitted.transform(frame)["out"].tolist()]
        rows = [fitted.transform_row({"x": None if v is pd.NaT else v.to_pydatetime()})["out"] for v in frame["x"]]
        assert batch == rows
    assert fitted.transform(naive if mode == "naive" else aware)["out"].tolist()[0] == (10 if mode == "naive" else 9)
    refused = fitted.transform(aware if mode == "naive" else naive)["out"].tolist()
    assert refused == [pd.NA, pd.NA]
    strict = make(f"  x: {{type: timestamp, tz: {mode}}}", "out: hour(x)")
    with pytest.raises(fk.ContractError, match="tz: " + mode):
        strict.transform(aware if mode == "naive" else naive)


@pytest.fixture(scope="module")
def fitted_by_mode():
    return {
        mode: make(f"  x: {{type: timestamp, tz: {mode}, on_violation: null}}") for mode in ("aware", "naive", "any")
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.one_of(st.none(), st.integers(-14 * 60, 14 * 60)),
    st.booleans(),
)
def test_row_and_batch_agree_on_random_instants_in_every_mode(fitted_by_mode, naive, offset_minutes, as_text):
    value = naive if offset_minutes is None else naive.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)))
    value = value.isoformat() if as_text else value
    for mode, fitted in fitted_by_mode.items():
        row, batch = both(fitted, [value])
        agree(row, batch)
        accepted = mode == "any" or shape(value) == mode
        assert (row[0] is not None) == accepted, (mode, value, row)


@pytest.mark.parametrize(
    "contract",
    [
        "  x: {type: category, values: [a, b], open: true}",
        "  x: {type: timestamp, tz: aware}",
        "  x: {type: timestamp, tz: naive, timezone: Europe/Berlin}",
        "  x: {type: timestamp, tz: aware, on_violation: null}",
    ],
)
def test_parity_check_over_edge_rows_passes_with_the_new_contracts(contract):
    features = "out: x" if "category" in contract else "out: hour(x)"
    fitted = make(contract, features)
    frame = pd.DataFrame({"x": pd.Series([None], dtype=object)})
    report = parity.check(fitted, frame, edges=True, shrink=False)
    assert report.ok, report.to_text(color=False)
    assert report.rows > 20


# ------------------------------------------------------------------------------ generation


@pytest.mark.parametrize("mode", ["aware", "naive"])
def test_valid_only_generation_keeps_the_declared_timestamp_shape(mode):
    fitted = make(f"  x: {{type: timestamp, tz: {mode}}}")
    valid = input_edge_values(fitted, invalid=False)["x"]
    shapes = {shape(v) for v in valid if v is not None}
    assert shapes == {mode}, valid
    other = "naive" if mode == "aware" else "aware"
    everything = input_edge_values(fitted, invalid=True)["x"]
    assert other in {shape(v) for v in everything}
    for row in edge_rows(fitted, invalid=False):
        fitted.transform_row(row)  # every valid-only row is accepted (raises otherwise)
        assert row.get("x") is None or shape(row["x"]) == mode


def test_open_values_are_probed_and_unseen_text_stays_a_valid_row():
    fitted = make("  x: {type: category, values: [gold, silver], open: true}")
    valid = input_edge_values(fitted, invalid=False)["x"]
    assert {"gold", "silver", "GOLD", " gold"} <= set(valid)
    unseen = [v for v in valid if isinstance(v, str) and v not in ("gold", "silver")]
    assert len(unseen) > 10
    closed = make("  x: {type: category, values: [gold, silver]}")
    assert set(v for v in input_edge_values(closed, invalid=False)["x"] if v is not None) == {"gold", "silver"}
    rows = edge_rows(fitted, invalid=False)
    assert any(r.get("x") == "GOLD" for r in rows)
    for row in rows:
        assert fitted.transform_row(row)["out"] == row.get("x")


# ------------------------------------------------------------------------------ skew


def _served(fitted, values):
    records = []
    logger = fk.ServingLogger(records.append, sample_rate=1.0)
    for v in values:
        fitted.transform_row({"x": v}, log=logger)
    logger.close()
    return records


def test_skew_unseen_rate_of_open_values_counts_values_neither_declared_nor_trained():
    from featurekit.skew import skew_report

    train = pd.DataFrame({"x": ["a", "b", "c"] * 400})  # c: not declared, but seen in training
    fitted = make("  x: {type: category, values: [a, b, d], open: true}", data=train)
    served = ["z" if i % 4 == 0 else "abcd"[i % 4] for i in range(1200)]
    report = skew_report(fitted, _served(fitted, served))
    measure = report.columns["input:x"]["metrics"]["unseen_rate"]
    assert measure["serving"] == pytest.approx(0.25)  # only z: c was trained, d is declared
    assert measure["training"] == 0.0
    assert measure["failed"]
    finding = next(f for f in report.failing if f.metric == "unseen_rate")
    assert "known values" in finding.message and finding.remedy_kind == "monitor"
    assert report.columns["input:x"]["unseen"] == [["z", 300]]
    calm = skew_report(fitted, _served(fitted, ["abcd"[i % 4] for i in range(1200)]))
    assert not calm.columns["input:x"]["metrics"]["unseen_rate"]["failed"]
    assert calm.columns["input:x"]["metrics"]["unseen_rate"]["serving"] == 0.0


def test_closed_values_get_no_unseen_measure():
    from featurekit.skew import skew_report

    train = pd.DataFrame({"x": ["a", "b"] * 400})
    fitted = make("  x: {type: category, values: [a, b], on_violation: null}", data=train)
    report = skew_report(fitted, _served(fitted, ["a", "b", "z"] * 200))
    assert "unseen_rate" not in report.columns["input:x"]["metrics"]


def test_golden_vector_header_states_open_and_tz():
    from featurekit.artifact.export import header

    fitted = make(
        "  x: {type: category, values: [a], open: true}\n  t: {type: timestamp, tz: aware}",
        "out: x\n  h: hour(t)",
        data=pd.DataFrame({"x": ["a"], "t": [dt.datetime(2026, 1, 1, tzinfo=UTC)]}),
    )
    inputs = json.loads(json.dumps(header(fitted, 0, {})["inputs"]))
    assert inputs["x"]["open"] is True and "tz" not in inputs["x"]
    assert inputs["t"]["tz"] == "aware"

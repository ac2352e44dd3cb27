"""Plans: per-class targets from counts, apart from any method."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rebalance.errors import RebalanceError
from rebalance.plan import parse_target, plan_targets, read_plan_file

COUNTS = {"a": 1000, "b": 100, "c": 10}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("max", {"a": 1000, "b": 1000, "c": 1000}),
        ("min", {"a": 10, "b": 10, "c": 10}),
        ("median", {"a": 100, "b": 100, "c": 100}),
        ("mean", {"a": 370, "b": 370, "c": 370}),
        ("500", {"a": 500, "b": 500, "c": 500}),
        ("ratio:10", {"a": 100, "b": 100, "c": 10}),
    ],
)
def test_targets(target: str, expected: dict[str, int]) -> None:
    assert plan_targets(COUNTS, target).targets == expected


def test_ratio_modes() -> None:
    over = plan_targets(COUNTS, "ratio:10", mode="over").targets
    assert over == {"a": 1000, "b": 100, "c": 100}
    both = plan_targets(COUNTS, "ratio:10", mode="both").targets
    # the band: low = ceil(sqrt(10 * 1000) / sqrt(10)) = ceil(31.62) = 32, high = 10 * low
    assert both == {"a": 320, "b": 100, "c": 32}
    assert max(both.values()) / min(both.values()) <= 10
    assert both["b"] == 100  # inside the band, untouched


def test_sqrt_and_power_keep_the_total() -> None:
    plan = plan_targets(COUNTS, "sqrt")
    assert plan.rows_after == plan.rows_before
    shares = {k: math.sqrt(v) for k, v in COUNTS.items()}
    total = sum(shares.values())
    for k, t in plan.targets.items():
        assert abs(t - 1110 * shares[k] / total) <= 1
    assert plan_targets(COUNTS, "power:0").targets == {"a": 370, "b": 370, "c": 370}
    assert plan_targets(COUNTS, "power:1").targets == COUNTS


def test_repeat_factor() -> None:
    counts = {"head": 9_990, "tail": 10}
    plan = plan_targets(counts, "repeat-factor:0.01")
    # f_tail = 0.001 -> r = sqrt(0.01 / 0.001) = 3.162..; head f = 0.999 -> r = 1
    assert plan.targets == {"head": 9_990, "tail": round(10 * math.sqrt(10))}


def test_clamps_and_mode() -> None:
    plan = plan_targets(COUNTS, "median", min_per_class=50, max_per_class=200)
    assert plan.targets == {"a": 100, "b": 100, "c": 100}
    assert plan_targets(COUNTS, "median", mode="under").targets == {"a": 100, "b": 100, "c": 10}
    assert plan_targets(COUNTS, "max", max_per_class=300).targets == {"a": 300, "b": 300, "c": 300}
    with pytest.raises(RebalanceError, match="--min-per-class 9 is greater than --max-per-class 5"):
        plan_targets(COUNTS, "max", min_per_class=9, max_per_class=5)


def test_per_class_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"c": 40}))
    plan = plan_targets(COUNTS, "median", per_class=read_plan_file(str(path)))
    assert plan.targets["c"] == 40
    toml = tmp_path / "plan.toml"
    toml.write_text("[targets]\na = 5\n")
    assert read_plan_file(str(toml)) == {"a": 5}
    with pytest.raises(RebalanceError, match="not in the data: 'zebra'"):
        plan_targets(COUNTS, "max", per_class={"zebra": 3})
    with pytest.raises(RebalanceError, match="target of 0"):
        plan_targets(COUNTS, "max", per_class={"a": 0})


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("0", "cannot be resampled to 0 rows"),
        ("ratio:0.5", "R must be at least 1"),
        ("power:2", "Q must be between 0 and 1"),
        ("repeat-factor:0", "T must be in"),
        ("biggest", "is not a target"),
    ],
)
def test_bad_targets(target: str, message: str) -> None:
    with pytest.raises(RebalanceError, match=message):
        parse_target(target)


def test_one_class_is_refused() -> None:
    with pytest.raises(RebalanceError, match=r"only one class \('a'\)"):
        plan_targets({"a": 10}, "max")


counts_st = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3), st.integers(1, 5000), min_size=2, max_size=20
)
target_st = st.one_of(
    st.sampled_from(["max", "min", "median", "mean", "sqrt"]),
    st.integers(1, 6000).map(str),
    st.floats(1, 100).map(lambda r: f"ratio:{r:.3f}"),
    st.floats(0, 1).map(lambda q: f"power:{q:.3f}"),
    st.floats(0.0001, 1).map(lambda t: f"repeat-factor:{t:.4f}"),
)


@given(counts=counts_st, target=target_st, mode=st.sampled_from([None, "under", "over", "both"]))
def test_modes_are_respected(counts: dict[str, int], target: str, mode: str | None) -> None:
    plan = plan_targets(counts, target, mode=mode)
    assert set(plan.targets) == set(counts)
    assert all(t >= 1 for t in plan.targets.values())
    if plan.mode == "under":
        assert all(plan.targets[k] <= v for k, v in counts.items())
    if plan.mode == "over":
        assert all(plan.targets[k] >= v for k, v in counts.items())
    if target.startswith("ratio"):
        r = float(target.split(":")[1])
        assert max(plan.targets.values()) <= r * min(plan.targets.values()) + 1e-9


@given(counts=counts_st, lo=st.integers(1, 3000), width=st.integers(0, 3000), target=target_st)
def test_clamps_are_honoured(counts: dict[str, int], lo: int, width: int, target: str) -> None:
    plan = plan_targets(counts, target, min_per_class=lo, max_per_class=lo + width)
    assert all(lo <= t <= lo + width for t in plan.targets.values())


@given(counts=counts_st, q=st.floats(0, 1))
def test_power_keeps_total(counts: dict[str, int], q: float) -> None:
    plan = plan_targets(counts, f"power:{q}")
    n = sum(counts.values())
    weights = {k: v**q for k, v in counts.items()}
    exact = {k: n * w / sum(weights.values()) for k, w in weights.items()}
    raised = [k for k, e in exact.items() if e < 1 and plan.targets[k] == 1]
    # every class gets its exact share rounded down or up; only a share under one row
    # is raised to 1 (a class never disappears), and only that adds rows
    for k, t in plan.targets.items():
        assert math.floor(exact[k]) <= t <= max(1, math.ceil(exact[k]))
    if not raised:
        assert plan.rows_after == n
    else:
        assert n <= plan.rows_after <= n + len(raised)


@given(
    counts=counts_st.filter(lambda c: max(c.values()) > 10 * min(c.values())),
    r=st.floats(1, 50),
)
def test_ratio_both_meets_in_the_middle(counts: dict[str, int], r: float) -> None:
    plan = plan_targets(counts, f"ratio:{r}", mode="both")
    lo, hi = min(counts.values()), max(counts.values())
    low = math.ceil(math.sqrt(lo * hi) / math.sqrt(r))
    for k, v in counts.items():
        assert plan.targets[k] == min(max(v, low), max(low, math.floor(low * r)))

"""Class and sample weights: hand-computed cases, scikit-learn oracles, properties."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from rebalance.errors import RebalanceError
from rebalance.stats import LabelCounts
from rebalance.weights import (
    SCHEMES,
    class_order,
    class_weights,
    log_priors,
    parse_clip,
    sample_weights,
    weights_from_counts,
    with_sample_weights,
)

SKEWED = {"common": 800, "rare": 1}


def test_800_to_1_by_hand() -> None:
    balanced = class_weights(SKEWED, scheme="balanced").weights
    assert balanced == pytest.approx({"common": 801 / 1600, "rare": 400.5})
    inverse = class_weights(SKEWED, scheme="inverse").weights  # mean-normalized
    assert inverse == pytest.approx({"common": 0.0024968789013732834, "rare": 1.9975031210986267})
    effective = class_weights(SKEWED, scheme="effective", beta=0.999).weights
    assert effective == pytest.approx({"common": 0.0036241676441427628, "rare": 1.9963758323558571})
    median = class_weights(SKEWED, scheme="median").weights  # median share 0.5
    assert median == pytest.approx({"common": 0.5 / (800 / 801), "rare": 0.5 / (1 / 801)})


def test_balanced_equals_sklearn_compute_class_weight() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c", "d"], size=500, p=[0.7, 0.2, 0.07, 0.03])
    classes = np.unique(y)
    expected = compute_class_weight("balanced", classes=classes, y=y)
    counts = {str(c): int((y == c).sum()) for c in classes}
    got = class_weights(counts).vector()
    assert got == pytest.approx(list(expected), rel=1e-15)


def test_sample_weights_equal_sklearn_compute_sample_weight() -> None:
    rng = np.random.default_rng(1)
    y = [str(v) for v in rng.choice(["x", "y", "z"], size=300, p=[0.8, 0.15, 0.05])]
    table = pa.table({"label": y, "f": list(range(300))})
    out, result, split = with_sample_weights(table)
    assert split is None
    expected = compute_sample_weight("balanced", np.array(y))
    assert out.column("weight").to_pylist() == pytest.approx(list(expected), rel=1e-15)
    assert sum(out.column("weight").to_pylist()) == pytest.approx(300)
    assert out.column_names == ["label", "f", "weight"]


def test_enet_and_inverse_sqrt_formulas() -> None:
    counts = {"a": 90, "b": 10}
    enet = class_weights(counts, scheme="enet", c=1.02).weights
    assert enet == pytest.approx({"a": 1 / math.log(1.02 + 0.9), "b": 1 / math.log(1.02 + 0.1)})
    sqrt = class_weights(counts, scheme="inverse-sqrt", normalize="none").weights
    assert sqrt == pytest.approx({"a": 1 / math.sqrt(90), "b": 1 / math.sqrt(10)})


def test_normalizations() -> None:
    counts = {"a": 60, "b": 30, "c": 10}
    for how, check in [
        ("mean", lambda w: sum(w.values()) == pytest.approx(3)),
        ("sum", lambda w: sum(w.values()) == pytest.approx(1)),
        ("n-samples", lambda w: sum(counts[k] * v for k, v in w.items()) == pytest.approx(100)),
    ]:
        assert check(class_weights(counts, scheme="inverse", normalize=how).weights), how


def test_clip_then_renormalize_and_overrides() -> None:
    counts = {"a": 1000, "b": 10, "c": 1}
    clipped = class_weights(counts, scheme="inverse", normalize="mean", clip=(0.1, 1.5)).weights
    assert min(clipped.values()) >= 0.1 and max(clipped.values()) <= 1.5
    renormed = class_weights(
        counts, scheme="inverse", normalize="mean", clip=(0.1, 1.5), renormalize=True
    ).weights
    assert sum(renormed.values()) == pytest.approx(3)
    over = class_weights(counts, overrides={"c": 7.0}).weights
    assert over["c"] == 7.0
    with pytest.raises(RebalanceError, match="not in the data: 'zz'"):
        class_weights(counts, overrides={"zz": 1.0})


def test_class_order_numeric_when_all_integers() -> None:
    assert class_order(["10", "2", "1"]) == ["1", "2", "10"]
    assert class_order(["10", "2", "b"]) == ["10", "2", "b"]
    assert class_order(["01", "1", "0"]) == ["0", "01", "1"]


def test_explicit_classes_and_missing_weight() -> None:
    got = class_weights({"a": 5, "b": 5}, classes=["b", "a", "ghost"], missing_weight=0.0)
    assert got.classes == ["b", "a", "ghost"] and got.weights["ghost"] == 0.0
    # a weight other than the default is the one written, and leaves the others alone
    given = class_weights({"a": 5, "b": 15}, classes=["b", "a", "ghost"], missing_weight=2.5)
    assert given.weights == {"b": pytest.approx(20 / 30), "a": pytest.approx(2.0), "ghost": 2.5}
    assert given.vector() == pytest.approx([20 / 30, 2.0, 2.5])
    with pytest.raises(RebalanceError, match="no rows in the data: 'ghost'"):
        class_weights({"a": 5, "b": 5}, classes=["a", "b", "ghost"])
    with pytest.raises(RebalanceError, match="not in --classes: 'b'"):
        class_weights({"a": 5, "b": 5}, classes=["a"])


def test_log_priors() -> None:
    got = class_weights({"a": 75, "b": 25})
    assert log_priors(got, tau=2.0) == pytest.approx([2 * math.log(0.75), 2 * math.log(0.25)])


def test_bad_parameters() -> None:
    for beta in (-0.1, 1.0, 1.5):
        with pytest.raises(RebalanceError, match=r"--beta must be in \[0, 1\)"):
            class_weights(SKEWED, scheme="effective", beta=beta)
    with pytest.raises(RebalanceError, match="MIN 5 is greater than MAX 1"):
        parse_clip("5:1")
    with pytest.raises(RebalanceError, match="unknown weighting scheme 'focal'"):
        class_weights(SKEWED, scheme="focal")


def test_split_aware_counts_use_train_and_flag_empty_classes() -> None:
    counts = LabelCounts(
        counts={"a": 12, "b": 3},
        by_split={"train": {"a": 10, "b": 2}, "test": {"a": 2, "b": 1}},
    )
    result, chosen = weights_from_counts(counts)
    assert chosen == "train" and result.counts == {"a": 10, "b": 2}
    missing = LabelCounts(counts={"a": 12, "b": 3}, by_split={"train": {"a": 10}, "test": {"b": 3}})
    with pytest.raises(RebalanceError, match="zero rows in split 'train': 'b'"):
        weights_from_counts(missing)
    with pytest.raises(RebalanceError, match="no split 'dev'"):
        weights_from_counts(counts, from_split="dev")


def test_sample_weights_null_for_missing_labels() -> None:
    table = pa.table({"label": ["a", "", "b", None]})
    result = class_weights({"a": 1, "b": 1})
    assert sample_weights(table, "label", result).column("weight").to_pylist() == [
        1.0,
        None,
        1.0,
        None,
    ]


counts_strategy = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.integers(1, 10_000),
    min_size=2,
    max_size=12,
)


@given(counts=counts_strategy, scheme=st.sampled_from(SCHEMES), beta=st.floats(0.0, 0.9999))
def test_weights_positive_finite_monotone(counts: dict[str, int], scheme: str, beta: float) -> None:
    result = class_weights(counts, scheme=scheme, beta=beta)
    w = result.weights
    assert all(math.isfinite(v) and v > 0 for v in w.values())
    ordered = sorted(counts, key=lambda k: counts[k])
    for small, large in zip(ordered, ordered[1:], strict=False):
        assert w[small] >= w[large] * (1 - 1e-12)


@given(
    counts=counts_strategy,
    scheme=st.sampled_from(SCHEMES),
    how=st.sampled_from(["mean", "sum", "n-samples"]),
)
def test_normalization_is_honoured(counts: dict[str, int], scheme: str, how: str) -> None:
    w = class_weights(counts, scheme=scheme, normalize=how).weights
    if how == "mean":
        assert sum(w.values()) == pytest.approx(len(counts))
    elif how == "sum":
        assert sum(w.values()) == pytest.approx(1.0)
    else:
        assert sum(counts[k] * v for k, v in w.items()) == pytest.approx(sum(counts.values()))


@given(counts=counts_strategy)
def test_independent_formulas(counts: dict[str, int]) -> None:
    n, k = sum(counts.values()), len(counts)
    raw = {
        "balanced": {c: n / (k * m) for c, m in counts.items()},
        "inverse": {c: 1 / m for c, m in counts.items()},
        "inverse-sqrt": {c: m**-0.5 for c, m in counts.items()},
        "effective": {c: (1 - 0.99) / (1 - 0.99**m) for c, m in counts.items()},
        "median": {
            c: float(np.median([x / n for x in counts.values()])) / (m / n)
            for c, m in counts.items()
        },
        "enet": {c: 1 / math.log(1.02 + m / n) for c, m in counts.items()},
    }
    for scheme, expected in raw.items():
        got = class_weights(counts, scheme=scheme, beta=0.99, normalize="none").weights
        assert got == pytest.approx(expected, rel=1e-9), scheme

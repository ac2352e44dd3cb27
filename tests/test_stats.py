"""Counting and imbalance measures, against hand-computed values and a plain Counter."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rebalance.errors import RebalanceError
from rebalance.stats import count_labels, describe, gini, inspect, split_drift


def test_describe_hand_computed() -> None:
    d = describe({"a": 800, "b": 1}, min_count=10)
    assert d.imbalance_ratio == 800.0
    assert (d.majority, d.minority) == ("a", "b")
    assert d.median_count == 400.5
    p = [800 / 801, 1 / 801]
    h = -sum(x * math.log(x) for x in p)
    assert d.entropy == pytest.approx(h / math.log(2))
    assert d.effective_classes == pytest.approx(math.exp(h))
    assert d.gini == pytest.approx(abs(800 - 1) * 2 / (2 * 2 * 2 * 400.5))
    assert d.singletons == ["b"] and d.small_classes == ["b"]


def test_balanced_counts_are_perfectly_balanced() -> None:
    d = describe({"x": 5, "y": 5, "z": 5})
    assert d.imbalance_ratio == 1.0
    assert d.entropy == pytest.approx(1.0)
    assert d.effective_classes == pytest.approx(3.0)
    assert d.gini == pytest.approx(0.0)


def test_counts_sorted_by_count_then_label() -> None:
    assert list(describe({"b": 2, "a": 2, "c": 9}).counts) == ["c", "a", "b"]


def test_gini_matches_mean_absolute_difference_definition() -> None:
    values = [1, 3, 7, 20, 100]
    n, mean = len(values), sum(values) / len(values)
    expected = sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)
    assert gini({str(i): v for i, v in enumerate(values)}) == pytest.approx(expected)


def test_split_drift_flags_absent_classes_and_largest_shift() -> None:
    train = describe({"a": 90, "b": 10})
    test = describe({"a": 50, "c": 50})
    drift = split_drift({"train": train, "test": test})
    assert drift.absent == {"test": ["b"], "train": ["c"]}
    assert drift.max_shift_label in ("c",)
    assert drift.max_share_shift == pytest.approx(0.5)


def test_inspect_with_split_column(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest(
        {"a": 20, "b": 4}, split=lambda i, label: "test" if i % 4 == 0 else "train"
    )
    report = inspect(path)
    assert report.split_col == "split"
    assert report.splits is not None
    assert sum(d.rows for d in report.splits.values()) == 24
    assert report.to_dict()["splits"]["train"]["counts"] == report.splits["train"].counts


def test_missing_labels_counted_dropped_or_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("label,x\na,1\n,2\nb,3\na,4\n")
    report = inspect(path)
    assert report.overall.missing_labels == 1 and report.first_missing_row == 2
    assert report.overall.counts == {"a": 2, "b": 1}
    assert inspect(path, missing="drop").overall.missing_labels == 0
    with pytest.raises(RebalanceError, match=r"1 row\(s\) have no label .*data row 2"):
        inspect(path, missing="error")


def test_parquet_null_and_integer_labels(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"target": pa.array([1, 1, 2, None], pa.int64())}), path)
    counts, label, split = count_labels(path)
    assert (label, split) == ("target", None)
    assert counts.counts == {"1": 2, "2": 1} and counts.missing == 1


label_text = st.one_of(
    st.text(min_size=1, max_size=8),
    st.sampled_from(["01", "1", "1.0", " a", "a ", "NaN", "null", "é", "日本", "a,b", 'q"t']),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    labels=st.lists(label_text, min_size=1, max_size=60),
    fmt=st.sampled_from(["csv", "tsv", "parquet"]),
)
def test_counts_equal_a_plain_counter(tmp_path: Path, labels: list[str], fmt: str) -> None:
    labels = [s.replace("\x00", "") or "x" for s in labels]
    path = tmp_path / f"m.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.table({"label": labels}), path)
    else:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter="\t" if fmt == "tsv" else ",")
            writer.writerow(["label"])
            writer.writerows([label] for label in labels)
    counts, _, _ = count_labels(path)
    assert counts.counts == dict(Counter(labels))
    assert counts.missing == 0


def test_jsonl_streams_and_survives_a_type_change(tmp_path: Path) -> None:
    import rebalance.manifest.text as manifest

    path = tmp_path / "m.jsonl"
    lines = [f'{{"label": {i % 3}, "x": {i}}}' for i in range(3000)] + [
        '{"label": "01", "x": 1}'
    ] * 5
    path.write_text("\n".join(lines) + "\n")
    original = manifest._STREAM_BLOCK
    manifest._STREAM_BLOCK = (
        4096  # many small blocks: the type change comes after some were counted
    )
    try:
        counts, _, _ = count_labels(path)
    finally:
        manifest._STREAM_BLOCK = original
    assert counts.counts == {"0": 1000, "1": 1000, "2": 1000, "01": 5}


def test_parquet_split_counts_with_dictionary_columns(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    labels = ["a", "b", "a", "c", "", "a"]
    splits = ["train", "train", "val", "val", "train", "train"]
    pq.write_table(pa.table({"label": labels, "split": splits}), path)
    report = inspect(path)
    assert report.splits is not None
    assert report.splits["train"].counts == {"a": 2, "b": 1}
    assert report.splits["train"].missing_labels == 1
    assert report.splits["val"].counts == {"a": 1, "c": 1}


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["train", "val", None, ""]), st.one_of(st.none(), st.text(max_size=3))
        ),
        max_size=60,
    ),
    dictionary=st.booleans(),
)
def test_sum_by_counts_every_pair_nulls_included(
    pairs: list[tuple[str | None, str | None]], dictionary: bool
) -> None:
    from collections import Counter

    import numpy as np

    from rebalance.stats import _sum_by

    s = pa.array([p[0] for p in pairs], pa.string())
    labels = pa.array([p[1] for p in pairs], pa.string())
    if dictionary:
        s = s.dictionary_encode()
    n = np.arange(1, len(pairs) + 1, dtype=np.int64)
    got = _sum_by([s, labels], ["s", "l"], n).to_pylist()
    expected: Counter[tuple[str | None, str | None]] = Counter()
    for (a, b), weight in zip(pairs, n.tolist(), strict=True):
        expected[(a, b)] += weight
    assert {(r["s"], r["l"]): r["n"] for r in got} == dict(expected)
    assert len(got) == len(expected)


def test_sum_by_with_more_combinations_than_it_counts_densely() -> None:
    import numpy as np

    from rebalance.stats import _sum_by

    a = pa.array([f"s{i}" for i in range(1100)] * 2)
    b = pa.array([f"l{i}" for i in range(1100)] + [f"l{(i + 1) % 1100}" for i in range(1100)])
    got = _sum_by([a, b], ["s", "l"], np.ones(2200, dtype=np.int64))
    assert got.num_rows == 2200 and set(got.column("n").to_pylist()) == {1}
    doubled = _sum_by(
        [pa.concat_arrays([a, a]), pa.concat_arrays([b, b])], ["s", "l"], np.ones(4400)
    )
    assert doubled.num_rows == 2200 and set(doubled.column("n").to_pylist()) == {2}


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "01", "1", ""])), max_size=30),
        max_size=5,
    )
)
def test_dictionary_batches_count_like_a_counter(batches: list[list[str | None]]) -> None:
    """Coded batches (each with its own dictionary, as Parquet row groups have) are counted
    from their codes; nulls and blanks are missing labels."""
    from rebalance.stats import count_batches

    coded = [
        pa.record_batch({"label": pa.array(batch, pa.string()).dictionary_encode()})
        for batch in batches
    ]
    counts = count_batches(iter(coded), "label")
    flat = [v for batch in batches for v in batch]
    assert counts.counts == dict(Counter(v for v in flat if v))
    assert counts.missing == sum(1 for v in flat if not v)


def test_counting_reads_ahead_and_still_reports_a_broken_file(tmp_path: Path) -> None:
    from rebalance.errors import RebalanceError

    path = tmp_path / "m.csv"
    path.write_text("label,x\n" + "a,1\n" * 300_000 + "b,2,3\n" + "a,1\n" * 10)  # a row too wide
    with pytest.raises(RebalanceError, match="m.csv: cannot parse as CSV"):
        count_labels(path)


@settings(max_examples=80, deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.sampled_from(["a", "b", "01", "", None, "é"]), min_size=0, max_size=30),
        min_size=1,
        max_size=5,
    ),
    shared=st.booleans(),
    plain=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_counting_by_codes_equals_the_general_count(chunks, shared, plain) -> None:  # type: ignore[no-untyped-def]
    """The numpy path for dictionary-encoded batches (Parquet row groups) counts, misses and
    finds the first missing row as the Arrow path does, and hands over to it (here: every
    other batch is plain text) where it stops."""
    import pyarrow as pa

    from rebalance.stats import _count_general, count_batches

    values = pa.array(["a", "b", "01", "", "é", "a"], pa.string())  # "a" twice: Arrow allows it
    batches = []
    for chunk in chunks:
        if shared:
            index = {"a": 0, "b": 1, "01": 2, "": 3, "é": 4}
            codes = pa.array(
                [
                    None if v is None else (5 if v == "a" and i % 2 else index[v])
                    for i, v in enumerate(chunk)
                ],
                pa.int32(),
            )
            column = pa.DictionaryArray.from_arrays(codes, values)
        else:
            column = pa.array(chunk, pa.string()).dictionary_encode()
        if plain[len(batches)]:
            column = column.cast(pa.string())
        batches.append(pa.RecordBatch.from_arrays([column], names=["label"]))
    fast = count_batches(batches, "label")
    general = _count_general(batches, "label")
    assert fast.counts == general.counts
    assert fast.missing == general.missing
    assert fast.first_missing_row == general.first_missing_row


@settings(max_examples=80, deadline=None)
@given(
    chunks=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "01", "", None, "é"]),
                st.sampled_from(["train", "val", "", None]),
            ),
            min_size=0,
            max_size=30,
        ),
        min_size=1,
        max_size=5,
    ),
    coded=st.lists(st.sampled_from(["both", "label", "split", "neither"]), min_size=5, max_size=5),
    large=st.booleans(),
)
def test_counting_splits_by_codes_equals_the_general_count(chunks, coded, large) -> None:  # type: ignore[no-untyped-def]
    """Split × label counts from codes (a hive folder's constant split, a split column of
    a Parquet file) equal Arrow's, missing labels and splits included, and hand over to
    the general count where a batch is not coded."""
    import pyarrow as pa

    from rebalance.stats import _count_general, count_batches

    text = pa.large_string() if large else pa.string()
    batches = []
    for chunk in chunks:
        how = coded[len(batches)]
        label = pa.array([lab for lab, _ in chunk], text)
        split = pa.array([sp for _, sp in chunk], text)
        if how in ("both", "label"):
            label = label.dictionary_encode()
        if how in ("both", "split"):
            split = split.dictionary_encode()
        batches.append(pa.RecordBatch.from_arrays([label, split], names=["label", "split"]))
    fast = count_batches(batches, "label", "split")
    general = _count_general(batches, "label", "split")
    assert fast.counts == general.counts
    assert fast.by_split == general.by_split
    assert fast.missing == general.missing
    assert (fast.missing_by_split or {}) == (general.missing_by_split or {})
    assert fast.first_missing_row == general.first_missing_row


@pytest.mark.parametrize(
    "values",
    [
        [0, 1, 1, 2, None],  # a pandas category of numbers: 0 is a label, not a blank
        [1.5, 0.0, None, 0.0],
        [True, False, False, None],
        [b"a", b"", b"b", None],  # bytes: checked as UTF-8 by the general count
    ],
)
def test_coded_labels_of_other_types_count_as_their_text(values) -> None:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    from rebalance.stats import _count_general, count_batches

    labels = pa.array(values).dictionary_encode()
    splits = pa.array(["train", "val"] * 2 + ["train"] * (len(values) - 4)).dictionary_encode()
    batch = pa.RecordBatch.from_arrays([labels, splits], names=["label", "split"])
    for split in (None, "split"):
        fast = count_batches([batch], "label", split)
        general = _count_general([batch], "label", split)
        assert fast == general
        assert all(isinstance(label, str) for label in fast.counts)


@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=40))
def test_the_median_count_is_statistics_median(values) -> None:  # type: ignore[no-untyped-def]
    import statistics

    from rebalance.stats import _median

    assert _median(values) == float(statistics.median(values))


def test_json_documents_write_nan_and_infinity_as_null() -> None:
    from rebalance.emit import dump_json

    assert dump_json({"a": float("nan"), "b": [1.5, float("inf")], "c": 2}) == (
        '{\n  "a": null,\n  "b": [\n    1.5,\n    null\n  ],\n  "c": 2\n}\n'
    )

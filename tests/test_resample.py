"""Resampling: exact plans, exact rows, imbalanced-learn's own output, splits, groups."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rebalance.errors import RebalanceError
from rebalance.resampling import SOURCE_ROW, SYNTHETIC, resample
from rebalance.samplers.random import row_keys

MASK64 = (1 << 64) - 1


def splitmix64_py(x: int) -> int:
    """A plain-Python splitmix64, independent of the numpy one under test."""
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def manifest(counts: dict[str, int], **extra: list) -> pa.Table:  # type: ignore[type-arg]
    labels = [label for label, n in counts.items() for _ in range(n)]
    rng = np.random.default_rng(3)
    order = rng.permutation(len(labels))
    labels = [labels[i] for i in order]
    data = {"path": [f"img/{i:04d}.png" for i in range(len(labels))], "label": labels}
    data.update(extra)
    return pa.table(data)


def rows(table: pa.Table) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(r.values()) for r in table.to_pylist()]


def test_row_keys_match_an_independent_splitmix64() -> None:
    seed = 7
    mix = splitmix64_py((seed * 1_000_003) & MASK64)
    expected = [splitmix64_py(i ^ mix) for i in range(20)]
    assert row_keys(20, seed).tolist() == expected
    # the formula the README gives is this one
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "`splitmix64(row key ^ splitmix64(seed × 1,000,003))`" in readme


def test_the_row_key_function_is_frozen() -> None:
    """Golden values: any engine, any release, any partitioning picks rows by these keys;
    changing them changes which rows every past --seed chose."""
    from rebalance.samplers.random import text_hashes

    assert [int(k) for k in row_keys(4, 0)] == [
        12035550249420947055, 627405149472732430, 15549969042648332857, 14416117309360870529,
    ]  # fmt: skip
    assert [int(k) for k in row_keys(4, 7)] == [
        11302043072770610211, 14360215251660764001, 1452224810934187408, 1290748343231441236,
    ]  # fmt: skip
    assert [int(k) for k in text_hashes(pa.array(["a", "01"]))] == [
        8632496130157914645,
        1760472591882397566,
    ]


def test_row_keys_of_streams_ids_and_blocks_match_the_formula() -> None:
    """key = splitmix64(row key ^ splitmix64(seed * 1,000,003 + stream)), for every form."""
    import numpy as np

    from rebalance.samplers.random import RowKeys, seed_mix, splitmix64

    def mix(seed: int, stream: int = 0) -> int:
        return splitmix64_py((seed * 1_000_003 + stream) & MASK64)

    assert int(seed_mix(7)) == mix(7)
    assert int(seed_mix(7, 3)) == mix(7, 3)
    assert row_keys(5, 9, stream=2).tolist() == [splitmix64_py(i ^ mix(9, 2)) for i in range(5)]
    ids = np.array([11, 2**63 + 5, 0], dtype=np.uint64)
    assert row_keys(3, 4, ids).tolist() == [splitmix64_py(int(i) ^ mix(4)) for i in ids]
    keys = RowKeys(6, None, 1)
    assert keys.at(np.array([3, 0])).tolist() == [
        splitmix64_py(3 ^ mix(6, 1)),
        splitmix64_py(mix(6, 1)),
    ]
    assert keys.block(10, 4).tolist() == [splitmix64_py(i ^ mix(6, 1)) for i in range(10, 14)]
    with_ids = RowKeys(6, np.arange(100, 120, dtype=np.uint64), 1)
    assert with_ids.block(3, 2).tolist() == [splitmix64_py(i ^ mix(6, 1)) for i in (103, 104)]
    # across the blocks splitmix64 works in
    n = (1 << 16) * 2 + 3
    values = splitmix64(np.arange(n, dtype=np.uint64))
    for i in (0, (1 << 16) - 1, 1 << 16, n - 1):
        assert int(values[i]) == splitmix64_py(i)


def test_undersampling_keeps_the_smallest_keys() -> None:
    table = manifest({"a": 50, "b": 10})
    result = resample(table, target="min", seed=5, provenance=True)
    keys = row_keys(table.num_rows, 5)
    labels = table.column("label").to_pylist()
    a_rows = [i for i, label in enumerate(labels) if label == "a"]
    expected = sorted(sorted(a_rows, key=lambda i: keys[i])[:10])
    got = [
        r
        for r, label in zip(
            result.table.column(SOURCE_ROW).to_pylist(),
            result.table.column("label").to_pylist(),
            strict=True,
        )
        if label == "a"
    ]
    assert got == expected


def test_random_counts_equal_plan_and_rows_are_input_rows() -> None:
    table = manifest({"a": 70, "b": 20, "c": 7})
    result = resample(table, target="20", seed=1)
    assert Counter(result.table.column("label").to_pylist()) == {"a": 20, "b": 20, "c": 20}
    inputs = Counter(rows(table))
    out = rows(result.table)
    a_out = [r for r in out if r[1] == "a"]
    assert len(set(a_out)) == 20 and all(inputs[r] for r in a_out)  # subset, no repeats
    c_rows = {r for r in rows(table) if r[1] == "c"}
    assert c_rows <= set(out)  # every original row of an oversampled class
    c_counts = Counter(r for r in out if r[1] == "c")
    assert max(c_counts.values()) - min(c_counts.values()) <= 1  # as even as possible


def test_output_order_rule() -> None:
    table = manifest({"a": 6, "b": 2, "c": 3})
    result = resample(table, target="max", provenance=True)
    sources = result.table.column(SOURCE_ROW).to_pylist()
    assert sources[: table.num_rows] == list(range(table.num_rows))  # originals in input order
    added = result.table.slice(table.num_rows)
    labels = added.column("label").to_pylist()
    assert labels == sorted(labels)  # class by class, in label order
    for label in set(labels):  # within a class: copy round, then input position
        mine = [
            s
            for s, lab in zip(added.column(SOURCE_ROW).to_pylist(), labels, strict=True)
            if lab == label
        ]
        n = sum(1 for v in table.column("label").to_pylist() if v == label)
        rounds = [mine[i : i + n] for i in range(0, len(mine), n)]
        assert all(r == sorted(r) for r in rounds)


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    table = manifest({"a": 200, "b": 30})
    one = resample(table, target="30", seed=11).table
    two = resample(table, target="30", seed=11).table
    three = resample(table, target="30", seed=12).table
    assert one.equals(two)
    assert not one.equals(three)


def test_id_col_makes_the_choice_independent_of_row_order() -> None:
    table = manifest({"a": 40, "b": 8}, uid=[f"u{i}" for i in range(48)])
    shuffled = table.take(pa.array(np.random.default_rng(0).permutation(48)))

    def pick(t):
        return sorted(
            resample(t, target="min", id_col="uid", seed=3).table.column("uid").to_pylist()
        )  # noqa: E731

    assert pick(table) == pick(shuffled)


def test_shuffle_is_seeded() -> None:
    table = manifest({"a": 20, "b": 5})
    a = resample(table, target="max", shuffle=True, seed=2).table
    b = resample(table, target="max", shuffle=True, seed=2).table
    assert a.equals(b)
    plain = resample(table, target="max", seed=2).table.column("path").to_pylist()
    assert a.column("path").to_pylist() != plain
    assert sorted(a.column("path").to_pylist()) == sorted(plain)  # the same rows, reordered
    # another seed gives another order of the same rows (and of other copies)
    orders = {
        tuple(resample(table, target="max", shuffle=True, seed=s).table.column("path").to_pylist())
        for s in (2, 3, 4)
    }
    assert len(orders) == 3


def test_types_are_preserved() -> None:
    table = pa.table(
        {
            "label": pa.array([1, 1, 1, 2], pa.int16()),
            "f": pa.array([0.5, None, 1.5, 2.0], pa.float32()),
            "when": pa.array([1, 2, 3, 4], pa.timestamp("s")),
        }
    )
    out = resample(table, target="max").table
    assert out.schema == table.schema
    assert out.column("label").to_pylist().count(2) == 3


def test_split_rows_pass_through_untouched() -> None:
    table = manifest({"a": 30, "b": 6}, split=["val" if i % 3 == 0 else "train" for i in range(36)])
    with pytest.raises(RebalanceError, match="--only-split train, or --all-splits"):
        resample(table, target="max")
    result = resample(table, target="max", only_splits=["train"], provenance=True)
    val_in = [r for r in rows(table) if r[2] == "val"]
    val_out = [r[:3] for r in rows(result.table) if r[2] == "val"]
    assert val_out == val_in
    train = Counter(
        label
        for label, s in zip(
            result.table.column("label").to_pylist(),
            result.table.column("split").to_pylist(),
            strict=True,
        )
        if s == "train"
    )
    assert train["a"] == train["b"]
    with pytest.raises(RebalanceError, match="no split 'training'"):
        resample(table, only_splits=["training"])


def test_groups_are_kept_whole_when_undersampling() -> None:
    groups = [f"p{i // 5}" for i in range(60)]
    table = manifest({"a": 50, "b": 10}, patient=groups)
    result = resample(table, target="min", group_col="patient", seed=4)
    out = result.table
    kept_a = Counter(
        p
        for p, label in zip(
            out.column("patient").to_pylist(), out.column("label").to_pylist(), strict=True
        )
        if label == "a"
    )
    all_a = Counter(
        p
        for p, label in zip(groups, table.column("label").to_pylist(), strict=True)
        if label == "a"
    )
    assert all(kept_a[p] == all_a[p] for p in kept_a)  # whole groups of class a
    kept = sum(kept_a.values())
    assert 0 < kept <= 10 and kept_a  # some whole groups, never above the target
    # first fit: every group left out would not have fitted beside the ones kept
    assert all(n > 10 - kept for p, n in all_a.items() if p not in kept_a)
    assert Counter(out.column("label").to_pylist())["b"] == 10


def test_group_leakage_is_warned() -> None:
    table = manifest({"a": 8, "b": 4}, split=["train"] * 6 + ["test"] * 6, patient=["x"] * 12)
    result = resample(table, target="max", only_splits=["train"], group_col="patient")
    assert any("leakage" in m for m in result.messages)


def test_missing_labels_pass_through_or_drop() -> None:
    table = pa.table({"label": ["a", "a", "a", "", "b"]})
    kept = resample(table, target="max")
    assert kept.table.column("label").to_pylist().count("") == 1
    assert any("without a label" in m for m in kept.messages)
    assert "" not in resample(table, target="max", missing="drop").table.column("label").to_pylist()
    with pytest.raises(RebalanceError, match="1 row"):
        resample(table, missing="error")


@pytest.mark.parametrize("target", ["max", "min", "2"])
def test_dropped_rows_keep_their_input_position(target: str) -> None:
    """Row keys and provenance use the input row index, whatever rows are left out."""
    labels = ["a", "", "a", "b", None, "a", "b", "a", "", "a"]
    table = pa.table({"label": labels, "i": list(range(10))})
    dropped = resample(table, target=target, missing="drop", provenance=True, seed=3).table
    assert dropped.column(SOURCE_ROW).to_pylist() == dropped.column("i").to_pylist()
    # each class keeps/copies its rows by the keys of their input positions
    chosen = Counter(dropped.column("i").to_pylist())
    keys = row_keys(10, 3)
    for label in ("a", "b"):
        rows = [i for i, v in enumerate(labels) if v == label]
        n, t = len(rows), Counter(dropped.column("label").to_pylist())[label]
        q, r = divmod(t, n)
        by_key = sorted(rows, key=lambda i: keys[i])
        assert all(chosen[i] == q + (rank < r) for rank, i in enumerate(by_key))


def test_preflight_refuses_explosion() -> None:
    table = pa.table({"label": ["big"] * 200_000 + [f"t{i}" for i in range(100)]})
    with pytest.raises(RebalanceError, match=r"the plan writes 20,200,000 rows .*--allow-large"):
        resample(table, target="max")


@settings(max_examples=40, deadline=None)
@given(
    counts=st.dictionaries(
        st.sampled_from(list("abcdefg")), st.integers(1, 40), min_size=2, max_size=6
    ),
    target=st.sampled_from(["max", "min", "median", "mean", "sqrt", "7", "ratio:3"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_invariants(counts: dict[str, int], target: str, seed: int) -> None:
    table = manifest(counts)
    result = resample(table, target=target, seed=seed, provenance=True)
    produced = Counter(result.table.column("label").to_pylist())
    assert dict(produced) == dict(result.plan.targets.items())
    source = result.table.column(SOURCE_ROW).to_pylist()
    assert not any(result.table.column(SYNTHETIC).to_pylist())
    for out_row, src in zip(
        rows(result.table.drop_columns([SOURCE_ROW, SYNTHETIC])), source, strict=True
    ):
        assert out_row == rows(table)[src]
    again = resample(table, target=target, seed=seed, provenance=True).table
    assert again.equals(result.table)


def reference_select(
    codes: np.ndarray, keys: np.ndarray, targets: list[int]
) -> tuple[list[int], list[int]]:
    """The rule written plainly: per class, whole copies plus the r smallest-key rows."""
    kept, extra_rows = [], []
    for c, t in enumerate(targets):
        rows = sorted(np.flatnonzero(codes == c).tolist(), key=lambda i: keys[i])
        n = len(rows)
        if n == 0:
            continue
        q, r = divmod(t, n)
        copies = {i: q + (rank < r) for rank, i in enumerate(rows)}
        kept += [i for i in rows if copies[i] >= 1]
        extra_rows += [i for i in rows for _ in range(copies[i] - 1)]
    return sorted(kept), sorted(extra_rows)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=6),
    targets=st.lists(st.integers(0, 4000), min_size=6, max_size=6),
    seed=st.integers(0, 1000),
    keymode=st.sampled_from(["plain", "crowded", "coarse"]),
    passthrough=st.booleans(),
)
def test_select_matches_the_plain_rule(
    sizes: list[int], targets: list[int], seed: int, keymode: str, passthrough: bool
) -> None:
    from rebalance.samplers.random import select

    codes = np.concatenate([np.full(n, c) for c, n in enumerate(sizes)]).astype(np.int64)
    if passthrough:  # rows of another split (-1) stay as they are
        codes = np.concatenate([codes, np.full(50, -1)])
    np.random.default_rng(seed).shuffle(codes)
    keys = row_keys(len(codes), seed)
    if keymode == "crowded":  # keys crowded at the top defeat the candidate threshold
        keys = keys | np.uint64(0xFF00000000000000)
    if keymode == "coarse":  # few distinct keys: equal keys rank by input position
        keys = keys & np.uint64(0xF)
    plan = targets[: len(sizes)]
    chosen = select(codes, keys, plan)
    kept, extra = reference_select(codes, keys, plan)
    kept = sorted(kept + np.flatnonzero(codes < 0).tolist())
    got = (
        list(range(len(codes))) if chosen.kept is None else chosen.kept.tolist()
    )  # None: every row
    assert got == kept
    assert sorted(chosen.added.tolist()) == extra
    # added rows: class by class, then copy round, then input position
    order = list(
        zip(
            codes[chosen.added].tolist(),
            chosen.added_copy.tolist(),
            chosen.added.tolist(),
            strict=True,
        )
    )
    assert order == sorted(order)


def test_select_with_thousands_of_classes() -> None:
    from rebalance.samplers.random import select

    rng = np.random.default_rng(5)
    codes = rng.integers(0, 3000, 20_000)
    targets = rng.integers(0, 25, 3000).tolist()
    keys = row_keys(len(codes), 5)
    chosen = select(codes, keys, targets)
    kept, extra = reference_select(codes, keys, targets)
    assert chosen.kept is not None and chosen.kept.tolist() == kept
    assert sorted(chosen.added.tolist()) == extra


@pytest.mark.parametrize(
    ("options", "early"),
    [
        ({"target": "max", "provenance": True}, True),  # only adds rows: written early
        ({"target": "max", "shuffle": True}, False),
        ({"target": "min"}, False),
        ({"target": "20", "seed": 4}, False),
        ({"target": "max", "only_splits": ["train"], "all_splits": False}, True),
        ({"target": "min", "only_splits": ["train", "test"], "all_splits": False}, False),
    ],
)
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_resample_file_is_resample_in_one_call(
    tmp_path,
    options: dict,
    early: bool,
    suffix: str,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    import pyarrow.parquet as pq

    from rebalance.manifest import read_manifest, write_manifest
    from rebalance.resampling import resample_file

    table = manifest(
        {"a": 40, "b": 9, "c": 3}, split=(["train"] * 3 + ["val", "test"]) * 10 + ["train"] * 2
    )
    options = {"all_splits": True, **options}
    src = tmp_path / f"in{suffix}"
    write_manifest(table, src)
    seen: list[int] = []
    original = resample.__globals__["resample"]

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        hook = kwargs["early_rows"]
        kwargs["early_rows"] = lambda head: (seen.append(head.num_rows), hook(head))
        return original(*args, **kwargs)

    out = tmp_path / f"out{suffix}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("rebalance.resampling.files.resample", spy)
        result = resample_file(src, out, **options)
    assert seen[-1:] == ([52] if early else [])  # Parquet: a streaming try comes first
    expected = resample(read_manifest(src), **options).table
    write_manifest(expected, tmp_path / f"expected{suffix}")
    assert read_manifest(out).equals(read_manifest(tmp_path / f"expected{suffix}"))
    # the result holds the role columns of the output (coded while working, same values)
    assert result.table.to_pylist() == expected.select(result.table.column_names).to_pylist()
    assert "label" in result.table.column_names and "path" not in result.table.column_names
    if suffix == ".parquet":
        assert pq.read_schema(out).field("label").type == pa.string()


def test_resample_file_leaves_no_file_when_resampling_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rebalance.manifest import write_manifest
    from rebalance.resampling import resample_file

    src = tmp_path / "in.parquet"
    rows = [str(i) for i in range(12)] + ["x"]  # a provenance column that is not row numbers
    write_manifest(manifest({"a": 10, "b": 3}, rebalance_source_row=rows), src)
    with pytest.raises(RebalanceError, match="not a row number"):
        resample_file(src, tmp_path / "out.parquet", provenance=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_background_writer_abandons_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rebalance.engine import get_engine
    from rebalance.manifest import resolve_destination
    from rebalance.resampling.writer import Writer

    writer = Writer(get_engine(), resolve_destination(str(tmp_path / "out.csv")), None)
    writer.start(manifest({"a": 5, "b": 2}))
    writer.abandon(KeyboardInterrupt())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options",
    [
        {"target": "min"},
        {"target": "median", "seed": 5},  # some classes shrink, some grow: kept rows + copies
        {"target": "6", "provenance": True, "missing": "drop"},
        {"target": "max", "provenance": True},  # keeps every row: the whole-input path
        {"target": "40", "provenance": True},  # keeps every row, found out while streaming
        {"target": "4", "only_splits": ["train"], "all_splits": False, "provenance": True},
    ],
)
def test_streamed_parquet_resample_equals_the_in_memory_one(
    tmp_path,
    options: dict,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    """Batches of 7 rows: kept rows stream out, copies are gathered across batches."""
    import pyarrow.parquet as pq

    from rebalance.manifest import parquet as manifest_module
    from rebalance.manifest import read_manifest
    from rebalance.resampling import resample_file

    labels = manifest({"a": 30, "b": 11, "c": 4, "d": 2}).column("label").to_pylist()
    labels[5] = ""
    table = pa.table(
        {
            "path": [f"img/{i:03d}.png" for i in range(47)],
            "label": labels,
            "split": (["train", "train", "test"] * 16)[:47],
            "x": [i * 0.5 for i in range(47)],
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=10)
    options = {"all_splits": True, **options}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_module, "_PARQUET_BATCH", 7)
        resample_file(src, tmp_path / "out.parquet", **options)
    expected = resample(read_manifest(src), **options).table
    assert pq.read_table(tmp_path / "out.parquet").equals(expected)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 200_000),
    k=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    above=st.booleans(),
    share=st.floats(0.0, 1.0),
)
def test_keys_hashed_per_block_equal_keys_per_row(
    n: int, k: int, seed: int, above: bool, share: float
) -> None:
    """The fast path (hash whole blocks of positions) finds the same candidates."""
    from rebalance.samplers.random import RowKeys, _candidates, select

    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, k, n).astype(np.int32)
    wanted = np.append(rng.random(k) < 0.8, False)
    limit = (rng.random(k) * share * 2.0**64).astype(np.uint64)
    fast = _candidates(codes, RowKeys(seed), wanted, limit, above=above)
    plain = _candidates(codes, row_keys(n, seed), wanted, limit, above=above)
    for a, b in zip(fast, plain, strict=True):
        assert np.array_equal(a, b)
    targets = rng.integers(0, 3 * max(n // k, 1), k).tolist()
    one, two = select(codes, RowKeys(seed), targets), select(codes, row_keys(n, seed), targets)
    assert (one.kept is None) == (two.kept is None)
    assert one.kept is None or np.array_equal(one.kept, two.kept)
    assert np.array_equal(one.added, two.added)


@pytest.mark.parametrize(
    "options",
    [
        {"target": "max"},
        {"target": "max", "provenance": True},
        {"target": "30", "mode": "over", "seed": 9},
        {"target": "max", "only_splits": ["train"], "all_splits": False, "provenance": True},
        {"target": "max", "missing": "drop", "provenance": True},  # rows dropped: another path
        {"target": "max", "missing": "error"},  # a row without a label: the error, no file
    ],
)
def test_oversampled_parquet_equals_the_in_memory_resample(tmp_path, options: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    """The input is read in a thread while copies are chosen from the label column alone;
    the file holds exactly what resample() makes, reruns are byte-identical."""
    import pyarrow.parquet as pq

    from rebalance.manifest import read_manifest
    from rebalance.resampling import resample_file

    labels = manifest({"a": 30, "b": 11, "c": 4, "d": 2}).column("label").to_pylist()
    labels[5] = ""
    table = pa.table(
        {
            "path": [f"img/{i:03d}.png" for i in range(47)],
            "label": pa.array(labels).dictionary_encode().cast(pa.string()),
            "split": (["train", "train", "test"] * 16)[:47],
            "x": pa.array([i * 0.5 for i in range(47)], pa.float32()),
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=10)
    options = {"all_splits": True, **options}
    out, again = tmp_path / "out.parquet", tmp_path / "again.parquet"
    if options.get("missing") == "error":
        with pytest.raises(RebalanceError, match="no label"):
            resample_file(src, out, **options)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]
        return
    result = resample_file(src, out, **options)
    resample_file(src, again, **options)
    expected = resample(read_manifest(src), **options).table
    assert pq.read_table(out).equals(expected)
    assert out.read_bytes() == again.read_bytes()
    assert pq.read_schema(out).field("x").type == pa.float32()
    assert result.table.to_pylist() == expected.select(result.table.column_names).to_pylist()


def test_drop_missing_oversampling_writes_every_copy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Regression: the rows written early were counted as the input's, so with rows
    dropped for a missing label the first copies were lost from the file."""
    from rebalance.manifest import read_manifest, write_manifest
    from rebalance.resampling import resample_file

    table = manifest({"a": 12, "b": 3})
    labels = table.column("label").to_pylist()
    labels[0] = labels[4] = ""
    table = table.set_column(table.column_names.index("label"), "label", pa.array(labels))
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_manifest(table, src)
    result = resample_file(src, out, target="max", missing="drop")
    assert read_manifest(out).num_rows == sum(result.plan.targets.values()) == 22


@settings(max_examples=25, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "01", "c d"]), min_size=2, max_size=80),
    seed=st.integers(0, 2**32 - 1),
    group_rows=st.integers(1, 30),
    target=st.sampled_from(["max", "25", "sqrt"]),
    splits=st.booleans(),
)
def test_parquet_oversampling_is_the_plain_resample_for_any_layout(
    tmp_path_factory, labels, seed, group_rows, target, splits
) -> None:  # type: ignore[no-untyped-def]
    """Whatever the row groups, the file is exactly the in-memory resample's rows (and its
    original dtypes), and the same seed writes the same bytes."""
    import pyarrow.parquet as pq

    from rebalance.manifest import read_manifest
    from rebalance.resampling import resample_file

    folder = tmp_path_factory.mktemp("over")
    n = len(labels)
    table = pa.table(
        {
            "id": pa.array(range(n), pa.int16()),
            "label": labels,
            "split": [("train", "val")[i % 3 == 0] for i in range(n)],
        }
    )
    src = folder / "in.parquet"
    pq.write_table(table, src, row_group_size=group_rows)
    options = {"target": target, "mode": "over", "seed": seed}
    options.update({"only_splits": ["train"]} if splits else {"all_splits": True})
    resampled = [label for i, label in enumerate(labels) if not splits or i % 3 != 0]
    assume(len(set(resampled)) >= 2)  # one class is refused (tests/test_bad_input.py)
    expected = resample(read_manifest(src), **options).table
    resample_file(src, folder / "a.parquet", **options)
    resample_file(src, folder / "b.parquet", **options)
    got = pq.read_table(folder / "a.parquet")
    assert got.equals(expected)
    assert got.schema.field("id").type == pa.int16()
    assert (folder / "a.parquet").read_bytes() == (folder / "b.parquet").read_bytes()

"""PlanSampler: balanced epochs at training time, without torch. Exact per-class counts,
even copies, no repeat above target, coverage over epochs, determinism, and ranks that
split the epoch into equal, disjoint, complete parts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rebalance.errors import RebalanceError
from rebalance.sampling import PlanSampler

LABELS = ["a"] * 50 + ["b"] * 7 + ["c"] * 3 + [None] * 2 + ["d"] * 12


def counts(sampler: PlanSampler, positions: np.ndarray) -> Counter[str]:
    return Counter(LABELS[i] for i in positions.tolist())


@pytest.mark.parametrize("target", ["max", "min", "median", "sqrt", 20, "ratio:4"])
def test_every_epoch_draws_exactly_the_plan(target: str | int) -> None:
    sampler = PlanSampler(LABELS, target=target, seed=3)
    for epoch in range(4):
        drawn = sampler.epoch_positions(epoch)
        assert dict(counts(sampler, drawn)) == {k: v for k, v in sampler.plan.targets.items() if v}
        assert None not in counts(sampler, drawn)  # unlabelled rows are never drawn


def test_a_class_above_its_target_repeats_nothing_and_is_covered_over_epochs() -> None:
    sampler = PlanSampler(LABELS, target=10, seed=1)  # a: 50 rows, 10 a epoch
    seen: set[int] = set()
    a_rows = {i for i, v in enumerate(LABELS) if v == "a"}
    subsets = []
    for epoch in range(5):  # ⌈50 / 10⌉ epochs cover the class
        drawn = [i for i in sampler.epoch_positions(epoch).tolist() if LABELS[i] == "a"]
        assert len(drawn) == len(set(drawn)) == 10
        subsets.append(frozenset(drawn))
        seen |= set(drawn)
    assert seen == a_rows and len(set(subsets)) == 5


def test_a_class_below_its_target_is_copied_evenly() -> None:
    sampler = PlanSampler(LABELS, target=20, seed=2)  # c: 3 rows to 20: 6 or 7 copies each
    for epoch in range(3):
        drawn = Counter(i for i in sampler.epoch_positions(epoch).tolist() if LABELS[i] == "c")
        assert sorted(drawn.values()) == [6, 7, 7]
    extra = [
        max(Counter(i for i in sampler.epoch_positions(e).tolist() if LABELS[i] == "c").items(),
            key=lambda kv: (kv[1], kv[0]))
        for e in range(8)
    ]  # fmt: skip
    assert len({row for row, _ in extra}) > 1  # the extra copies change with the epoch


def test_the_draw_follows_the_seed_and_the_epoch() -> None:
    one, two = PlanSampler(LABELS, seed=5), PlanSampler(LABELS, seed=5)
    assert list(one) == list(two)
    one.set_epoch(1)
    assert list(one) != list(two)
    two.set_epoch(1)
    assert list(one) == list(two)
    assert list(PlanSampler(LABELS, seed=6)) != list(PlanSampler(LABELS, seed=5))
    with pytest.raises(RebalanceError, match="epoch must be 0 or more"):
        one.set_epoch(-1)


@pytest.mark.parametrize("replicas", [1, 2, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_ranks_split_the_epoch(replicas: int, drop_last: bool) -> None:
    samplers = [
        PlanSampler(
            LABELS, target="max", seed=4, num_replicas=replicas, rank=r, drop_last=drop_last
        )
        for r in range(replicas)
    ]
    for s in samplers:
        s.set_epoch(2)
    parts = [s.rank_positions() for s in samplers]
    assert len({len(p) for p in parts}) == 1 and len(parts[0]) == len(samplers[0])
    whole = samplers[0].epoch_positions(2)
    together = np.concatenate(parts)
    if drop_last:
        assert len(together) == len(whole) - len(whole) % replicas
        # disjoint slots of the one draw: as a multiset, a part of the epoch's
        assert not Counter(together.tolist()) - Counter(whole.tolist())
    else:
        assert len(together) == -(-len(whole) // replicas) * replicas
        assert not Counter(whole.tolist()) - Counter(together.tolist())  # every draw seen
    # rank r takes every replicas-th row of the one draw
    interleaved = np.empty(len(together), dtype=np.int64)
    for r, part in enumerate(parts):
        interleaved[r::replicas] = part
    padded = np.tile(whole, 2)[: len(interleaved)]
    assert np.array_equal(interleaved, padded)


def test_a_manifest_with_a_split(tmp_path: Path) -> None:
    table = pa.table(
        {
            "kind": ["x", "y", "x", "x", "y", None, "x", "z"],
            "part": ["train", "train", "val", "train", "train", "train", "train", "val"],
        }
    )
    sampler = PlanSampler(table, label_col="kind", split_col="part", target="max", seed=0)
    drawn = sampler.epoch_positions(0).tolist()
    assert sorted(set(drawn)) == [0, 1, 3, 4, 6]  # train rows with a label, by position
    assert Counter(table.column("kind")[i].as_py() for i in drawn) == {"x": 3, "y": 3}
    path = tmp_path / "m.csv"
    path.write_text("kind,part\n" + "".join(f"{k or ''},{p}\n" for k, p in zip(
        table.column("kind").to_pylist(), table.column("part").to_pylist(), strict=True)))  # fmt: skip
    from_file = PlanSampler(str(path), label_col="kind", split_col="part", target="max", seed=0)
    assert from_file.epoch_positions(0).tolist() == drawn
    val = PlanSampler(table, label_col="kind", split_col="part", split="val", target="max")
    assert sorted(set(val.epoch_positions(0).tolist())) == [2, 7]


def test_refusals() -> None:
    with pytest.raises(RebalanceError, match="rank must be in 0..1, got 2"):
        PlanSampler(LABELS, num_replicas=2, rank=2)
    with pytest.raises(RebalanceError, match="num_replicas must be 1 or more"):
        PlanSampler(LABELS, num_replicas=0, rank=0)
    with pytest.raises(RebalanceError, match="no labelled rows"):
        PlanSampler([None, None])
    with pytest.raises(RebalanceError, match="for a manifest"):
        PlanSampler(LABELS, label_col="x")
    with pytest.raises(TypeError, match="'tagret'"):
        PlanSampler(LABELS, tagret="max")
    with pytest.raises(RebalanceError, match="only one class"):
        PlanSampler(["a", "a"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), min_size=2, max_size=60).filter(lambda v: len(set(v)) > 1),
    st.sampled_from(["max", "min", "median", "7"]),
    st.integers(0, 2**32 - 1),
    st.integers(0, 20),
)
def test_counts_are_exact_for_any_labels(
    labels: list[str], target: str, seed: int, epoch: int
) -> None:
    sampler = PlanSampler(labels, target=target, seed=seed)
    drawn = Counter(labels[i] for i in sampler.epoch_positions(epoch).tolist())
    assert dict(drawn) == {k: v for k, v in sampler.plan.targets.items() if v}
    assert len(sampler) == sampler.total == sum(drawn.values())


# ---------------------------------------------------------------- class batches


def test_class_batches_hold_m_rows_of_k_classes() -> None:
    from rebalance.sampling import ClassBatchSampler

    sampler = ClassBatchSampler(LABELS, classes_per_batch=3, per_class=4, seed=1)
    assert len(sampler) == sampler.batches == len([v for v in LABELS if v]) // 12
    batches = list(sampler)
    assert len(batches) == len(sampler)
    for batch in batches:
        classes = Counter(LABELS[i] for i in batch)
        assert len(classes) == 3 and set(classes.values()) == {4} and None not in classes
        for label in classes:  # rows of a class with enough of them repeat nothing
            rows = [i for i in batch if LABELS[i] == label]
            if LABELS.count(label) >= 4:
                assert len(set(rows)) == 4
            else:  # c has 3 rows: each once, one twice
                assert sorted(Counter(rows).values()) == [1, 1, 2]
    assert len({frozenset(Counter(LABELS[i] for i in b)) for b in batches}) > 1


def test_class_batches_follow_seed_epoch_and_rank() -> None:
    from rebalance.sampling import ClassBatchSampler

    def make(**kw: object) -> ClassBatchSampler:
        return ClassBatchSampler(LABELS, classes_per_batch=2, per_class=3, batches=7, **kw)  # type: ignore[arg-type]

    one, two = make(seed=3), make(seed=3)
    assert list(one) == list(two)
    one.set_epoch(1)
    assert list(one) != list(two)
    ranks = [make(seed=3, num_replicas=3, rank=r) for r in range(3)]
    assert [len(r) for r in ranks] == [2, 2, 2]  # 7 batches: the last one cut
    together = [b for r in ranks for b in r]
    whole = [two.batch(i).tolist() for i in range(6)]
    assert sorted(together) == sorted(whole)
    with pytest.raises(RebalanceError, match="classes_per_batch 5 is more than the 4 classes"):
        ClassBatchSampler(LABELS, classes_per_batch=5, per_class=2)
    with pytest.raises(RebalanceError, match="must be 1 or more"):
        ClassBatchSampler(LABELS, classes_per_batch=2, per_class=0)


# ---------------------------------------------------------------- repeat factors


def test_repeat_factors_equal_resamples_and_hold_in_expectation(tmp_path: Path) -> None:
    import json
    import math

    from typer.testing import CliRunner

    from rebalance.cli import app
    from tests.layouts import make_coco

    cats = [[1, 1]] * 40 + [[1, 3]] * 10 + [[3]] * 4 + [[7]] * 2 + [[]] * 4
    path = make_coco(tmp_path, cats, {1: "person", 3: "car", 7: "light"})
    plan_path = tmp_path / "plan.json"
    result = CliRunner().invoke(app, ["resample", str(path), "--target", "repeat-factor:0.3",
                                      "-o", str(tmp_path / "o.parquet"), "--plan-out", str(plan_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    planned = json.loads(plan_path.read_text())["params"]["labels"]
    sampler = PlanSampler(str(path), target="repeat-factor:0.3", seed=5)
    assert sampler.repeat is not None
    assert sampler.repeat.factor == {k: v["repeat_factor"] for k, v in planned.items()}
    r = sampler.repeat.row_factor
    assert r[0] == pytest.approx(1.0) and r[-5] == pytest.approx(math.sqrt(0.3 / (2 / 60)))
    seen = np.zeros(len(cats))
    sizes = set()
    for epoch in range(600):
        sampler.set_epoch(epoch)
        drawn = sampler.epoch_positions()
        assert len(sampler) == len(drawn)
        per_row = np.bincount(drawn, minlength=len(cats))
        assert np.all((per_row == np.floor(r)) | (per_row == np.ceil(r)))
        seen += per_row
        sizes.add(len(drawn))
    assert seen / 600 == pytest.approx(r, abs=0.09)  # the factors, in expectation
    assert len(sizes) > 1  # an epoch's length varies with its draw
    again = PlanSampler(str(path), target="repeat-factor:0.3", seed=5)
    assert np.array_equal(again.epoch_positions(7), sampler.epoch_positions(7))


def test_repeat_factors_of_single_labels_and_of_masks(tmp_path: Path) -> None:
    import math

    sampler = PlanSampler(["a"] * 90 + ["b"] * 10, target="repeat-factor:0.4")
    assert sampler.repeat is not None
    assert sampler.repeat.factor == {"a": 1.0, "b": pytest.approx(2.0)}
    assert math.isclose(float(sampler.repeat.row_factor[-1]), 2.0)
    from rebalance.images.repeat import repeat_file

    root = Path(__file__).resolve().parent.parent / "samples"
    masks = PlanSampler(str(root / "street.csv"), target="repeat-factor:0.5", mask_col="mask")
    plan = repeat_file(str(root / "street.csv"), "-", mask_col="mask", threshold=0.5,
                       dry_run=True)  # fmt: skip
    assert masks.repeat is not None
    # the sampler plans the train split; the resample plans every row: same rule, own counts
    assert set(masks.repeat.factor) <= set(plan.factor)
    with pytest.raises(RebalanceError, match="plans repeat factors: give target"):
        PlanSampler(str(root / "street.csv"), mask_col="mask")


@pytest.mark.parametrize("replicas", [1, 2, 3, 8])
def test_repeat_factor_ranks_split_each_epoch(replicas: int) -> None:
    labels = [["a"]] * 30 + [["a", "b"]] * 5 + [["c"]] * 2 + [[]] * 3
    for epoch in range(3):
        whole = PlanSampler(labels, target="repeat-factor:0.5", seed=1)
        whole.set_epoch(epoch)
        drawn = whole.epoch_positions()
        parts = []
        for rank in range(replicas):
            s = PlanSampler(
                labels, target="repeat-factor:0.5", seed=1, num_replicas=replicas, rank=rank
            )
            s.set_epoch(epoch)
            parts.append(list(s))
            assert len(parts[-1]) == len(s) == -(-len(drawn) // replicas)
        together = Counter(x for p in parts for x in p)
        pad = -(-len(drawn) // replicas) * replicas - len(drawn)  # DistributedSampler's padding
        assert together == Counter(drawn.tolist()) + Counter(drawn[:pad].tolist())

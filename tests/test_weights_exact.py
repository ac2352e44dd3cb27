"""The weights module, exactly: every formula value, message and field, each computed here
from its definition (its mutation score is in the README)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from rebalance.errors import RebalanceError
from rebalance.stats import LabelCounts
from rebalance.weights import (
    ClassWeights,
    check_beta,
    class_order,
    class_weights,
    focal_alpha,
    focal_loss,
    log_priors,
    normalize_weights,
    parse_clip,
    parse_overrides,
    raw_weights,
    read_classes_file,
    read_weight_file,
    sample_weights,
    weights_from_counts,
    with_sample_weights,
)

COUNTS = {"a": 60, "b": 30, "c": 10}  # n = 100, k = 3


def approx(d: dict[str, float]) -> dict[str, object]:
    return {k: pytest.approx(v, rel=1e-12) for k, v in d.items()}


def test_raw_weights_from_their_formulas() -> None:
    assert raw_weights(COUNTS, "balanced") == approx({k: 100 / (3 * n) for k, n in COUNTS.items()})
    assert raw_weights(COUNTS, "inverse") == approx({k: 1 / n for k, n in COUNTS.items()})
    assert raw_weights(COUNTS, "inverse-sqrt") == approx({k: n**-0.5 for k, n in COUNTS.items()})
    for beta in (0.0, 0.9, 0.999):
        expected = {k: (1 - beta) / (1 - beta**n) for k, n in COUNTS.items()}
        assert raw_weights(COUNTS, "effective", beta=beta) == approx(expected)
    # median frequency: f = n_c / n, weight median(f) / f
    assert raw_weights(COUNTS, "median") == approx({"a": 0.5, "b": 1.0, "c": 3.0})
    # with per-class totals (segmentation): f = n_c / total_c
    totals = {"a": 120.0, "b": 40.0, "c": 100.0}
    f = {k: COUNTS[k] / totals[k] for k in COUNTS}  # 0.5, 0.75, 0.1
    assert raw_weights(COUNTS, "median", totals=totals) == approx(
        {k: 0.5 / v for k, v in f.items()}
    )
    for c in (1.02, 1.5):
        expected = {k: 1 / math.log(c + n / 100) for k, n in COUNTS.items()}
        assert raw_weights(COUNTS, "enet", c=c) == approx(expected)
    even = {"a": 3, "b": 1, "c": 1, "d": 1}  # an even number of classes: median of 1/6s
    assert raw_weights(even, "median") == approx({"a": 1 / 3, "b": 1.0, "c": 1.0, "d": 1.0})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: raw_weights(COUNTS, "square"), "unknown weighting scheme 'square' (use one of: balanced, inverse, inverse-sqrt, effective, median, enet)"),
        (lambda: raw_weights({"b": 0, "a": -1, "c": 4}, "inverse"), "class(es) 'a', 'b' have no rows: a weight would be infinite (drop them from --classes or set --missing-weight)"),
        (lambda: raw_weights({}, "inverse"), "no classes to weight"),
        (lambda: raw_weights(COUNTS, "enet", c=1.0), "--c must be greater than 1 for enet weights, got 1"),
        (lambda: raw_weights(COUNTS, "effective", beta=1.0), "--beta must be in [0, 1), got 1"),
        (lambda: check_beta(-0.5), "--beta must be in [0, 1), got -0.5"),
        (lambda: normalize_weights({"a": 1.0}, {"a": 1}, "max"), "--normalize 'max' is not one of: none, mean, sum, n-samples"),
        (lambda: class_weights(COUNTS, scheme="square"), "unknown weighting scheme 'square' (use one of: balanced, inverse, inverse-sqrt, effective, median, enet)"),
    ],
)  # fmt: skip
def test_formula_errors(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RebalanceError) as refused:
        call()
    assert str(refused.value) == message


def test_beta_zero_is_allowed() -> None:
    check_beta(0.0)
    assert raw_weights({"a": 2, "b": 5}, "effective", beta=0.0) == {"a": 1.0, "b": 1.0}


def test_normalizations() -> None:
    w = {"a": 1.0, "b": 2.0, "c": 5.0}
    assert normalize_weights(w, COUNTS, "none") == w
    assert normalize_weights(w, COUNTS, "mean") == approx({k: v * 3 / 8 for k, v in w.items()})
    assert normalize_weights(w, COUNTS, "sum") == approx({k: v / 8 for k, v in w.items()})
    # n-samples: sum of n_c * w_c equals n = 100; here sum n_c w_c = 60 + 60 + 50 = 170
    scaled = normalize_weights(w, COUNTS, "n-samples")
    assert scaled == approx({k: v * 100 / 170 for k, v in w.items()})
    assert sum(COUNTS[k] * v for k, v in scaled.items()) == pytest.approx(100)


def test_class_order() -> None:
    assert class_order([]) == []
    assert class_order(["10", "-2", "+3", "2"]) == ["-2", "2", "+3", "10"]
    assert class_order(["b", "a"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.1:10", (0.1, 10.0)), (":5", (0.0, 5.0)), ("2:", (2.0, math.inf)), (" : ", (0.0, math.inf)), ("0:0", (0.0, 0.0))],
)  # fmt: skip
def test_parse_clip(text: str, expected: tuple[float, float]) -> None:
    assert parse_clip(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", "--clip '5' must look like MIN:MAX, e.g. 0.1:10"),
        ("a:5", "--clip 'a:5' must look like MIN:MAX, e.g. 0.1:10"),
        ("1:x", "--clip '1:x' must look like MIN:MAX, e.g. 0.1:10"),
        ("3:2", "--clip '3:2': MIN 3 is greater than MAX 2"),
        ("-1:2", "--clip '-1:2': weights cannot be negative"),
    ],
)
def test_parse_clip_refuses(text: str, message: str) -> None:
    with pytest.raises(RebalanceError) as refused:
        parse_clip(text)
    assert str(refused.value) == message


def test_parse_overrides() -> None:
    assert parse_overrides(["a=1.5", "x=y=0", "b=0"]) == {"a": 1.5, "x=y": 0.0, "b": 0.0}
    for item, message in (
        ("a", "--override 'a' must look like LABEL=WEIGHT"),
        ("a=x", "--override 'a=x': 'x' is not a number"),
        ("a=-1", "--override 'a=-1': a weight must be finite and not negative"),
        ("a=inf", "--override 'a=inf': a weight must be finite and not negative"),
        ("a=nan", "--override 'a=nan': a weight must be finite and not negative"),
    ):
        with pytest.raises(RebalanceError) as refused:
            parse_overrides([item])
        assert str(refused.value) == message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"a": 1, "b": 2.5}', {"a": 1.0, "b": 2.5}),
        ('  {"weights": {"a": 3}, "scheme": "x"}', {"a": 3.0}),
        ("a,1\nb,2\n\n", {"a": 1.0, "b": 2.0}),
        ("label,weight\na,1\nb,2\n", {"a": 1.0, "b": 2.0}),
        ("label,count,weight\na,10,0.5\nb,3\n", {"a": 0.5}),
        ("label,w\na,4\n", {"a": 4.0}),
    ],
)
def test_read_weight_file(tmp_path: Path, content: str, expected: dict[str, float]) -> None:
    path = tmp_path / "w.txt"
    path.write_text(content)
    assert read_weight_file(str(path)) == expected


def test_read_weight_file_refuses(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    for content, message in (
        ("{", "not valid JSON (Expecting property name enclosed in double quotes)"),
        ('{"weights": [1, 2]}', "expected a JSON object of label: weight"),
        ('{"a": "x"}', "'a=x': 'x' is not a number"),
        ("a,-2\n", "'a=-2': a weight must be finite and not negative"),
    ):
        path.write_text(content)
        with pytest.raises(RebalanceError) as refused:
            read_weight_file(str(path))
        assert str(refused.value) == f"{path}: {message}"
    with pytest.raises(RebalanceError) as missing:
        read_weight_file(str(tmp_path / "none.json"))
    assert (
        str(missing.value) == f"{tmp_path / 'none.json'}: cannot read (No such file or directory)"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('["b", "a", 3]', ["b", "a", "3"]),
        ('  ["x"]', ["x"]),
        ("dog\r\ncat\r\n\n\n", ["dog", "cat"]),
        ("dog\n\ncat", ["dog", "", "cat"]),
    ],
)
def test_read_classes_file(tmp_path: Path, content: str, expected: list[str]) -> None:
    path = tmp_path / "classes.txt"
    path.write_bytes(content.encode())
    assert read_classes_file(str(path)) == expected


def test_read_classes_file_refuses(tmp_path: Path) -> None:
    path = tmp_path / "classes.txt"
    for content, message in (
        ("[1, ", "not valid JSON (Expecting value)"),
        ("\n\n", "no class labels in the file"),
        ("[]", "no class labels in the file"),
        ("b\na\nb\na\nc\n", "class(es) listed twice: 'a', 'b'"),
    ):
        path.write_text(content)
        with pytest.raises(RebalanceError) as refused:
            read_classes_file(str(path))
        assert str(refused.value) == f"{path}: {message}"
    with pytest.raises(RebalanceError) as missing:
        read_classes_file(str(tmp_path / "none.txt"))
    assert str(missing.value) == f"{tmp_path / 'none.txt'}: cannot read (No such file or directory)"


def test_class_weights_document() -> None:
    got = class_weights({"10": 30, "2": 10, "01": 60}, scheme="effective", beta=0.99)
    assert got.classes == ["01", "2", "10"]  # numeric order, labels as written
    raw = {k: (1 - 0.99) / (1 - 0.99**n) for k, n in {"01": 60, "2": 10, "10": 30}.items()}
    mean = sum(raw.values()) / 3
    expected = {k: v / mean for k, v in raw.items()}
    assert got.to_dict() == {
        "scheme": "effective",
        "normalize": "mean",
        "params": {"beta": 0.99},
        "classes": ["01", "2", "10"],
        "counts": {"01": 60, "2": 10, "10": 30},
        "weights": approx(expected),
        "index": {"01": 0, "2": 1, "10": 2},
    }
    assert got.vector() == pytest.approx([expected["01"], expected["2"], expected["10"]])
    assert got.keras() == approx({0: expected["01"], 1: expected["2"], 2: expected["10"]})  # type: ignore[arg-type]
    assert got.index() == {"01": 0, "2": 1, "10": 2}
    enet = class_weights(COUNTS, scheme="enet", c=1.1)
    assert enet.params == {"c": 1.1} and enet.normalize == "none"
    assert class_weights(COUNTS).params == {} and class_weights(COUNTS).normalize == "none"
    assert class_weights(COUNTS, scheme="inverse").normalize == "mean"
    assert class_weights(COUNTS, scheme="inverse-sqrt").normalize == "mean"
    assert class_weights(COUNTS, scheme="median").normalize == "none"
    assert class_weights(COUNTS, scheme="inverse", normalize="sum").normalize == "sum"


def test_clip_renormalize_overrides_and_their_params() -> None:
    plain = class_weights(COUNTS, scheme="inverse")  # mean 1
    base = {k: (1 / n) for k, n in COUNTS.items()}
    scale = 3 / sum(base.values())
    assert plain.weights == approx({k: v * scale for k, v in base.items()})
    clipped = class_weights(COUNTS, scheme="inverse", clip=(0.5, 1.5))
    expected = {k: min(max(v * scale, 0.5), 1.5) for k, v in base.items()}
    assert clipped.weights == approx(expected)
    assert clipped.params == {"clip": [0.5, 1.5], "renormalize": False}
    again = class_weights(COUNTS, scheme="inverse", clip=(0.5, 1.5), renormalize=True)
    mean = sum(expected.values()) / 3
    assert again.weights == approx({k: v / mean for k, v in expected.items()})
    assert again.params == {"clip": [0.5, 1.5], "renormalize": True}
    open_top = class_weights(COUNTS, clip=(0.0, math.inf))
    assert open_top.params["clip"] == [0.0, None]
    over = class_weights(COUNTS, overrides={"c": 9.0})
    assert over.weights["c"] == 9.0 and over.params == {"overrides": {"c": 9.0}}
    assert over.weights["a"] == pytest.approx(100 / 180)


def test_manual_weights() -> None:
    got = class_weights(COUNTS, manual={"a": 1, "b": 2, "c": 3}, scheme="inverse")
    assert got.scheme == "manual" and got.normalize == "none"
    assert got.weights == {"a": 1.0, "b": 2.0, "c": 3.0}
    summed = class_weights(COUNTS, manual={"a": 1, "b": 1, "c": 2}, normalize="sum")
    assert summed.weights == {"a": 0.25, "b": 0.25, "c": 0.5}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": ["a", "b"]}, "class(es) in the data but not in --classes: 'c' (add them to the file)"),
        ({"classes": ["a", "b", "c", "x", "y"]}, "class(es) with no rows in the data: 'x', 'y' (remove them from --classes, or give them a weight with --missing-weight)"),
        ({"classes": ["a", "b", "c", "x"], "missing_weight": -1.0}, "--missing-weight must be finite and not negative"),
        ({"classes": ["a", "b", "c", "x"], "missing_weight": math.inf}, "--missing-weight must be finite and not negative"),
        ({"manual": {"a": 1, "b": 1, "c": 1, "z": 1}}, "weights given for label(s) not in the data: 'z'"),
        ({"manual": {"a": 1}}, "no hand-set weight for class(es): 'b', 'c'"),
        ({"overrides": {"q": 1.0}}, "--override names label(s) not in the data: 'q'"),
    ],
)  # fmt: skip
def test_class_weights_refuses(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RebalanceError) as refused:
        class_weights(COUNTS, **kwargs)
    assert str(refused.value) == message


def test_missing_weight_zero_and_absent_classes() -> None:
    with pytest.raises(RebalanceError) as refused:
        class_weights({"a": 0}, classes=["a"], missing_weight=1.0)
    assert str(refused.value) == "no classes to weight"
    got = class_weights({"a": 5, "b": 0}, classes=["b", "a"], missing_weight=0.0)
    assert got.weights == {"b": 0.0, "a": 1.0} and got.counts == {"b": 0, "a": 5}
    assert got.to_dict()["counts"] == {"b": 0, "a": 5}


def test_eleven_labels_are_cut_at_ten() -> None:
    labels = [f"x{i:02d}" for i in range(12)]
    with pytest.raises(RebalanceError) as refused:
        class_weights(COUNTS, classes=["a", "b", "c", *labels])
    shown = ", ".join(repr(x) for x in labels[:10])
    assert f"{shown}, … 2 more (remove" in str(refused.value)


def test_log_priors() -> None:
    got = class_weights(COUNTS)
    assert log_priors(got) == pytest.approx([math.log(0.6), math.log(0.3), math.log(0.1)])
    assert log_priors(got, tau=0.5) == pytest.approx([0.5 * math.log(p) for p in (0.6, 0.3, 0.1)])
    empty = class_weights({"a": 5}, classes=["a", "b"], missing_weight=0.0)
    with pytest.raises(RebalanceError) as refused:
        log_priors(empty)
    assert str(refused.value) == "class 'b' has no rows: its log prior is -infinity"


def test_focal_alpha() -> None:
    binary = class_weights({"neg": 90, "pos": 10})
    doc = focal_alpha(binary)
    w = binary.weights
    a = w["pos"] / (w["pos"] + w["neg"])
    assert doc == {
        "scheme": "balanced",
        "gamma": 2.0,
        "classes": ["neg", "pos"],
        "alpha": pytest.approx([1 - a, a]),
        "positive": "pos",
        "alpha_positive": pytest.approx(a),
    }
    chosen = focal_alpha(binary, positive="neg", gamma=0.0)
    b = w["neg"] / (w["pos"] + w["neg"])
    assert chosen["alpha"] == pytest.approx([b, 1 - b]) and chosen["gamma"] == 0.0
    tie = focal_alpha(class_weights({"a": 5, "b": 5}))
    assert tie["positive"] == "b"  # equal counts: the later label
    multi = focal_alpha(class_weights(COUNTS))
    raw = class_weights(COUNTS).vector()
    assert multi["alpha"] == pytest.approx([3 * x / sum(raw) for x in raw])
    assert "positive" not in multi
    for call, message in (
        (lambda: focal_alpha(binary, gamma=-1.0), "--gamma must be a number ≥ 0, got -1"),
        (lambda: focal_alpha(binary, gamma=math.nan), "--gamma must be a number ≥ 0, got nan"),
        (lambda: focal_alpha(binary, positive="x"), "--positive 'x' is not a class ('neg', 'pos')"),
        (lambda: focal_alpha(class_weights(COUNTS), positive="a"), "--positive is for a binary task; this one has more classes"),
    ):  # fmt: skip
        with pytest.raises(RebalanceError) as refused:
            call()
        assert str(refused.value) == message


def test_focal_loss_from_its_definition() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    t = [0, 2, 1]
    alpha = [0.5, 1.0, 2.0]
    expected = np.mean(
        [-alpha[y] * (1 - p[i, y]) ** 1.5 * math.log(p[i, y]) for i, y in enumerate(t)]
    )
    assert focal_loss(p, t, alpha, 1.5) == pytest.approx(expected, rel=1e-12)


def test_sample_weights_column() -> None:
    table = pa.table({"label": ["a", "b", None, "", "a"]})
    weights = class_weights({"a": 2, "b": 1})
    out = sample_weights(table, "label", weights, weight_col="w")
    assert out.column_names == ["label", "w"]
    assert out.column("w").to_pylist() == pytest.approx([0.75, 1.5, None, None, 0.75], nan_ok=True)
    with pytest.raises(RebalanceError) as taken:
        sample_weights(out, "label", weights, weight_col="w")
    assert str(taken.value) == "column 'w' already exists (choose another --weight-col)"
    with pytest.raises(RebalanceError) as unknown:
        sample_weights(pa.table({"label": ["a", "z", "y", "z"]}), "label", weights)
    assert str(unknown.value) == (
        "rows with class(es) that have no weight: 'z', 'y' "
        "(they are absent from the split the weights come from; use --missing-weight)"
    )


def counts(by_split: dict[str, dict[str, int]] | None, overall: dict[str, int]) -> LabelCounts:
    return LabelCounts(counts=overall, by_split=by_split, missing=0)


def test_weights_from_counts() -> None:
    got, split = weights_from_counts(counts(None, COUNTS))
    assert split is None and got.weights == class_weights(COUNTS).weights
    splits = {"train": {"a": 6, "b": 3}, "test": {"a": 1, "b": 1, "c": 1}}
    got, split = weights_from_counts(
        counts(splits, {"a": 7, "b": 4, "c": 1}), missing_weight=0.5, where="m.csv"
    )
    assert split == "train" and got.classes == ["a", "b", "c"] and got.weights["c"] == 0.5
    got, split = weights_from_counts(counts(splits, {"a": 7, "b": 4, "c": 1}), from_split="test")
    assert split == "test" and got.weights == approx({"a": 1.0, "b": 1.0, "c": 1.0})
    for call, message in (
        (lambda: weights_from_counts(counts(None, {"a": 3}), where="m.csv"), "m.csv: only one class ('a'): there is nothing to weight (list every class with --classes to weight absent ones)"),
        (lambda: weights_from_counts(counts(None, {}), where="m.csv"), "m.csv: only one class: there is nothing to weight (list every class with --classes to weight absent ones)"),
        (lambda: weights_from_counts(counts(None, COUNTS), from_split="train"), "--from-split 'train' needs a split column (--split-col)"),
        (lambda: weights_from_counts(counts(splits, {"a": 7, "b": 4, "c": 1}), where="m.csv"), "m.csv: class(es) with zero rows in split 'train': 'c' (they appear in other splits; give them --missing-weight, or choose --from-split)"),
    ):  # fmt: skip
        with pytest.raises(RebalanceError) as refused:
            call()
        assert str(refused.value) == message
    # one class in the data is fine when --classes lists the others
    listed, _ = weights_from_counts(counts(None, {"a": 3}), classes=["a", "b"], missing_weight=0.0)
    assert listed.weights == {"a": 1.0, "b": 0.0}


def test_with_sample_weights_missing_labels() -> None:
    table = pa.table({"label": ["a", "a", "b", None], "x": [1, 2, 3, 4]})
    kept, found, split = with_sample_weights(table)
    assert split is None and kept.column("weight").to_pylist()[:3] == pytest.approx(
        [0.75, 0.75, 1.5]
    )
    assert kept.column("weight").to_pylist()[3] is None
    dropped, _, _ = with_sample_weights(table, missing="drop", weight_col="w")
    assert dropped.column("x").to_pylist() == [1, 2, 3]
    assert dropped.column("w").to_pylist() == pytest.approx([0.75, 0.75, 1.5])
    with pytest.raises(RebalanceError, match="row"):
        with_sample_weights(table, missing="error")


def test_class_weights_object_is_what_the_cli_writes(tmp_path: Path) -> None:
    doc = class_weights(COUNTS).to_dict()
    assert json.loads(json.dumps(doc)) == doc
    assert isinstance(class_weights(COUNTS), ClassWeights)


# ---------------------------------------------------------------- manifest_weights


@pytest.fixture
def seg(tmp_path: Path) -> Path:
    """Four 4x4 masks (classes 0, 1 and a rare 7), three train and one val, in seg/."""
    from PIL import Image

    folder = tmp_path / "seg"
    (folder / "m").mkdir(parents=True)
    rows = ["img,mask,part"]
    for i in range(4):
        m = np.zeros((4, 4), np.uint8)
        m[: (i % 3) + 1, :] = 1
        if i == 0:
            m[3, 3] = 7
        Image.fromarray(m, mode="L").save(folder / f"m/{i}.png")
        rows.append(f"i{i}.png,m/{i}.png,{'val' if i == 3 else 'train'}")
    (folder / "seg.txt").write_text("\n".join(rows) + "\n")
    return folder / "seg.txt"


def pixels(seg: Path, which: list[int]) -> dict[str, int]:
    from PIL import Image

    total: dict[str, int] = {}
    for i in which:
        values, n = np.unique(np.asarray(Image.open(seg.parent / f"m/{i}.png")), return_counts=True)
        for v, c in zip(values.tolist(), n.tolist(), strict=True):
            total[str(v)] = total.get(str(v), 0) + c
    return total


def test_pixel_weights_from_a_path_with_every_option(seg: Path, tmp_path: Path) -> None:
    from rebalance.weights import manifest_weights

    steps: list[int] = []
    found = manifest_weights(
        str(seg), mask_col="mask", input_format="csv", split_col="part", workers=1,
        step=steps.append,
    )  # fmt: skip
    assert (found.label_col, found.split_col, found.split) == ("mask", "part", "train")
    assert found.weights.counts == pixels(seg, [0, 1, 2])
    assert sum(steps) == 3  # one step per mask of the split read
    val = manifest_weights(str(seg), mask_col="mask", input_format="csv", split_col="part",
                           from_split="val")  # fmt: skip
    assert val.split == "val" and val.weights.counts == pixels(seg, [3])
    every = manifest_weights(str(seg), mask_col="mask", input_format="csv", detect_split=False)
    assert every.split_col is None and every.weights.counts == pixels(seg, [0, 1, 2, 3])
    names = tmp_path / "names.json"
    names.write_text('{"0": "road", "1": "sky", "7": "light"}')
    named = manifest_weights(str(seg), mask_col="mask", input_format="csv", split_col="part",
                             mask_classes=str(names))  # fmt: skip
    assert named.weights.classes == ["light", "road", "sky"]
    # relative mask paths from --root instead of the manifest's folder
    moved = tmp_path / "elsewhere.csv"
    moved.write_text(seg.read_text())
    rooted = manifest_weights(str(moved), mask_col="mask", split_col="part", root=str(seg.parent))
    assert rooted.weights.counts == found.weights.counts
    # median frequency over the pixels of the masks that hold each class
    median = manifest_weights(str(seg), mask_col="mask", input_format="csv", split_col="part",
                              scheme="median")  # fmt: skip
    per_image = {"0": 48, "1": 48, "7": 16}  # class 7 is only in mask 0
    freq = {k: n / per_image[k] for k, n in found.weights.counts.items()}
    mid = float(np.median(list(freq.values())))
    assert median.weights.weights == approx({k: mid / f for k, f in freq.items()})
    latin = tmp_path / "latin.csv"
    latin.write_bytes(seg.read_text().replace("part", "p\xe4rt").encode("latin-1"))
    (tmp_path / "m").symlink_to(seg.parent / "m")
    decoded = manifest_weights(str(latin), mask_col="mask", encoding="latin-1", split_col="p\xe4rt")
    assert decoded.weights.counts == found.weights.counts


def test_pixel_weights_refuse(seg: Path, tmp_path: Path) -> None:
    from rebalance.weights import manifest_weights

    with pytest.raises(RebalanceError) as no_split:
        manifest_weights(str(seg), mask_col="mask", input_format="csv", detect_split=False,
                         from_split="train")  # fmt: skip
    assert str(no_split.value) == "--from-split 'train' needs a split column (--split-col)"
    with pytest.raises(RebalanceError) as bad:
        manifest_weights(str(seg), mask_col="mask", input_format="csv", split_col="part",
                         from_split="test")  # fmt: skip
    assert str(bad.value) == f"{seg}: no split 'test' (splits: train, val)"
    with pytest.raises(RebalanceError) as typo:
        manifest_weights(str(seg), mask_col="mask", input_format="csv", split_col="prt")
    assert str(typo.value) == f"{seg}: no column 'prt' (did you mean 'part'?)"
    one = tmp_path / "one.csv"
    one.write_text("mask\n" + "".join(f"{seg.parent}/m/3.png\n" for _ in range(2)))
    from PIL import Image

    Image.fromarray(np.ones((4, 4), np.uint8), mode="L").save(tmp_path / "ones.png")
    one.write_text(f"mask\n{tmp_path / 'ones.png'}\n")
    with pytest.raises(RebalanceError) as single:
        manifest_weights(str(one), mask_col="mask")
    assert (
        str(single.value)
        == f"{one}: the masks hold one class only ('1'): there is nothing to weight"
    )


def test_label_weights_from_a_path_with_every_option(tmp_path: Path) -> None:
    from rebalance.weights import manifest_weights

    path = tmp_path / "m.txt"
    path.write_text("kind,part,x\na,train,1\na,train,2\nb,train,3\n,train,4\nb,val,5\nc,val,6\n")
    found = manifest_weights(
        str(path), label_col="kind", split_col="part", input_format="csv", missing="drop",
        missing_weight=0.0,
    )  # fmt: skip
    assert (found.label_col, found.split_col, found.split) == ("kind", "part", "train")
    assert found.weights.counts == {"a": 2, "b": 1, "c": 0}
    val = manifest_weights(str(path), label_col="kind", split_col="part", input_format="csv",
                           from_split="val", missing_weight=0.0)  # fmt: skip
    assert val.split == "val" and val.weights.counts == {"a": 0, "b": 1, "c": 1}
    every = manifest_weights(str(path), label_col="kind", input_format="csv", detect_split=False)
    assert every.split_col is None and every.weights.counts == {"a": 2, "b": 2, "c": 1}
    with pytest.raises(RebalanceError) as strict:
        manifest_weights(str(path), label_col="kind", input_format="csv", missing="error",
                         detect_split=False)  # fmt: skip
    assert "no label" in str(strict.value) and str(path) in str(strict.value)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("kl\xe4sse\nx\ny\ny\n".encode("latin-1"))
    decoded = manifest_weights(str(latin), label_col="kl\xe4sse", encoding="latin-1")
    assert decoded.weights.counts == {"x": 1, "y": 2}
    table = pa.table({"label": ["a", "b", "b"], "split": ["train"] * 3})
    in_memory = manifest_weights(table)
    assert in_memory.split_col == "split" and in_memory.split == "train"
    with pytest.raises(RebalanceError) as one:
        manifest_weights(pa.table({"label": ["a", "a"]}))
    assert str(one.value).startswith("table: only one class ('a')") or "only one class" in str(
        one.value
    )
    local = manifest_weights(str(path), label_col="kind", detect_split=False, input_format="csv",
                             engine="local")  # fmt: skip
    assert local.weights.counts == every.weights.counts


def test_more_corners() -> None:
    assert log_priors(class_weights({"a": 1, "b": 3})) == pytest.approx(
        [math.log(0.25), math.log(0.75)]
    )
    ten = [f"l{i}" for i in range(10)]
    with pytest.raises(RebalanceError) as refused:
        class_weights(COUNTS, classes=["a", "b", "c", *ten])
    assert str(refused.value).startswith(
        f"class(es) with no rows in the data: {', '.join(map(repr, ten))} (remove"
    )  # exactly ten: no "… more"
    assert raw_weights(COUNTS, "effective") == approx(
        {k: 0.001 / (1 - 0.999**n) for k, n in COUNTS.items()}
    )
    assert raw_weights(COUNTS, "enet") == approx(
        {k: 1 / math.log(1.02 + n / 100) for k, n in COUNTS.items()}
    )
    with pytest.raises(RebalanceError) as clip:
        parse_clip("1:2:3")
    assert str(clip.value) == "--clip '1:2:3' must look like MIN:MAX, e.g. 0.1:10"
    enet = class_weights(COUNTS, scheme="enet", c=1.1)
    assert enet.weights == approx({k: 1 / math.log(1.1 + n / 100) for k, n in COUNTS.items()})
    # clip, then n-samples again: sum of n_c * w_c is n once more
    again = class_weights(COUNTS, normalize="n-samples", clip=(0.0, 1.0), renormalize=True)
    assert sum(COUNTS[k] * w for k, w in again.weights.items()) == pytest.approx(100)
    with pytest.raises(RebalanceError) as where:
        weights_from_counts(counts(None, {"a": 2}))
    assert str(where.value).startswith("manifest: only one class ('a')")
    splits = {"train": {"a": 6, "b": 3}}
    with pytest.raises(RebalanceError) as no_split:
        weights_from_counts(counts(splits, {"a": 6, "b": 3}), from_split="x", where="m.csv")
    assert str(no_split.value) == "m.csv: no split 'x' (splits: train)"


def test_class_lines_keep_their_spaces(tmp_path: Path) -> None:
    path = tmp_path / "classes.txt"
    path.write_bytes(b"dog \r\n\tcat\r\nBOX\n")
    assert read_classes_file(str(path)) == ["dog ", "\tcat", "BOX"]


def test_every_argument_reaches_its_reader(seg: Path, tmp_path: Path) -> None:
    from rebalance.engine.local import LocalEngine
    from rebalance.weights import manifest_weights

    # a split column under the usual name: detected unless detect_split=False
    usual = tmp_path / "seg" / "usual.csv"
    usual.write_text(seg.read_text().replace("part", "split"))
    split = manifest_weights(str(usual), mask_col="mask")
    assert split.split_col == "split" and split.split == "train"
    whole = manifest_weights(str(usual), mask_col="mask", detect_split=False)
    assert whole.split_col is None and whole.split is None
    assert whole.weights.counts == pixels(seg, [0, 1, 2, 3])
    twice = tmp_path / "seg" / "twice.csv"
    twice.write_text("mask,Split,SPLIT\nm/0.png,train,train\nm/1.png,train,train\n")
    with pytest.raises(RebalanceError) as several:
        manifest_weights(str(twice), mask_col="mask")
    assert str(several.value) == (
        f"{twice}: several columns could be the split ('Split', 'SPLIT'); choose one with --split-col"
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("label,split,x\na,train,1\nb,train,2\nb,val,3\nc,val,4\n")
    no_split = manifest_weights(str(labels), detect_split=False)
    assert no_split.split_col is None and no_split.weights.counts == {"a": 1, "b": 2, "c": 1}

    class Recording(LocalEngine):
        seen: list[str] = []

        def counts(self, source, label_col, split_col):  # type: ignore[no-untyped-def]
            self.seen.append(label_col)
            return super().counts(source, label_col, split_col)

    engine = Recording()
    manifest_weights(str(labels), engine=engine, missing_weight=0.0)
    assert engine.seen == ["label"]
    single = tmp_path / "single.csv"
    single.write_text("label\na\na\n")
    with pytest.raises(RebalanceError) as one:
        manifest_weights(str(single))
    assert str(one.value).startswith(f"{single}: only one class ('a')")


def test_with_sample_weights_options() -> None:
    table = pa.table(
        {
            "kind": ["a", "a", "b", "b", "c", None],
            "split": ["train", "train", "train", "val", "val", "train"],
            "part": ["val", "val", "train", "train", "train", "train"],
        }
    )
    out, found, chosen = with_sample_weights(table, label_col="kind", missing_weight=0.0)
    assert chosen == "train" and found.counts == {"a": 2, "b": 1, "c": 0}
    assert out.column("weight").to_pylist() == pytest.approx(
        [0.75, 0.75, 1.5, 1.5, 0.0, None], nan_ok=True
    )
    by_part, found, chosen = with_sample_weights(
        table, label_col="kind", split_col="part", missing_weight=0.0
    )
    assert chosen == "train" and found.counts == {"a": 0, "b": 2, "c": 1}
    val, found, chosen = with_sample_weights(
        table, label_col="kind", from_split="val", missing_weight=0.0, scheme="inverse"
    )
    assert chosen == "val" and found.scheme == "inverse" and found.counts["b"] == 1
    every, found, chosen = with_sample_weights(table, label_col="kind", detect_split=False)
    assert chosen is None and found.counts == {"a": 2, "b": 2, "c": 1}
    with pytest.raises(RebalanceError) as missing:
        with_sample_weights(table, label_col="kind", missing="error", where="m.csv")
    assert str(missing.value).startswith("m.csv: ") and "'kind'" in str(missing.value)
    with pytest.raises(RebalanceError) as named:
        with_sample_weights(table, label_col="knd", where="m.csv")
    assert str(named.value) == "m.csv: no column 'knd' (did you mean 'kind'?)"
    with pytest.raises(RebalanceError) as default_where:
        with_sample_weights(table, label_col="knd")
    assert str(default_where.value).startswith("manifest: no column 'knd'")
    with pytest.raises(RebalanceError) as one:
        with_sample_weights(pa.table({"label": ["a", "a"]}), where="m.csv")
    assert str(one.value).startswith("m.csv: only one class ('a')")
    kept, _, _ = with_sample_weights(pa.table({"label": ["a", "b", "b"], "x": [1, 2, 3]}),
                                     missing="drop")  # fmt: skip
    assert kept.column("x").to_pylist() == [1, 2, 3]  # nothing to drop: every row kept


def test_focal_loss_takes_float_class_indices() -> None:
    p = np.array([[0.9, 0.1], [0.3, 0.7]])
    assert focal_loss(p, np.array([0.0, 1.0]), [1.0, 1.0], 0.0) == pytest.approx(
        -(math.log(0.9) + math.log(0.7)) / 2
    )


def test_listed_classes_keep_their_order_with_splits() -> None:
    splits = {"train": {"a": 6, "b": 3}}
    got, _ = weights_from_counts(counts(splits, {"a": 6, "b": 3}), classes=["b", "a"])
    assert got.classes == ["b", "a"]


def test_sample_weights_refuse_a_label_column_that_holds_no_labels() -> None:
    from rebalance.weights import with_sample_weights

    table = pa.table({"label": pa.array([{"a": 1}, {"a": 2}]), "x": [1, 2]})
    with pytest.raises(RebalanceError) as refused:
        with_sample_weights(table, where="t.parquet")
    assert str(refused.value) == (
        "t.parquet: column 'label' holds struct<a: int64> values, which are not labels "
        "(choose another --label-col)"
    )

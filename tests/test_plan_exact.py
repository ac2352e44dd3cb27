"""The plan module, exactly: every parsed target, every message and every field of the
plan document (its mutation score is in the README: a wrong change here must fail)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rebalance.errors import RebalanceError
from rebalance.plan import (
    Target,
    cleaned_classes,
    cleaning_plan,
    parse_target,
    plan_targets,
    read_plan_file,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max", Target("max", None, "max")),
        (" MIN ", Target("min", None, "MIN")),
        ("Median", Target("median", None, "Median")),
        ("mean", Target("mean", None, "mean")),
        ("sqrt", Target("power", 0.5, "sqrt")),
        ("SQRT", Target("power", 0.5, "SQRT")),
        ("500", Target("count", 500.0, "500")),
        (7, Target("count", 7.0, "7")),
        ("ratio:10", Target("ratio", 10.0, "ratio:10")),
        ("ratio: 2.5", Target("ratio", 2.5, "ratio: 2.5")),
        ("ratio:1E1", Target("ratio", 10.0, "ratio:1E1")),
        ("power:0.25", Target("power", 0.25, "power:0.25")),
        ("power:0", Target("power", 0.0, "power:0")),
        ("power:1", Target("power", 1.0, "power:1")),
        ("repeat-factor:0.001", Target("repeat-factor", 0.001, "repeat-factor:0.001")),
        ("repeat-factor:1", Target("repeat-factor", 1.0, "repeat-factor:1")),
    ],
)
def test_parse_target(text: str | int, expected: Target) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (True, "target must be a string such as 'max', 'ratio:10' or a row count, got True"),
        (1.5, "target must be a string such as 'max', 'ratio:10' or a row count, got 1.5"),
        ("0", "--target 0: a class cannot be resampled to 0 rows"),
        ("ratio:1-2", "--target ratio:1-2: '1-2' is not a number"),
        ("ratio:0.5", "--target ratio:0.5: R must be at least 1"),
        ("power:1.5", "--target power:1.5: Q must be between 0 and 1"),
        ("power:-0.1", "--target power:-0.1: Q must be between 0 and 1"),
        ("repeat-factor:0", "--target repeat-factor:0: T must be in (0, 1], e.g. repeat-factor:0.001"),
        ("repeat-factor:1.5", "--target repeat-factor:1.5: T must be in (0, 1], e.g. repeat-factor:0.001"),
        ("most", "--target 'most' is not a target (use one of: max, min, median, mean, N, ratio:R, sqrt, power:Q, repeat-factor:T)"),
    ],
)  # fmt: skip
def test_parse_target_refuses(text: object, message: str) -> None:
    with pytest.raises(RebalanceError) as refused:
        parse_target(text)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_default_target_and_the_plan_document() -> None:
    plan = plan_targets({"a": 30, "b": 10})
    assert plan.to_dict() == {
        "target": "max",
        "mode": "over",
        "clamps": {"min_per_class": None, "max_per_class": None},
        "rows_before": 40,
        "rows_after": 60,
        "rows_added": 20,
        "rows_removed": 0,
        "classes": {"a": {"before": 30, "after": 30}, "b": {"before": 10, "after": 30}},
    }
    both = plan_targets({"b": 10, "a": 30, "c": 10}, "20", min_per_class=12, max_per_class=25)
    assert both.to_dict() == {
        "target": "20",
        "mode": "both",
        "clamps": {"min_per_class": 12, "max_per_class": 25},
        "rows_before": 50,
        "rows_after": 60,
        "rows_added": 20,
        "rows_removed": 10,
        # count-descending, ties by label
        "classes": {
            "a": {"before": 30, "after": 20},
            "b": {"before": 10, "after": 20},
            "c": {"before": 10, "after": 20},
        },
    }
    assert list(both.to_dict()["classes"]) == ["a", "b", "c"]
    assert plan_targets({"a": 3, "b": 1}, Target("min")).target == "min"


def test_median_and_mean_of_tiny_classes_are_one_row() -> None:
    assert plan_targets({"a": 1, "b": 1, "c": 3}, "median").targets == {"a": 1, "b": 1, "c": 1}
    assert plan_targets({"a": 1, "b": 1, "c": 1, "d": 2}, "mean").targets == {
        "a": 1, "b": 1, "c": 1, "d": 1,
    }  # fmt: skip
    # both mode with a band whose low end is 1
    assert plan_targets({"a": 1, "b": 1}, "ratio:1", mode="both").targets == {"a": 1, "b": 1}
    assert plan_targets({"a": 1, "b": 4}, "ratio:4", mode="both").targets == {"a": 1, "b": 4}


def test_largest_remainder_breaks_ties_by_the_largest_remainder_then_label() -> None:
    # shares 1:1:2 of 6 rows -> exact 1.5, 1.5, 3: the row left goes to the first label of
    # the two equal remainders
    plan = plan_targets({"b": 1, "a": 1, "c": 4}, "power:0.5")
    assert plan.targets == {"a": 2, "b": 1, "c": 3}
    exact = plan_targets({"x": 1, "y": 1, "z": 1, "w": 9}, "power:0")  # 12 rows / 4 = 3 each
    assert exact.targets == {"x": 3, "y": 3, "z": 3, "w": 3}
    # 10 rows over shares 1, 1, 1: 3.33 each, the one left goes to the first label
    tie = plan_targets({"c": 2, "a": 4, "b": 4}, "power:0")
    assert tie.targets == {"a": 4, "b": 3, "c": 3}
    # the remainders differ: 7 rows over shares 1 and 2 -> 2.33, 4.67: the larger gets it
    odd = plan_targets({"a": 1, "b": 6}, "power:0.38685280723454163")  # 6**q == 2
    assert odd.targets == {"a": 2, "b": 5}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "sideways"}, "--mode 'sideways' must be one of: under, over, both"),
        ({"min_per_class": 0}, "--min-per-class must be at least 1, got 0"),
        ({"max_per_class": -2}, "--max-per-class must be at least 1, got -2"),
        ({"min_per_class": 5, "max_per_class": 4}, "--min-per-class 5 is greater than --max-per-class 4"),
        ({"per_class": {"zz": 3, "yy": 1}}, "the plan names class(es) not in the data: 'yy', 'zz'"),
        ({"per_class": {"a": 0}}, "the plan gives class 'a' a target of 0: it must be at least 1"),
    ],
)  # fmt: skip
def test_plan_targets_refuses(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RebalanceError) as refused:
        plan_targets({"a": 5, "b": 2}, "max", **kwargs)
    assert str(refused.value) == message


def test_clamps_of_one_and_a_plan_target_of_one() -> None:
    plan = plan_targets({"a": 5, "b": 2}, "min", min_per_class=1, max_per_class=1)
    assert plan.targets == {"a": 1, "b": 1}
    assert plan_targets({"a": 5, "b": 2}, "max", per_class={"a": 1}).targets == {"a": 1, "b": 5}


def test_many_unknown_classes_are_cut_at_ten() -> None:
    unknown = {f"u{i:02d}": 1 for i in range(12)}
    with pytest.raises(RebalanceError) as refused:
        plan_targets({"a": 5, "b": 2}, "max", per_class=unknown)
    shown = re.findall(r"'u\d\d'", str(refused.value))
    assert shown == [f"'u{i:02d}'" for i in range(10)]


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"a": 5}, "only one class ('a'): there is nothing to rebalance"),
        ({"a": 5, "b": 0}, "only one class ('a'): there is nothing to rebalance"),
        ({"a": 0}, "only one class: there is nothing to rebalance"),
        ({}, "only one class: there is nothing to rebalance"),
    ],
)
def test_one_class_is_refused(counts: dict[str, int], message: str) -> None:
    with pytest.raises(RebalanceError) as refused:
        plan_targets(counts, "max")
    assert str(refused.value) == message


COUNTS = {"a": 50, "b": 30, "c": 30, "d": 5}


@pytest.mark.parametrize(
    ("strategy", "cleaned"),
    [
        ("auto", ["a", "b", "c"]),
        ("not minority", ["a", "b", "c"]),
        ("all", ["a", "b", "c", "d"]),
        ("majority", ["a"]),
        ("not majority", ["b", "c", "d"]),
        (["d", "b"], ["b", "d"]),
        (("c",), ["c"]),
    ],
)
def test_cleaned_classes(strategy: object, cleaned: list[str]) -> None:
    assert cleaned_classes(COUNTS, strategy) == cleaned


def test_cleaned_classes_ties() -> None:
    # equal counts: the minority and the majority are the first label in text order
    assert cleaned_classes({"b": 5, "a": 5, "c": 9}, "auto") == ["b", "c"]
    assert cleaned_classes({"b": 9, "a": 9, "c": 1}, "majority") == ["a"]
    assert cleaned_classes({"1": 3, "2": 3}, [1]) == ["1"]  # JSON numbers name text labels


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ("most", "--param sampling_strategy 'most' is not one of auto, all, majority, not minority, not majority (or a JSON list of classes)"),
        (["a", "zz"], "--param sampling_strategy names 'zz', which is not a class (classes: a, b, c, d)"),
        ([], "--param sampling_strategy [] for a cleaning method is one of auto, all, majority, not minority, not majority or a non-empty JSON list of classes"),
        (3, "--param sampling_strategy 3 for a cleaning method is one of auto, all, majority, not minority, not majority or a non-empty JSON list of classes"),
    ],
)  # fmt: skip
def test_cleaned_classes_refuses(strategy: object, message: str) -> None:
    with pytest.raises(RebalanceError) as refused:
        cleaned_classes(COUNTS, strategy)
    assert str(refused.value) == message


def test_classes_listed_are_cut_at_ten() -> None:
    counts = {f"k{i:02d}": i + 1 for i in range(12)}
    with pytest.raises(RebalanceError) as refused:
        cleaned_classes(counts, ["zz"])
    assert str(refused.value).endswith(f"(classes: {', '.join(sorted(counts)[:10])})")


def test_cleaning_plans_and_their_document() -> None:
    tomek = cleaning_plan(COUNTS, "tomek")
    assert tomek.may_remove == {"a": 50, "b": 30, "c": 30}  # min(n_c, n - n_c); n = 115
    small = cleaning_plan({"a": 100, "b": 30, "c": 10}, "tomek", "all")
    assert small.may_remove == {"a": 40, "b": 30, "c": 10}
    enn = cleaning_plan({"a": 100, "b": 30, "c": 10}, "enn", "not majority")
    assert enn.may_remove == {"b": 30, "c": 10}
    assert enn.targets == enn.counts == {"a": 100, "b": 30, "c": 10}
    assert enn.to_dict() == {
        "target": "clean",
        "mode": "clean",
        "clamps": {},
        "rows_before": 140,
        "rows_after": 140,
        "rows_added": 0,
        "rows_removed": 0,
        "rows_removed_at_most": 40,
        "classes": {
            "a": {"before": 100, "after": 100, "removed_at_most": 0},
            "b": {"before": 30, "after": 30, "removed_at_most": 30},
            "c": {"before": 10, "after": 10, "removed_at_most": 10},
        },
    }
    assert enn.cleaning and not plan_targets({"a": 2, "b": 1}).cleaning
    with pytest.raises(RebalanceError, match="only one class"):
        cleaning_plan({"a": 3, "b": 0}, "tomek")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("p.json", '{"cat": 500, "dog": 20.0}', {"cat": 500, "dog": 20}),
        ("p.json", '{"targets": {"cat": 5}}', {"cat": 5}),
        ("p.JSON", '{"classes": {"cat": {"before": 9, "after": 4}, "dog": 7}}', {"cat": 4, "dog": 7}),
        ("p.toml", "[targets]\ncat = 5\n'01' = 2\n", {"cat": 5, "01": 2}),
        ("p.TOML", "[targets]\ncat = 3\n", {"cat": 3}),
        ("p.txt", '{"1": 2}', {"1": 2}),
    ],
)  # fmt: skip
def test_read_plan_file(tmp_path: Path, name: str, content: str, expected: dict[str, int]) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert read_plan_file(str(path)) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.json", "{", "cannot parse the plan (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
        ("p.toml", "targets = [", "cannot parse the plan ("),
        ("p.json", "[1, 2]", 'expected per-class targets like {"cat": 500}'),
        ("p.json", "{}", 'expected per-class targets like {"cat": 500}'),
        ("p.json", '{"targets": {}}', 'expected per-class targets like {"cat": 500}'),
        ("p.json", '{"cat": 2.5}', "target for 'cat' must be a whole number, got 2.5"),
        ("p.json", '{"cat": true}', "target for 'cat' must be a whole number, got True"),
        ("p.json", '{"cat": "5"}', "target for 'cat' must be a whole number, got '5'"),
    ],
)  # fmt: skip
def test_read_plan_file_refuses(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode())
    with pytest.raises(RebalanceError) as refused:
        read_plan_file(str(path))
    assert str(refused.value).startswith(f"{path}: {message}")


def test_read_plan_file_missing_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(RebalanceError) as missing:
        read_plan_file(str(tmp_path / "none.json"))
    assert (
        str(missing.value) == f"{tmp_path / 'none.json'}: cannot read (No such file or directory)"
    )
    bad = tmp_path / "p.toml"
    bad.write_bytes(b"[targets]\ncat = '\xff'\n")
    with pytest.raises(RebalanceError, match=r"p\.toml: cannot parse the plan \("):
        read_plan_file(str(bad))
    doc = tmp_path / "sidecar.json"
    doc.write_text(json.dumps({"classes": {"a": {"before": 3, "after": 6}}, "targets": None}))
    with pytest.raises(RebalanceError, match="expected per-class targets"):
        read_plan_file(str(doc))


def test_the_last_corners() -> None:
    # the plan document lists classes by count, not by label
    assert list(plan_targets({"a": 5, "b": 30}).to_dict()["classes"]) == ["b", "a"]
    # the default strategy is "auto", and the majority is the largest class, not the first
    assert cleaned_classes(COUNTS) == ["a", "b", "c"]
    assert cleaned_classes({"a": 1, "b": 9, "c": 4}, "majority") == ["b"]
    # only Tomek links bound a class by the rows of the others; ENN may remove a whole class
    assert cleaning_plan({"a": 100, "b": 30, "c": 10}, "enn", "all").may_remove == {
        "a": 100, "b": 30, "c": 10,
    }  # fmt: skip
    # a target kind the planner does not know is an error, not a silent plan
    with pytest.raises(RebalanceError) as refused:
        plan_targets({"a": 2, "b": 1}, Target("weird"), mode="both")
    assert str(refused.value) == "unknown target kind 'weird'"

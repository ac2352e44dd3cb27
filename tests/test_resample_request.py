"""The typed request of a resample: made from keywords, checked once when made, and the
same run as the keywords it came from."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from rebalance.errors import RebalanceError
from rebalance.resampling import resample, resample_file
from rebalance.resampling.request import (
    RULES,
    ImageSpec,
    MethodSpec,
    PlanSpec,
    ResampleRequest,
    Roles,
    RunHooks,
)


def table() -> pa.Table:
    return pa.table(
        {
            "label": ["a"] * 8 + ["b"] * 3 + ["c"],
            "x": [float(i) for i in range(12)],
            "y": [float(i % 5) for i in range(12)],
        }
    )


def test_keywords_go_to_their_part() -> None:
    request = ResampleRequest.of(
        label_col="label", target="sqrt", method="smote", features=["x", "y"],
        image_dir=None, seed=7, provenance=True, only_splits=["train"], split_col="s",
    )  # fmt: skip
    assert request.roles == Roles(label_col="label", split_col="s", only_splits=["train"])
    assert request.plan == PlanSpec(target="sqrt")
    assert request.method == MethodSpec(method="smote", features=["x", "y"])
    assert request.images == ImageSpec()
    assert (request.seed, request.provenance, request.shuffle) == (7, True, False)
    assert ResampleRequest.of(**request.options()) == request
    with pytest.raises(TypeError, match="'tagret'"):
        ResampleRequest.of(tagret="max")


@pytest.mark.parametrize(
    "options,message",
    [
        ({"method": "augment"}, "--method augment needs --image-dir DIR, where the new images go"),
        ({"method": "smote", "replacement": True}, "--replacement draws undersampled classes with replacement: it applies to --method random without --group-col"),
        ({"replacement": True, "group_col": "g"}, "--replacement draws undersampled classes with replacement: it applies to --method random without --group-col"),
        ({"skip_bad": True}, "--skip-bad applies to the methods that read images"),
        ({"method": "smote", "image_features": "builtin"}, "smote makes synthetic feature rows, and a synthetic row has no image: --image-features works with cluster, dedup and the methods that only remove rows"),
        ({"method": "augment", "image_dir": "out", "id_col": "id"}, "--method augment makes new rows: they have no --id-col value to copy"),
        ({"image_dir": "out"}, "--image-dir and --augment apply to --method augment"),
        ({"augment": "flip"}, "--image-dir and --augment apply to --method augment"),
        ({"mask_col": "mask"}, "resample --mask-col applies to --method augment (the masks are transformed too)"),
        ({"method": "dedup"}, "--method dedup needs --threshold D (the distance under which rows are near-duplicates)"),
        ({"threshold": 0.5}, "--threshold applies to --method dedup"),
        ({"method": "smtoe"}, "--method 'smtoe' is not a method (did you mean 'smote'?); methods: "),
        ({"seed": -1}, "seed must be in 0..4294967295, got -1"),
    ],
)  # fmt: skip
def test_a_request_is_checked_when_made(options: dict[str, object], message: str) -> None:
    with pytest.raises(RebalanceError) as refused:
        ResampleRequest.of(**options)
    assert str(refused.value).startswith(message)
    # and resample refuses it before reading any row, with the same words
    with pytest.raises(RebalanceError) as again:
        resample(pa.table({"nothing": [1]}), **options)
    assert str(again.value) == str(refused.value)


def test_every_rule_is_reachable() -> None:
    broken = [
        {"method": "augment"}, {"method": "smote", "replacement": True}, {"skip_bad": True},
        {"method": "smote", "image_features": "builtin"},
        {"method": "augment", "image_dir": "o", "id_col": "i"}, {"image_dir": "o"},
        {"mask_col": "m"}, {"method": "dedup"}, {"threshold": 1.0},
    ]  # fmt: skip
    hit = set()
    for options in broken:
        with pytest.raises(RebalanceError) as refused:
            ResampleRequest.of(**options)
        hit |= {
            i for i, rule in enumerate(RULES) if str(refused.value).endswith(rule.message[-30:])
        }
    assert hit == set(range(len(RULES)))


def test_a_request_runs_as_its_keywords_do() -> None:
    options = {"label_col": "label", "target": 6, "seed": 3, "provenance": True}
    by_keywords = resample(table(), **options)
    by_request = resample(table(), ResampleRequest.of(**options))
    assert by_request.table.equals(by_keywords.table)
    assert by_request.to_dict() == by_keywords.to_dict()
    named = resample(table(), ResampleRequest.of(**options), hooks=RunHooks(where="t.csv"))
    assert named.table.equals(by_keywords.table)
    with pytest.raises(TypeError, match="not both"):
        resample(table(), ResampleRequest.of(**options), seed=4)


def test_resample_file_takes_a_request(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    source = tmp_path / "in.csv"
    pacsv.write_csv(table(), source)
    request = ResampleRequest.of(label_col="label", target="median", seed=5)
    result = resample_file(source, tmp_path / "a.csv", request)
    same = resample_file(source, tmp_path / "b.csv", label_col="label", target="median", seed=5)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert result.to_dict() == same.to_dict()


def test_the_regression_and_multilabel_requests() -> None:
    from rebalance.multilabel.resample import MultiLabelRequest, resample_multilabel
    from rebalance.regression.resample import RegressionRequest, resample_regression

    ages = pa.table({"age": [float(i % 37) for i in range(60)], "x": list(range(60))})
    by_keywords = resample_regression(ages, label_col="age", bins=4, seed=2)
    by_request = resample_regression(ages, RegressionRequest(label_col="age", bins=4, seed=2))
    assert by_request.table.equals(by_keywords.table)
    with pytest.raises(TypeError, match="request or options"):
        resample_regression(ages, RegressionRequest(label_col="age"), seed=1)
    with pytest.raises(TypeError):
        resample_regression(ages, label="age")
    with pytest.raises(RebalanceError, match="does not resample a regression target"):
        RegressionRequest(method="smote")
    tags = pa.table({"tags": ["a|b", "a", "a", "a|c", "a", "b"] * 5})
    table, _ = resample_multilabel(tags, sep="|", seed=4, percentage=50)
    same, _ = resample_multilabel(tags, MultiLabelRequest(sep="|", seed=4, percentage=50))
    assert same.equals(table)
    with pytest.raises(RebalanceError, match="takes no --percentage or --target-meanir"):
        MultiLabelRequest(method="mlsmote", percentage=10)
    with pytest.raises(TypeError, match="request or options"):
        resample_multilabel(tags, MultiLabelRequest(sep="|"), seed=1)

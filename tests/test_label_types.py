"""Label columns of every Arrow type other tools write: a list column is multi-label data
(read as --multi-label, said once), structs and maps are one clear error naming the column
and its type, bytes are text when they are UTF-8 and one clear error naming the first bad
row when not. Through every command that reads a label column; never a traceback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rebalance.cli import app

ROWS = 12
LISTS = [["a", "b"], ["a"], ["b"], ["a", "c"], ["a"], ["b", "c"]] * 2

LABELS = {
    "list": pa.array(LISTS),
    "large_list": pa.array(LISTS, pa.large_list(pa.string())),
    "struct": pa.array([{"a": i % 3} for i in range(ROWS)]),
    "map": pa.array([[("k", i % 3)] for i in range(ROWS)], pa.map_(pa.string(), pa.int64())),
    "binary_bad": pa.array([b"a", b"b"] * 3 + [b"\xff\xfe"] + [b"a"] * 5, pa.binary()),
    "binary_ok": pa.array([b"a", b"b", b"c", b"a"] * 3, pa.binary()),
    "large_binary_bad": pa.array([b"a", b"\xc3"] + [b"b"] * 10, pa.large_binary()),
}


def manifest(folder: Path, kind: str) -> Path:
    path = folder / f"{kind}.parquet"
    pq.write_table(pa.table({"label": LABELS[kind], "x": [float(i) for i in range(ROWS)]}), path)
    return path


def run(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args)


COMMANDS = {
    "inspect": lambda src, out: ["inspect", str(src), "--json"],
    "weights": lambda src, out: ["weights", str(src), "-o", str(out / "w.json")],
    "sample-weights": lambda src, out: ["weights", str(src), "--sample-weights", "-o", str(out / "w.parquet")],
    "resample": lambda src, out: ["resample", str(src), "-o", str(out / "r.parquet")],
    "resample-smote": lambda src, out: ["resample", str(src), "-o", str(out / "r.csv"), "--method", "smote", "--features", "x"],
    "dry-run": lambda src, out: ["resample", str(src), "--dry-run"],
}  # fmt: skip

REFUSED = {
    "struct": "column 'label' holds struct<a: int64> values, which are not labels (choose another --label-col)",
    "map": "column 'label' holds map<string, int64 ('label')> values, which are not labels",
    "binary_bad": "column 'label' holds bytes that are not UTF-8 text (first at data row 7: b'\\xff\\xfe'); labels are text",
    "large_binary_bad": "column 'label' holds bytes that are not UTF-8 text (first at data row 2: b'\\xc3'); labels are text",
}  # fmt: skip


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", list(REFUSED))
def test_label_values_that_are_not_labels_are_one_error(
    tmp_path: Path, kind: str, command: str
) -> None:
    source = manifest(tmp_path, kind)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "out"
    out.mkdir()
    result = run(COMMANDS[command](source, out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rebalance: error: "), result.stderr
    assert REFUSED[kind] in lines[0]
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []  # nothing written
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("kind", ["list", "large_list"])
def test_a_list_label_column_is_read_as_multi_label(tmp_path: Path, kind: str) -> None:
    import json

    source = manifest(tmp_path, kind)
    said = "rebalance: column 'label' holds lists: read as --multi-label"
    inspected = run(["inspect", str(source), "--json"])
    assert inspected.exit_code == 0, inspected.output
    assert inspected.stderr.count(said) == 1
    explicit = run(["inspect", str(source), "--json", "--multi-label", "--label-col", "label"])
    assert json.loads(inspected.stdout) == json.loads(explicit.stdout)
    weights = run(["weights", str(source)])
    assert weights.exit_code == 0 and said in weights.stderr
    assert json.loads(weights.stdout)["scheme"] == "pos-weight"
    out = tmp_path / "r.parquet"
    resampled = run(["resample", str(source), "-o", str(out), "--percentage", "50", "--seed", "1"])
    assert resampled.exit_code == 0, resampled.output
    table = pq.read_table(out)
    assert table.schema.field("label").type == LABELS[kind].type  # kept as written
    assert table.num_rows > ROWS


def test_a_list_truth_column_is_evaluated_as_multi_label(tmp_path: Path) -> None:
    path = tmp_path / "preds.parquet"
    pq.write_table(pa.table({"y_true": pa.array(LISTS), "y_pred": pa.array([["a"]] * ROWS)}), path)
    result = run(["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert "column 'y_true' holds lists: read as --multi-label" in result.stderr
    assert '"micro"' in result.stdout or '"macro"' in result.stdout


def test_bytes_that_are_text_are_labels(tmp_path: Path) -> None:
    import json

    source = manifest(tmp_path, "binary_ok")
    result = run(["inspect", str(source), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"a": 6, "b": 3, "c": 3}
    out = tmp_path / "r.parquet"
    assert run(["resample", str(source), "-o", str(out)]).exit_code == 0
    assert pq.read_table(out).schema.field("label").type == pa.binary()  # kept as written


def test_the_library_says_the_same(tmp_path: Path) -> None:
    from rebalance.errors import RebalanceError
    from rebalance.manifest import read_manifest
    from rebalance.resampling import resample

    with pytest.raises(RebalanceError, match="holds lists .* give --multi-label"):
        resample(read_manifest(manifest(tmp_path, "list")))
    with pytest.raises(RebalanceError, match="first at data row 7"):
        resample(read_manifest(manifest(tmp_path, "binary_bad")))


KEPT = {
    "date": pa.array([1, 2, 1, 3] * 3, pa.int32()).cast(pa.date32()),
    "timestamp": pa.array([1, 2, 1, 3] * 3, pa.int64()).cast(pa.timestamp("s")),
    "decimal": pa.array([1, 2, 1, 3] * 3).cast(pa.decimal128(38, 2)),
    "bool": pa.array([True, False, True, True] * 3),
    "dictionary_int": pa.array([1, 2, 1, 3] * 3).dictionary_encode(),
    "float16": pa.array(np.array([1, 2, 1, 3] * 3, dtype=np.float16)),
    "duration": pa.array([1, 2, 1, 3] * 3, pa.int64()).cast(pa.duration("s")),
    "nan_float": pa.array([1.0, float("nan"), 1.0, 3.0] * 3),
}


@pytest.mark.parametrize("kind", list(KEPT))
def test_the_types_that_worked_still_work(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(pa.table({"label": KEPT[kind], "x": [float(i) for i in range(ROWS)]}), path)
    for args in (
        ["inspect", str(path), "--json"],
        ["weights", str(path)],
        ["resample", str(path), "-o", str(tmp_path / "r.parquet")],
    ):
        result = run(args)
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output
    written = pq.read_table(tmp_path / "r.parquet").schema.field("label").type
    assert written == pq.read_table(path).schema.field("label").type  # the input's, as read


@pytest.mark.parametrize("kind", ["struct", "map", "binary_bad"])
def test_evaluate_and_advise_refuse_them_too(tmp_path: Path, kind: str) -> None:
    preds = tmp_path / "preds.parquet"
    truth = LABELS[kind]
    pq.write_table(pa.table({"y_true": truth, "y_pred": truth}), preds)
    evaluated = run(["evaluate", str(preds)])
    assert evaluated.exit_code == 2 and "Traceback" not in evaluated.output
    assert REFUSED[kind].replace("'label'", "'y_true'") in evaluated.stderr
    advised = run(["advise", str(manifest(tmp_path, kind)), "--folds", "2"])
    assert advised.exit_code == 2 and "Traceback" not in advised.output
    assert REFUSED[kind] in advised.stderr

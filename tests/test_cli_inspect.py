"""`rebalance inspect` through the CLI, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

runner = CliRunner()

SCHEMA_KEYS = {
    "rows", "classes", "counts", "imbalance_ratio", "majority", "minority", "median_count",
    "entropy", "effective_classes", "gini", "singletons", "small_classes", "missing_labels",
}  # fmt: skip


def run(*args: str, input: str | bytes | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


def test_json_schema_and_values(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 80, "b": 15, "01": 5})
    result = run("inspect", str(path), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert SCHEMA_KEYS <= set(doc)
    assert doc["counts"] == {"a": 80, "b": 15, "01": 5}
    assert list(doc["counts"]) == ["a", "b", "01"]
    assert doc["imbalance_ratio"] == 16.0 and doc["minority"] == "01"
    assert doc["small_classes"] == ["01"] and doc["singletons"] == []
    assert "splits" not in doc
    assert "label column 'label'" in result.stderr


def test_table_output_for_people(make_manifest) -> None:  # type: ignore[no-untyped-def]
    result = run("inspect", str(make_manifest({"cat": 30, "dog": 3})))
    assert result.exit_code == 0
    assert (
        "cat" in result.stdout and "imbalance ratio" in result.stdout and "10 : 1" in result.stdout
    )
    assert "\x1b[" not in result.stdout  # not a TTY: no colour codes


def test_many_classes_are_truncated_unless_all(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({f"c{i:03d}": 1 + i for i in range(200)})
    short = run("inspect", str(path))
    assert "… 180 more" in short.stdout
    full = run("inspect", str(path), "--all")
    assert "more" not in full.stdout and "c000" in full.stdout


def test_markdown_and_csv_formats(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 3, "b": 1})
    md = run("inspect", str(path), "--format", "markdown")
    assert md.exit_code == 0 and "| a | 3 | 75.00% |" in md.stdout
    out = run("inspect", str(path), "--format", "csv")
    assert out.stdout.splitlines()[:3] == ["label,count,share", "a,3,0.75", "b,1,0.25"]


def test_stdin_with_label_col() -> None:
    result = run(
        "inspect", "-", "--label-col", "class", "--json", input="class,x\n01,1\n1,2\n01,3\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"01": 2, "1": 1}


def test_ratio_gate_exits_1_and_names_classes(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"big": 100, "tiny": 2})
    ok = run("inspect", str(path), "--max-ratio", "50")
    assert ok.exit_code == 0
    failed = run("inspect", str(path), "--max-ratio", "49", "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["imbalance_ratio"] == 50.0  # the report still prints
    assert "gate failed: imbalance ratio 50 > 49" in failed.stderr
    assert "'tiny'" in failed.stderr


def test_small_class_gate(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 30, "b": 4, "c": 9})
    assert run("inspect", str(path), "--fail-on-small", "--min-count", "4").exit_code == 0
    failed = run("inspect", str(path), "--fail-on-small")
    assert failed.exit_code == 1
    assert "2 class(es) under --min-count 10: 'c' (9), 'b' (4)" in failed.stderr


def test_splits_in_json(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest(
        {"a": 8, "b": 4, "rare": 1},
        split=lambda i, label: "val" if label == "a" and i < 4 else "train",
    )
    doc = json.loads(run("inspect", str(path), "--json").stdout)
    assert set(doc["splits"]) == {"train", "val"}
    assert SCHEMA_KEYS <= set(doc["splits"]["train"])
    assert doc["split_drift"]["absent_from_split"] == {"val": ["b", "rare"]}
    assert "splits" not in json.loads(run("inspect", str(path), "--json", "--no-split").stdout)


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda p: None, ["missing.csv"], "missing.csv: no such file"),
        (lambda p: (p / "e.csv").write_text(""), ["e.csv"], "e.csv: file is empty"),
        (
            lambda p: (p / "h.csv").write_text("label\n"),
            ["h.csv"],
            "h.csv: no data rows (header only)",
        ),
        (lambda p: (p / "m.xlsx").write_text("x"), ["m.xlsx"], "unknown file extension .xlsx"),
        (
            lambda p: (p / "l.csv").write_text("lable,x\na,1\n"),
            ["l.csv", "--label-col", "label"],
            "no column 'label' (did you mean 'lable'?)",
        ),
        (
            lambda p: (p / "n.csv").write_text("name,x\na,1\n"),
            ["n.csv"],
            "no label column found among label, class, target, y, category",
        ),
        (
            lambda p: (p / "c.parquet").write_bytes(b"garbage!"),
            ["c.parquet"],
            "not a readable Parquet file",
        ),
        (
            lambda p: (p / "u.csv").write_bytes(b"label\n\xff\n"),
            ["u.csv"],
            "cannot decode the text as utf-8 (pass the right --encoding",
        ),
        (
            lambda p: (p / "s.csv").write_text("label\na\n\n"),
            ["s.csv", "--label-col", "label", "--strict", "--drop-missing"],
            "--drop-missing and --strict cannot be used together",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch, setup, args, message
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    result = run("inspect", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rebalance: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_stdin_without_data_is_exit_2() -> None:
    result = run("inspect", "-", input="")
    assert result.exit_code == 2
    assert result.stderr == "rebalance: error: stdin: no data on standard input\n"


def test_missing_labels_shown_and_strict(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('label\na\n""\nb\n')
    shown = run("inspect", str(path))
    assert "<missing>" in shown.stdout and "no label" in shown.stderr
    assert run("inspect", str(path), "--strict").exit_code == 2
    doc = json.loads(run("inspect", str(path), "--drop-missing", "--json").stdout)
    assert doc["missing_labels"] == 0 and doc["rows"] == 2


@pytest.mark.parametrize("command", ["inspect", "resample", "weights", "evaluate"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("rebalance ")


def test_config_preset_sets_defaults_and_flags_win(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 100, "b": 2})
    preset = tmp_path / "p.toml"
    preset.write_text("[inspect]\nmax-ratio = 10\n")
    assert run("--config", str(preset), "inspect", str(path)).exit_code == 1
    assert run("--config", str(preset), "inspect", str(path), "--max-ratio", "60").exit_code == 0
    preset.write_text("[inspect]\nmax_ratoi = 10\n")
    bad = run("--config", str(preset), "inspect", str(path))
    assert bad.exit_code == 2 and "did you mean 'max_ratio'" in bad.stderr


def test_help_keeps_literal_brackets() -> None:
    assert "[inspect]/[resample]" in run("--help").stdout
    assert "recall[fraud]" in run("evaluate", "--help").stdout


def test_off_a_terminal_tables_use_the_full_line(tmp_path: Path) -> None:
    long = "traffic_light_" + "x" * 90
    path = tmp_path / "m.csv"
    path.write_text("label\n" + f"{long}\n" * 5 + "b\n" * 2)
    result = CliRunner().invoke(app, ["inspect", str(path), "--no-split"], env={"COLUMNS": ""})
    assert long in result.stdout  # not folded at 80 columns
    plan = CliRunner().invoke(
        app, ["resample", str(path), "--dry-run", "--no-split"], env={"COLUMNS": ""}
    )
    assert "plan (dry run)" in plan.stdout and long in plan.stdout
    narrow = CliRunner().invoke(app, ["inspect", str(path), "--no-split"], env={"COLUMNS": "60"})
    assert long not in narrow.stdout  # COLUMNS, when set, still wins


@pytest.mark.parametrize(
    ("header", "values", "doubt"),
    [
        ("path", [f"img/{i}.png" for i in range(30)], "named like a file-path column"),
        ("category", [f"data/{i % 5}/x{i}.jpg" for i in range(30)], "look like file paths"),
        ("label", [f"id{i}" for i in range(30)], "every one of the 30 rows has its own value"),
    ],
)
def test_a_label_column_that_is_probably_not_one_is_flagged(
    tmp_path: Path, header: str, values: list[str], doubt: str
) -> None:
    path = tmp_path / "m.csv"
    path.write_text(f"{header}\n" + "".join(f"{v}\n" for v in values))
    args = ["--label-col", header] if header == "path" else []
    for command in (["inspect", str(path), *args], ["weights", str(path), *args]):
        result = CliRunner().invoke(app, command)
        assert doubt in result.stderr, (command, result.stderr)
    fine = tmp_path / "ok.csv"
    fine.write_text("label\n" + "a\n" * 20 + "b\n" * 10)
    assert "probably" not in CliRunner().invoke(app, ["inspect", str(fine)]).stderr

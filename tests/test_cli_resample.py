"""`rebalance resample` through the CLI, as a user runs it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.manifest import read_manifest

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


def labels(path: Path) -> Counter[str]:
    return Counter(read_manifest(path).column("label").to_pylist())


def test_random_oversample_to_max(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 30, "b": 6, "01": 3})
    before = src.read_bytes()
    out = tmp_path / "balanced.csv"
    result = run("resample", str(src), "-o", str(out), "--target", "max")
    assert result.exit_code == 0, result.output
    assert labels(out) == {"a": 30, "b": 30, "01": 30}  # "01" stays "01"
    assert src.read_bytes() == before
    assert f"wrote {out}: 90 rows" in result.stderr


@pytest.mark.parametrize("out_name", ["out.parquet", "out.csv.gz", "out.csv"])
@pytest.mark.parametrize(
    "target", ["20", "max"]
)  # max only adds rows: written while copies are chosen
def test_byte_identical_with_same_seed(  # type: ignore[no-untyped-def]
    tmp_path: Path, make_manifest, target: str, out_name: str
) -> None:
    import os
    import subprocess
    import sys

    src = make_manifest({"a": 40, "b": 7, "c": 5}, name="train.parquet")

    def write(folder: str, seed: int, hash_seed: str) -> bytes:
        """One run in its own process (its own hash seed), as a shell would start it."""
        (tmp_path / folder).mkdir()
        out = tmp_path / folder / out_name
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "rebalance", "resample", str(src), "-o", str(out),
             "--target", target, "--seed", str(seed)],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return out.read_bytes()

    one, two = write("one", 7, "1"), write("two", 7, "2")
    assert one == two  # same input and seed: the same bytes, whatever the process
    other = write("three", 8, "1")
    same_rows = run("inspect", str(tmp_path / "three" / out_name), "--json", "--no-split")
    first_rows = run("inspect", str(tmp_path / "one" / out_name), "--json", "--no-split")
    # the same counts per class (the plan does not depend on the seed), other rows chosen
    assert json.loads(same_rows.stdout)["counts"] == json.loads(first_rows.stdout)["counts"]
    assert other != one


def test_dry_run_writes_nothing(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 100, "b": 4})
    result = run("resample", str(src), "--target", "sqrt", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "before" in result.stdout and "after" in result.stdout
    assert "rows 104 → 104" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]
    doc = json.loads(
        run("resample", str(src), "--target", "ratio:10", "--dry-run", "--plan-json").stdout
    )
    assert doc["classes"] == {"a": {"before": 100, "after": 40}, "b": {"before": 4, "after": 4}}
    assert doc["mode"] == "under" and doc["rows_removed"] == 60


def test_plan_sidecar(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 12, "b": 3})
    plan = tmp_path / "plan.json"
    result = run(
        "resample", str(src), "-o", str(tmp_path / "o.csv"), "--plan-out", str(plan), "--seed", "3"
    )
    assert result.exit_code == 0
    doc = json.loads(plan.read_text())
    assert doc["seed"] == 3 and doc["method"] == "random" and doc["version"]
    assert doc["classes"]["b"] == {"before": 3, "planned": 12, "after": 12}
    printed = run("resample", str(src), "-o", str(tmp_path / "p.csv"), "--plan-json")
    assert json.loads(printed.stdout)["rows_after"] == 24


def test_provenance_columns(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 4, "b": 2})
    out = tmp_path / "o.csv"
    assert run("resample", str(src), "-o", str(out), "--provenance").exit_code == 0
    text = out.read_text().splitlines()
    assert text[0] == "path,label,x,rebalance_source_row,rebalance_synthetic"
    assert text[-1].endswith(",False") and text[-1].split(",")[3] in ("4", "5")


def test_stdin_to_stdout() -> None:
    result = run(
        "resample", "-", "-o", "-", "--target", "min", input="label,v\na,1\na,2\na,3\nb,9\n"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "label,v" and sorted(line[0] for line in lines[1:]) == ["a", "b"]


def test_splits_must_be_chosen(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 20, "b": 5}, split=lambda i, label: "test" if i % 5 == 0 else "train")
    refused = run("resample", str(src), "-o", str(tmp_path / "o.csv"))
    assert refused.exit_code == 2 and "--only-split train" in refused.stderr
    out = tmp_path / "o.csv"
    ok = run("resample", str(src), "-o", str(out), "--only-split", "train")
    assert ok.exit_code == 0
    table = read_manifest(out)
    test_rows = [r for r in table.to_pylist() if r["split"] == "test"]
    assert len(test_rows) == 5


def test_smote_tomek_on_the_sample(tmp_path: Path) -> None:
    out = tmp_path / "fraud.csv"
    result = run(
        "resample", str(ROOT / "samples" / "fraud.csv"), "-o", str(out), "--method", "smote-tomek",
        "--features", "v*", "--features", "amount", "--provenance",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = read_manifest(out)
    synthetic = [r for r in table.to_pylist() if r["rebalance_synthetic"] == "True"]
    assert synthetic and all(r["id"] == "" and r["class"] == "fraud" for r in synthetic)


def test_file_manifest_with_smote_is_refused_first(tmp_path: Path) -> None:
    result = run("resample", str(ROOT / "samples" / "longtail.csv"), "-o", str(tmp_path / "o.csv"),
                 "--method", "smote", "--all-splits")  # fmt: skip
    assert result.exit_code == 2
    assert "holds file paths" in result.stderr and "--method augment" in result.stderr
    assert "--features" not in result.stderr  # the manifest has no feature to point at


def test_impossible_runs_are_refused_before_the_size_check(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text(
        "path,label\n" + "a.png,big\n" * 150_000 + "".join(f"t{i}.png,t{i}\n" for i in range(20))
    )
    smote = run("resample", str(src), "-o", str(tmp_path / "o.csv"), "--method", "smote")
    assert smote.exit_code == 2 and "holds file paths" in smote.stderr
    assert "--allow-large" not in smote.stderr
    missing = run("resample", str(src), "-o", str(tmp_path / "o.csv"), "--method", "smote",
                  "--features", "nope")  # fmt: skip
    assert missing.exit_code == 2 and "no column 'nope'" in missing.stderr
    assert "--allow-large" not in missing.stderr


def test_explosion_is_refused_with_the_planned_size(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text("label\n" + "big\n" * 150_000 + "".join(f"t{i}\n" for i in range(20)))
    result = run("resample", str(src), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert "the plan writes 3,150,000 rows" in result.stderr and "--allow-large" in result.stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ({"a": 5}, ["--target", "max"], "only one class ('a'): there is nothing to rebalance"),
        ({"a": 5, "b": 2}, ["--target", "0"], "--target 0: a class cannot be resampled to 0 rows"),
        ({"a": 5, "b": 2}, ["--method", "smite"], "--method 'smite' is not a method"),
        ({"a": 5, "b": 2}, ["--target", "ratio:x"], "is not a target"),
        ({"a": 5, "b": 2}, ["--label-col", "lbl"], "no column 'lbl' (did you mean 'label'?)"),
    ],
)
def test_bad_input_exit_2(tmp_path: Path, make_manifest, setup, args, message) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest(setup)
    result = run("resample", str(src), "-o", str(tmp_path / "o.csv"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_plan_naming_unknown_class(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 5, "b": 2})
    plan = tmp_path / "p.json"
    plan.write_text('{"zebra": 10}')
    result = run("resample", str(src), "-o", str(tmp_path / "o.csv"), "--plan", str(plan))
    assert result.exit_code == 2 and "not in the data: 'zebra'" in result.stderr


def test_no_output_named_and_overwrite_refused(make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 5, "b": 2})
    assert "name the output with -o" in run("resample", str(src)).stderr
    same = run("resample", str(src), "-o", str(src))
    assert same.exit_code == 2 and "refusing to overwrite the input" in same.stderr


@pytest.mark.parametrize("preset", sorted((ROOT / "configs").glob("*.toml")))
def test_shipped_presets_load_and_run(tmp_path: Path, preset: Path) -> None:
    sample = "fraud.csv" if "fraud" in preset.name else "longtail.csv"
    result = run("--config", str(preset), "resample", str(ROOT / "samples" / sample), "--dry-run")
    assert result.exit_code == 0, result.output


def test_flags_override_the_preset(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 50, "b": 2})
    preset = tmp_path / "p.toml"
    preset.write_text('[resample]\ntarget = "ratio:10"\nseed = 5\n')
    doc = json.loads(
        run("--config", str(preset), "resample", str(src), "--dry-run", "--plan-json").stdout
    )
    assert doc["target"] == "ratio:10" and doc["seed"] == 5
    doc = json.loads(
        run(
            "--config",
            str(preset),
            "resample",
            str(src),
            "--dry-run",
            "--plan-json",
            "--target",
            "max",
        ).stdout
    )
    assert doc["target"] == "max"


def test_params_reach_the_sampler(tmp_path: Path) -> None:
    src = ROOT / "samples" / "fraud.csv"
    ok = run("resample", str(src), "-o", str(tmp_path / "o.csv"), "--method", "borderline-smote",
             "--features", "v*", "--param", "kind=borderline-2", "--k-neighbors", "3", "--plan-out", str(tmp_path / "p.json"))  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "p.json").read_text())["params"] == {
        "kind": "borderline-2",
        "k_neighbors": 3,
    }
    bad = run(
        "resample",
        str(src),
        "-o",
        str(tmp_path / "o.csv"),
        "--method",
        "smote",
        "--features",
        "v*",
        "--param",
        "kindd=1",
    )
    assert bad.exit_code == 2 and "'kindd' is not a parameter of SMOTE" in bad.stderr


@pytest.mark.parametrize(
    "method", ["tomek", "enn", "renn", "allknn", "one-sided-selection", "neighbourhood-cleaning"]
)
def test_cleaning_methods_plan_removals(method: str) -> None:
    src = ROOT / "samples" / "fraud.csv"
    shown = run("resample", str(src), "--method", method, "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert "kept (minority)" in shown.stdout and "up to −" in shown.stdout
    assert "added" not in shown.stdout.replace("adds none", "")
    doc = json.loads(
        run("resample", str(src), "--method", method, "--dry-run", "--plan-json").stdout
    )
    assert doc["mode"] == "clean" and doc["rows_added"] == 0
    assert doc["rows_after"] == doc["rows_before"] == 2000
    assert doc["classes"]["fraud"]["removed_at_most"] == 0
    bound = (
        40 if method == "tomek" else 1960
    )  # a Tomek link pairs each removed row with a fraud row
    assert doc["classes"]["ok"]["removed_at_most"] == bound and doc["refused"] is None


def test_cleaning_run_stays_within_its_plan(tmp_path: Path) -> None:
    src = ROOT / "samples" / "fraud.csv"
    result = run("resample", str(src), "-o", str(tmp_path / "o.csv"), "--method", "tomek",
                 "--plan-out", str(tmp_path / "p.json"))  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["mode"] == "clean"
    out = Counter(read_manifest(tmp_path / "o.csv").column("class").to_pylist())
    assert out["fraud"] == 40 and 1960 - 40 <= out["ok"] < 1960


def test_cleaning_is_never_refused_for_size() -> None:
    from rebalance.plan import cleaning_plan
    from rebalance.resampling import check_size

    counts = {"big": 3_000_000, **{f"t{i}": 1 for i in range(5_000)}}
    plan = cleaning_plan(counts, "tomek")
    check_size(plan, plan.rows_before, allow_large=False)  # does not raise
    assert plan.rows_after == plan.rows_before


def test_dry_run_shows_a_plan_the_real_run_would_refuse(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text("label\n" + "big\n" * 150_000 + "".join(f"t{i}\n" for i in range(20)))
    shown = run("resample", str(src), "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert "rows 150,020 → 3,150,000" in shown.stdout
    assert "note: the real run would be refused: the plan writes 3,150,000 rows" in shown.stdout
    doc = json.loads(run("resample", str(src), "--dry-run", "--plan-json").stdout)
    assert "--allow-large" in doc["refused"]
    allowed = json.loads(
        run("resample", str(src), "--dry-run", "--plan-json", "--allow-large").stdout
    )
    assert allowed["refused"] is None

"""Nothing lost: inputs never overwritten, stdout holds data only, no file left after a
failure (errors, SIGTERM, a killed run), seeds checked, control characters escaped,
silent oddities said out loud, usage errors on one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import _terminated, app
from rebalance.errors import RebalanceError, RebalanceWarning
from rebalance.output import atomic_write, remove_stale_temps, staged, write_text
from rebalance.validation import check_seed

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def preds_file(path: Path, n: int = 40, flip: int = 0) -> Path:
    rows = ["y_true,y_pred,p_a,p_b"]
    for i in range(n):
        truth = "a" if i % 4 else "b"
        if i < flip:
            truth = "b" if truth == "a" else "a"
        score = 0.8 if i % 4 else 0.3
        rows.append(f"{truth},{'a' if score > 0.5 else 'b'},{score},{round(1 - score, 2)}")
    path.write_text("\n".join(rows) + "\n")
    return path


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".rebalance-"))


# 1. evaluate never overwrites what it reads -------------------------------------


@pytest.mark.parametrize("flag", ["-o", "--html", "--markdown"])
def test_evaluate_refuses_to_overwrite_its_predictions(tmp_path: Path, flag: str) -> None:
    preds = preds_file(tmp_path / "preds.csv")
    before = preds.read_bytes()
    result = run("evaluate", str(preds), flag, str(preds))
    assert result.exit_code == 2 and "refusing to overwrite the input" in result.stderr
    assert preds.read_bytes() == before


@pytest.mark.parametrize("option", ["--train-manifest", "--target-priors"])
def test_evaluate_refuses_to_overwrite_its_other_inputs(tmp_path: Path, option: str) -> None:
    preds = preds_file(tmp_path / "preds.csv")
    other = tmp_path / ("train.csv" if option == "--train-manifest" else "priors.json")
    other.write_text("label\na\nb\n" if option == "--train-manifest" else '{"a": 0.5, "b": 0.5}')
    before = other.read_bytes()
    result = run("evaluate", str(preds), option, str(other), "-o", str(other))
    assert result.exit_code == 2 and f"refusing to overwrite the input {other}" in result.stderr
    assert other.read_bytes() == before


# 2. stdout holds data and nothing else ------------------------------------------


def test_evaluate_json_to_stdout_is_pure(tmp_path: Path) -> None:
    preds = preds_file(tmp_path / "preds.csv")
    result = run("evaluate", str(preds), "-o", "-")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # the human summary did not follow it
    assert doc["n"] == 40 and "balanced accuracy" not in result.stdout


def test_evaluate_markdown_to_stdout_is_pure(tmp_path: Path) -> None:
    preds = preds_file(tmp_path / "preds.csv")
    result = run("evaluate", str(preds), "--markdown", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## Evaluation:") and "┃" not in result.stdout


def test_two_outputs_to_stdout_are_refused(tmp_path: Path) -> None:
    preds = preds_file(tmp_path / "preds.csv")
    result = run("evaluate", str(preds), "-o", "-", "--json")
    assert result.exit_code == 2
    assert "-o and --json both write to stdout" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["resample", "{src}", "-o", "-", "--no-split"],
        ["weights", "{src}"],
        ["weights", "{src}", "--format", "torch", "-o", "-"],
        ["inspect", "{src}", "--json"],
        ["resample", "{src}", "--dry-run", "--plan-json", "--no-split"],
    ],
)
def test_every_stdout_output_is_data_only(tmp_path: Path, make_manifest, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 20, "b": 5}, split=lambda i, _: "train")
    result = run(*[a.format(src=src) for a in args])
    assert result.exit_code == 0, result.output
    if args[0] == "resample" and "-o" in args:
        assert result.stdout.splitlines()[0] == "path,label,x,split"
        assert len(result.stdout.splitlines()) == 1 + 40
    else:
        json.loads(result.stdout)
    assert "rebalance:" not in result.stdout


# 3. every destination and option checked before the first byte ------------------


def test_resample_plan_out_in_missing_folder_leaves_no_output(
    tmp_path: Path, make_manifest
) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 20, "b": 5})
    out = tmp_path / "out.csv"
    result = run(
        "resample", str(src), "-o", str(out), "--plan-out", str(tmp_path / "no" / "p.json")
    )
    assert result.exit_code == 2 and "does not exist (--plan-out)" in result.stderr
    assert not out.exists()


def test_resample_plan_out_equal_to_input_leaves_no_output(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 20, "b": 5})
    before = src.read_bytes()
    out = tmp_path / "out.csv"
    result = run("resample", str(src), "-o", str(out), "--plan-out", str(src))
    assert result.exit_code == 2 and not out.exists() and src.read_bytes() == before


def test_weights_classes_out_in_missing_folder_leaves_no_output(
    tmp_path: Path,
    make_manifest,  # type: ignore[no-untyped-def]
) -> None:
    src = make_manifest({"a": 20, "b": 5})
    out = tmp_path / "w.json"
    result = run("weights", str(src), "-o", str(out), "--classes-out", str(tmp_path / "no/c.txt"))
    assert result.exit_code == 2 and not out.exists()


@pytest.mark.parametrize(
    "extra",
    [["--html", "nodir/r.html"], ["--fail-under", "bogus=0.5"], ["--markdown", "nodir/r.md"]],
)
def test_evaluate_leaves_no_report_after_a_bad_option(tmp_path: Path, extra: list[str]) -> None:
    preds = preds_file(tmp_path / "preds.csv")
    out = tmp_path / "r.json"
    extra = [str(tmp_path / e) if "/" in e else e for e in extra]
    result = run("evaluate", str(preds), "-o", str(out), *extra)
    assert result.exit_code == 2, result.output
    assert not out.exists() and temp_files(tmp_path) == []
    assert "balanced accuracy" not in result.stdout  # refused before the report was printed


def test_staged_writes_are_all_or_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    with pytest.raises(RuntimeError), staged():
        write_text(str(first), "{}")
        assert not first.exists()  # renamed only when the block succeeds
        raise RuntimeError("the second output failed")
    assert not first.exists() and not second.exists() and temp_files(tmp_path) == []
    with staged():
        write_text(str(first), "1")
        write_text(str(second), "2")
    assert first.read_text() == "1" and second.read_text() == "2"


# 4. seeds -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_bad_seeds_are_one_line_errors(tmp_path: Path, make_manifest, seed: str) -> None:  # type: ignore[no-untyped-def]
    preds = preds_file(tmp_path / "preds.csv")
    result = run("evaluate", str(preds), "--bootstrap", "20", "--seed", seed)
    assert result.exit_code == 2 and "--seed" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    src = make_manifest({"a": 30, "b": 8})
    result = run(
        "resample", str(src), "-o", str(tmp_path / "o.csv"), "--method", "smote", "--features", "x"
    )
    assert result.exit_code == 0, result.output  # the same run with a good seed works
    result = run(
        "resample",
        str(src),
        "-o",
        str(tmp_path / "o.csv"),
        "--method",
        "smote",
        "--features",
        "x",
        "--seed",
        seed,
    )
    assert result.exit_code == 2 and "--seed" in result.stderr


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7", True])
def test_library_checks_seeds(seed: object) -> None:
    with pytest.raises(RebalanceError, match="seed"):
        check_seed(seed)
    import rebalance

    with pytest.raises(RebalanceError, match="seed"):
        rebalance.resample({"label": ["a", "a", "b"]}, seed=seed)  # type: ignore[arg-type]


# 5. temporary files: SIGTERM and killed runs ---------------------------------------


def test_sigterm_mid_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import signal, sys, time
        from rebalance.cli import _terminated
        from rebalance.output import atomic_write
        signal.signal(signal.SIGTERM, _terminated)

        def write(fh):
            fh.write(b"x" * 1_000_000)
            print("writing", flush=True)
            time.sleep(30)

        atomic_write({str(tmp_path / "out.bin")!r}, write)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    assert len(temp_files(tmp_path)) == 1  # the write was under way
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert temp_files(tmp_path) == [] and not (tmp_path / "out.bin").exists()


def test_the_real_entry_point_installs_the_sigterm_handler(tmp_path: Path) -> None:
    """``rebalance`` itself (``cli.main``), not a test's own handler, turns SIGTERM into a
    clean exit 143 with no temporary file left."""
    (tmp_path / "in.csv").write_text("label\n" + "a\n" * 20 + "b\n" * 5)
    script = textwrap.dedent(
        f"""
        import sys, time
        from rebalance.manifest import write as manifest

        def slow(parts, dest, fh):
            fh.write(b"x" * 1_000_000)
            print("writing", flush=True)
            time.sleep(30)

        manifest._write_to = slow
        sys.argv = ["rebalance", "resample", {str(tmp_path / "in.csv")!r},
                    "-o", {str(tmp_path / "out.csv")!r}]
        from rebalance.cli import main
        main()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    assert len(temp_files(tmp_path)) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert temp_files(tmp_path) == [] and not (tmp_path / "out.csv").exists()


def test_sigterm_handler_unwinds_like_ctrl_c(tmp_path: Path) -> None:
    def write(fh) -> None:  # type: ignore[no-untyped-def]
        fh.write(b"partial")
        _terminated(signal.SIGTERM, None)

    with pytest.raises(SystemExit) as exited:
        atomic_write(str(tmp_path / "out.csv"), write)
    assert exited.value.code == 143 and list(tmp_path.iterdir()) == []


def _temp_name(pid: int) -> str:
    from rebalance.output import _host

    return f".rebalance-{_host()}-{pid}-abc_123.tmp"


def test_next_write_removes_temp_files_of_killed_runs(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = tmp_path / _temp_name(dead.pid)
        busy = tmp_path / _temp_name(alive.pid)
        stale.write_bytes(b"x" * 1000)
        busy.write_bytes(b"y")
        src = make_manifest({"a": 20, "b": 5})
        result = run("weights", str(src), "-o", str(tmp_path / "w.json"))
        assert result.exit_code == 0, result.output
        assert not stale.exists() and busy.exists()  # a running process keeps its file
        assert f"removed {stale} (1,000 bytes)" in result.stderr
        assert f"process {dead.pid} is gone" in result.stderr
    finally:
        alive.kill()
        alive.wait()


def test_other_hosts_temp_files_are_left_alone(tmp_path: Path) -> None:
    other = tmp_path / ".rebalance-otherhost-1-abc.tmp"
    other.write_bytes(b"z")
    assert remove_stale_temps(str(tmp_path)) == [] and other.exists()


def test_stale_removal_is_a_warning(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / _temp_name(dead.pid)).write_bytes(b"x")
    with pytest.warns(RebalanceWarning, match="interrupted rebalance run"):
        assert len(remove_stale_temps(str(tmp_path))) == 1


# 6. control characters --------------------------------------------------------------


def test_control_characters_are_escaped_for_people_kept_in_data(
    tmp_path: Path,
    make_manifest,  # type: ignore[no-untyped-def]
) -> None:
    evil = "evil\x1b[2J\x07"
    src = make_manifest(
        rows=[{"label": evil, "x": i} for i in range(3)] + [{"label": "ok", "x": 9}]
    )
    table = run("inspect", str(src), "--no-split")
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "evil\\x1b[2J\\x07" in table.stdout
    as_json = run("inspect", str(src), "--json", "--no-split")
    assert evil in json.loads(as_json.stdout)["counts"]  # JSON keeps the label verbatim
    out = tmp_path / "out.csv"
    assert run("resample", str(src), "-o", str(out), "--no-split").exit_code == 0
    assert evil in out.read_text()
    markdown = run("inspect", str(src), "--format", "markdown", "--no-split")
    assert "\x1b" not in markdown.stdout


def test_control_characters_escaped_in_errors(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 3, "b": 2})
    result = run("inspect", str(src), "--label-col", "\x1b]0;title\x07")
    assert (
        result.exit_code == 2 and "\x1b" not in result.stderr and "\\x1b]0;title" in result.stderr
    )


# 7. silent oddities ------------------------------------------------------------------


def test_compare_warns_on_different_row_counts(tmp_path: Path) -> None:
    a = preds_file(tmp_path / "a.csv", n=40)
    b = preds_file(tmp_path / "b.csv", n=36)
    result = run("evaluate", str(a), str(b))
    assert result.exit_code == 0, result.output
    assert f"{a} has 40 rows but {b} has 36" in result.stderr


def test_compare_warns_on_different_true_labels(tmp_path: Path) -> None:
    a = preds_file(tmp_path / "a.csv")
    b = preds_file(tmp_path / "b.csv", flip=3)
    result = run("evaluate", str(a), str(b))
    assert f"{a} and {b} disagree on the true label of 3 row(s)" in result.stderr
    same = run("evaluate", str(a), str(preds_file(tmp_path / "c.csv")))
    assert "not on the same examples" not in same.stderr


def test_weights_refuse_one_class(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"only": 10})
    result = run("weights", str(src))
    assert result.exit_code == 2 and "only one class ('only')" in result.stderr


def test_smote_names_the_column_with_inf(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest(
        {"a": 30, "b": 8}, f2=lambda i, _: "inf" if i == 31 else str(i % 7), f1=lambda i, _: i
    )
    result = run(
        "resample", str(src), "-o", str(tmp_path / "o.csv"), "--method", "smote", "--features", "f*"
    )
    assert result.exit_code == 2
    assert "feature column 'f2' has infinite values" in result.stderr


# 8. usage errors on one line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["inspect", "x.csv", "--zzz-unknown"],
            "No such option: --zzz-unknown (see 'rebalance inspect --help')",
        ),
        (["frobnicate"], "No such command 'frobnicate'. (see 'rebalance --help')"),
        (["weights", "x.csv", "--scheme", "nope"], "'--scheme'"),
        (["inspect"], "Missing argument 'manifest'."),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("rebalance: error: ")
    assert expected in result.stderr and "Usage:" not in result.stderr


def test_usage_error_through_the_real_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rebalance", "inspect", "--zzz-unknown", "x.csv"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "rebalance: error: No such option: --zzz-unknown (see 'rebalance inspect --help')"
    ]


def test_synthetic_rows_keep_the_one_split_they_were_made_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pyarrow as pa

    from rebalance.resampling import SYNTHETIC, resample

    rng = np.random.default_rng(0)
    n = 300
    table = pa.table({
        "split": ["val" if i % 3 == 0 else "train" for i in range(n)],
        "label": np.where(rng.random(n) < 0.1, "rare", "common"),
        "a": rng.normal(size=n), "b": rng.normal(size=n),
    })  # fmt: skip
    one = resample(table, method="smote", only_splits=["train"], provenance=True, seed=1).table
    made = one.filter(one.column(SYNTHETIC))
    assert made.num_rows > 0 and set(made.column("split").to_pylist()) == {"train"}
    mixed = resample(table, method="smote", all_splits=True, provenance=True, seed=1).table
    assert set(mixed.filter(mixed.column(SYNTHETIC)).column("split").to_pylist()) == {None}


def test_labels_that_look_like_rich_markup_are_shown_as_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from rebalance.cli import app

    path = tmp_path / "m.csv"
    path.write_text("labels\n[bold]x|b\nb\n[red]\n")
    runner = CliRunner()
    single = runner.invoke(
        app, ["inspect", str(path), "--label-col", "labels"], env={"COLUMNS": "120"}
    )
    assert "[bold]x|b" in single.stdout and "[red]" in single.stdout
    multi = runner.invoke(app, ["inspect", str(path), "--sep", "|"], env={"COLUMNS": "120"})
    assert "[bold]x" in multi.stdout and "[red]" in multi.stdout


# 6. read-only destinations ------------------------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (and a file in it) that cannot be written. As a normal user by chmod; as
    root, where ``os.access`` says yes to everything, ``os.access`` (the seam the checks
    use) answers as it would for a normal user."""
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "old.csv").write_text("label\na\n")
    (tmp_path / "rofile.csv").write_text("label\na\n")
    os.chmod(tmp_path / "rofile.csv", 0o444)
    os.chmod(folder, 0o555)
    if os.geteuid() == 0:
        real = os.access
        protected = {str(folder), str(tmp_path / "rofile.csv")}

        def access(path, mode, *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(path) in protected and mode & os.W_OK:
                return False
            return real(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)
    yield folder
    os.chmod(folder, 0o755)


@pytest.mark.parametrize(
    "args",
    [
        ["resample", "{src}", "-o", "{ro}/out.csv"],
        ["resample", "{src}", "-o", "{tmp}/ok.csv", "--plan-out", "{ro}/plan.json"],
        ["weights", "{src}", "-o", "{ro}/w.json"],
    ],
)
def test_a_read_only_folder_is_refused_before_anything_is_written(
    read_only: Path, tmp_path: Path, args: list[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("label\n" + "a\n" * 6 + "b\n" * 2)
    filled = [a.format(src=src, ro=read_only, tmp=tmp_path) for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2
    assert f"folder {read_only} is not writable" in result.stderr
    assert not (tmp_path / "ok.csv").exists()  # nothing written, not even the other output
    assert sorted(p.name for p in read_only.iterdir()) == ["old.csv"]


def test_a_read_only_file_is_not_replaced(read_only: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("label\n" + "a\n" * 6 + "b\n" * 2)
    target = tmp_path / "rofile.csv"
    result = runner.invoke(app, ["resample", str(src), "-o", str(target)])
    assert result.exit_code == 2 and f"{target}: file is read-only (-o)" in result.stderr
    assert target.read_text() == "label\na\n"

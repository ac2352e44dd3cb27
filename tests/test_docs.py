"""The README is part of the interface: its commands, options and shown output must be true."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "command", ["inspect", "resample", "weights", "evaluate", "adjust", "advise"]
)
def test_every_command_is_documented(command: str) -> None:
    assert f"rebalance {command}" in README


@pytest.mark.parametrize(
    "command", ["inspect", "weights", "resample", "evaluate", "adjust", "advise"]
)
def test_every_option_is_documented(command: str) -> None:
    import typer.main

    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    for param in click_command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                # the whole name: `--output` is not documented by `--output-format`
                assert re.search(rf"{re.escape(opt)}(?![\w-])", README), (
                    f"{opt} is not in README.md"
                )


@pytest.mark.parametrize(
    "match", list(re.finditer(r"<!-- output: rebalance (.*?) -->\n```\n(.*?)```", README, re.S))
)
def test_readme_output_is_real(match: re.Match[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(match.group(1)))
    assert result.exit_code == 0, result.output
    actual = [line.rstrip() for line in result.stdout.strip("\n").splitlines()]
    assert actual == match.group(2).strip("\n").splitlines()


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    """The quick start's main job, on a copy of the repository's samples."""
    import os
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "repo"
    (copy / "samples").mkdir(parents=True)
    for name in (
        "demo.sh",
        "longtail.csv",
        "fraud.csv",
        "fraud-predictions.csv",
        "street.csv",
        "street-classes.json",
    ):
        shutil.copy(ROOT / "samples" / name, copy / "samples" / name)
    for folder in ("street", "shapes", "shapes-coco", "shapes-yolo"):
        shutil.copytree(ROOT / "samples" / folder, copy / "samples" / folder)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),  # the user's cache folder must stay untouched
    }
    env.pop("REBALANCE_CACHE_DIR", None)
    result = subprocess.run(
        ["bash", "samples/demo.sh"], cwd=copy, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in (
        "longtail-balanced.csv",
        "plan.json",
        "fraud-smote-tomek.parquet",
        "fraud-weights.json",
        "report.html",
        "street-weights.json",
        "street-augmented.csv",
        "street-cluster.csv",
        "street-cluster-augmented.csv",
        "shapes-rfs.json",
        "shapes-train.txt",
    ):
        assert (copy / "demo-out" / name).exists(), name
    # everything it writes goes to demo-out/, the image feature cache included
    assert any((copy / "demo-out" / "cache").iterdir())
    assert not (tmp_path / "home").exists()
    assert sorted(p.name for p in copy.iterdir()) == ["demo-out", "samples"]

"""Flags that exclude each other, and presets that never beat the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture
def manifest(make_manifest):  # type: ignore[no-untyped-def]
    return make_manifest({"a": 40, "b": 10, "c": 4}, split=lambda i, _: "train" if i % 5 else "val")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["resample", "{m}", "--dry-run", "--only-split", "train", "--all-splits"],
         "--only-split and --all-splits cannot be used together"),
        (["inspect", "{m}", "--split-col", "split", "--no-split"],
         "--split-col and --no-split cannot be used together"),
        (["weights", "{m}", "--drop-missing", "--strict"],
         "--drop-missing and --strict cannot be used together"),
        (["inspect", "{m}", "--json", "--format", "markdown"],
         "--json and --format cannot be used together"),
        (["weights", "{m}", "--sample-weights", "--format", "torch"],
         "--sample-weights and --format cannot be used together"),
    ],
)  # fmt: skip
def test_conflicting_flags_are_refused(manifest: Path, args: list[str], message: str) -> None:
    result = run(*[a.format(m=manifest) for a in args])
    assert result.exit_code == 2 and message in result.stderr


def test_a_flag_beats_the_preset_it_conflicts_with(tmp_path: Path, manifest: Path) -> None:
    preset = tmp_path / "p.toml"
    preset.write_text('[resample]\nonly_split = ["train"]\ntarget = "max"\n')
    doc = json.loads(
        run(
            "--config",
            str(preset),
            "resample",
            str(manifest),
            "--dry-run",
            "--plan-json",
            "--all-splits",
        ).stdout  # fmt: skip
    )
    assert doc["rows_before"] == 54  # every row, not the preset's train split
    only = json.loads(
        run("--config", str(preset), "resample", str(manifest), "--dry-run", "--plan-json").stdout
    )
    assert only["rows_before"] < 54


def test_command_line_split_flags_beat_the_preset(tmp_path: Path, manifest: Path) -> None:
    preset = tmp_path / "p.toml"
    preset.write_text("[inspect]\nno_split = true\n")
    doc = json.loads(
        run(
            "--config", str(preset), "inspect", str(manifest), "--json", "--split-col", "split"
        ).stdout
    )
    assert doc["split_col"] == "split"
    plain = json.loads(run("--config", str(preset), "inspect", str(manifest), "--json").stdout)
    assert "splits" not in plain


def test_preset_values_yield_to_flags(tmp_path: Path, manifest: Path) -> None:
    preset = tmp_path / "p.toml"
    preset.write_text('[weights]\nscheme = "inverse"\nformat = "torch"\n')
    doc = json.loads(
        run(
            "--config",
            str(preset),
            "weights",
            str(manifest),
            "--scheme",
            "balanced",
            "--format",
            "json",
        ).stdout  # fmt: skip
    )
    assert doc["scheme"] == "balanced"

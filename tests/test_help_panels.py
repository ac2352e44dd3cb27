"""--help groups each command's options in panels (plain text: no rich, --help stays fast),
and every option of every command has one."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

COMMANDS = ("inspect", "resample", "weights", "evaluate", "adjust", "advise", "sample")


def sections(text: str) -> dict[str, list[str]]:
    """Each section of a help text, and the flags listed in it."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.fullmatch(r"([A-Z][A-Za-z -]+):", line)
        if heading:
            current = heading.group(1)
            out[current] = []
        elif current and (flag := re.match(r"\s+(?:-\w, )?(--[a-z-]+)", line)):
            out[current].append(flag.group(1))
    return out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_sits_in_a_panel(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    found = sections(result.output)
    assert found.get("Options", []) == ["--help"]  # only --help is left unpanelled
    assert len([s for s in found if s not in ("Arguments", "Options")]) >= 2


def test_resample_panels_hold_their_options() -> None:
    result = CliRunner().invoke(app, ["resample", "--help"], env={"COLUMNS": "200"})
    found = sections(result.output)
    assert {"--target", "--mode", "--plan", "--allow-large"} <= set(found["Plan"])
    assert {"--method", "--features", "--seed", "--param"} <= set(found["Method"])
    assert {"--image-dir", "--augment", "--skip-bad"} <= set(found["Images"])
    assert {"--sep", "--percentage", "--target-meanir"} <= set(found["Multi-label"])
    assert {"--regression", "--bins", "--over"} <= set(found["Regression"])
    assert {"--engine", "--scheduler"} <= set(found["Engine"])
    assert {"--output", "--dry-run", "--plan-out"} <= set(found["Output"])
    assert {"--label-col", "--only-split", "--group-col"} <= set(found["Columns and splits"])

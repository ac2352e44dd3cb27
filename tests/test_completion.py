"""Shell completion: typer's --install-completion / --show-completion, and what it completes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rebalance.cli import METHOD_NAMES
from rebalance.samplers.tabular import IMAGE_METHODS, METHODS


def complete(words: str, cword: int) -> list[str]:
    env = {
        **os.environ,
        "_REBALANCE_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    out = subprocess.run(
        [sys.executable, "-m", "rebalance"], env=env, capture_output=True, text=True, check=False
    )
    return out.stdout.split()


def test_method_names_are_the_library_methods() -> None:
    assert sorted(METHOD_NAMES) == sorted(["random", *METHODS, *IMAGE_METHODS])


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("rebalance resample x.csv --method smote-", 4, ["smote-tomek", "smote-enn"]),
        ("rebalance resample x.csv --method cl", 4, ["cluster-centroids", "cluster"]),
        ("rebalance weights x.csv --scheme e", 4, ["effective", "enet"]),
        ("rebalance weights x.csv --format lo", 4, ["log-priors"]),
        ("rebalance inspect x.csv --format ", 4, ["table", "json", "markdown", "csv"]),
        ("rebalance ev", 1, ["evaluate"]),
        ("rebalance inspect x.csv --check-f", 3, ["--check-files"]),
    ],
)
def test_bash_completion(words: str, cword: int, expected: list[str]) -> None:
    assert complete(words, cword) == expected


def test_file_arguments_fall_back_to_file_names() -> None:
    # nothing is offered for a manifest argument, so bash's `-o default` completes file names
    assert complete("rebalance inspect sam", 2) == []
    # typer names the shell itself (shellingham walks the parent processes) unless told not
    # to; under `timeout` or a CI runner that walk can find no shell ("Shell  not supported")
    env = {**os.environ, "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [sys.executable, "-m", "rebalance", "--show-completion", "bash"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    script = shown.stdout
    assert "complete -o default -F _rebalance_completion rebalance" in script


def test_completion_options_are_offered() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rebalance", "--help"], capture_output=True, text=True, check=True
    )
    assert "--install-completion" in out.stdout and "--show-completion" in out.stdout

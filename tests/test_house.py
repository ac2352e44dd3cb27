"""The house rules of ARCHITECTURE.md, measured from the code by tools/house.py: every one
is met, and stays met."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def house() -> dict[str, object]:
    spec = importlib.util.spec_from_file_location("house", ROOT / "tools" / "house.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["house"] = module
    spec.loader.exec_module(module)
    measured: dict[str, object] = module.measure()
    return measured


def names(items: object) -> set[str]:
    assert isinstance(items, list)
    return {str(row[0]) for row in items}


def test_no_import_circle(house: dict[str, object]) -> None:
    assert house["circles"] == []


def test_no_module_function_or_command_over_its_length(house: dict[str, object]) -> None:
    over = house["over"]
    assert isinstance(over, dict)
    assert names(over["modules over 800 lines"]) == set()
    assert names(over["functions over 120 lines"]) == set()
    assert names(over["commands over 80 lines"]) == set()


def test_no_library_function_over_fifteen_parameters(house: dict[str, object]) -> None:
    over = house["over"]
    assert isinstance(over, dict)
    assert names(over["functions over 15 parameters"]) == set()


def test_the_measures_see_the_code(house: dict[str, object]) -> None:
    rows = house["rows"]
    assert isinstance(rows, list)
    by_name = {row[0]: row for row in rows}
    # a known function, measured: its lines from def to end, its parameters
    name, lines, params = by_name["rebalance.samplers.registry.method_names"]
    assert lines == 3 and params == 0
    commands = names(house["commands"])
    assert {
        "rebalance.cli.resample.resample_command",
        "rebalance.cli.weights.weights_command",
    } <= commands

"""Every shipped preset runs, for real, on the sample it was written for."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

# preset -> the sample its comment names; a new preset must be added here
SAMPLE_FOR = {
    "cap-ratio-10.toml": "longtail.csv",
    "fraud-smote-tomek.toml": "fraud.csv",
    "longtail-repeat-factor.toml": "longtail.csv",
}
# how each command section is run (outputs go to a fresh folder)
ARGS = {
    "inspect": lambda sample, out: ["inspect", str(sample)],
    "resample": lambda sample, out: [
        "resample",
        str(sample),
        "-o",
        str(out / "out.csv"),
        "--plan-out",
        str(out / "plan.json"),
    ],  # fmt: skip
    "weights": lambda sample, out: ["weights", str(sample), "-o", str(out / "w.json")],
    "evaluate": lambda sample, out: ["evaluate", str(SAMPLES / "fraud-predictions.csv")],
}
PRESETS = sorted((ROOT / "configs").glob("*.toml"))


def test_every_preset_has_a_sample() -> None:
    assert {p.name for p in PRESETS} == set(SAMPLE_FOR)


@pytest.mark.parametrize(
    ("preset", "section"),
    [(p, s) for p in PRESETS for s in tomllib.loads(p.read_text())],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_preset_runs_on_its_sample(tmp_path: Path, preset: Path, section: str) -> None:
    sample = SAMPLES / SAMPLE_FOR[preset.name]
    result = runner.invoke(app, ["--config", str(preset), *ARGS[section](sample, tmp_path)])
    # inspect's preset gates may fail (exit 1): the report was still made
    assert result.exit_code in ((0, 1) if section == "inspect" else (0,)), result.output
    assert "rebalance: error" not in result.stderr
    if section == "resample":
        sidecar = json.loads((tmp_path / "plan.json").read_text())
        settings = tomllib.loads(preset.read_text())["resample"]
        assert sidecar["method"] == settings.get("method", "random")
        assert sidecar["seed"] == settings.get("seed", 0)
        if "k_neighbors" in settings:
            assert sidecar["params"]["k_neighbors"] == settings["k_neighbors"]
        assert (tmp_path / "out.csv").stat().st_size > 0

"""weights --format focal: α and γ for the focal loss, and the loss they give."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.weights import class_weights, focal_alpha, focal_loss

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def focal_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["weights", *args, "--format", "focal"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_binary_alpha_is_for_the_rarer_class() -> None:
    doc = focal_json(str(ROOT / "samples" / "fraud.csv"), "--scheme", "effective", "--gamma", "1.5")
    w = class_weights({"fraud": 40, "ok": 1960}, scheme="effective").weights
    assert doc["classes"] == ["fraud", "ok"] and doc["positive"] == "fraud" and doc["gamma"] == 1.5
    assert doc["alpha_positive"] == pytest.approx(w["fraud"] / (w["fraud"] + w["ok"]))
    assert doc["alpha"] == pytest.approx([doc["alpha_positive"], 1 - doc["alpha_positive"]])
    other = focal_json(str(ROOT / "samples" / "fraud.csv"), "--positive", "ok")
    assert other["positive"] == "ok" and other["alpha"][1] == other["alpha_positive"]


def test_multiclass_alpha_sums_to_the_number_of_classes(make_manifest) -> None:  # type: ignore[no-untyped-def]
    src = make_manifest({"a": 80, "b": 15, "01": 5})
    doc = focal_json(str(src), "--scheme", "inverse")
    assert doc["classes"] == ["01", "a", "b"] and sum(doc["alpha"]) == pytest.approx(3)
    inverse = [1 / 5, 1 / 80, 1 / 15]
    assert doc["alpha"] == pytest.approx([3 * w / sum(inverse) for w in inverse])
    bad = runner.invoke(app, ["weights", str(src), "--format", "focal", "--positive", "a"])
    assert bad.exit_code == 2 and "binary" in bad.stderr


def test_focal_loss_equals_a_direct_computation() -> None:
    weights = class_weights({"a": 50, "b": 30, "c": 20}, scheme="effective", beta=0.99)
    doc = focal_alpha(weights, gamma=2.0)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, 3))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 7)
    direct = [
        -doc["alpha"][t] * (1 - probs[i, t]) ** 2.0 * math.log(probs[i, t]) for i, t in enumerate(y)
    ]
    assert focal_loss(probs, y, doc["alpha"], doc["gamma"]) == pytest.approx(sum(direct) / 7)
    # γ = 0 and α = 1 is plain cross-entropy
    assert focal_loss(probs, y, [1, 1, 1], 0.0) == pytest.approx(
        -np.mean(np.log(probs[range(7), y]))
    )


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_the_readme_pytorch_lines_give_the_same_loss(tmp_path: Path) -> None:
    import torch

    block = (
        README.split("<!-- focal-pytorch -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    )
    weights = class_weights({"a": 50, "b": 30, "c": 20}, scheme="effective", beta=0.99)
    doc = focal_alpha(weights, gamma=2.0)
    (tmp_path / "focal.json").write_text(json.dumps(doc))
    logits = torch.randn(9, 3, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 2, 1, 0, 0, 2, 1])
    scope = {"logits": logits, "y": y}
    exec(block.replace('"focal.json"', repr(str(tmp_path / "focal.json"))), scope)  # noqa: S102
    probs = torch.softmax(logits, dim=1).numpy()
    assert float(scope["loss"]) == pytest.approx(
        focal_loss(probs, y.numpy(), doc["alpha"], 2.0), rel=1e-5
    )

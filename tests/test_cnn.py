"""--image-features cnn: the optional embed extra. Never the network: random or local weights.

CI's core install has no torch: there the model tests skip and the install hint is checked.
With `pip install '.[embed]'` they run (a randomly initialised MobileNetV3-Small).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rebalance
from rebalance.images import features as feats

HAS_TORCH = (
    importlib.util.find_spec("torch") is not None
    and importlib.util.find_spec("torchvision") is not None
)


@pytest.fixture
def pictures(tmp_path: Path) -> list[str]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        path = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


@pytest.mark.skipif(HAS_TORCH, reason="torch is installed: the hint is for installs without it")
def test_without_the_extra_the_error_says_how_to_install(pictures: list[str]) -> None:
    with pytest.raises(rebalance.RebalanceError, match=r"pip install 'rebalance\[embed\]'"):
        feats.image_features(pictures, extractor="cnn", cache_dir="")


def test_core_import_never_loads_torch() -> None:
    import subprocess
    import sys

    code = "import rebalance.cli, rebalance.images.features, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not HAS_TORCH, reason="needs the embed extra (torch, torchvision)")
def test_random_model_features_and_local_weights(
    pictures: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    import torchvision

    random = feats.image_features(pictures, extractor="cnn", weights="random", cache_dir="")
    assert random.shape == (6, 576) and np.isfinite(random).all()
    # the same model saved to a file and loaded offline gives the same features
    torch.manual_seed(0)
    path = tmp_path / "mnv3.pt"
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(), path)
    local = feats.image_features(
        pictures, extractor="cnn", weights=str(path), cache_dir=str(tmp_path / "c")
    )
    np.testing.assert_allclose(local, random, rtol=1e-5, atol=1e-5)
    cached = feats.image_features(
        pictures, extractor="cnn", weights=str(path), cache_dir=str(tmp_path / "c")
    )
    np.testing.assert_array_equal(cached, local)
    (tmp_path / "junk.pt").write_bytes(b"not a state dict")
    with pytest.raises(rebalance.RebalanceError, match="not a mobilenet_v3_small state_dict"):
        feats.image_features(
            pictures, extractor="cnn", weights=str(tmp_path / "junk.pt"), cache_dir=""
        )

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    with pytest.raises(rebalance.RebalanceError, match="pass --weights"):
        feats.image_features(pictures, extractor="cnn", cache_dir="")

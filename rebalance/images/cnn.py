"""``--image-features cnn``: ImageNet MobileNetV3-Small embeddings (``pip install 'rebalance[embed]'``).

torch and torchvision are an optional extra: the core install and ``--help`` never
import them. Weights load as torchvision loads them on a normal machine (downloaded
once into torch's cache), or from ``--weights FILE`` (a ``state_dict`` saved with
``torch.save``) where there is no network. ``weights="random"`` builds a seeded,
randomly initialised model: for tests, never for real use.

Each image becomes the 576 values of the network's global-average-pooled last
feature map, computed in batches on the CPU (or the first GPU when torch sees one).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.errors import RebalanceError

DIMENSIONS = 576
_BATCH = 32
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def _torch() -> tuple[Any, Any]:
    try:
        import torch
        import torchvision
    except ImportError:
        raise RebalanceError(
            "--image-features cnn needs torch and torchvision: pip install 'rebalance[embed]' "
            "(or use --image-features builtin)"
        ) from None
    return torch, torchvision


def extractor_id(weights: str | None) -> str:
    """The cache key part naming the model and its weights."""
    if weights is None:
        return "cnn-mobilenet_v3_small-imagenet"
    if weights == "random":
        return "cnn-mobilenet_v3_small-random"
    try:
        st = os.stat(weights)
    except OSError:
        raise RebalanceError(f"--weights {weights}: no such file") from None
    raw = f"{os.path.abspath(weights)}\0{st.st_size}\0{st.st_mtime_ns}"
    return "cnn-mobilenet_v3_small-" + hashlib.sha256(raw.encode()).hexdigest()[:16]


def load_model(weights: str | None) -> Any:
    """MobileNetV3-Small with ImageNet weights (downloaded, or from a file), in eval mode."""
    torch, torchvision = _torch()
    models = torchvision.models
    if weights == "random":
        torch.manual_seed(0)
        model = models.mobilenet_v3_small(weights=None)
    elif weights is not None:
        model = models.mobilenet_v3_small(weights=None)
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except FileNotFoundError:
            raise RebalanceError(f"--weights {weights}: no such file") from None
        except Exception as exc:  # torch raises UnpicklingError, RuntimeError, ... for bad files
            raise RebalanceError(
                f"--weights {weights}: not a mobilenet_v3_small state_dict ({str(exc).splitlines()[0]})"
            ) from None
    else:
        try:
            model = models.mobilenet_v3_small(weights=models.MobileNet_V3_Small_Weights.DEFAULT)
        except Exception as exc:  # no network, a proxy, a half-written cache file...
            raise RebalanceError(
                "cannot load the pretrained mobilenet_v3_small weights "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); on a machine "
                "with network, save them with torch.save(torchvision.models.mobilenet_v3_small("
                "weights='DEFAULT').state_dict(), 'mnv3.pt') and pass --weights mnv3.pt"
            ) from None
    return model.eval()


def embed(
    paths: Sequence[str],
    *,
    weights: str | None = None,
    step: Callable[[int], None] | None = None,
) -> npt.NDArray[np.float32]:
    """One 576-value embedding per image, in batches."""
    from rebalance.images.decode import load_rgb

    torch, _ = _torch()
    model = load_model(weights)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device)
    mean = torch.tensor(_MEAN).view(1, 3, 1, 1).to(device)
    std = torch.tensor(_STD).view(1, 3, 1, 1).to(device)
    out = np.empty((len(paths), DIMENSIONS), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(paths), _BATCH):
            chunk = paths[start : start + _BATCH]
            batch = np.stack([np.asarray(load_rgb(p, (224, 224)), dtype=np.float32) for p in chunk])
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(device) / 255.0
            x = (x - mean) / std
            pooled = model.avgpool(model.features(x)).flatten(1)
            out[start : start + len(chunk)] = pooled.cpu().numpy()
            if step is not None:
                step(len(chunk))
    return out

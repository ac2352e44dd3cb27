"""Image files a crawled or shared dataset really holds: decompression bombs, genuinely
large images and paths that are not regular files. Each is a bad file with its reason (or
one clear error), never a traceback and never a hang; --max-image-pixels raises the limit."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.errors import RebalanceError

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


def declared_png(path: Path, width: int, height: int) -> None:
    """A PNG of a few bytes whose header declares width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(6):
        Image.new("RGB", (16, 16), (40 * i, 0, 0)).save(tmp_path / f"ok{i}.png")
    declared_png(tmp_path / "bomb.png", 60_000, 60_000)  # 3.6 billion pixels in 68 bytes
    declared_png(tmp_path / "big.png", 14_000, 14_000)  # a slide-sized image
    os.mkfifo(tmp_path / "pipe.png")
    rows = [f"ok{i}.png,{'a' if i < 4 else 'b'}" for i in range(6)]
    rows += ["bomb.png,b", "big.png,a", "pipe.png,b"]
    (tmp_path / "m.csv").write_text("path,label\n" + "\n".join(rows) + "\n")
    for i in range(4):
        mask = (np.arange(64).reshape(8, 8) % (i + 2)).astype("uint8")
        Image.fromarray(mask, "L").save(tmp_path / f"mask{i}.png")
    masks = [f"ok{i}.png,mask{i}.png" for i in range(4)]
    (tmp_path / "masks.csv").write_text("path,mask\n" + "\n".join([*masks, "ok4.png,pipe.png"]))
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_check_files_lists_each_with_its_reason(folder: Path) -> None:
    result = run("inspect", str(folder / "m.csv"), "--check-files", "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert files["too_large"] == ["bomb.png", "big.png"] and files["unreadable"] == ["pipe.png"]
    assert files["bad"] == 3 and files["ok"] == 6
    assert files["reasons"] == {
        "bomb.png": "declares 60,000 × 60,000 = 3.6 billion pixels, over the 179 million limit "
        "(raise it with --max-image-pixels)",
        "big.png": "declares 14,000 × 14,000 = 196 million pixels, over the 179 million limit "
        "(raise it with --max-image-pixels)",
        "pipe.png": "not a regular file (a FIFO)",
    }
    assert "2 too large" in result.stderr
    gate = run("inspect", str(folder / "m.csv"), "--check-files", "--fail-on-bad-files")
    assert gate.exit_code == 1 and "3 bad image file(s) of 9" in gate.stderr


def test_the_limit_is_raised_or_lifted(folder: Path) -> None:
    raised = run("inspect", str(folder / "m.csv"), "--check-files", "--json",
                 "--max-image-pixels", "2e8")  # fmt: skip
    assert json.loads(raised.stdout)["files"]["too_large"] == ["bomb.png"]
    lifted = run("inspect", str(folder / "m.csv"), "--check-files", "--json",
                 "--max-image-pixels", "none")  # fmt: skip
    assert json.loads(lifted.stdout)["files"]["too_large"] == []
    lowered = run("inspect", str(folder / "m.csv"), "--check-files", "--json",
                  "--max-image-pixels", "100")  # fmt: skip
    assert len(json.loads(lowered.stdout)["files"]["too_large"]) == 8  # 16 × 16 > 100 too
    for bad in ("lots", "0", "-5", "1.5"):
        refused = run("inspect", str(folder / "m.csv"), "--check-files", "--max-image-pixels", bad)
        assert refused.exit_code == 2
        assert refused.stderr.strip() == (
            f"rebalance: error: --max-image-pixels {bad!r}: give a pixel count "
            "(e.g. 400000000 or 4e8) or none"
        )


@pytest.mark.parametrize(
    "method", [["--method", "cluster"], ["--method", "augment", "--image-dir", "new"]]
)
def test_image_methods_refuse_or_skip_them(folder: Path, method: list[str]) -> None:
    args = ["resample", str(folder / "m.csv"), "-o", str(folder / "out.csv"), *method]
    args = [a if a != "new" else str(folder / "new") for a in args]
    refused = run(*args)
    assert refused.exit_code == 2 and not (folder / "out.csv").exists()
    line = refused.stderr.strip()
    assert line.startswith("rebalance: error: ") and "\n" not in line
    assert "3 of 9 image file(s) in column 'path' are bad (1 unreadable, 2 too large)" in line
    assert "pipe.png (not a regular file (a FIFO))" in line and "--skip-bad" in line
    skipped = run(*args, "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert "--skip-bad left out 3 row(s)" in skipped.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "{m}", "--mask-col", "mask"],
        ["weights", "{m}", "--mask-col", "mask"],
        ["resample", "{m}", "-o", "{o}", "--mask-col", "mask", "--target", "repeat-factor:0.5"],
    ],
)
def test_a_fifo_mask_is_one_error_in_seconds(folder: Path, args: list[str]) -> None:
    filled = [a.format(m=folder / "masks.csv", o=folder / "rf.csv") for a in args]
    result = subprocess.run(  # a separate process: a hang would fail on the timeout
        [sys.executable, "-m", "rebalance", *filled], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "rebalance: error: pipe.png: not a regular file (a FIFO)"


def test_the_library_policy(folder: Path) -> None:
    from rebalance.images.decode import load_rgb
    from rebalance.images.files import (
        DEFAULT_MAX_PIXELS,
        image_pixel_limit,
        max_image_pixels,
        open_image,
    )

    assert max_image_pixels() == DEFAULT_MAX_PIXELS
    with pytest.raises(RebalanceError, match="3.6 billion pixels, over the 179 million limit"):
        load_rgb(str(folder / "bomb.png"), (8, 8))
    with pytest.raises(RebalanceError, match="not a regular file"):
        load_rgb(str(folder / "pipe.png"), (8, 8))
    with pytest.raises(RebalanceError, match="is a folder"):
        with open_image(str(folder)):
            pass
    with image_pixel_limit(None):
        assert max_image_pixels() is None
        with open_image(str(folder / "big.png")) as im:
            assert im.size == (14_000, 14_000)  # the header only: nothing decoded
    assert max_image_pixels() == DEFAULT_MAX_PIXELS
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's own limit is back


def test_advise_on_bad_images_is_one_error(folder: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rebalance", "advise", str(folder / "m.csv"), "--image-features",
         "builtin", "--folds", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("rebalance: error: ") and "Traceback" not in result.stderr
    assert "over the 179 million limit" in line or "not a regular file (a FIFO)" in line


def test_a_command_that_opens_no_image_does_not_import_pillow(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("label\n" + "a\n" * 5 + "b\n")
    code = (
        "import sys\nfrom rebalance.cli import main\n"
        f"sys.argv = ['rebalance', 'inspect', {str(tmp_path / 'm.csv')!r}, '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('PIL.Image' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip().splitlines()[-1] == "False", run.stderr


def test_pillow_imported_inside_a_block_gets_its_limit_back(folder: Path) -> None:
    code = (
        "from rebalance.images.files import image_pixel_limit, open_image\n"
        f"with image_pixel_limit(None):\n    with open_image({str(folder / 'big.png')!r}):\n"
        "        from PIL import Image\n        assert Image.MAX_IMAGE_PIXELS is None\n"
        "print(Image.MAX_IMAGE_PIXELS)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "89478485", run.stderr

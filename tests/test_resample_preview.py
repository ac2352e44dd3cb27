"""``resample --preview``: what augment, cluster and dedup did, as one self-contained page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.images.select import dedup_keep, dedup_pairs
from rebalance.visual.preview import describe_transform
from tests.html_check import browser_check, chromium, probe_counts, static_problems
from tests.shapes import shapes_manifest

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("REBALANCE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """Circles (20) and squares (5) on random backgrounds, two circles planted twice."""
    return shapes_manifest(tmp_path, 20, 5)


def pictures(text: str) -> int:
    return len(re.findall(r'<img src="data:image/jpeg;base64,', text))


def test_augment_preview_parents_beside_new_images(shapes: Path, tmp_path: Path) -> None:
    page, out = tmp_path / "aug.html", tmp_path / "out.csv"
    result = run(
        "resample", str(shapes), "-o", str(out), "--method", "augment",
        "--image-dir", str(tmp_path / "new"), "--preview", str(page), "--seed", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote the preview {page}" in result.stderr
    text = page.read_text()
    assert static_problems(text) == []
    # 5 squares grow to 22: 17 new images from 5 parents, each parent shown with up to 4
    assert "17" in text and "from 5 parents" in text
    assert pictures(text) == 5 + sum(min(4, n) for n in (4, 4, 3, 3, 3))
    assert text.count("rotate ") >= 10 and "+0 more" not in text
    for parent in re.findall(r"img/\d+\.png", text):
        assert int(parent.split("/")[1].split(".")[0]) >= 20  # every parent is a square


def test_the_preview_never_changes_what_is_written(shapes: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    args = ["resample", str(shapes), "-o", str(out), "--method", "augment", "--image-dir"]
    assert run(*args, str(tmp_path / "new")).exit_code == 0
    plain = out.read_bytes()
    files = sorted(p.read_bytes() for p in (tmp_path / "new").iterdir())
    out.unlink()
    shutil.rmtree(tmp_path / "new")
    assert run(*args, str(tmp_path / "new"), "--preview", str(tmp_path / "p.html")).exit_code == 0
    assert out.read_bytes() == plain
    assert sorted(p.read_bytes() for p in (tmp_path / "new").iterdir()) == files


def test_cluster_preview_kept_and_dropped(shapes: Path, tmp_path: Path) -> None:
    page = tmp_path / "cl.html"
    result = run(
        "resample", str(shapes), "-o", str(tmp_path / "o.csv"), "--method", "cluster",
        "--target", "min", "--preview", str(page),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "circle · kept 5 of 22" in text and "square" not in text.split("<h2>")[-1]
    section = text[text.index("circle · kept") :]
    kept, dropped = section.split('<span class="fail">dropped</span>')
    assert pictures(kept) == 5 and pictures(dropped) == 8  # 17 dropped, 8 shown
    assert static_problems(text) == []


def test_dedup_preview_each_duplicate_beside_its_kept_image(shapes: Path, tmp_path: Path) -> None:
    page = tmp_path / "dd.html"
    result = run(
        "resample", str(shapes), "-o", str(tmp_path / "o.csv"), "--method", "dedup",
        "--threshold", "0.1", "--preview", str(page),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = page.read_text()
    boxes = re.findall(r'<div class="pairbox">(.*?)</div></div>', text)
    pairs = sorted(tuple(re.findall(r"<figcaption>(.*?)</figcaption>", b)) for b in boxes)
    assert pairs == [("img/dup3.jpg", "img/3.png"), ("img/dup7.jpg", "img/7.png")]
    assert pictures(text) == 4 and static_problems(text) == []


def test_dedup_pairs_name_the_kept_row() -> None:
    X = np.array([[0.0], [0.05], [1.0], [1.02], [0.04], [5.0]])
    codes = np.array([0, 0, 0, 0, 0, 1])
    kept, duplicate_of, distance = dedup_pairs(X, codes, 0.1)
    assert kept.tolist() == dedup_keep(X, codes, 0.1).tolist() == [0, 2, 5]
    assert duplicate_of.tolist() == [-1, 0, -1, 2, 0, -1]
    assert distance[[1, 3, 4]] == pytest.approx([0.05, 0.02, 0.04])


def test_describe_transform() -> None:
    text = '{"angle":-7.21,"hflip":true,"vflip":false,"zoom":1.06,"skew_x":0,"skew_y":0,"brightness":1,"contrast":1,"saturation":1,"hue":0}'
    assert describe_transform(text) == "rotate -7.2°, flip, zoom 1.06"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "random"], "--preview shows what an image method did"),
        (["--method", "cluster", "--dry-run"], "leave out --dry-run"),
        (["--method", "cluster", "--preview", "{manifest}"], "--preview"),
        (["--method", "cluster", "--preview", "{tmp}/none/p.html"], "--preview"),
    ],
)
def test_refused_before_anything_is_written(shapes: Path, tmp_path: Path, extra, message) -> None:  # type: ignore[no-untyped-def]
    before = shapes.read_bytes()
    args = [a.format(manifest=shapes, tmp=tmp_path) for a in extra]
    if "--preview" not in args:
        args += ["--preview", str(tmp_path / "p.html")]
    result = run("resample", str(shapes), "-o", str(tmp_path / "o.csv"), *args)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (tmp_path / "o.csv").exists() and shapes.read_bytes() == before


def test_features_from_columns_without_paths_refused_first(tmp_path: Path) -> None:
    manifest = tmp_path / "e.csv"
    manifest.write_text("f1,f2,label\n" + "".join(f"{i},{i % 3},a\n" for i in range(6)) + "0,0,b\n")
    result = run(
        "resample", str(manifest), "-o", str(tmp_path / "o.csv"), "--method", "dedup",
        "--threshold", "0.5", "--features", "f*", "--preview", str(tmp_path / "p.html"),
    )  # fmt: skip
    assert result.exit_code == 2 and "--preview shows images" in result.stderr, result.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.skipif(chromium() is None, reason="no headless Chromium here (.ci/run installs it)")
def test_previews_render_in_a_real_browser_offline(shapes: Path, tmp_path: Path) -> None:
    methods = {
        "augment": ["--image-dir", str(tmp_path / "new")],
        "cluster": ["--target", "min"],
        "dedup": ["--threshold", "0.1"],
    }
    for method, extra in methods.items():
        page = tmp_path / f"{method}.html"
        out = tmp_path / f"{method}.csv"
        result = run("resample", str(shapes), "-o", str(out), "--method", method, *extra,
                     "--preview", str(page))  # fmt: skip
        assert result.exit_code == 0, result.output
        probe, errors = browser_check(page, tmp_path)
        images, bad, fetched = probe_counts(probe)
        assert errors == [] and bad == "[]" and fetched == "[]", (method, errors, bad, fetched)
        assert images == pictures(page.read_text()) > 0, method

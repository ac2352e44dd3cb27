"""``inspect --html``: one self-contained page of a manifest, its images and masks."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.visual import charts
from rebalance.visual.inspect_page import PageInput, inspect_html
from rebalance.visual.sheet import SheetOptions
from tests.html_check import browser_check, chromium, probe_counts, static_problems

runner = CliRunner()
COUNTS = {"head": 30, "mid": 8, "few": 3, "solo_a": 1, "solo_b": 1}


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture
def long_tail(tmp_path: Path) -> Path:
    """An image long tail (a class of 30 down to two singletons), a corrupt file and a
    missing one in the tail, images of several modes."""
    folder = tmp_path / "data"
    (folder / "img").mkdir(parents=True)
    lines = ["path,label,split"]
    for k, (label, n) in enumerate(COUNTS.items()):
        for i in range(n):
            name = f"img/{label}_{i}.png"
            mode = ("RGB", "RGBA", "L", "P")[i % 4]
            Image.new(
                mode, (40 + i, 30), (40 * k) % 255 if mode in "LP" else (40 * k, 90, i * 7)
            ).save(folder / name)
            lines.append(f"{name},{label},{'val' if i % 5 == 4 else 'train'}")
    (folder / "img/few_0.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)  # corrupt
    (folder / "img/solo_b_0.png").unlink()  # missing
    manifest = folder / "m.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def _pictures(text: str) -> list[Image.Image]:
    found = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', text)
    return [Image.open(io.BytesIO(base64.b64decode(b))) for b in found]


def test_long_tail_report_rarest_first_with_bad_files(long_tail: Path, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    result = run("inspect", str(long_tail), "--check-files", "--html", str(page))
    assert result.exit_code == 0, result.output
    assert f"wrote the HTML report {page}" in result.stderr
    text = page.read_text(encoding="utf-8")
    assert static_problems(text) == []
    # the contact sheet: rarest classes first, every class there
    sheet = text[text.index("Images per class") :]
    order = [sheet.index(f"<b>{label}</b>") for label in ("solo_a", "solo_b", "few", "mid", "head")]
    assert order == sorted(order)
    # 4 thumbnails a class at most, bad files shown as such: corrupt few_0, missing solo_b_0
    pictures = _pictures(sheet[: sheet.index("<h2>Files")])
    assert len(pictures) == 1 + 0 + 2 + 4 + 4  # solo_a, solo_b (missing), few (3 - 1 corrupt)
    assert all(max(p.size) <= 96 for p in pictures)
    assert "img/solo_b_0.png: no such file" in sheet
    files = text[text.index("<h2>Files") :]
    assert "corrupt (1)" in files and "img/few_0.png" in files and "missing (1)" in files
    assert "<svg" in text and "--min-count 10" in text and "singletons" in text
    # the JSON the page embeds is the --json output
    doc = json.loads(run("inspect", str(long_tail), "--check-files", "--json").stdout)
    assert doc["counts"] == COUNTS | {"few": 3}
    assert doc["files"]["corrupt"] == ["img/few_0.png"]


def test_same_seed_same_bytes_other_seed_other_images(long_tail: Path, tmp_path: Path) -> None:
    pages = [tmp_path / f"{name}.html" for name in ("a", "b", "c")]
    for page, seed in zip(pages, ("7", "7", "8"), strict=True):
        assert run("inspect", str(long_tail), "--html", str(page), "--seed", seed).exit_code == 0
    assert pages[0].read_bytes() == pages[1].read_bytes()

    def head_rows(page: Path) -> list[str]:
        return re.findall(r"img/head_\d+\.png", page.read_text())

    assert head_rows(pages[0]) != head_rows(pages[2])


def test_workers_do_not_change_the_report(long_tail: Path, tmp_path: Path) -> None:
    one, many = tmp_path / "one.html", tmp_path / "many.html"
    assert run("inspect", str(long_tail), "--html", str(one), "--workers", "1").exit_code == 0
    assert run("inspect", str(long_tail), "--html", str(many), "--workers", "3").exit_code == 0
    assert one.read_bytes() == many.read_bytes()


def test_gates_show_their_verdict_and_still_exit_1(long_tail: Path, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    result = run(
        "inspect", str(long_tail), "--check-files", "--html", str(page), "--max-ratio", "5",
        "--fail-on-bad-files", "--fail-on-small",
    )  # fmt: skip
    assert result.exit_code == 1
    gates = page.read_text()
    gates = gates[gates.index("<h2>Gates") : gates.index("<h2>Distribution")]
    assert gates.count('class="fail"') == 3 and "--max-ratio 5" in gates
    passing = tmp_path / "p.html"
    assert (
        run("inspect", str(long_tail), "--html", str(passing), "--max-ratio", "100").exit_code == 0
    )
    assert 'class="pass"' in passing.read_text()


def _masks(tmp_path: Path) -> Path:
    """Images with masks: road, sky and a tiny class (7) in two of twelve masks."""
    folder = tmp_path / "seg"
    (folder / "img").mkdir(parents=True)
    (folder / "mask").mkdir()
    lines = ["image,mask"]
    for i in range(12):
        mask = np.zeros((48, 64), dtype=np.uint8)
        mask[24:] = 1
        if i in (3, 9):
            mask[10:12, 30:31] = 7  # 2 pixels
        Image.fromarray(mask, "L").save(folder / f"mask/{i}.png")
        Image.new("RGB", (64, 48), (20 * i, 120, 200)).save(folder / f"img/{i}.jpg")
        lines.append(f"img/{i}.jpg,mask/{i}.png")
    (folder / "seg.csv").write_text("\n".join(lines) + "\n")
    (folder / "classes.json").write_text(json.dumps({"0": "sky", "1": "road", "7": "signal"}))
    return folder


def test_masks_pixel_shares_and_overlays_of_the_rarest_class(tmp_path: Path) -> None:
    folder = _masks(tmp_path)
    page = tmp_path / "seg.html"
    result = run(
        "inspect", str(folder / "seg.csv"), "--mask-col", "mask", "--path-col", "image",
        "--mask-classes", str(folder / "classes.json"), "--html", str(page),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert static_problems(text) == []
    pixels = text[text.index("Pixels per class") :]
    assert "signal" in pixels and "0.011%" in pixels  # 4 of 36,864 pixels, on the log chart
    overlays = pixels[pixels.index("The rarest pixel classes") :]
    signal = overlays[
        overlays.index("<b>signal</b>") : overlays.index("<b>", overlays.index("<b>signal</b>") + 3)
    ]
    assert "mask/3.png" in signal and "mask/9.png" in signal  # both masks holding it
    picture = _pictures(signal)[0].convert("RGB")
    assert picture.size == (192, 144)
    reds = np.asarray(picture).reshape(-1, 3)
    assert ((reds[:, 0] > 150) & (reds[:, 1] < 90)).any()  # the 2-pixel class still shows


def test_5000_classes_stay_small_and_say_what_is_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    (folder / "img").mkdir(parents=True)
    for i in range(40):
        Image.new("RGB", (64, 64), (i * 6, 255 - i * 6, 90)).save(folder / f"img/{i}.jpg")
    rng = np.random.default_rng(0)
    sizes = np.maximum(1, (4000 / np.arange(1, 5001) ** 1.1).astype(int))
    lines = ["path,label"]
    for k, n in enumerate(sizes.tolist()):
        lines += [f"img/{int(rng.integers(40))}.jpg,class_{k:04d}"] * n
    (folder / "m.csv").write_text("\n".join(lines) + "\n")
    with_images, without = tmp_path / "with.html", tmp_path / "without.html"
    assert run("inspect", str(folder / "m.csv"), "--html", str(with_images)).exit_code == 0
    text = with_images.read_text()
    assert with_images.stat().st_size < 5_000_000
    assert "the sheet shows the 200 rarest of 5,000 classes" in text
    assert static_problems(text) == []
    # without images (paths that are not there): under 2 MB, the chart one path
    (folder / "m.csv").write_text("\n".join(lines).replace("img/", "gone/") + "\n")
    assert run("inspect", str(folder / "m.csv"), "--html", str(without)).exit_code == 0
    assert without.stat().st_size < 2_000_000
    chart = charts.rank_chart(
        sorted(((f"c{i}", int(n)) for i, n in enumerate(sizes)), key=lambda kv: -kv[1])
    )
    assert chart.count("<rect") < 10 and len(chart) < 40_000


def test_multilabel_and_coco_on_disk(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "samples"
    page = tmp_path / "coco.html"
    result = run(
        "inspect",
        str(samples / "shapes-coco/annotations/instances_train.json"),
        "--html",
        str(page),
    )
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "MeanIR" in text and "Objects per label" in text and "traffic light" in text
    assert len(_pictures(text)) >= 3 and static_problems(text) == []


def test_regression_histogram(tmp_path: Path) -> None:
    manifest = tmp_path / "ages.csv"
    values = np.random.default_rng(1).gamma(2.0, 10.0, 400)
    manifest.write_text("age\n" + "\n".join(f"{v:.2f}" for v in values) + "\n")
    page = tmp_path / "r.html"
    result = run(
        "inspect", str(manifest), "--label-col", "age", "--regression", "--html", str(page)
    )
    assert result.exit_code == 0, result.output
    assert "Distribution of the target" in page.read_text()


def test_html_to_stdout_holds_only_the_page(long_tail: Path) -> None:
    result = run("inspect", str(long_tail), "--html", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!doctype html>") and result.stdout.endswith("</html>\n")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "3"], "--seed chooses the images of the --html report: give --html too"),
        (["--html", "-", "--json"], "both write to stdout"),
        (["--html", "{manifest}"], "--html"),
        (["--html", "{tmp}/no/such/folder/r.html"], "--html"),
    ],
)
def test_refusals_before_anything_is_read(long_tail: Path, tmp_path: Path, extra, message) -> None:  # type: ignore[no-untyped-def]
    before = long_tail.read_bytes()
    args = [a.format(manifest=long_tail, tmp=tmp_path) for a in extra]
    result = run("inspect", str(long_tail), *args)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert "Traceback" not in result.output and long_tail.read_bytes() == before


def test_html_destination_is_checked_before_a_bad_manifest_is_read(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("")
    result = run("inspect", str(tmp_path / "bad.csv"), "--html", str(tmp_path / "x/r.html"))
    assert result.exit_code == 2 and "--html" in result.stderr


def test_library_page_from_a_report_dict() -> None:
    doc = {
        "source": "t.csv", "label_col": "y", "rows": 801, "classes": 2,
        "counts": {"a": 800, "b": 1}, "imbalance_ratio": 800.0, "majority": "a",
        "minority": "b", "effective_classes": 1.01, "singletons": ["b"],
        "small_classes": ["b"], "min_count": 10, "missing_labels": 0,
    }  # fmt: skip
    text = inspect_html(PageInput(doc, "single", gates=[("--max-ratio 50", "ratio 800")]))
    assert "800.0" in text and 'class="fail"' in text and static_problems(text) == []
    with pytest.raises(ValueError, match="kind must be one of"):
        inspect_html(PageInput(doc, "nope"))
    assert SheetOptions().per_class == 4


def test_log_share_bars_show_an_800_to_1_class() -> None:
    svg = charts.log_share_bars([("road", 800 / 801, 800), ("light", 1 / 801, 1)])
    widths = [float(w) for w in re.findall(r'<rect x="170" y="\d+" width="([\d.]+)"', svg)]
    assert widths[1] > 0.2 * widths[0]  # linear bars would make it 1/800 of the other


@pytest.mark.skipif(chromium() is None, reason="no headless Chromium here (.ci/run installs it)")
def test_reports_render_in_a_real_browser_offline(long_tail: Path, tmp_path: Path) -> None:
    folder = _masks(tmp_path)
    pages = {"tail": tmp_path / "tail.html", "seg": tmp_path / "seg.html"}
    run("inspect", str(long_tail), "--check-files", "--html", str(pages["tail"]))
    run(
        "inspect", str(folder / "seg.csv"), "--mask-col", "mask", "--path-col", "image",
        "--html", str(pages["seg"]),
    )  # fmt: skip
    for name, page in pages.items():
        probe, errors = browser_check(page, tmp_path)
        images, bad, fetched = probe_counts(probe)
        assert errors == [], (name, errors)
        assert images == len(_pictures(page.read_text())) > 0, name
        assert bad == "[]" and fetched == "[]", (name, bad, fetched)


def test_one_library_call_gives_the_page_the_cli_writes(long_tail: Path, tmp_path: Path) -> None:
    from rebalance.visual import SheetOptions, inspect_report_html

    page = tmp_path / "r.html"
    args = ["inspect", str(long_tail), "--check-files", "--html", str(page), "--seed", "5"]
    assert run(*args).exit_code == 0
    text = inspect_report_html(long_tail, check_files=True, options=SheetOptions(seed=5))
    assert text == page.read_text(encoding="utf-8")


def test_one_library_call_for_masks_and_label_sets(tmp_path: Path) -> None:
    from rebalance.visual import inspect_report_html

    folder = _masks(tmp_path)
    text = inspect_report_html(folder / "seg.csv", mask_col="mask", path_col="image")
    assert "The rarest pixel classes" in text and static_problems(text) == []
    coco = (
        Path(__file__).resolve().parent.parent
        / "samples/shapes-coco/annotations/instances_train.json"
    )
    assert "MeanIR" in inspect_report_html(coco, multi_label=True)


def test_label_and_path_text_cannot_inject_markup(tmp_path: Path) -> None:
    manifest = tmp_path / "evil.csv"
    manifest.write_text(
        'path,label\n"x/<script>.png",<script>alert(1)</script>\n'
        'img/b.png,"<img src=x onerror=alert(1)>"\nimg/c.png,ok\nimg/d.png,ok\n'
    )
    page = tmp_path / "r.html"
    assert run("inspect", str(manifest), "--html", str(page)).exit_code == 0
    text = page.read_text()
    assert static_problems(text) == [] and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_a_sheet_of_missing_images_says_where_paths_start(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\n" + "gone/a.png,a\n" * 3 + "gone/b.png,b\n")
    page = tmp_path / "r.html"
    assert run("inspect", str(manifest), "--html", str(page)).exit_code == 0
    text = page.read_text()
    assert f"none of the 4 images drawn could be shown: relative paths start at {tmp_path}" in text

"""One corpus of bad inputs and bad destinations, run against every command.

In the spirit of csvkit's shared error tests: whatever the command, a bad input gets
exit 2, exactly one stderr line ``rebalance: error: ...`` naming the file, column or
value, no traceback, no output file, and an unchanged input. A new command joins by
adding one line to ``COMMANDS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

runner = CliRunner()


@dataclass(frozen=True)
class Command:
    """How the corpus drives one command."""

    args: tuple[str, ...]  # {input} and {out} are filled in
    label_flag: str  # the option naming the label column
    kind: str  # "manifest" or "predictions": which good content the corpus starts from
    second_out: str | None = None  # a second destination flag, checked like -o
    has_seed: bool = False
    one_class_is_error: bool = True  # inspect only warns: describing one class is fine
    out_name: str = "out.json"  # a good name for its -o
    missing_is_error: bool = False  # rows without a label are an error without --strict


COMMANDS: dict[str, Command] = {
    "inspect": Command(("inspect", "{input}"), "--label-col", "manifest", one_class_is_error=False),
    "resample": Command(
        ("resample", "{input}", "-o", "{out}", "--no-split"),
        "--label-col",
        "manifest",
        "--plan-out",
        True,
        out_name="out.csv",
    ),
    "weights": Command(
        ("weights", "{input}", "-o", "{out}", "--format", "torch"),
        "--label-col",
        "manifest",
        "--classes-out",
    ),
    "evaluate": Command(
        ("evaluate", "{input}", "-o", "{out}"), "--true-col", "predictions", "--html", True
    ),
    "advise": Command(
        (
            "advise",
            "{input}",
            "-o",
            "{out}",
            "--folds",
            "3",
            "--repeats",
            "1",
            "--remedies",
            "smote",
        ),
        "--label-col",
        "manifest",
        "--html",
        True,
        missing_is_error=True,
    ),
}

GOOD = {
    "manifest": "path,label,x\n" + "".join(f"i{i}.png,{'ab'[i % 3 == 0]},{i}\n" for i in range(30)),
    "predictions": "y_true,y_pred\n"
    + "".join(f"{'ab'[i % 3 == 0]},{'ab'[i % 2]}\n" for i in range(30)),
}
HEADER = {"manifest": "path,label,x\n", "predictions": "y_true,y_pred\n"}
ONE_CLASS = {
    "manifest": "path,label,x\n" + "".join(f"i{i}.png,a,{i}\n" for i in range(10)),
    "predictions": "y_true,y_pred\n" + "a,a\n" * 10,
}
NO_LABEL = {
    "manifest": "path,label,x\ni0.png,a,1\ni1.png,,2\ni2.png,b,3\n",
    "predictions": "y_true,y_pred\na,a\n,b\nb,b\n",
}

# A case makes its input in the folder and returns (input, extra args, expected text in
# the error). ``None`` as input means: the command's good input, made by the case.
Case = Callable[[Path, Command], tuple[Path, list[str], str]]


def _good(folder: Path, command: Command, name: str = "data.csv") -> Path:
    path = folder / name
    path.write_text(GOOD[command.kind])
    return path


def missing_file(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    return folder / "missing.csv", [], "missing.csv: no such file"


def empty_file(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    path = folder / "empty.csv"
    path.write_bytes(b"")
    return path, [], "empty.csv"


def header_only(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    path = folder / "header.csv"
    path.write_text(HEADER[command.kind])
    return path, [], "header.csv"


def unknown_extension(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    return _good(folder, command, "data.xyz"), [], ".xyz"


def corrupt_parquet(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    path = folder / "broken.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file at all PAR1")
    return path, [], "broken.parquet"


def not_utf8(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    path = folder / "latin1.csv"
    path.write_bytes(GOOD[command.kind].replace(",a", ",\xe9").encode("latin-1"))
    return path, [], "latin1.csv"


def folder_as_input(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    path = folder / "adir.csv"
    path.mkdir()
    return path, [], "adir.csv"


def misspelled_label_column(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    return _good(folder, command), [command.label_flag, "lable"], "'lable'"


def control_characters_in_column(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    return _good(folder, command), [command.label_flag, "x\x1b]0;owned\x07"], "\\x1b]0;owned\\x07"


def missing_labels(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    path = folder / "holes.csv"
    path.write_text(NO_LABEL[command.kind])
    strict = [] if command.kind == "predictions" or command.missing_is_error else ["--strict"]
    return path, strict, "holes.csv"


def one_class(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    if not command.one_class_is_error:
        pytest.skip("this command describes a one-class manifest (with a warning)")
    path = folder / "single.csv"
    path.write_text(ONE_CLASS[command.kind])
    return path, [], "one class"


def negative_seed(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    if not command.has_seed:
        pytest.skip("no --seed")
    return _good(folder, command), ["--seed", "-1"], "--seed"


def huge_seed(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    if not command.has_seed:
        pytest.skip("no --seed")
    return _good(folder, command), ["--seed", str(2**32)], "--seed"


def unknown_option(folder: Path, command: Command) -> tuple[Path, list[str], str]:
    return _good(folder, command), ["--no-such-flag"], "--no-such-flag"


BAD_INPUTS: list[Case] = [
    missing_file,
    empty_file,
    header_only,
    unknown_extension,
    corrupt_parquet,
    not_utf8,
    folder_as_input,
    misspelled_label_column,
    control_characters_in_column,
    missing_labels,
    one_class,
    negative_seed,
    huge_seed,
    unknown_option,
]


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under the folder with a hash of its bytes (folders as such)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _fill(command: Command, input_path: Path, out: Path) -> list[str]:
    return [a.format(input=input_path, out=out) for a in command.args]


def _assert_refused(args: list[str], folder: Path, expected: str) -> None:
    before = _snapshot(folder)
    result = runner.invoke(app, args)
    errors = [line for line in result.stderr.splitlines() if line.startswith("rebalance: error:")]
    assert result.exit_code == 2, (args, result.output)
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    assert expected in errors[0], (expected, errors[0])
    assert "Traceback" not in result.output and "\x1b" not in result.stderr
    assert _snapshot(folder) == before  # no output file, inputs byte-identical


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_bad_input(tmp_path: Path, name: str, case: Case) -> None:
    command = COMMANDS[name]
    input_path, extra, expected = case(tmp_path, command)
    args = _fill(command, input_path, tmp_path / command.out_name)
    _assert_refused([*args, *extra], tmp_path, expected)


def _dest_is_input(folder: Path, command: Command, good: Path) -> tuple[Path, list[str], str]:
    return good, [], "refusing to overwrite the input"


def _dest_in_missing_folder(
    folder: Path, command: Command, good: Path
) -> tuple[Path, list[str], str]:
    return folder / "nodir" / command.out_name, [], "does not exist"


def _dest_is_folder(folder: Path, command: Command, good: Path) -> tuple[Path, list[str], str]:
    path = folder / "outdir"
    path.mkdir()
    (path / "keep.txt").write_text("x")  # resample -o may name a folder, but never a full one
    return path, [], "folder"


def _second_dest_in_missing_folder(
    folder: Path, command: Command, good: Path
) -> tuple[Path, list[str], str]:
    assert command.second_out is not None
    return folder / command.out_name, [command.second_out, str(folder / "nodir" / "x.txt")], "nodir"


def _second_dest_is_input(
    folder: Path, command: Command, good: Path
) -> tuple[Path, list[str], str]:
    assert command.second_out is not None
    return folder / command.out_name, [command.second_out, str(good)], "refusing to overwrite"


def _both_dests_one_file(folder: Path, command: Command, good: Path) -> tuple[Path, list[str], str]:
    assert command.second_out is not None
    same = folder / f"same{Path(command.out_name).suffix}"
    return same, [command.second_out, str(same)], "named by both"


def _dest_is_empty_folder(
    folder: Path, command: Command, good: Path
) -> tuple[Path, list[str], str]:
    path = folder / "emptydir"
    path.mkdir()  # an existing folder named without a trailing / is a file destination
    return path, [], "is a folder"


BAD_DESTINATIONS = [
    _dest_is_input,
    _dest_in_missing_folder,
    _dest_is_folder,
    _dest_is_empty_folder,
    _second_dest_in_missing_folder,
    _second_dest_is_input,
    _both_dests_one_file,
]


@pytest.mark.parametrize("case", BAD_DESTINATIONS, ids=lambda c: c.__name__.strip("_"))
@pytest.mark.parametrize("name", [n for n, c in COMMANDS.items() if "{out}" in c.args])
def test_bad_destination(tmp_path: Path, name: str, case: Callable[..., tuple]) -> None:  # type: ignore[type-arg]
    command = COMMANDS[name]
    if command.second_out is None and case.__name__.startswith(("_second", "_both")):
        pytest.skip("one destination only")
    good = _good(tmp_path, command)
    out, extra, expected = case(tmp_path, command, good)
    _assert_refused([*_fill(command, good, out), *extra], tmp_path, expected)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_good_input_passes(tmp_path: Path, name: str) -> None:
    """The corpus starts from inputs that work: each failure above is the case's doing."""
    command = COMMANDS[name]
    good = _good(tmp_path, command)
    result = runner.invoke(app, _fill(command, good, tmp_path / command.out_name))
    assert result.exit_code == 0, result.output


# Cases of one command each (issue #22): what the image methods, the cleaners' parameters and
# chained provenance get wrong. Each: (command line after the input, files to make, expected).
IMAGES = "path,label\n" + "".join(f"i{i}.png,{'ab'[i % 3 == 0]}\n" for i in range(12))
ONE_BAD_IMAGE = "path,label\n" + "".join(f"ok{i}.png,{'ab'[i % 3 == 0]}\n" for i in range(11))
ONE_BAD_IMAGE += "gone.png,a\n"


def _pngs(folder: Path, names: list[str]) -> None:
    from PIL import Image

    for name in names:
        Image.new("RGB", (8, 8), (len(name) * 20 % 255, 9, 9)).save(folder / name)


SINGLE_CASES: dict[str, tuple[str, list[str], str]] = {
    "cluster_on_missing_images": (
        ONE_BAD_IMAGE, ["resample", "-o", "{out}", "--method", "cluster", "--target", "2"],
        "1 of 12 image file(s) in column 'path' are bad (1 missing): gone.png (no such file)",
    ),
    "dedup_on_missing_images": (
        ONE_BAD_IMAGE, ["resample", "-o", "{out}", "--method", "dedup", "--threshold", "0.1"],
        "pass --skip-bad",
    ),
    "augment_on_missing_images": (
        ONE_BAD_IMAGE, ["resample", "-o", "{out}", "--method", "augment", "--image-dir", "{aug}"],
        "1 of 12 image file(s)",
    ),
    "skip_bad_skips_every_row": (
        IMAGES, ["resample", "-o", "{out}", "--method", "cluster", "--target", "2", "--skip-bad"],
        "all 12 row(s) to resample were skipped as bad images",
    ),
    "unknown_cleaning_strategy": (
        GOOD["manifest"], ["resample", "-o", "{out}", "--method", "tomek", "--features", "x",
                           "--param", 'sampling_strategy="most"'],
        "sampling_strategy 'most' is not one of",
    ),
    "cleaning_strategy_names_no_class": (
        GOOD["manifest"], ["resample", "-o", "{out}", "--method", "enn", "--features", "x",
                           "--param", 'sampling_strategy=["zz"]'],
        "names 'zz', which is not a class",
    ),
    "sampling_strategy_of_a_planned_method": (
        GOOD["manifest"], ["resample", "-o", "{out}", "--method", "smote", "--features", "x",
                           "--param", 'sampling_strategy="all"'],
        "from the plan (--target, --plan, --mode)",
    ),
    "param_of_the_wrong_kind": (
        GOOD["manifest"], ["resample", "-o", "{out}", "--method", "enn", "--features", "x",
                           "--param", "n_neighbors=[1,2]"],
        "a --param, --k-neighbors or --n-neighbors value of the wrong kind",
    ),
    "replacement_with_a_cleaner": (
        GOOD["manifest"], ["resample", "-o", "{out}", "--method", "tomek", "--features", "x",
                           "--replacement"],
        "--replacement",
    ),
    "provenance_that_is_not_row_numbers": (
        "label,x,rebalance_source_row\n" + "".join(f"{'ab'[i % 3 == 0]},{i},r{i}\n" for i in range(9)),
        ["resample", "-o", "{out}"],
        "column 'rebalance_source_row' holds a value that is not a row number",
    ),
    "fail_on_bad_files_without_check_files": (
        IMAGES, ["inspect", "--fail-on-bad-files"], "give --check-files too"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SINGLE_CASES))
def test_bad_input_of_one_command(tmp_path: Path, case: str) -> None:
    content, args, expected = SINGLE_CASES[case]
    data = tmp_path / "data.csv"
    data.write_text(content)
    if content is ONE_BAD_IMAGE:
        _pngs(tmp_path, [f"ok{i}.png" for i in range(11)])
    filled = [a.format(out=tmp_path / "out.csv", aug=tmp_path / "aug") for a in args[1:]]
    _assert_refused([args[0], str(data), *filled], tmp_path, expected)


# Image datasets on disk (issue #27): each case lays out a dataset with one defect; every
# command that reads a manifest refuses it in one line naming the file and line or index.
def _coco(folder: Path, mutate: Callable[[dict], None]) -> Path:
    import json

    from tests.layouts import make_coco

    path = make_coco(folder / "coco", [[1, 1, 2], [1], [2], []], {1: "person", 2: "car"})
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc, indent=1))
    return path


def _yolo(folder: Path, label_text: str) -> Path:
    from tests.layouts import make_yolo

    root = make_yolo(folder / "yolo", {"train": [[0], [1, 0], [1]]}, ["person", "car"])
    (root / "labels" / "train" / "1.txt").write_text(label_text)
    return root


def _coco_malformed(folder: Path) -> tuple[Path, str]:
    path = _coco(folder, lambda doc: None)
    path.write_text(path.read_text()[:-40])
    return path, "not valid JSON at line"


def _coco_unknown_image(folder: Path) -> tuple[Path, str]:
    return _coco(folder, lambda d: d["annotations"][2].update(image_id=999)), (
        "annotations[2] (id 3): image_id 999 is not an image of the file"
    )


def _coco_unknown_category(folder: Path) -> tuple[Path, str]:
    return _coco(folder, lambda d: d["annotations"][0].update(category_id=7)), (
        "annotations[0] (id 1): category_id 7 is not a category of the file"
    )


def _coco_missing_image(folder: Path) -> tuple[Path, str]:
    path = _coco(folder, lambda doc: None)
    (folder / "coco" / "images" / "000001.jpg").unlink()
    return path, "image 000001.jpg is missing"


def _voc_malformed_xml(folder: Path) -> tuple[Path, str]:
    from tests.layouts import make_voc

    root = make_voc(folder / "VOC", [["dog"], ["cat"]], {"train": [0, 1]})
    (root / "Annotations" / "2026000001.xml").write_text("<annotation>\n<object><name>cat</name>\n")
    return root, "2026000001.xml: not valid XML at line 3"


def _yolo_bad_line(folder: Path) -> tuple[Path, str]:
    return _yolo(folder, "1 0.5 0.5 0.1 0.1\n0 0.5 oops\n"), "1.txt:2: not a YOLO label line"


def _yolo_class_outside_names(folder: Path) -> tuple[Path, str]:
    return _yolo(folder, "1 0.5 0.5 0.1 0.1\n5 0.5 0.5 0.1 0.1\n"), (
        "1.txt:2: class id 5 is not in names (ids 0–1)"
    )


def _yolo_no_names(folder: Path) -> tuple[Path, str]:
    root = _yolo(folder, "0 0.5 0.5 0.1 0.1\n")
    (root / "data.yaml").write_text("train: images/train\nnames: 3\n")
    return root, 'data.yaml: no "names"'


def _imagefolder_without_images(folder: Path) -> tuple[Path, str]:
    (folder / "tree" / "cat").mkdir(parents=True)
    (folder / "tree" / "cat" / "readme.md").write_text("x")
    return folder / "tree", "no images in class folders"


ON_DISK_CASES = [
    _coco_malformed,
    _coco_unknown_image,
    _coco_unknown_category,
    _coco_missing_image,
    _voc_malformed_xml,
    _yolo_bad_line,
    _yolo_class_outside_names,
    _yolo_no_names,
    _imagefolder_without_images,
]


@pytest.mark.parametrize("case", ON_DISK_CASES, ids=lambda c: c.__name__.strip("_"))
@pytest.mark.parametrize("name", ["inspect", "resample", "weights"])
def test_bad_dataset_on_disk(tmp_path: Path, name: str, case: Callable[[Path], tuple]) -> None:  # type: ignore[type-arg]
    command = COMMANDS[name]
    dataset, expected = case(tmp_path)
    args = [a.format(input=dataset, out=tmp_path / command.out_name) for a in command.args]
    _assert_refused(args, tmp_path, expected)

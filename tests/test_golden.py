"""Golden runs: representative commands whose whole behaviour is recorded.

Each case runs one command line through the CLI in a fresh folder holding a copy of
``samples/`` and a few generated manifests, and records its exit code, stdout, stderr
and every file it wrote (text as text, other files by SHA-256) in ``tests/golden/``.
A restructuring must leave all of it byte-identical. After a change in behaviour that
is meant, rewrite the records with ``REBALANCE_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("REBALANCE_UPDATE_GOLDEN") == "1"

# name -> command line (run in the case's folder; "< FILE" feeds FILE on stdin)
CASES: dict[str, str] = {
    # inspect
    "inspect-table": "inspect samples/longtail.csv --top 5",
    "inspect-json": "inspect samples/longtail.csv --json",
    "inspect-stdin": "inspect - --json --no-split < samples/fraud.csv",
    "inspect-gate": "inspect samples/longtail.csv --max-ratio 5 --no-split",
    "inspect-masks": (
        "inspect samples/street.csv --check-files --mask-col mask "
        "--mask-classes samples/street-classes.json --no-split --json"
    ),
    "inspect-multilabel": "inspect multilabel.csv --multi-label --sep '|' --json",
    "inspect-regression": "inspect regression.csv --regression --label-col y --bins 5",
    "inspect-parquet": "inspect tags.parquet --json",
    "inspect-jsonl": "inspect rows.jsonl --label-col kind",
    "inspect-misspelt-column": "inspect samples/longtail.csv --label-col lable",
    "inspect-empty": "inspect empty.csv",
    "inspect-config": "--config samples-config.toml inspect samples/longtail.csv --json",
    # resample
    "resample-dry-run": "resample samples/longtail.csv --only-split train --target sqrt --dry-run --top 3",
    "resample-plan-json": "resample samples/longtail.csv --target median --plan-json --dry-run --no-split",
    "resample-sqrt": (
        "resample samples/longtail.csv -o out/balanced.csv --only-split train --target sqrt "
        "--min-per-class 5 --provenance --plan-out out/plan.json"
    ),
    "resample-under-parquet": (
        "resample samples/longtail.csv -o out/under.parquet --only-split train --target min "
        "--seed 3"
    ),
    "resample-stdout": "resample samples/fraud.csv -o - --target 20 --mode under --seed 1",
    "resample-jsonl": "resample rows.jsonl -o out/rows.jsonl --label-col kind --target max",
    "resample-smote-tomek": (
        "resample samples/fraud.csv -o out/st.parquet --method smote-tomek --features 'v*' "
        "--features amount --provenance"
    ),
    "resample-enn": ("resample samples/fraud.csv -o out/enn.csv --method enn --features 'v*'"),
    "resample-augment": (
        "resample samples/street.csv -o out/aug.csv --only-split train --target max "
        "--method augment --image-dir out/aug --mask-col mask --augment rotate=10,flip"
    ),
    "resample-cluster": (
        "resample samples/street.csv -o out/cluster.csv --only-split train --method cluster "
        "--target 8 --provenance"
    ),
    "resample-repeat-factor": (
        "resample samples/street.csv -o out/rf.csv --target repeat-factor:0.3 --mask-col mask "
        "--no-split"
    ),
    "resample-multilabel": (
        "resample multilabel.csv -o out/ml.csv --multi-label --sep '|' --method ml-ros "
        "--percentage 25"
    ),
    "resample-regression": (
        "resample regression.csv -o out/reg.csv --regression --label-col y --bins 5 --target max"
    ),
    "resample-groups": (
        "resample groups.csv -o out/groups.csv --group-col patient --target min --no-split"
    ),
    "resample-bad-target": "resample samples/longtail.csv -o out/x.csv --target most --no-split",
    "resample-onto-input": "resample samples/fraud.csv -o samples/fraud.csv",
    "resample-too-small": "resample tiny.csv -o out/x.csv --method smote --features x",
    "resample-too-small-strict": (
        "resample tiny.csv -o out/x.csv --method smote --features x --strict"
    ),
    # weights
    "weights-effective-torch": (
        "weights samples/fraud.csv --scheme effective --beta 0.999 --format torch -o out/w.json"
    ),
    "weights-csv": (
        "weights samples/longtail.csv --from-split train --missing-weight 0 --format csv "
        "-o out/w.csv"
    ),
    "weights-keras-stdout": "weights samples/fraud.csv --format keras",
    "weights-sample": "weights samples/fraud.csv --sample-weights -o out/sw.parquet --weight-col w",
    "weights-masks": "weights samples/street.csv --mask-col mask --scheme median --format torch",
    "weights-multilabel": "weights multilabel.csv --multi-label --sep '|' --format json",
    # evaluate
    "evaluate-json": (
        "evaluate samples/fraud-predictions.csv --positive fraud --at-specificity 0.95 --json"
    ),
    "evaluate-table": "evaluate samples/fraud-predictions.csv --bootstrap 50 --seed 2",
    "evaluate-gate": "evaluate samples/fraud-predictions.csv --fail-under 'recall[fraud]=0.99'",
    "evaluate-files": (
        "evaluate samples/fraud-predictions.csv --html out/report.html -o out/report.json "
        "--markdown out/report.md"
    ),
    "evaluate-buckets": (
        "evaluate samples/fraud-predictions.csv --train-manifest samples/fraud.csv --adjust-priors --json"
    ),
    # adjust
    "adjust-uniform": (
        "adjust samples/fraud-predictions.csv --train-manifest samples/fraud.csv "
        "--target-priors uniform -o out/adj.csv --priors-out out/priors.json"
    ),
    "adjust-em-json": (
        "adjust samples/fraud-predictions.csv --train-manifest samples/fraud.csv --estimate em "
        "-o out/adj.parquet --json"
    ),
}


def _generated(folder: Path) -> None:
    """Small manifests for the kinds the samples do not cover."""
    tags = ["a", "a|b", "b", "a|c", "a", "a|b|c", "c", "a", "a|b", "a"] * 3
    (folder / "multilabel.csv").write_text(
        "id,labels\n" + "".join(f"r{i:02d},{t}\n" for i, t in enumerate(tags))
    )
    (folder / "regression.csv").write_text(
        "id,y\n"
        + "".join(
            f"r{i:02d},{(i * 7919 % 97) / 3 + (20 if i % 9 == 0 else 0):.3f}\n" for i in range(60)
        )
    )
    (folder / "groups.csv").write_text(
        "patient,label,x\n"
        + "".join(f"p{i % 7},{'rare' if i % 5 == 0 else 'common'},{i}\n" for i in range(40))
    )
    (folder / "rows.jsonl").write_text(
        "".join(
            json.dumps({"kind": "01" if i % 4 == 0 else "2", "v": i / 4, "ok": i % 2 == 0}) + "\n"
            for i in range(24)
        )
    )
    (folder / "empty.csv").write_text("")
    (folder / "tiny.csv").write_text(
        "x,label\n" + "".join(f"{i},{'few' if i < 2 else 'many'}\n" for i in range(30))
    )
    (folder / "samples-config.toml").write_text("[inspect]\ntop = 2\nsplit_col = 'split'\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table(
            {
                "label": pa.array(["x", "y", "x", "z", "x", "y"] * 4).dictionary_encode(),
                "score": pa.array([float(i) for i in range(24)], pa.float32()),
            }
        ),
        folder / "tags.parquet",
    )


def _record(folder: Path, before: set[Path], result: object) -> dict[str, object]:
    files: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p not in before):
        data = path.read_bytes()
        key = path.relative_to(folder).as_posix()
        try:
            text = data.decode("utf-8")
            files[key] = (
                text if len(data) <= 20_000 else "sha256:" + hashlib.sha256(data).hexdigest()
            )
        except UnicodeDecodeError:
            files[key] = "sha256:" + hashlib.sha256(data).hexdigest()
    return {
        "exit": result.exit_code,  # type: ignore[attr-defined]
        "stdout": _stable(result.stdout, folder),  # type: ignore[attr-defined]
        "stderr": _stable(result.stderr, folder),  # type: ignore[attr-defined]
        "files": files,
    }


def _stable(text: str, folder: Path) -> str:
    """The text without what differs from run to run: the case's folder and timings."""
    text = text.replace(str(folder), "<folder>")
    return re.sub(r"in [0-9.]+ s, [0-9,.]+ images/s", "in <time>", text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(
        ROOT / "samples", tmp_path / "samples", ignore=shutil.ignore_patterns("*.sh", "*.py")
    )
    _generated(tmp_path)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REBALANCE_CACHE_DIR", str(tmp_path / ".cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    line = CASES[name]
    stdin = None
    if " < " in line:
        line, _, feed = line.partition(" < ")
        stdin = (tmp_path / feed).read_bytes()
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, shlex.split(line), input=stdin)
    assert not isinstance(result.exception, AssertionError)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    shutil.rmtree(tmp_path / ".cache", ignore_errors=True)
    got = _record(tmp_path, before - {tmp_path / ".cache"}, result)
    expected_file = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        expected_file.write_text(json.dumps({"command": CASES[name], **got}, indent=1) + "\n")
    expected = json.loads(expected_file.read_text())
    assert expected.pop("command") == CASES[name], "the command changed: rewrite the record"
    assert got == expected

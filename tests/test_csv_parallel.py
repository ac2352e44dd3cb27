"""A large CSV/TSV without quotes is counted on a thread per core: the same counts, splits,
missing rows and errors as the one-stream reader, whatever the ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rebalance.manifest.text as text
from rebalance.cli import app
from rebalance.manifest import resolve_source
from rebalance.stats import count_labels


def counted(path: Path, **options: object) -> object:
    counts, label, split = count_labels(path, **options)  # type: ignore[arg-type]
    return counts, label, split


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges of a few dozen bytes, two cores: many ranges on a small file."""
    monkeypatch.setattr(text, "_RANGE_BYTES", 40)
    monkeypatch.setattr("rebalance.cpus.usable_cpus", lambda: 2)


def serial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "parallel_ranges", lambda source: None)


def test_ranges_start_at_line_starts_and_cover_the_file(tmp_path: Path, small_ranges) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    path.write_bytes(
        b"path,label\r\n" + b"".join(b"img/%d.png,c%d\r\n" % (i, i % 3) for i in range(60))
    )
    ranges = text.parallel_ranges(resolve_source(path))
    assert ranges is not None and len(ranges) > 5
    data = path.read_bytes()
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, stop), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert stop == start and data[start - 1 : start] == b"\n"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'path,label\n"a,b.png",x\n' + b"c.png,y\n" * 40, "a quote"),
        (b"path,label\n" + b"c.png,y\n" * 3, "a small file"),
    ],
)
def test_read_as_one_stream(tmp_path: Path, small_ranges, content: bytes, why: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    if why == "a small file":
        text._RANGE_BYTES = 1 << 20  # the fixture's monkeypatch restores it
    assert text.parallel_ranges(resolve_source(path)) is None, why


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "01", "é", ""]), min_size=1, max_size=80),
    splits=st.lists(st.sampled_from(["train", "val"]), min_size=80, max_size=80),
    crlf=st.booleans(),
    tsv=st.booleans(),
)
def test_same_counts_as_one_stream(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    labels: list[str],
    splits: list[str],
    crlf: bool,
    tsv: bool,
) -> None:
    sep, end = ("\t" if tsv else ","), ("\r\n" if crlf else "\n")
    rows = [f"img/{i}.png{sep}{label}{sep}{splits[i]}" for i, label in enumerate(labels)]
    path = tmp_path_factory.mktemp("csv") / ("m.tsv" if tsv else "m.csv")
    path.write_text(end.join([f"path{sep}label{sep}split", *rows]) + end, encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(text, "_RANGE_BYTES", 24)
        m.setattr("rebalance.cpus.usable_cpus", lambda: 2)
        parallel = counted(path, label_col="label", split_col="split")
    with monkeypatch.context() as m:
        serial(m)
        alone = counted(path, label_col="label", split_col="split")
    assert parallel == alone


def test_cli_output_is_the_same_and_a_bad_row_is_one_error(
    tmp_path: Path, small_ranges, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.csv"
    path.write_text("path,label\n" + "".join(f"img/{i}.png,c{i % 4}\n" for i in range(200)))
    runner = CliRunner()
    parallel = runner.invoke(app, ["inspect", str(path), "--json"])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "path,label\n" + "img/1.png,a\n" * 50 + "img/2.png,b,extra\n" + "img/3.png,c\n" * 50
    )
    broken = runner.invoke(app, ["inspect", str(bad), "--json"])
    serial(monkeypatch)
    alone = runner.invoke(app, ["inspect", str(path), "--json"])
    assert parallel.exit_code == alone.exit_code == 0 and parallel.stdout == alone.stdout
    assert broken.exit_code == 2 and "cannot parse as CSV" in broken.stderr
    assert "Traceback" not in broken.output

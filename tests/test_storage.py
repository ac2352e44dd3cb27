"""s3:// inputs and outputs, against a real S3-compatible server on loopback (moto's server
mode), never a mock of the client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rebalance.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    pytest.importorskip("moto")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The server as the default endpoint (AWS_ENDPOINT_URL), with a fresh bucket."""
    import uuid

    import pyarrow.fs as pafs

    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    host = endpoint.split("://")[1]
    fs = pafs.S3FileSystem(endpoint_override=host, scheme="http", access_key="test",
                           secret_key="test", region="us-east-1", allow_bucket_creation=True)  # fmt: skip
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    fs.create_dir(bucket)
    return fs, bucket


def manifest(seed: int = 0, n: int = 300) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "path": [f"img/{i}.jpg" for i in range(n)],
        "label": rng.choice(["cat", "dog", "01"], n, p=[0.8, 0.15, 0.05]),
        "x": rng.normal(size=n),
    })  # fmt: skip


def test_inspect_a_csv_object_and_a_partitioned_prefix(s3: Any, tmp_path: Path) -> None:
    fs, bucket = s3
    table = manifest()
    local = tmp_path / "m.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(table, local)
    with fs.open_output_stream(f"{bucket}/m.csv") as out:
        out.write(local.read_bytes())
    for split, part in (("train", table.slice(0, 200)), ("val", table.slice(200))):
        pq.write_table(part, f"{bucket}/ds/split={split}/part-0.parquet", filesystem=fs)
    remote = runner.invoke(app, ["inspect", f"s3://{bucket}/m.csv", "--json"])
    here = runner.invoke(app, ["inspect", str(local), "--json"])
    assert remote.exit_code == 0, remote.output
    a, b = json.loads(remote.stdout), json.loads(here.stdout)
    assert a.pop("source") == f"s3://{bucket}/m.csv"
    b.pop("source")
    assert a == b
    prefix = runner.invoke(app, ["inspect", f"s3://{bucket}/ds/", "--json"])
    assert prefix.exit_code == 0, prefix.output
    doc = json.loads(prefix.stdout)
    assert doc["split_col"] == "split" and doc["rows"] == 300
    assert doc["counts"] == b["counts"]


def test_resample_and_weights_write_objects_whole(s3: Any, tmp_path: Path) -> None:
    fs, bucket = s3
    pq.write_table(manifest(), f"{bucket}/in.parquet", filesystem=fs)
    pq.write_table(manifest(), tmp_path / "in.parquet")
    args = ["--target", "max", "--seed", "2"]
    remote = runner.invoke(
        app,
        ["resample", f"s3://{bucket}/in.parquet", "-o", f"s3://{bucket}/out/balanced.csv", *args],
    )
    assert remote.exit_code == 0, remote.output
    here = runner.invoke(
        app, ["resample", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "b.csv"), *args]
    )
    assert here.exit_code == 0
    with fs.open_input_stream(f"{bucket}/out/balanced.csv") as f:
        assert f.read() == (tmp_path / "b.csv").read_bytes()
    weights = runner.invoke(
        app, ["weights", f"s3://{bucket}/in.parquet", "-o", f"s3://{bucket}/w.json"]
    )
    assert weights.exit_code == 0, weights.output
    with fs.open_input_stream(f"{bucket}/w.json") as f:
        assert json.loads(f.read())["scheme"] == "balanced"
    # no temporary file is left behind locally or remotely
    import pyarrow.fs as pafs

    names = [i.path for i in fs.get_file_info(pafs.FileSelector(bucket, recursive=True))]
    assert all(".rebalance-" not in n for n in names)


def test_storage_errors_are_one_clear_line(s3: Any, endpoint: str) -> None:
    fs, bucket = s3
    pq.write_table(manifest(), f"{bucket}/in.parquet", filesystem=fs)
    missing = runner.invoke(app, ["inspect", f"s3://{bucket}/nope.csv"])
    assert missing.exit_code == 2 and "no such object or prefix" in missing.stderr
    inside = runner.invoke(
        app, ["resample", f"s3://{bucket}/", "-o", f"s3://{bucket}/out.csv", "--target", "max"]
    )
    assert inside.exit_code == 2 and "inside the input dataset folder" in inside.stderr
    bad = runner.invoke(
        app, ["--storage-option", "colour=red", "inspect", f"s3://{bucket}/in.parquet"]
    )
    assert bad.exit_code == 2 and "unknown --storage-option 'colour'" in bad.stderr
    explicit = runner.invoke(
        app, ["--storage-option", f"endpoint_url={endpoint}", "inspect", f"s3://{bucket}/in.parquet", "--json"],
        env={"AWS_ENDPOINT_URL": ""},
    )  # fmt: skip
    assert explicit.exit_code == 0, explicit.output


def test_dask_writes_a_prefix_all_at_once(s3: Any, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import pyarrow.fs as pafs

    fs, bucket = s3
    table = manifest(n=900)
    for i in range(3):
        pq.write_table(table.slice(300 * i, 300), f"{bucket}/in/part-{i}.parquet", filesystem=fs)
    pq.write_table(table, tmp_path / "in.parquet")
    args = ["--target", "200", "--seed", "2"]
    remote = runner.invoke(app, ["resample", f"s3://{bucket}/in/", "-o", f"s3://{bucket}/out/",
                                 "--engine", "dask", *args])  # fmt: skip
    assert remote.exit_code == 0, remote.output
    infos = fs.get_file_info(pafs.FileSelector(f"{bucket}/out", recursive=True))
    names = sorted(i.path for i in infos if i.type == pafs.FileType.File)
    parts = [f"{bucket}/out/part-{i:05d}.parquet" for i in range(3)]
    assert names == [f"{bucket}/out/_SUCCESS", *parts]  # no _temporary/ left
    ours = pa.concat_tables([pq.read_table(p, filesystem=fs) for p in parts])
    here = runner.invoke(app, ["resample", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "o.parquet"), *args])  # fmt: skip
    assert here.exit_code == 0
    key = [("path", "ascending")]
    assert ours.sort_by(key).equals(pq.read_table(tmp_path / "o.parquet").sort_by(key))
    again = runner.invoke(
        app, ["resample", f"s3://{bucket}/in/", "-o", f"s3://{bucket}/out/", *args]
    )
    assert again.exit_code == 2 and "holds objects already" in again.output

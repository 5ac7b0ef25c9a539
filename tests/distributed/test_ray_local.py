"""A real local Ray cluster: ``mmrag ingest --engine daft --ray-address`` writes
the rows the single-process engine writes (same chunk ids, texts and vectors),
with an ``--image-model`` (a tiny random CLIP saved by path) on the Ray workers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("daft")
pytest.importorskip("ray")

from typer.testing import CliRunner  # noqa: E402

from .test_daft_pipeline import EXAMPLES, assert_same, snapshot  # noqa: E402

from mmrag.cli import app  # noqa: E402
from mmrag.index import Index  # noqa: E402
from tests.integrations.conftest import tiny_clip_path  # noqa: E402,F401  (a fixture: a random CLIP saved by path)

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(head: subprocess.Popen) -> None:
    """End the head's process group: this cluster's processes only."""
    for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
        try:
            os.killpg(head.pid, sig)
        except ProcessLookupError:
            return
        try:
            head.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for_port(port: int, head: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert head.poll() is None, f"ray start exited ({head.returncode}) before the head was up"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                time.sleep(2)  # the GCS answers before the raylet has registered
                return
        time.sleep(0.5)
    raise AssertionError(f"no Ray head on port {port} after {timeout} s")


@pytest.mark.slow  # starts a Ray head (tens of seconds) and ingests on it
def test_daft_on_a_local_ray_cluster_writes_what_one_process_writes(tmp_path: Path, text_embedder, tiny_clip_path) -> None:
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    for name in ("reef.txt", "beekeeping.md", "coffee_guide.pdf", "roastery_tour.srt"):
        shutil.copy(EXAMPLES / name, data / name)
    Image.new("RGB", (64, 48), (200, 30, 30)).save(data / "red.png")
    port = free_port()
    env_dir = Path(tempfile.mkdtemp(prefix="mmrag-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    start = [RAY, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={env_dir}", "--block"]
    # --block keeps the head's processes in this one process group, so stopping
    # it ends this cluster and nothing else (`ray stop --force` would end every
    # Ray cluster on a shared machine).
    log = (tmp_path / "ray-start.log").open("w")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # the workers load models by path only
    head = subprocess.Popen(start, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    args = [str(data), "--image-model", tiny_clip_path, "--collection", "ex", "--json"]
    try:
        wait_for_port(port, head, timeout=240)
        done = subprocess.run(
            [sys.executable, "-m", "mmrag.cli", "ingest", *args, "--engine", "daft", "--workers", "1",
             "--ray-address", f"127.0.0.1:{port}", "--store", str(tmp_path / "ray.db")],
            capture_output=True, text=True, timeout=600, env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout)
        assert report["files_ingested"] == 5 and report["files_failed"] == 0
    finally:
        stop(head)
        shutil.rmtree(env_dir, ignore_errors=True)
    single = CliRunner().invoke(app, ["ingest", *args, "--store", str(tmp_path / "single.db")])
    assert single.exit_code == 0, single.output
    ref = Index(str(tmp_path / "single.db"), "ex", embedder=text_embedder)
    out = Index(str(tmp_path / "ray.db"), "ex", embedder=text_embedder)
    assert set(out.store.spaces()) == {"text", "image"} and out.store.spaces() == ref.store.spaces()
    for space in ("text", "image"):
        expected = snapshot(ref, space)
        assert_same(snapshot(out, space), expected)
    assert len(snapshot(out)) == report["chunks_written"] > 0
    assert any(source.endswith("red.png") for _, source, *_ in snapshot(out, "image").values())
    ref.close()
    out.close()

"""The CLI on bad stores, bad options and hostile names: one sentence and an
exit code, never a traceback, a hang or a stray store. Driven through typer's
runner (and real subprocesses where a hang or a second process is the point)
against real Milvus Lite stores."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from mmrag.cli import app
from mmrag.index import Index
from mmrag.ingest import Status
from mmrag.ingest.walk import unreadable
from mmrag.terminal import printable

runner = CliRunner()
ESC_NAME = "evil\x1b[2Jname.txt"


def cli(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def text_store(tmp_path_factory, text_embedder) -> Path:
    """A text-only store holding a plain file and one whose name and text carry terminal escapes."""
    root = tmp_path_factory.mktemp("text_store")
    docs = root / "docs"
    docs.mkdir()
    (docs / "birds.txt").write_text("Swifts sleep while flying over the sea.")
    body = " The owl flies without a sound, and its ears find mice under the snow." * 3
    (docs / ESC_NAME).write_text("The owl \x1b]0;pwned\x07 hunts at night in the forest." + body)
    index = Index(str(root / "text.db"), embedder=text_embedder)
    report = index.ingest([docs])
    assert report.count(Status.INGESTED) == 2, report.lines()
    index.close()
    return root


def test_a_store_path_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "plain.db").write_text("not a store")
    foreign = tmp_path / "photos.db"
    foreign.mkdir()
    (foreign / "holiday.txt").write_text("mine")
    (tmp_path / "a.txt").write_text("some text")

    result = cli("ingest", str(tmp_path / "a.txt"), "--store", str(tmp_path / "plain.db"))
    assert result.exit_code == 2, result.output
    assert "plain.db is a file, not a Milvus Lite store" in result.output and "Traceback" not in result.output
    result = cli("search", "x", "--store", str(foreign))
    assert result.exit_code == 2
    assert "is a folder that is not a Milvus Lite store (it holds holiday.txt)" in result.output
    result = cli("ingest", str(tmp_path / "a.txt"), "--store", str(foreign))
    assert result.exit_code == 2
    assert sorted(p.name for p in foreign.iterdir()) == ["holiday.txt"]  # nothing of Milvus' written there


def test_no_store_is_created_when_nothing_would_be_ingested(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("ingest", str(tmp_path / "missing"), "--store", str(tmp_path / "a.db"))
    assert result.exit_code == 1 and "no such file" in result.output
    result = cli("ingest", str(empty), "--store", str(tmp_path / "b.db"))
    assert result.exit_code == 0 and "files ingested: 0" in result.output
    result = cli("ingest", str(empty), "--store", str(tmp_path / "c.db"), "--dry-run")
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


@pytest.mark.parametrize("command", [["search", "x"], ["sources"], ["info"], ["delete", "--source", "a.txt"]])
def test_reads_on_a_missing_store_do_not_create_it(tmp_path, command):
    store = tmp_path / "typo.db"
    result = cli(*command, "--store", str(store))
    assert result.exit_code == 2, result.output
    assert f"the store {store} does not exist" in result.output
    assert not store.exists()


@pytest.mark.parametrize("command", [["mcp"], ["mcp", "--http", "127.0.0.1:8799"], ["serve", "--bind", "127.0.0.1:8799"]])
def test_servers_on_a_missing_store_refuse_to_start_and_create_nothing(tmp_path, command):
    """In a subprocess with a timeout: were the check lost, the server would start and serve an empty store."""
    store = tmp_path / "typo.db"
    done = subprocess.run([sys.executable, "-m", "mmrag.cli", *command, "--store", str(store)], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert f"the store {store} does not exist" in done.stderr
    assert not store.exists()


def test_only_regular_files_are_opened(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    (tmp_path / "a.txt").write_text("text")
    assert unreadable(tmp_path / "a.txt") is None
    assert "a FIFO, not a regular file" in unreadable(fifo).reason
    assert unreadable(fifo).status is Status.SKIPPED
    assert "a character device" in unreadable(Path("/dev/zero")).reason
    assert unreadable(loop).status is Status.FAILED and "symlink loop" in unreadable(loop).reason
    assert unreadable(tmp_path / "gone").reason == "no such file"


@pytest.mark.slow
def test_fifo_dev_zero_and_a_symlink_loop_as_arguments_neither_hang_nor_crash(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "good.txt").write_text("Penguins swim fast.")
    args = ["ingest", str(tmp_path / "pipe"), "/dev/zero", str(tmp_path / "loop"), str(tmp_path / "good.txt"),
            "--store", str(tmp_path / "s.db")]
    # The timeout only guards against the hang this test is about; it is no speed bound.
    done = subprocess.run([sys.executable, "-m", "mmrag.cli", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr  # the loop failed
    assert "files ingested: 1, unchanged: 0, skipped: 2, failed: 1" in done.stdout
    assert "pipe: a FIFO, not a regular file" in done.stdout and "/dev/zero: a character device" in done.stdout
    assert "loop: a symlink loop" in done.stdout
    assert "Traceback" not in done.stderr


HOLD = textwrap.dedent("""
    import sys, pymilvus
    client = pymilvus.MilvusClient(uri=sys.argv[1])
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
""")


def test_a_store_held_by_another_process_is_said_to_be_in_use(tmp_path):
    store = tmp_path / "busy.db"
    (tmp_path / "a.txt").write_text("some text")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        for command in (["ingest", str(tmp_path / "a.txt")], ["search", "text"], ["sources"]):
            result = cli(*command, "--store", str(store))
            assert result.exit_code == 2, result.output
            assert f"the store {store} is in use by another process" in result.output, result.output
            assert "Traceback" not in result.output and "Failed to start" not in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=120)


def test_option_errors_exit_2_with_a_sentence(text_store, tmp_path):
    store = str(text_store / "text.db")
    cases = [
        (["--filter", "page=1 or 1==1"], "page takes a number, got '1 or 1==1'"),
        (["--filter", "page=" + "9" * 30], "is out of range (a 64-bit integer"),
        (["--model", str(tmp_path / "no-model")], "no such model folder"),
        (["--model", str(tmp_path)], "the folder holds no model"),
        (["--model", "nobody/no-such-model"], "not in the Hugging Face cache (HF_HUB_OFFLINE is set"),
        (["--image-model", "nobody/no-such-clip"], "model 'nobody/no-such-clip': not a local folder"),
        (["--rerank", "cross-encoder:nobody/no-such-reranker"], "model 'nobody/no-such-reranker': not a local folder"),
    ]
    for extra, said in cases:
        result = cli("search", "owl", "--store", store, *extra)
        assert result.exit_code == 2, (extra, result.output)
        assert said in result.output, (extra, result.output)
        assert "Traceback" not in result.output


def test_an_image_query_on_a_text_only_store_is_refused(text_store, tmp_path):
    picture = tmp_path / "q.png"
    Image.new("RGB", (32, 32), "red").save(picture)
    result = cli("search", "owl", "--image", str(picture), "--store", str(text_store / "text.db"))
    assert result.exit_code == 2, result.output
    assert "no embedding space here embeds images" in result.output


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "plain.db").write_text("x")
    result = cli("--debug", "sources", "--store", str(tmp_path / "plain.db"))
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "StoreError"  # the exception went on to typer, which prints it
    result = cli("sources", "--store", str(tmp_path / "plain.db"))
    assert result.exit_code == 2 and result.exception.__class__ is SystemExit


def test_control_characters_never_reach_the_terminal(text_store):
    store = str(text_store / "text.db")
    result = cli("sources", "--store", store)
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "evil\\x1b[2Jname.txt" in result.output
    result = cli("search", "owl hunting at night", "--store", store, "--k", "1")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\\x1b]0;pwned\\x07" in result.output
    result = cli("search", "owl hunting at night", "--store", store, "--k", "1", "--json")
    assert '"text": "The owl \\u001b]0;pwned\\u0007 hunts' in result.stdout  # JSON keeps the text exact, escaped


def test_printable_escapes_controls_and_bidi_overrides_only():
    assert printable("a\x1b[31mb\tc\nd\x9b\u202ee") == "a\\x1b[31mb\tc\nd\\x9b\\u202ee"
    assert printable("Zoë – naïve 日本") == "Zoë – naïve 日本"

"""What a folder walk reads: only regular files inside the folder, unless links
are followed; everything else gets a report line, and a bad name never stops the run."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

import mmrag
from mmrag.errors import InvalidArgument
from mmrag.ingest import FileOutcome, Status
from mmrag.ingest.walk import PathRefused, contained, walk
from tests.hostile_files import write_zip_member

BAD_NAME = os.fsdecode(b"caf\xe9.txt")  # latin-1 bytes: not UTF-8


def skipped(items) -> dict[str, str]:
    return {Path(o.path).name: o.reason for o in items if isinstance(o, FileOutcome)}


def files(items) -> list[str]:
    return [p.name for p in items if isinstance(p, Path)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("the payroll of everyone")
    root = tmp_path / "inbox"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Volcanoes erupt when magma rises.")
    (root / "sub" / "b.md").write_text("# Tides\n\nThe moon pulls the sea.")
    (root / "out_link.txt").symlink_to(outside / "secret.txt")
    (root / "out_dir").symlink_to(outside)
    (root / "in_link.txt").symlink_to(root / "a.txt")
    (root / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "zero").symlink_to("/dev/zero")
    os.mkfifo(root / "pipe.txt")
    return root


def test_links_out_of_the_folder_and_non_regular_files_are_skipped_with_a_reason(folder: Path) -> None:
    items = list(walk([folder]))
    assert files(items) == ["a.txt", "in_link.txt", "b.md"]
    why = skipped(items)
    assert set(why) == {"out_link.txt", "out_dir", "broken.txt", "loop.txt", "zero", "pipe.txt"}
    assert why["out_link.txt"].startswith(f"a symlink to {folder.parent.resolve() / 'outside' / 'secret.txt'}, outside the folder being ingested")
    assert "--follow-links" in why["out_dir"]
    assert why["broken.txt"] == "a broken symlink: its target does not exist"
    assert why["loop.txt"] == "a symlink loop: the link never reaches a file"
    assert why["pipe.txt"] == "a FIFO, not a regular file: only regular files are read"


def test_follow_links_reads_them_but_still_no_devices(folder: Path) -> None:
    items = list(walk([folder], follow_links=True))
    assert files(items) == ["a.txt", "in_link.txt", "secret.txt", "out_link.txt", "b.md"]
    why = skipped(items)
    assert why["zero"] == "a character device, not a regular file: only regular files are read"
    assert "pipe.txt" in why and "out_link.txt" not in why


def test_a_linked_folder_that_loops_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x")
    (tmp_path / "d" / "back").symlink_to(tmp_path / "d")
    assert files(walk([tmp_path / "d"], follow_links=True)) == ["x.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its mode")
def test_an_unreadable_subfolder_gets_a_report_line(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "ok.txt").write_text("fine")
    (tmp_path / "locked").chmod(0)
    try:
        items = list(walk([tmp_path]))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert files(items) == ["ok.txt"]
    assert skipped(items)["locked"].startswith("cannot list this folder: Permission denied")


def test_contained_is_the_servers_check(folder: Path) -> None:
    assert contained(folder / "sub" / ".." / "a.txt", folder) == (folder / "a.txt").resolve()
    for bad in (folder / "out_link.txt", folder / ".." / "outside", Path("/etc")):
        with pytest.raises(PathRefused, match="outside the folder"):
            contained(bad, folder)
    with pytest.raises(PathRefused, match="cannot be resolved"):
        contained(folder / "loop.txt", folder)


def test_a_run_goes_on_past_a_bad_name_and_links_out_and_over_budget_files(
    folder: Path, milvus_uri: str, text_embedder
) -> None:
    try:
        (folder / BAD_NAME).write_text("a file whose name is latin-1")
    except UnicodeEncodeError:
        pytest.skip("this file system refuses non-UTF-8 names")
    with zipfile.ZipFile(folder / "big.docx", "w") as zf:  # 3 MB of parts in a few KB
        write_zip_member(zf, "word/document.xml", 3 * 1024 * 1024)
    index = mmrag.Index(milvus_uri, embedder=text_embedder, max_file_mb=2)
    report = index.ingest([folder])
    by_name = {Path(f.path).name: f for f in report.files}
    bad = next(f for name, f in by_name.items() if name.startswith("caf"))
    assert bad.status is Status.SKIPPED and "name is not valid UTF-8" in bad.reason and "\\xe9" in bad.path
    assert by_name["out_link.txt"].status is Status.SKIPPED
    big = by_name["big.docx"]
    assert big.status is Status.FAILED and big.reason == (
        "file too large: its parts inflate to 3.0 MB; the limit is 2 MB per file: "
        "raise it with --max-file-mb or Index(max_file_mb=...)"
    )
    stored = sorted(Path(s.source).name for s in index.store.sources())
    assert stored == ["a.txt", "b.md"]  # in_link.txt is a.txt, read once
    assert not any("secret" in s.source for s in index.store.sources())
    "\n".join(report.lines()).encode("utf-8")  # printable whatever the names
    followed = mmrag.Index(milvus_uri, embedder=text_embedder).ingest([folder], follow_links=True)
    assert [Path(f.path).name for f in followed.files if f.status is Status.INGESTED] == ["secret.txt"]
    assert any(s.source.endswith("out_dir/secret.txt") for s in index.store.sources())


def test_max_file_mb_is_validated(milvus_uri: str, text_embedder) -> None:
    for bad in (0, -1, "10", True):
        with pytest.raises(InvalidArgument, match="max_file_mb must be a number of MB > 0"):
            mmrag.Index(milvus_uri, embedder=text_embedder, max_file_mb=bad)


def test_cli_follow_links_and_max_file_mb(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from mmrag.cli import app

    (tmp_path / "outside.txt").write_text("Lighthouses guide ships at night.")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "small.txt").write_text("Otters hold hands while they sleep.")
    (folder / "large.txt").write_text("Herons stand still in the shallows. " * 100)  # 3.6 KB
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    store = str(tmp_path / "s.db")
    runner = CliRunner()
    plan = runner.invoke(app, ["ingest", str(folder), "--store", store, "--dry-run", "--follow-links", "--json"])
    assert plan.exit_code == 0, plan.output
    assert str(folder / "link.txt") in json.loads(plan.stdout)["add"]
    done = runner.invoke(app, ["ingest", str(folder), "--store", store, "--max-file-mb", "0.002", "--json"])
    files = {Path(f["path"]).name: f for f in json.loads(done.stdout)["files"]}
    assert done.exit_code == 1 and files["small.txt"]["status"] == "ingested"
    assert files["large.txt"]["status"] == "failed" and "the limit is 0.002 MB per file" in files["large.txt"]["reason"]
    assert files["link.txt"]["status"] == "skipped" and "outside the folder being ingested" in files["link.txt"]["reason"]

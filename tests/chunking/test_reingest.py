"""Rule 5 end to end: stable ids mean an unchanged file writes nothing, and a
changed file's old chunks are all replaced (real MiniLM, real Milvus Lite file)."""

from __future__ import annotations

from pathlib import Path

import mmrag
from mmrag.ingest import Status, doc_id_for
from mmrag.loaders import image as image_module
from mmrag.loaders import pdf as pdf_module
from tests.mixed_files import text_picture, write_scanned_pdf

SRT = """1
00:00:00,000 --> 00:00:04,000
The kiln reaches twelve hundred degrees.

2
00:00:04,000 --> 00:00:08,000
Glaze melts into glass at that heat.
"""


def test_unchanged_writes_nothing_and_changed_replaces_all_old_chunks(tmp_path: Path, milvus_uri: str, text_embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    talk = folder / "pottery.srt"
    talk.write_text(SRT, encoding="utf-8")
    notes = folder / "notes.md"
    notes.write_text("# Clay\n\nStoneware clay is fired hotter than earthenware.\n")
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    try:
        first = index.ingest([folder])
        assert first.count(Status.INGESTED) == 2 and first.chunks_written > 0
        old_ids = index.store.chunk_ids(doc_id_for(talk))

        again = index.ingest([folder])
        assert again.count(Status.UNCHANGED) == 2 and again.chunks_written == 0

        talk.write_text(SRT.replace("twelve hundred", "thirteen hundred"), encoding="utf-8")
        changed = index.ingest([folder])
        assert [f.status for f in changed.files] == [Status.UNCHANGED, Status.INGESTED]
        new_ids = index.store.chunk_ids(doc_id_for(talk))
        assert new_ids and not new_ids & old_ids  # every old chunk of the file is gone
        texts = [c.text for c in index.store.get(sorted(new_ids))]
        assert any("thirteen hundred" in t for t in texts) and not any("twelve hundred" in t for t in texts)
    finally:
        index.close()


def test_report_says_what_was_not_ocrd_when_the_extra_is_missing(tmp_path: Path, milvus_uri: str, text_embedder, monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "ocr_available", lambda: False)
    monkeypatch.setattr(image_module, "ocr_available", lambda: False)
    folder = tmp_path / "docs"
    folder.mkdir()
    write_scanned_pdf(folder / "scan.pdf", ["Invoice 4471"], ["A page with a real text layer on it, long enough."])
    text_picture(["Hello"]).save(folder / "shot.png")
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    try:
        report = index.ingest([folder])
    finally:
        index.close()
    assert report.ok and report.count(Status.INGESTED) == 2
    notes = {f.path: f.notes for f in report.files}
    assert notes[str(folder / "scan.pdf")] == ("1 page not OCR'd, so any text in them is not searchable (pip install 'mmrag[ocr]')",)
    assert notes[str(folder / "shot.png")] == ("1 image not OCR'd, so any text in them is not searchable (pip install 'mmrag[ocr]')",)
    assert any("1 page not OCR'd" in line for line in report.lines())

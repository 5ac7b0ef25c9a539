"""Each bad file fails on its own with a clear reason; the rest of the folder is
ingested and nothing of the bad files is written (real Milvus Lite file)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter

import mmrag
from mmrag.ingest import Status, doc_id_for
from tests.mixed_files import write_text_pdf


def test_bad_files_fail_alone_and_leave_nothing_behind(tmp_path: Path, milvus_uri: str, text_embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    plain = write_text_pdf(tmp_path / "plain.pdf", ["Quarterly numbers that nobody may read."])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="secret", algorithm="AES-128")
    with (folder / "locked.pdf").open("wb") as fh:
        writer.write(fh)
    with zipfile.ZipFile(folder / "deck.pptx", "w") as zf:
        zf.writestr("readme.txt", "a zip, not a deck")
    Image.effect_noise((200, 200), 60).convert("RGB").save(folder / "cut.jpg", quality=90)
    (folder / "cut.jpg").write_bytes((folder / "cut.jpg").read_bytes()[:1500])
    (folder / "bad.srt").write_text("1\n00:00:01,000 --> 00:00:0x,000\nHi.\n")
    (folder / "empty.vtt").write_text("WEBVTT\n\n")
    (folder / "latin.srt").write_bytes("1\n00:00:01,000 --> 00:00:02,000\nCrème brûlée for everyone.\n".encode("cp1252"))
    (folder / "good.md").write_text("# Ok\n\nThis file is fine and should be searchable.\n")

    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    try:
        report = index.ingest([folder])
        outcome = {Path(f.path).name: f for f in report.files}
        reasons = {name: f.reason for name, f in outcome.items() if f.status is Status.FAILED}
        assert set(reasons) == {"locked.pdf", "deck.pptx", "cut.jpg", "bad.srt", "empty.vtt"}
        assert "password" in reasons["locked.pdf"]
        assert "not a PowerPoint deck" in reasons["deck.pptx"]
        assert "truncated" in reasons["cut.jpg"]
        assert "malformed SubRip file: no valid cue (line 2: bad timestamp" in reasons["bad.srt"]
        assert "empty transcript" in reasons["empty.vtt"]
        assert outcome["good.md"].status is Status.INGESTED
        assert outcome["latin.srt"].status is Status.INGESTED
        assert any("decoded as cp1252" in n for n in outcome["latin.srt"].notes)
        for name in reasons:
            assert index.store.chunk_ids(doc_id_for(folder / name)) == set()
        hits = index.search("crème brûlée", k=1)
        assert hits[0].chunk.source.endswith("latin.srt") and "Crème brûlée" in hits[0].chunk.text
    finally:
        index.close()

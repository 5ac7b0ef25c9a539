"""Outlook .msg with extract-msg, on real Outlook files from msg-parser's sdist
(BSD, tests/data/third_party/msg-parser): headers as metadata, the body, an attached
Outlook message and the PDF inside it as child sources; encrypted and damaged
messages are named errors."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from mmrag.errors import CorruptFileError, EncryptedFileError
from mmrag.loaders import MsgLoader, find_loader, open_image

pytest.importorskip("extract_msg", reason="the msg extra (extract-msg) is not installed")
olefile = pytest.importorskip("olefile", reason="olefile comes with extract-msg")

DATA = Path(__file__).resolve().parents[1] / "data" / "third_party" / "msg-parser"


def load(path: Path):
    loader, _ = find_loader(path)
    assert loader.name == "msg"
    return list(loader.load(path, str(path)))


def test_an_outlook_message_with_an_attached_outlook_message(tmp_path: Path) -> None:
    path = tmp_path / "outer.msg"
    shutil.copy(DATA / "outer.msg", path)
    elements = load(path)
    assert [(e.source, e.text) for e in elements if e.text in ("Outer body", "body")] == [
        (str(path), "Outer body"), (f"{path}#test.msg", "body"),
    ]
    child = next(e for e in elements if e.source.endswith("#test.msg"))
    assert child.metadata["subject"] == "test" and child.metadata["to"] == "test@foobar.com <test@foobar.com>"
    assert child.metadata["parent_source"] == str(path) and child.metadata["attachment"] == "test.msg"
    assert child.title_path == ("outer subject", "test.msg", "test")


def test_a_real_bounce_report_reads_the_pdf_inside_the_bounced_mail(tmp_path: Path) -> None:
    path = tmp_path / "other.msg"
    shutil.copy(DATA / "other.msg", path)
    elements = load(path)
    top = elements[0].metadata
    assert top["subject"] == "投递状态通知 (Failure Notice)" and top["date"] == "2017-11-27T09:44:30+00:00"
    assert top["from"] == "Mail Delivery Subsystem <mailer-daemon@tjdpf.org.cn>"
    assert any("permanent error" in e.text for e in elements if e.source == str(path))
    pdf = [e for e in elements if e.source.endswith(".pdf")]
    assert pdf and pdf[0].metadata["attachment"].startswith("default_attachment.eml.msg#")
    assert {e.page for e in pdf} >= {1, 2} and any("销售" in e.text for e in pdf)
    render = next(e for e in pdf if e.image is not None)
    assert open_image(render.image).size[0] > 100  # taken out of the .msg inside the .msg again


def relabel(src: Path, dst: Path, message_class: str) -> Path:
    """``src`` with its message class stream (0x001A) rewritten, grown in place in the
    OLE directory (olefile writes streams only at their recorded size)."""
    shutil.copy(src, dst)
    ole = olefile.OleFileIO(str(dst))
    sid = ole._find("__substg1.0_001A001F")
    chain, sector = [], ole.first_dir_sector
    while sector not in (olefile.ENDOFCHAIN, olefile.FREESECT):
        chain.append(sector)
        sector = ole.fat[sector]
    per = ole.sectorsize // 128
    offset = (chain[sid // per] + 1) * ole.sectorsize + (sid % per) * 128
    ole.close()
    data = message_class.encode("utf-16-le")
    with dst.open("r+b") as fh:
        fh.seek(offset + 120)  # the directory entry's stream size
        fh.write(struct.pack("<Q", len(data)))
    ole = olefile.OleFileIO(str(dst), write_mode=True)
    ole.write_stream("__substg1.0_001A001F", data)
    ole.close()
    return dst


def test_an_encrypted_message_is_a_named_error(tmp_path: Path) -> None:
    path = relabel(DATA / "outer.msg", tmp_path / "sealed.msg", "IPM.Note.SMIME")
    with pytest.raises(EncryptedFileError, match=r"sealed\.msg: an encrypted \(S/MIME\) Outlook message"):
        load(path)


def test_a_damaged_message_is_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.msg"
    path.write_bytes((DATA / "outer.msg").read_bytes()[:3000])
    with pytest.raises(CorruptFileError, match=r"cut\.msg: not a readable Outlook message"):
        list(MsgLoader().load(path, str(path)))

"""Bad Office files get a named error each, and the rest of a folder is ingested."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import mmrag
from mmrag.errors import CorruptFileError, EncryptedFileError, LoaderError, UnknownEncodingError, UnsafeFileError
from mmrag.ingest import Status
from mmrag.loaders import CsvLoader, DocxLoader, XlsxLoader, find_loader
from tests.loaders.office_files import write_csv, write_docx, write_xlsx

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 9))
    + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol8;</w:t></w:r></w:p></w:body></w:document>'
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>'
)


def rewrite_member(src: Path, dst: Path, member: str, data: bytes | str) -> Path:
    """A copy of the zip ``src`` with ``member`` replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename == member else zin.read(info))
    return dst


def encrypt(src: Path, dst: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    with src.open("rb") as fh, dst.open("wb") as out:
        OOXMLFile(fh).encrypt("secret", out)
    return dst


@pytest.fixture
def docx_path(tmp_path: Path) -> Path:
    return write_docx(tmp_path / "plan_src.docx")


def load(path: Path) -> list:
    loader, _ = find_loader(path)
    return list(loader.load(path, str(path)))


def test_billion_laughs_and_external_entities_are_refused(tmp_path: Path, docx_path: Path) -> None:
    for name, xml in (("laughs.docx", BILLION_LAUGHS), ("xxe.docx", EXTERNAL)):
        bad = rewrite_member(docx_path, tmp_path / name, "word/document.xml", xml)
        with pytest.raises(UnsafeFileError, match="declares XML entities"):
            load(bad)


def test_zip_bomb_inside_a_workbook_is_refused(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "src.xlsx", rows=2)
    bomb = rewrite_member(src, tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", b" " * (64 * 1024**2))
    with pytest.raises(LoaderError, match="zip bomb"):
        load(bomb)


def test_password_protected_corrupt_and_legacy_files_are_named(tmp_path: Path, docx_path: Path) -> None:
    with pytest.raises(EncryptedFileError, match="password-protected Word document"):
        load(encrypt(docx_path, tmp_path / "locked.docx"))
    with pytest.raises(EncryptedFileError, match="password-protected Excel workbook"):
        load(encrypt(write_xlsx(tmp_path / "src.xlsx", rows=2), tmp_path / "locked.xlsx"))
    cut = tmp_path / "cut.docx"
    cut.write_bytes(docx_path.read_bytes()[:3000])
    with pytest.raises(CorruptFileError, match="corrupt Word document: not a readable zip"):
        load(cut)
    missing = tmp_path / "nodoc.docx"
    with zipfile.ZipFile(docx_path) as zin, zipfile.ZipFile(missing, "w") as zout:
        for info in zin.infolist():
            if info.filename != "word/document.xml":
                zout.writestr(info, zin.read(info))
    with pytest.raises(CorruptFileError, match="corrupt Word document"):
        load(missing)
    legacy = tmp_path / "old.xlsx"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    with pytest.raises(CorruptFileError, match="old binary Office file"):
        load(legacy)


def test_csv_in_no_known_encoding_is_named(tmp_path: Path) -> None:
    noise = tmp_path / "noise.csv"
    noise.write_bytes(bytes(range(128, 256)) * 40)
    with pytest.raises(UnknownEncodingError, match="unknown text encoding"):
        list(CsvLoader().load(noise, "noise.csv"))


@pytest.mark.slow
def test_a_folder_with_bad_office_files_ingests_the_good_ones(tmp_path: Path, milvus_uri: str, text_embedder, docx_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_docx(folder / "plan.docx")
    write_xlsx(folder / "budget.xlsx", rows=5)
    write_csv(folder / "trips.csv")
    encrypt(docx_path, folder / "locked.docx")
    rewrite_member(docx_path, folder / "laughs.docx", "word/document.xml", BILLION_LAUGHS)
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    try:
        report = index.ingest([folder])
        status = {Path(f.path).name: f.status for f in report.files}
        assert status == {"plan.docx": Status.INGESTED, "budget.xlsx": Status.INGESTED, "trips.csv": Status.INGESTED,
                          "locked.docx": Status.FAILED, "laughs.docx": Status.FAILED}
        assert {Path(s.source).name for s in index.store.sources()} == {"plan.docx", "budget.xlsx", "trips.csv"}
        hits = [h.to_dict() for h in index.search("crane rental booked in september", k=3, filters={"sheet": "Q3"})]
        assert hits and all(h["sheet"] == "Q3" for h in hits)
        assert any(h["row_start"] <= 10 <= h["row_end"] and "Crane rental" in h["text"] for h in hits)
        heading = index.search("winter storms close the harbour", k=1, mode="bm25")[0].to_dict()
        assert heading["heading"] == "Harbour plan > Costs > Risks" and heading["source"].endswith("plan.docx")
    finally:
        index.close()

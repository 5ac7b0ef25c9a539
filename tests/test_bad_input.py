"""Each bad file gets one specific line; the other files are still ingested;
nothing of a failed file stays in the store."""

import pytest
from pypdf import PdfReader, PdfWriter

import mmrag
from mmrag import loaders
from mmrag.errors import LoaderError
from mmrag.ingest import Status
from mmrag.loaders.base import Loader
from mmrag.types import Element, Modality


@pytest.fixture
def messy(tmp_path, pdf_factory):
    good = pdf_factory("good.pdf", ["Volcanoes erupt when magma reaches the surface."])
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    writer = PdfWriter(clone_from=PdfReader(pdf_factory("plain.pdf", ["secret plans for the moon base"])))
    writer.encrypt(user_password="hunter2")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    (tmp_path / "plain.pdf").unlink()
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "not_a_pdf.pdf").write_text("just some text pretending to be a PDF")
    (tmp_path / "renamed.txt").write_bytes(good.read_bytes().replace(b"Volcanoes", b"Geysers!!"))
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    (tmp_path / "drawing.dwg").write_bytes(b"AC1032 a CAD drawing")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me: the espresso menu".encode("latin-1"))
    return tmp_path


def test_each_bad_file_is_reported_and_the_rest_is_ingested(messy, milvus_uri, text_embedder):
    index = mmrag.Index(milvus_uri, embedder=text_embedder)
    report = index.ingest([messy])
    by_name = {p.split("/")[-1]: f for f in report.files for p in [f.path]}
    assert by_name["good.pdf"].status is Status.INGESTED
    assert by_name["corrupt.pdf"].status is Status.FAILED and "corrupt PDF" in by_name["corrupt.pdf"].reason
    assert by_name["locked.pdf"].status is Status.FAILED and "encrypted PDF" in by_name["locked.pdf"].reason
    assert by_name["empty.txt"].status is Status.FAILED and "empty file" in by_name["empty.txt"].reason
    assert by_name["not_a_pdf.pdf"].status is Status.FAILED and "not a valid pdf" in by_name["not_a_pdf.pdf"].reason
    assert by_name["table.xlsx"].status is Status.FAILED and "corrupt Excel workbook" in by_name["table.xlsx"].reason
    assert by_name["drawing.dwg"].status is Status.SKIPPED and "unsupported file type '.dwg'" in by_name["drawing.dwg"].reason
    renamed = by_name["renamed.txt"]
    assert renamed.status is Status.INGESTED and "read as pdf" in renamed.notes[0]
    latin = by_name["latin1.txt"]
    assert latin.status is Status.INGESTED and "decoded as cp1252" in latin.notes[0]
    assert not report.ok
    lines = "\n".join(report.lines())
    for name in ("corrupt.pdf", "locked.pdf", "empty.txt", "not_a_pdf.pdf", "table.xlsx", "drawing.dwg"):
        assert sum(name in line and ("failed:" in line or "skipped:" in line) for line in lines.splitlines()) == 1
    stored = {s.source.split("/")[-1] for s in index.store.sources()}
    assert stored == {"good.pdf", "renamed.txt", "latin1.txt"}
    assert index.search("café crème espresso", k=1)[0].chunk.source.endswith("latin1.txt")


class HalfwayLoader(Loader):
    """Yields a first element, then fails like a library that breaks mid-file."""

    name = "halfway"
    extensions = frozenset({".half"})

    def sniff(self, head, path):
        return path.suffix == ".half"

    def load(self, path, source):
        yield Element(source=source, modality=Modality.TEXT, text="the first part was read fine")
        raise LoaderError(path, "page 2: unreadable")


def test_a_file_failing_midway_leaves_nothing_in_the_store(tmp_path, milvus_uri, text_embedder):
    (tmp_path / "broken.half").write_text("x")
    (tmp_path / "ok.txt").write_text("An intact file about glaciers.")
    index = mmrag.Index(milvus_uri, embedder=text_embedder, loaders=[HalfwayLoader(), *loaders.default_loaders()])
    report = index.ingest([tmp_path])
    outcome = {f.path.split("/")[-1]: f for f in report.files}
    assert outcome["broken.half"].status is Status.FAILED and outcome["broken.half"].reason == "page 2: unreadable"
    assert [s.source.split("/")[-1] for s in index.store.sources()] == ["ok.txt"]

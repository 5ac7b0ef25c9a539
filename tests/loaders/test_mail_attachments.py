"""Mail attachments as child sources: a real PDF (reportlab) and a real .docx
(python-docx) attached with the stdlib email package, a forwarded message inside
a message, the depth bound, a mail loop, and the parent's re-ingest and removal
carrying its children along in a real Milvus Lite store."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

import mmrag
from mmrag.errors import MailLoopError
from mmrag.evaluation.matching import hit_matches
from mmrag.evaluation.queries import queries_from_dicts
from mmrag.loaders import EmlLoader, find_loader, open_image
from tests.conftest import write_pdf
from tests.loaders.office_files import write_docx

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def mail(subject: str, body: str, *, mid: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "Ines Duarte <ines@harbour.example>"
    msg["To"] = "ops@harbour.example"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    if mid:
        msg["Message-ID"] = mid
    msg.set_content(body)
    return msg


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("parts")
    pdf = write_pdf(d / "r.pdf", ["Crane four passed its visual check.", "The hoist brake slipped at forty tonnes."])
    return {"pdf": pdf.read_bytes(), "docx": write_docx(d / "plan.docx").read_bytes()}


def crane_mail(files: dict[str, bytes], *, with_docx: bool = True) -> EmailMessage:
    msg = mail("Crane 4 inspection", "Report attached; the plan too.", mid="<crane@harbour.example>")
    msg.add_attachment(files["pdf"], maintype="application", subtype="pdf", filename="crane_report.pdf")
    if with_docx:
        msg.add_attachment(files["docx"], maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename="harbour_plan.docx")
    return msg


def load(path: Path):
    loader, _ = find_loader(path)
    return list(loader.load(path, str(path)))


def test_each_attachment_is_a_child_source_read_by_its_own_loader(tmp_path: Path, files) -> None:
    path = tmp_path / "crane.eml"
    path.write_bytes(crane_mail(files).as_bytes())
    elements = load(path)
    by_source: dict[str, list] = {}
    for e in elements:
        by_source.setdefault(e.source, []).append(e)
    assert set(by_source) == {str(path), f"{path}#crane_report.pdf", f"{path}#harbour_plan.docx"}
    pdf = [e for e in by_source[f"{path}#crane_report.pdf"] if e.modality.value == "text"]
    assert [(e.page, e.text) for e in pdf] == [(1, "Crane four passed its visual check."), (2, "The hoist brake slipped at forty tonnes.")]
    docx = by_source[f"{path}#harbour_plan.docx"]
    assert any(e.title_path == ("Crane 4 inspection", "harbour_plan.docx", "Harbour plan", "Costs") and "ferry strike" in e.text for e in docx)
    for e in pdf + docx:
        assert e.metadata["parent_source"] == str(path)
        assert e.metadata["attachment"] == e.source.rsplit("#", 1)[1]
        assert e.metadata["subject"] == "Crane 4 inspection" and e.metadata["document_title"] == "crane.eml"
    assert by_source[str(path)][0].metadata["attachments"] == ["crane_report.pdf", "harbour_plan.docx"]


def test_a_forwarded_message_nests_and_its_pictures_open_again(tmp_path: Path, files) -> None:
    inner = crane_mail(files)
    outer = mail("Fwd: Crane 4 inspection", "See below.", mid="<fwd@harbour.example>")
    outer.add_attachment(inner)
    path = tmp_path / "fwd.eml"
    path.write_bytes(outer.as_bytes())
    elements = load(path)
    nested = [e for e in elements if e.source == f"{path}#attachment-1.eml#crane_report.pdf"]
    assert nested and nested[0].metadata["attachment"] == "attachment-1.eml#crane_report.pdf"
    assert nested[0].metadata["parent_source"] == f"{path}#attachment-1.eml"
    assert nested[0].metadata["subject"] == "Crane 4 inspection"  # the inner message's own headers win
    render = next(e for e in nested if e.modality.value == "page_image")
    picture = next(e for e in elements if e.modality.value == "image" and e.source.endswith("harbour_plan.docx"))
    assert open_image(render.image).size[0] > 100  # rendered again from the attachment inside the attachment
    assert open_image(picture.image).size == (60, 40)  # the docx's own picture, taken out of the mail again


def test_attachments_nest_to_a_bounded_depth(tmp_path: Path) -> None:
    msg = mail("level 5", "deepest", mid="<m5@x>")
    msg.add_attachment(b"bottom of the chain\n", maintype="text", subtype="plain", filename="deep.txt")
    for level in range(4, -1, -1):
        outer = mail(f"level {level}", f"body {level}", mid=f"<m{level}@x>")
        outer.add_attachment(msg)
        msg = outer
    path = tmp_path / "chain.eml"
    path.write_bytes(msg.as_bytes())
    elements = load(path)
    texts = {e.text for e in elements}
    assert {"body 0", "body 1", "body 2", "body 3"} <= texts and "body 4" not in texts
    notes = [e.metadata.get("load_note") for e in elements if e.metadata.get("load_note")]
    assert any("nested deeper than 3 levels not read: attachment-1.eml" in n for n in notes)


def test_a_mail_loop_of_attachments_is_a_named_error(tmp_path: Path) -> None:
    again = mail("Loop", "the same message again", mid="<loop@x>")
    middle = mail("Re: Loop", "middle", mid="<middle@x>")
    middle.add_attachment(again)
    top = mail("Loop", "top", mid="<loop@x>")
    top.add_attachment(middle)
    path = tmp_path / "loop.eml"
    path.write_bytes(top.as_bytes())
    with pytest.raises(MailLoopError, match=r"loop\.eml: mail loop: an attachment is message <loop@x>"):
        load(path)


def test_an_unreadable_attachment_is_a_note_and_the_mail_is_still_read(tmp_path: Path, files) -> None:
    msg = mail("Broken", "The body still counts.")
    msg.add_attachment(b"PK\x03\x04 not really a zip", maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename="broken.docx")
    msg.add_attachment(b"MZ\x90\x00 a program", maintype="application", subtype="octet-stream", filename="tool.exe")
    msg.add_attachment(files["pdf"], maintype="application", subtype="pdf", filename="a.pdf")
    msg.add_attachment(files["pdf"], maintype="application", subtype="pdf", filename="copy.pdf")
    path = tmp_path / "broken.eml"
    path.write_bytes(msg.as_bytes())
    elements = load(path)
    assert "The body still counts." in {e.text for e in elements}
    assert {e.source for e in elements} == {str(path), f"{path}#a.pdf"}
    note = elements[0].metadata["load_note"]
    assert "attachment 'broken.docx' not read" in note and "attachment 'tool.exe' not read: unsupported file type" in note
    assert "'copy.pdf' is the same file as 'a.pdf'" in note


def test_mbox_attachments_are_children_of_their_message(tmp_path: Path, files) -> None:
    import mailbox

    path = tmp_path / "ops.mbox"
    box = mailbox.mbox(path)
    box.add(mail("Berth 2", "Dredging until Friday."))
    box.add(crane_mail(files, with_docx=False))
    box.flush()
    box.close()
    elements = load(path)
    child = [e for e in elements if e.metadata.get("attachment")]
    assert {e.source for e in child} == {f"{path}#message-2#crane_report.pdf"}
    assert child[0].metadata["attachment"] == "message-2#crane_report.pdf" and child[0].metadata["parent_source"] == str(path)
    render = next(e for e in child if e.image is not None)
    assert open_image(render.image).size[0] > 100


def test_eval_items_match_on_the_attachment() -> None:
    (q,) = queries_from_dicts([{"query": "brake", "source": "crane.eml", "attachment": "crane_report.pdf", "page": 2}])
    item = q.relevant[0]
    hit = {"source": "/d/crane.eml#crane_report.pdf", "attachment": "crane_report.pdf", "page": 2}
    assert hit_matches(item, hit)
    assert not hit_matches(item, {**hit, "page": 1})
    assert not hit_matches(item, {"source": "/d/crane.eml", "attachment": None, "page": 2})
    nested = {"source": "/d/crane.eml#fwd.eml#crane_report.pdf", "attachment": "fwd.eml#crane_report.pdf", "page": 2}
    assert hit_matches(item, nested) and not hit_matches(item, {**nested, "attachment": "fwd.eml#port.pdf"})
    (whole,) = queries_from_dicts([{"query": "brake", "source": "crane.eml"}])
    assert hit_matches(whole.relevant[0], hit)  # an attachment's hit counts for its mail


def test_reingest_and_removal_of_the_parent_carry_its_children(tmp_path: Path, files, text_embedder) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    path = folder / "crane.eml"
    path.write_bytes(crane_mail(files).as_bytes())
    index = mmrag.Index(str(tmp_path / "store.db"), embedder=text_embedder, loaders=mmrag.loaders.default_loaders(render_pages=False))
    try:
        assert index.ingest([folder]).ok
        top = index.search("hoist brake slipped at forty tonnes", k=1)[0]
        assert (top.chunk.source, top.chunk.attachment, top.chunk.page) == (f"{path}#crane_report.pdf", "crane_report.pdf", 2)
        assert top.chunk.metadata["parent_source"] == str(path)
        count = index.store.sources()[0].chunks
        again = index.ingest([folder])
        assert again.files[0].status.value == "unchanged" and index.store.sources()[0].chunks == count
        path.write_bytes(crane_mail(files, with_docx=False).as_bytes())  # the plan is no longer attached
        assert index.ingest([folder]).ok
        sources = {h.chunk.source for h in index.search("harbour plan costs ferry strike", k=20)}
        assert f"{path}#harbour_plan.docx" not in sources and f"{path}#crane_report.pdf" in sources
        path.unlink()
        pruned = index.ingest([folder], prune=True)
        assert [f.status.value for f in pruned.files] == ["removed"] and index.store.sources() == []
    finally:
        index.close()


def test_eml_loader_reads_attachments_with_the_loaders_it_is_given(tmp_path: Path, files) -> None:
    path = tmp_path / "crane.eml"
    path.write_bytes(crane_mail(files).as_bytes())
    pdf_only = [mmrag.loaders.PdfLoader(render_pages=False, ocr=False)]
    elements = list(EmlLoader(attachment_loaders=pdf_only).load(path, str(path)))
    assert {e.source for e in elements} == {str(path), f"{path}#crane_report.pdf"}
    assert all(e.image is None for e in elements)
    assert "'harbour_plan.docx' not read: unsupported file type" in elements[0].metadata["load_note"]


def test_sources_list_a_mail_once_with_its_attachments_and_one_can_be_removed(tmp_path: Path, files) -> None:
    import json

    from typer.testing import CliRunner

    from mmrag.cli import app

    runner = CliRunner()
    folder = tmp_path / "mail"
    folder.mkdir()
    path = folder / "crane.eml"
    path.write_bytes(crane_mail(files).as_bytes())
    store = str(tmp_path / "store.db")

    def sources() -> list[dict]:
        result = runner.invoke(app, ["sources", "--store", store, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert runner.invoke(app, ["ingest", str(folder), "--store", store]).exit_code == 0
    [entry] = sources()  # the mail once, under its own name, whichever row the store returned first
    pdf, docx = f"{path}#crane_report.pdf", f"{path}#harbour_plan.docx"
    assert entry["source"] == str(path) and [c["source"] for c in entry["children"]] == [pdf, docx]
    assert entry["chunks"] > sum(c["chunks"] for c in entry["children"]) > 0  # its own chunks and its children's
    listed = runner.invoke(app, ["sources", "--store", store]).stdout.splitlines()
    assert [line.split()[-1] for line in listed] == [str(path), pdf, docx]

    removed = runner.invoke(app, ["delete", "--source", pdf, "--store", store])
    assert removed.exit_code == 0 and f"deleted {entry['children'][0]['chunks']} chunks of {pdf}" in removed.stdout
    assert "this part included" in removed.stdout
    [after] = sources()
    assert [c["source"] for c in after["children"]] == [docx] and after["chunks"] == entry["chunks"] - entry["children"][0]["chunks"]
    rerun = json.loads(runner.invoke(app, ["ingest", str(folder), "--store", store, "--json"]).stdout)
    assert [f["status"] for f in rerun["files"]] == ["unchanged"]  # an unchanged mail is not read again ...
    assert [c["source"] for c in sources()[0]["children"]] == [docx]  # ... so the removed part stays removed

    path.write_bytes(crane_mail(files).as_bytes().replace(b"the plan too.", b"the plan too, revised."))
    assert runner.invoke(app, ["ingest", str(folder), "--store", store]).exit_code == 0
    assert [c["source"] for c in sources()[0]["children"]] == [pdf, docx]  # a changed mail is read whole

    gone = runner.invoke(app, ["delete", "--source", str(path), "--store", store])
    assert gone.exit_code == 0 and "stays" not in gone.stdout and sources() == []  # the mail takes its parts along


def test_source_tree_names_the_file_even_when_a_part_comes_first_or_it_has_no_chunk_of_its_own() -> None:
    from mmrag.stores.base import source_tree

    [mail_] = source_tree({("d1", "/m/a.eml#fwd.eml#r.pdf"): 2, ("d1", "/m/a.eml#fwd.eml"): 1, ("d1", "/m/a.eml"): 3})
    assert (mail_.source, mail_.chunks) == ("/m/a.eml", 6)
    assert [(c.source, c.chunks) for c in mail_.children] == [("/m/a.eml#fwd.eml", 1), ("/m/a.eml#fwd.eml#r.pdf", 2)]
    [bare] = source_tree({("d2", "/m/#1/b.eml#x.pdf"): 4, ("d2", "/m/#1/b.eml#y.pdf"): 1})  # a '#' in a folder is no mark
    assert (bare.source, bare.chunks, [c.source for c in bare.children]) == ("/m/#1/b.eml", 5, ["/m/#1/b.eml#x.pdf", "/m/#1/b.eml#y.pdf"])
    plain = source_tree({("d3", "notes.md"): 1, ("d4", "a.pdf"): 2})
    assert [(s.source, s.children) for s in plain] == [("a.pdf", ()), ("notes.md", ())]


def test_a_store_without_a_manifest_refuses_to_remove_one_attachment_instead_of_bringing_it_back(
    tmp_path: Path, files, text_embedder,
) -> None:
    """Such a store cannot remember the removal: the next ingest would read the
    unchanged mail, find the part missing and write it again. A real Lite file,
    through a store that keeps no manifest (as a third-party ``VectorStore`` may)."""
    from mmrag.errors import StoreError
    from mmrag.ingest import remove_source
    from mmrag.stores.milvus import MilvusStore

    class NoManifestStore(MilvusStore):
        def manifest(self):
            return None

    folder = tmp_path / "mail"
    folder.mkdir()
    path = folder / "crane.eml"
    path.write_bytes(crane_mail(files).as_bytes())
    store = NoManifestStore(str(tmp_path / "store.db"))
    index = mmrag.Index(store, embedder=text_embedder, loaders=mmrag.loaders.default_loaders(render_pages=False))
    try:
        assert index.ingest([folder]).ok
        pdf = f"{path}#crane_report.pdf"
        [before] = store.sources()
        with pytest.raises(StoreError, match=r"cannot remove .*crane_report\.pdf alone: this store keeps no ingest manifest"):
            remove_source(store, pdf)
        assert store.sources() == [before]  # nothing was removed
        assert remove_source(store, str(path)) == before.chunks and store.sources() == []  # the whole mail goes
    finally:
        index.close()

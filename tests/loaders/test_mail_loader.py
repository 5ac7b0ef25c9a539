"""Mail written by the stdlib email package: .eml (plain, HTML, with an attachment) and .mbox."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from mmrag.errors import LoaderError
from mmrag.loaders import EmlLoader, MboxLoader, find_loader


def message(subject: str, body: str, *, html: str | None = None, attach: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "Ines Duarte <ines@harbour.example>"
    msg["To"] = "ops@harbour.example"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    if attach is not None:
        msg.add_attachment(attach, maintype="application", subtype="pdf", filename="crane_report.pdf")
    return msg


def load(path: Path):
    loader, _ = find_loader(path)
    return list(loader.load(path, str(path)))


def test_eml_headers_are_metadata_and_the_plain_body_is_text(tmp_path: Path) -> None:
    path = tmp_path / "crane.eml"
    path.write_bytes(message("Crane 4 inspection", "The hoist brake failed its load test.\n", attach=b"%PDF-1.4").as_bytes())
    elements = load(path)
    assert find_loader(path)[0].name == "eml"
    assert [e.text for e in elements][1] == "The hoist brake failed its load test."
    meta = elements[0].metadata
    assert meta["subject"] == "Crane 4 inspection" and meta["to"] == "ops@harbour.example"
    assert meta["from"] == "Ines Duarte <ines@harbour.example>" and meta["date"] == "2026-12-01T09:30:00+00:00"
    assert meta["attachments"] == ["crane_report.pdf"]
    assert "attachment 'crane_report.pdf' not read: corrupt PDF" in meta["load_note"]  # 8 bytes are no PDF
    assert all(e.title_path == ("Crane 4 inspection",) for e in elements)


def test_an_html_only_body_is_read_as_text_without_scripts(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Tide tables"
    msg.set_content("<html><body><script>track()</script><p>High tide at <b>06:12</b>.</p></body></html>", subtype="html")
    path = tmp_path / "tide.eml"
    path.write_bytes(msg.as_bytes())
    text = "\n".join(e.text for e in load(path))
    assert "High tide at 06:12." in text and "track" not in text


def test_mbox_gives_one_unit_per_message(tmp_path: Path) -> None:
    path = tmp_path / "ops.mbox"
    box = mailbox.mbox(path)
    box.add(message("Berth 2 closed", "Dredging until Friday."))
    box.add(message("Berth 2 closed", "Reopened early."))
    box.flush()
    box.close()
    elements = load(path)
    assert {e.title_path for e in elements} == {("message 1", "Berth 2 closed"), ("message 2", "Berth 2 closed")}
    assert [e.text for e in elements if e.title_path[0] == "message 2"][-1] == "Reopened early."


@pytest.mark.parametrize(("name", "data", "message_part"), [
    ("junk.eml", b"\n\nno headers at all", "not a mail message"),
    ("junk.mbox", b"Subject: x\n\nbody", "not an mbox file"),
])
def test_files_that_are_not_mail_are_named_errors(tmp_path: Path, name: str, data: bytes, message_part: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    loader = EmlLoader() if name.endswith(".eml") else MboxLoader()
    with pytest.raises(LoaderError, match=f"{name}: {message_part}"):
        list(loader.load(path, str(path)))


def test_the_richer_of_two_alternatives_is_the_body_and_it_is_read_once(tmp_path: Path) -> None:
    rich = ("<html><body><p>Berth schedule for December.</p><table><tr><th>Ship</th><th>Berth</th></tr>"
            "<tr><td>Nordic Star</td><td>four</td></tr><tr><td>Atlantic Dawn</td><td>seven</td></tr></table>"
            "<p>Pilots board at the outer buoy.</p></body></html>")
    stub = message("Berths", "This message is in HTML. View it in a browser.\n", html=rich)
    (tmp_path / "stub.eml").write_bytes(stub.as_bytes())
    text = "\n".join(e.text for e in load(tmp_path / "stub.eml"))
    assert "Ship: Atlantic Dawn" in text and "outer buoy" in text and "View it in a browser" not in text

    same = message("Berths", "Nordic Star takes berth four; Atlantic Dawn berth seven.\n",
                   html="<p>Nordic Star takes berth <b>four</b>; Atlantic Dawn berth seven.</p>")
    (tmp_path / "same.eml").write_bytes(same.as_bytes())
    texts = [e.text for e in load(tmp_path / "same.eml")]
    assert texts[1:] == ["Nordic Star takes berth four; Atlantic Dawn berth seven."]  # the plain part, once


def test_choose_body_reads_html_only_when_it_says_clearly_more() -> None:
    from mmrag.loaders.mail import choose_body

    assert choose_body("Tide at six.", "") == ("Tide at six.", "")
    assert choose_body("", "<p>Tide at six.</p>") == ("", "<p>Tide at six.</p>")
    assert choose_body("Tide at six.", "<p>Tide at <i>six</i>.</p><script>var a, b, c, d, e;</script>") == ("Tide at six.", "")
    html = "<p>Tide at six, wind north four, swell two metres.</p>"
    assert choose_body("Tide at six.", html) == ("", html)

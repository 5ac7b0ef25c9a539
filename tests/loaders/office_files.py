"""Real office files written by the libraries users' tools write them with:
python-docx, openpyxl and the csv module. Shared by the loader tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from PIL import Image


def write_docx(path: Path) -> Path:
    """A report with a title, nested headings, a list, a table, a captioned picture
    with alt text, a footnote-free comment and a header (python-docx 1.2)."""
    import docx

    d = docx.Document()
    d.core_properties.title = "Harbour plan"
    d.add_heading("Harbour plan", 0)
    d.add_heading("Costs", 1)
    d.add_paragraph("Travel costs rose sharply in the third quarter because of the ferry strike.")
    d.add_paragraph("Crane rental is the largest single item.", style="List Bullet")
    d.add_paragraph("Dredging comes second.", style="List Bullet")
    table = d.add_table(rows=4, cols=3)
    for r, row in enumerate([("Item", "Cost", "Owner"), ("Crane", "120", "Ana"), ("Tug boat", "80", "Ben"), ("Pilot", "15", "Cy")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    d.add_picture(buf)
    d.paragraphs[-1]._p.xpath(".//wp:docPr")[0].set("descr", "A red harbour crane")
    d.add_paragraph("Figure 1: the crane at berth four", style="Caption")
    d.add_heading("Risks", 2)
    risk = d.add_paragraph("Winter storms may close the harbour mouth for weeks.")
    d.add_comment(risk.runs, text="Check the storm statistics with the coast guard", author="Ana")
    d.add_heading("Schedule", 1)
    d.add_paragraph("Works start in April and end before the summer season.")
    d.sections[0].header.paragraphs[0].text = "Confidential draft for the port board"
    d.save(path)
    return path


def write_xlsx(path: Path, rows: int = 30) -> Path:
    """A workbook: sheet "Q3" with a title line above the header, a formula whose
    value LibreOffice/Excel would cache, an empty row and column; sheet "People"."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Q3"
    ws["A1"] = "Budget 2026, third quarter"
    ws.append([])
    ws.append(["Region", None, "Item", "Cost", "Booked"])  # column B stays empty
    for r in range(rows):
        ws.append([f"Region {r}", None, f"item-{r}", 100 + r * 2.5, dt.datetime(2026, 7, 1) + dt.timedelta(days=r)])
    ws.append([])
    ws.append(["Harbour", None, "Crane rental", 4200, dt.datetime(2026, 9, 30)])
    people = wb.create_sheet("People")
    people.append(["Name", "Role"])
    people.append(["Ana", "Harbour master"])
    people.append(["Ben", "Pilot"])
    wb.save(path)
    return path


def write_csv(path: Path, *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(["city", "country", "distance_km", "note"])
        w.writerow(["Tromsø", "Norway", 1150, "northern lights, whale watching"])
        w.writerow(["Gdańsk", "Poland", 980, 'old town; "amber" market'])
        w.writerow([])
        w.writerow(["Málaga", "Spain", 2300, "beaches\nand a second line"])
    return path


FERRY_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Ferry guide</title>
<script>var tracking = "do not index me";</script><style>p { color: red }</style></head>
<body><nav><a href="/">Home</a> Timetables Contact</nav>
<div id="cookie-banner">We use cookies to improve your experience. Accept all?</div>
<main><h1>Ferry guide</h1><p>Ferries leave <b>every hour</b> from pier 3.</p>
<h2>Prices</h2><table><tr><th>Route</th><th>Price</th></tr><tr><td>Oslo to Kiel</td><td>120</td></tr>
<tr><td>Bergen to Hirtshals</td><td>95</td></tr></table>
<ul><li>Bikes ride free.</li><li>Dogs pay 10 euros.</li></ul>
<img src="img/prices.png" alt="Chart of ferry prices by season"><img src="https://example.com/map.png" alt="Remote harbour map">
<img src="../outside.png" alt="Escaping picture"></main>
<footer>Copyright 2026 Ferry Co</footer></body></html>"""


def write_html(folder: Path) -> Path:
    """A page with boilerplate around its <main>, a table, a list, a local, a remote
    and an escaping picture (the local one written by Pillow beside the page)."""
    (folder / "img").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (20, 90, 200)).save(folder / "img" / "prices.png")
    Image.new("RGB", (10, 10)).save(folder.parent / "outside.png")
    path = folder / "ferries.html"
    path.write_text(FERRY_PAGE, encoding="utf-8")
    return path


def write_epub(path: Path) -> Path:
    """A two-chapter book with a picture, written by ebooklib."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("sea-tales-1")
    book.set_title("Sea Tales")
    book.set_language("en")
    storm = epub.EpubHtml(title="The Storm", file_name="text/storm.xhtml", lang="en")
    storm.content = ("<h1>The Storm</h1><p>The wind rose at midnight and the lighthouse keeper climbed the stairs.</p>"
                     "<h2>Aftermath</h2><p>By dawn the pier was gone.</p><img src='../images/wave.png' alt='A huge wave over the pier'/>")
    calm = epub.EpubHtml(title="The Calm", file_name="text/calm.xhtml", lang="en")
    calm.content = "<p>Morning came quietly; gulls circled the broken pier.</p>"
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (0, 120, 60)).save(buf, "PNG")
    wave = epub.EpubItem(uid="wave", file_name="images/wave.png", media_type="image/png", content=buf.getvalue())
    for item in (storm, calm, wave):
        book.add_item(item)
    book.toc = (storm, calm)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", storm, calm]
    epub.write_epub(str(path), book)
    return path


def write_odp(path: Path, slides: list[tuple[str, bytes, str]], notes_picture: bytes | None = None) -> Path:
    """A deck (odfpy) with one slide per ``(title, picture bytes, picture alt text)``:
    a title frame, then the picture in a frame of its own; with ``notes_picture``
    each slide's notes page holds that picture too (as LibreOffice's thumbnail would)."""
    from odf.draw import Frame, Page, TextBox
    from odf.draw import Image as DrawImage
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.svg import Desc
    from odf.text import P

    deck = OpenDocumentPresentation()
    layout = PageLayout(name="L")
    deck.automaticstyles.addElement(layout)
    master = MasterPage(name="M", pagelayoutname=layout)
    deck.masterstyles.addElement(master)

    def picture(data: bytes, name: str, alt: str) -> Frame:
        frame = Frame(width="10cm", height="2cm", x="1cm", y="5cm")
        frame.addElement(DrawImage(href=deck.addPicture(f"Pictures/{name}.png", "image/png", data)))
        if alt:
            frame.addElement(Desc(text=alt))
        return frame

    for number, (title, data, alt) in enumerate(slides, start=1):
        page = Page(masterpagename=master)
        frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
        frame.setAttrNS(PRESENTATIONNS, "class", "title")
        box = TextBox()
        box.addElement(P(text=title))
        frame.addElement(box)
        page.addElement(frame)
        page.addElement(picture(data, f"slide{number}", alt))
        if notes_picture is not None:
            notes = Notes()
            notes.addElement(picture(notes_picture, f"notes{number}", ""))
            page.addElement(notes)
        deck.presentation.addElement(page)
    deck.save(str(path))
    return path

"""Regenerate examples/data: a small mixed corpus written by real libraries.

Run: .venv/bin/python examples/make_data.py   (or `make data`)
Output is deterministic (fixed PDF metadata and no timestamps), so re-running
leaves git clean unless this script changed.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

from lecture_video import write_lecture_video  # examples/ is on the path when this runs as a script

DATA = Path(__file__).resolve().parent / "data"

SOLAR = [
    ("Solar Energy Outlook 2026", [
        "This report reviews how solar power grew over the last year and what limits its growth in the next.",
        "Installed photovoltaic capacity rose by a third, led by utility-scale plants in dry regions.",
    ]),
    ("Battery storage", [
        "Grid batteries shift midday solar output into the evening peak.",
        "Lithium iron phosphate cells now dominate new storage projects because they are cheaper and "
        "less prone to thermal runaway than nickel-based chemistries.",
        "A typical four-hour battery can cover the evening ramp when demand rises as the sun sets.",
    ]),
    ("Panel efficiency", [
        "Commercial silicon panels convert about 22 percent of sunlight into electricity.",
        "Perovskite-silicon tandem cells reached 33 percent efficiency in the laboratory, but their "
        "durability outdoors is still being tested.",
        "Dust and heat reduce output: panels lose roughly 0.4 percent of efficiency per degree above 25 C.",
    ]),
]

COFFEE = [
    ("Brewing coffee at home", [
        "Good coffee starts with freshly ground beans and water just off the boil, around 93 degrees Celsius.",
        "A ratio of one gram of coffee to sixteen grams of water suits most pour-over methods.",
    ]),
    ("Espresso", [
        "Espresso forces hot water through finely ground coffee at about nine bars of pressure.",
        "A shot that runs too fast tastes sour; grind finer to slow it down.",
    ]),
]

NOTES_MD = """# Field notes: urban beekeeping

Honeybees in cities often produce more honey than rural colonies because parks and gardens flower
over a longer season.

## Hive inspections

Inspect the hive every seven to ten days in spring to look for queen cells, which signal that the
colony is preparing to swarm.

## Winter care

Leave at least fifteen kilograms of honey in the hive for winter and reduce the entrance to keep
mice out.
"""

README_TXT = """The Great Barrier Reef is the largest coral reef system in the world, stretching over
2,300 kilometres off the coast of Queensland, Australia. Rising sea temperatures cause coral
bleaching, in which corals expel the algae that give them colour and most of their energy.
"""


def write_pdf(path: Path, title: str, sections: list[tuple[str, list[str]]]) -> None:
    """One section per page, with the title in the PDF metadata."""
    styles = getSampleStyleSheet()
    story = []
    for i, (heading, paragraphs) in enumerate(sections):
        if i:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading1"]))
        story.append(Spacer(1, 12))
        story.extend(Paragraph(p, styles["BodyText"]) for p in paragraphs)
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title, author="mmrag examples", invariant=1)
    doc.build(story)


DECK = [
    # (title, bullets, speaker notes)
    ("Beekeeping workshop", ["Spring hive care for city beekeepers"], "Welcome everyone; we start with the hive tools."),
    (
        "Varroa mites",
        ["Count mites after a sugar roll", "Treat when more than three mites per hundred bees"],
        "Remind the group that oxalic acid works best in broodless periods, such as early winter, "
        "because the mites cannot hide under capped cells.",
    ),
    ("Harvest", ["Extract frames that are at least 80 percent capped"], "Honey above 18 percent water ferments."),
]

SCAN_LINES = [
    "Coral reef field survey - station 7",
    "Divers counted 41 colonies of staghorn coral.",
    "Twelve colonies showed bleaching after",
    "the marine heatwave in February.",
    "Recommend a repeat survey in six months.",
]

FIGURE_LINES = ["Solar capacity by region (GW)", "Desert south: 48", "Coastal north: 21", "Mountain west: 9"]
PHOTO_CAPTION = "Chelsea, a tabby cat, sitting on a grey floor and looking to the side"

SRT = """1
00:00:01,000 --> 00:00:04,200
Welcome to the coffee roastery tour. Today we look at

2
00:00:04,200 --> 00:00:08,500
how green beans turn brown in the drum roaster at two hundred degrees.

3
00:00:08,500 --> 00:00:12,000
The first crack is the sound of steam escaping the beans.

4
00:00:12,000 --> 00:00:16,400
A light roast stops shortly after the first crack and keeps more acidity.
"""

VTT = """WEBVTT

00:00:00.000 --> 00:00:05.000
<v Ana>Solar farms in the desert face a dust problem.

00:00:05.000 --> 00:00:09.500
<v Ana>Our robots clean each panel row at night, using no water

00:00:09.500 --> 00:00:13.000
<v Ben>and the output gain after cleaning is about six percent.

00:00:13.000 --> 00:00:17.000
<v Ben>Next year we will test cleaning every second night instead.
"""

FIXED_TIME = dt.datetime(2026, 1, 1, 12, 0, 0)


def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font: the same glyphs on every machine."""
    return ImageFont.load_default(size=size)


def write_deck(path: Path) -> None:
    """A deck with titles, bullets, speaker notes and one picture with alt text."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.core_properties.title = "Beekeeping workshop"
    prs.core_properties.created = prs.core_properties.modified = FIXED_TIME
    prs.core_properties.last_modified_by = prs.core_properties.author = "mmrag examples"
    prs.core_properties.revision = 1
    for i, (title, bullets, notes) in enumerate(DECK):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
        slide.notes_slide.notes_text_frame.text = notes
        if i == 1:
            pic = slide.shapes.add_picture(io.BytesIO(png_bytes(mite_chart())), Inches(6), Inches(4.5), Inches(3))
            pic._element.nvPicPr.cNvPr.set("descr", "Bar chart of mites per hundred bees by month")
    buf = io.BytesIO()
    prs.save(buf)
    path.write_bytes(deterministic_zip(buf.getvalue()))


def deterministic_zip(data: bytes) -> bytes:
    """The same zip with fixed entry times, so the file is byte-identical on re-runs."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def mite_chart() -> Image.Image:
    img = Image.new("RGB", (360, 240), "white")
    draw = ImageDraw.Draw(img)
    for k, height in enumerate((40, 90, 150, 60)):
        draw.rectangle((40 + k * 80, 220 - height, 90 + k * 80, 220), fill=(200, 140, 30))
    return img


def text_image(lines: list[str], size: tuple[int, int], font_size: int, grayscale: bool = False) -> Image.Image:
    img = Image.new("L" if grayscale else "RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(font_size * 1.6)), line, fill="black", font=font(font_size))
    return img


def write_scanned_pdf(path: Path) -> None:
    """One page holding only a picture of text: no text layer, like a scanner makes."""
    scan = text_image(SCAN_LINES, (1240, 700), 44, grayscale=True)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle("Reef field survey (scan)")
    width, height = A4
    c.drawImage(ImageReader(scan), 30, height - 30 - (width - 60) * 700 / 1240, width - 60, (width - 60) * 700 / 1240)
    c.showPage()
    c.save()


def write_figure(path: Path) -> None:
    """A chart with a title and labels: its text is only reachable by OCR."""
    img = text_image(FIGURE_LINES, (900, 420), 40)
    draw = ImageDraw.Draw(img)
    for k, value in enumerate((48, 21, 9)):
        draw.rectangle((560, 140 + k * 64, 560 + value * 6, 170 + k * 64), fill=(240, 170, 20))
    img.save(path, format="PNG", optimize=False)


def write_photo(path: Path) -> None:
    """scikit-image's 'chelsea' photo, its caption in the EXIF ImageDescription tag."""
    from skimage import data

    photo = Image.fromarray(data.chelsea())
    exif = Image.Exif()
    exif[0x010E] = PHOTO_CAPTION
    photo.save(path, format="JPEG", quality=85, exif=exif)


FIXED_TIME = dt.datetime(2026, 1, 1)


def write_docx(path: Path) -> None:
    """A harbour plan in Word: nested headings, a list, a table and a captioned picture."""
    import docx

    d = docx.Document()
    d.core_properties.title = "Harbour renewal plan"
    d.core_properties.created = d.core_properties.modified = FIXED_TIME
    d.add_heading("Harbour renewal plan", 0)
    d.add_heading("Works", 1)
    d.add_paragraph("The old timber pier is replaced by a concrete one with berths for four ferries.")
    d.add_paragraph("Dredging deepens the channel to nine metres.", style="List Bullet")
    d.add_paragraph("A new crane lifts up to forty tonnes.", style="List Bullet")
    d.add_heading("Risks", 2)
    d.add_paragraph("Winter storms can close the harbour mouth for up to three weeks, delaying concrete pours.")
    d.add_heading("Budget", 1)
    table = d.add_table(rows=4, cols=2)
    for r, row in enumerate([("Item", "Cost (kEUR)"), ("Pier", "2400"), ("Dredging", "900"), ("Crane", "650")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_picture(io.BytesIO(png_bytes(text_image(["PIER", "2026"], (160, 80), 28))))
    d.paragraphs[-1]._p.xpath(".//wp:docPr")[0].set("descr", "Drawing of the new concrete pier")
    d.add_paragraph("Figure 1: the new pier seen from the channel", style="Caption")
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(deterministic_zip(buf.getvalue()))


def write_xlsx(path: Path) -> None:
    """A budget workbook: sheet Q3 with a title line, a header and booked costs; sheet Staff."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.properties.created = wb.properties.modified = FIXED_TIME
    q3 = wb.active
    q3.title = "Q3"
    q3.append(["Harbour budget, third quarter 2026"])
    q3.append(["Cost centre", "Item", "Amount (EUR)", "Booked on"])
    items = [("Works", "Concrete for the pier", 182000), ("Works", "Steel piles", 96500),
             ("Operations", "Ferry fuel", 41200), ("Operations", "Pilot boat crew overtime", 12800),
             ("Travel", "Staff travel to the crane supplier in Rotterdam", 3400),
             ("Works", "Diving inspection of the old pier", 7900), ("IT", "Berth booking software licence", 5600)]
    for n, (centre, item, amount) in enumerate(items):
        q3.append([centre, item, amount, dt.date(2026, 7, 3) + dt.timedelta(days=n * 9)])
    staff = wb.create_sheet("Staff")
    staff.append(["Name", "Role", "Phone"])
    staff.append(["Ana Berg", "Harbour master", "+47 555 0101"])
    staff.append(["Jon Dahl", "Pilot", "+47 555 0102"])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(deterministic_zip(buf.getvalue()))


TRIPS_CSV = """route,departure,duration_h,note
Bergen-Hirtshals,08:00,16,overnight cabin crossing
Oslo-Kiel,14:00,20,car deck and restaurant
Tromso-Svalbard,10:30,40,polar bears may be seen from the deck in spring
Stavanger-Bergen,07:15,5,fast catamaran
"""

FERRY_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Ferry passenger guide</title>
<script>window.analytics = {};</script><style>body { font-family: sans-serif }</style></head>
<body><nav><a href="/">Home</a> <a href="/timetable">Timetable</a></nav>
<div class="cookie-consent">This site uses cookies. Accept all?</div>
<main><h1>Ferry passenger guide</h1>
<p>Check-in closes thirty minutes before departure.</p>
<h2>Luggage and animals</h2>
<ul><li>Each passenger may bring two suitcases.</li><li>Dogs travel in the pet lounge on deck five.</li></ul>
<h2>Fares</h2>
<table><tr><th>Ticket</th><th>Price (EUR)</th></tr><tr><td>Adult</td><td>39</td></tr><tr><td>Bicycle</td><td>8</td></tr></table>
<img src="solar_capacity_chart.png" alt="Chart of the ferry's solar panel output"></main>
<footer>Ferry Co, all rights reserved</footer></body></html>
"""


def write_epub(path: Path) -> None:
    """A two-chapter lighthouse story written by ebooklib."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("lighthouse-keeper-2026")
    book.set_title("The Lighthouse Keeper")
    book.set_language("en")
    book.add_metadata("DC", "date", "2026-01-01")
    storm = epub.EpubHtml(title="The Storm", file_name="text/storm.xhtml", lang="en")
    storm.content = ("<h1>The Storm</h1><p>At midnight the wind tore the lamp's shutters loose, and Mira climbed "
                     "the hundred and twelve steps with a spare lens wrapped in wool.</p>"
                     "<h2>Morning</h2><p>By dawn the old timber pier had been washed away.</p>")
    calm = epub.EpubHtml(title="The Calm", file_name="text/calm.xhtml", lang="en")
    calm.content = "<p>Weeks later seals slept on the stones where the pier once stood.</p>"
    for item in (storm, calm):
        book.add_item(item)
    book.toc = (storm, calm)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", storm, calm]
    buf = io.BytesIO()
    epub.write_epub(buf, book)
    path.write_bytes(deterministic_zip(buf.getvalue()))


CRANE_REPORT = [
    ("Crane inspection, berth four", [
        "The annual inspection of crane four took place on 24 November. The boom, the slewing ring "
        "and the cab passed the visual check without findings.",
    ]),
    ("Load test", [
        "During the 40-tonne load test the hoist brake slipped twice. The crane is out of service "
        "until the brake pads are replaced and the test is repeated.",
    ]),
]


def write_mail(path: Path) -> None:
    """A mail written by the stdlib email package with a reportlab PDF attached;
    a fixed boundary and Message-ID keep the file the same on every run."""
    from email.message import EmailMessage
    from email.policy import SMTP

    pdf = path.with_suffix(".tmp.pdf")
    write_pdf(pdf, "Crane four inspection report", CRANE_REPORT)
    msg = EmailMessage()
    msg["Subject"] = "Crane four inspection report"
    msg["From"] = "Ines Duarte <ines@harbour.example>"
    msg["To"] = "operations@harbour.example"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    msg["Message-ID"] = "<crane-four-inspection@harbour.example>"
    msg.set_content("Hello team,\n\nthe inspection report for crane four is attached.\n\nIna\n")
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename="crane_inspection_report.pdf")
    pdf.unlink()
    msg.set_boundary("mmrag-example-boundary")
    path.write_bytes(msg.as_bytes(policy=SMTP))


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    write_pdf(DATA / "solar_report.pdf", "Solar Energy Outlook 2026", SOLAR)
    write_pdf(DATA / "coffee_guide.pdf", "Brewing Coffee", COFFEE)
    (DATA / "beekeeping.md").write_text(NOTES_MD, encoding="utf-8")
    (DATA / "reef.txt").write_text(README_TXT, encoding="utf-8")
    write_deck(DATA / "beekeeping_workshop.pptx")
    write_scanned_pdf(DATA / "reef_survey_scan.pdf")
    write_figure(DATA / "solar_capacity_chart.png")
    write_photo(DATA / "chelsea_photo.jpg")
    (DATA / "roastery_tour.srt").write_text(SRT, encoding="utf-8")
    (DATA / "solar_cleaning_podcast.vtt").write_text(VTT, encoding="utf-8")
    write_docx(DATA / "harbour_plan.docx")
    write_xlsx(DATA / "harbour_budget.xlsx")
    (DATA / "ferry_routes.csv").write_text(TRIPS_CSV, encoding="utf-8")
    (DATA / "ferry_guide.html").write_text(FERRY_HTML, encoding="utf-8")
    write_epub(DATA / "lighthouse_keeper.epub")
    write_mail(DATA / "crane_inspection.eml")
    write_lecture_video(DATA / "volcano_lecture.mp4")  # and volcano_lecture.vtt
    print(f"wrote {len(list(DATA.iterdir()))} files to {DATA}")


if __name__ == "__main__":
    main()

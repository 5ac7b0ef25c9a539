"""Regenerate examples/data: a small mixed corpus written by real libraries.

Run: .venv/bin/python examples/make_data.py   (or `make data`)
Output is deterministic (fixed PDF metadata and no timestamps), so re-running
leaves git clean unless this script changed.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

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


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    write_pdf(DATA / "solar_report.pdf", "Solar Energy Outlook 2026", SOLAR)
    write_pdf(DATA / "coffee_guide.pdf", "Brewing Coffee", COFFEE)
    (DATA / "beekeeping.md").write_text(NOTES_MD, encoding="utf-8")
    (DATA / "reef.txt").write_text(README_TXT, encoding="utf-8")
    print(f"wrote {len(list(DATA.iterdir()))} files to {DATA}")


if __name__ == "__main__":
    main()

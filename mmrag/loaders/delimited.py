"""CSV and TSV with the csv module: the dialect sniffed from a sample, the
encoding found by ``detect_encoding``, rows streamed one by one into row
elements (see ``tables``). A row number is the record's 1-based position, as a
spreadsheet opening the file would number it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from mmrag.errors import CorruptFileError
from mmrag.loaders.base import Loader
from mmrag.loaders.encoding import SAMPLE_BYTES, detect_encoding
from mmrag.loaders.notes import note_metadata
from mmrag.loaders.tables import table_elements
from mmrag.types import Element

_TAB_SEPARATED = frozenset({".tsv", ".tab"})
_DELIMITERS = ",;\t|"


def sniff_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The sniffed dialect; when the sniffer gives up (quoted line breaks, ragged
    rows), the candidate delimiter the header line holds most, else a comma."""
    try:
        return csv.Sniffer().sniff(text, delimiters=_DELIMITERS)
    except csv.Error:
        first = text.split("\n", 1)[0]
        counts = {d: first.count(d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d])
        if not counts[delimiter] or delimiter == ",":
            return csv.excel

        class Sniffed(csv.excel):
            pass

        Sniffed.delimiter = delimiter
        return Sniffed


def column_number(index: int) -> str:
    return f"column {index + 1}"


class CsvLoader(Loader):
    """One element per non-empty record, with its row number; the first text-only
    row is the header and every value is written ``column: value``.

    Example::

        rows = list(CsvLoader().load(Path("trips.csv"), "trips.csv"))
        rows[0].row_start, rows[0].text   # (2, 'city: Oslo; km: 410')
    """

    name = "csv"
    extensions = frozenset({".csv", *_TAB_SEPARATED})

    def sniff(self, head: bytes, path: Path) -> bool:
        utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
        return path.suffix.lower() in self.extensions and (utf16 or b"\x00" not in head)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
        encoding, note = detect_encoding(path, sample)
        notes = [note] if note else []
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            text = fh.read(SAMPLE_BYTES)
            fh.seek(0)
            if path.suffix.lower() in _TAB_SEPARATED:
                dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab
            else:
                dialect = sniff_dialect(text)
            reader = csv.reader(fh, dialect)
            try:
                yield from table_elements(enumerate(reader, start=1), source=source, name=column_number,
                                          metadata=note_metadata(notes))
            except csv.Error as exc:
                raise CorruptFileError(path, f"unreadable CSV at record {reader.line_num}: {exc}") from exc

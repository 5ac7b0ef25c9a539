"""Excel workbooks (.xlsx, .xlsm) with openpyxl in read-only mode: one unit per
sheet, one element per non-empty row (see ``tables``), formulas as the values
Excel cached for them. Read-only mode streams each sheet's XML, so memory stays
bounded by the shared-strings table, not by the number of rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mmrag.errors import CorruptFileError, LoaderError
from mmrag.loaders.base import Loader
from mmrag.loaders.failures import explain
from mmrag.loaders.notes import collect_warnings, note_metadata, quiet
from mmrag.loaders.tables import table_elements
from mmrag.loaders.ooxml import OLE_SIGNATURE, ZIP_SIGNATURE, check_package, claims, ooxml_kind
from mmrag.types import Element

_SPREADSHEET = "spreadsheetml"


def column_letter(index: int) -> str:
    """``A``, ``B``, ... ``AA`` for a 0-based column index (names a column without a header)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


class XlsxLoader(Loader):
    """Rows of every worksheet, each element with ``sheet`` and its 1-based row
    number as Excel shows it (``row_start == row_end``); the chunker packs them
    into row windows. Chart sheets hold no cells and are skipped.

    Example::

        rows = list(XlsxLoader().load(Path("budget.xlsx"), "budget.xlsx"))
        rows[0].sheet, rows[0].row_start, rows[0].text   # ('Q3', 2, 'Region: North; Cost: 120')
    """

    name = "xlsx"
    extensions = frozenset({".xlsx", ".xlsm"})
    signatures = (ZIP_SIGNATURE, OLE_SIGNATURE)

    def sniff(self, head: bytes, path: Path) -> bool:
        return claims(head, path, _SPREADSHEET, self.extensions)

    def load(self, path: Path, source: str) -> Iterator[Element]:
        import openpyxl

        check_package(path, "Excel workbook")
        if ooxml_kind(path) != _SPREADSHEET:
            raise CorruptFileError(path, "not an Excel workbook: the zip declares no workbook part")
        notes: list[str] = []
        try:
            with collect_warnings(notes):
                wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # openpyxl raises KeyError, ValueError, lxml errors... for broken parts
            raise CorruptFileError(path, f"corrupt Excel workbook: {explain(exc, 'workbook')}") from exc
        try:
            for ws in wb.worksheets:
                if not hasattr(ws, "iter_rows"):
                    continue
                ws.reset_dimensions()  # stored dimensions can be wrong; read every row there is
                rows = enumerate(quiet(ws.iter_rows(values_only=True), notes), start=1)
                try:
                    yield from table_elements(
                        rows, source=source, name=column_letter, sheet=ws.title,
                        metadata={**({"hidden_sheet": True} if ws.sheet_state != "visible" else {}), **note_metadata(notes)},
                    )
                except LoaderError:
                    raise
                except Exception as exc:
                    raise CorruptFileError(path, f"corrupt sheet {ws.title!r}: {explain(exc, 'workbook')}") from exc
        finally:
            wb.close()

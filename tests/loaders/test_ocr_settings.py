"""The OCR settings chosen by measurement (mmrag/loaders/ocr.py) are the ones rapidocr
and onnxruntime run with, and an office scan of body text still reads with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from mmrag.loaders import PdfLoader
from mmrag.loaders import ocr as ocr_module
from tests.mixed_files import needs_ocr

LINES = [
    "The survey team counted staghorn colonies along the northern reef",
    "and recorded water temperature at every transect before noon.",
    "Bleaching was worst near the harbour mouth, where the current slows.",
]


def write_office_scan(path: Path) -> Path:
    """An A4 page scanned at 150 dpi: 11-point text (23 px) and no text layer, the small
    text that a detection input cut too far would lose."""
    page = Image.new("L", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=23)
    for i, line in enumerate(LINES):
        draw.text((150, 200 + i * 36), line, fill="black", font=font)
    page.save(path, "PDF", resolution=150)
    return path


@needs_ocr
@pytest.mark.slow
def test_the_chosen_settings_reach_rapidocr_and_a_150_dpi_scan_still_reads(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    path = write_office_scan(tmp_path / "scan.pdf")
    [element] = [e for e in PdfLoader(render_pages=False).load(path, str(path)) if e.metadata.get("ocr")]
    found = element.text.lower().split()
    wanted = " ".join(LINES).lower().split()
    assert sum(w in found for w in wanted) >= 0.95 * len(wanted), element.text

    engine = ocr_module._engine()
    assert len(ocr_module._ENGINE_PARAMS) > len(ocr_module.BASELINE_PARAMS)  # settings beyond rapidocr's defaults
    for key, value in ocr_module._ENGINE_PARAMS.items():
        assert OmegaConf.select(engine.cfg, key) == value, key
    # what the loaded models actually run with, read back from rapidocr's objects and onnxruntime's sessions
    assert engine.use_cls is False and engine.text_cls is None  # the classifier never loaded
    assert engine.text_det.postprocess_op.unclip_ratio == ocr_module._ENGINE_PARAMS["Det.unclip_ratio"]
    sessions = (engine.text_det, engine.text_rec)
    assert all(s.session.session.get_session_options().intra_op_num_threads == 0 for s in sessions)  # one per core
    # the overlapped read worker leaves the other core to the embedder
    ocr_module.share_cores()
    try:
        key = "EngineConfig.onnxruntime.intra_op_num_threads"
        assert ocr_module.speed_params() == {key: 1}
        assert OmegaConf.select(ocr_module._engine().cfg, key) == 1
    finally:
        ocr_module.share_cores(False)

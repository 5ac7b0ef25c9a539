"""The five context rules of the chunker, on elements from real loaders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmrag.chunking import Chunker, WindowOptions
from mmrag.loaders import PdfLoader, PptxLoader
from mmrag.loaders.text import MarkdownLoader
from mmrag.types import Chunk, Element, Modality
from tests.mixed_files import write_text_pdf

SENTENCES = [f"Sentence number {i} talks about {w} in some detail." for i, w in enumerate(
    ["tides", "winds", "clouds", "rain", "snow", "fog", "hail", "storms", "heat", "frost", "dew", "ice"] * 2
)]


@pytest.fixture(scope="module")
def tokenizer(text_embedder):
    return text_embedder.tokenizer


def chunks_of(tokenizer, elements, **options) -> list[Chunk]:
    return list(Chunker(tokenizer, WindowOptions(**options)).chunk("doc", elements))


def test_rule1_windows_overlap_and_every_sentence_is_whole_somewhere(tokenizer) -> None:
    body = " ".join(SENTENCES)
    element = Element(source="w.txt", modality=Modality.TEXT, text=body)
    chunks = chunks_of(tokenizer, [element], max_tokens=40, overlap=14)
    assert len(chunks) > 4
    for sentence in SENTENCES:
        assert any(sentence in c.text for c in chunks), sentence
    for a, b in zip(chunks, chunks[1:]):
        assert body.index(b.text) < body.index(a.text) + len(a.text), "consecutive windows must overlap"
        assert len(tokenizer(a.text, add_special_tokens=False)["input_ids"]) <= 40


def test_rule2_context_header_is_embedded_and_stored_apart(tokenizer, tmp_path: Path, deck_path: Path) -> None:
    pdf = write_text_pdf(tmp_path / "r.pdf", ["First page with enough words in it.", "Second page with enough words too."])
    pdf_chunks = chunks_of(tokenizer, PdfLoader(render_pages=False).load(pdf, str(pdf)))
    assert [c.context for c in pdf_chunks] == ["Test report > page 1", "Test report > page 2"]
    slide = next(c for c in chunks_of(tokenizer, PptxLoader(ocr=False).load(deck_path, str(deck_path))) if c.slide == 1)
    assert slide.context == "Quarterly review > Revenue by region > slide 1"
    assert slide.embed_text == f"{slide.context}\n{slide.text}"
    assert "Quarterly review" not in slide.text
    md = tmp_path / "n.md"
    md.write_text("# Garden\n\n## Roses\n\nPrune roses in late winter.\n")
    [rose] = chunks_of(tokenizer, MarkdownLoader().load(md, str(md)))
    assert rose.context == "n.md > Garden > Roses"


def test_rule3_pictures_and_text_are_tied_both_ways(tokenizer, deck_path: Path, tmp_path: Path) -> None:
    chunks = chunks_of(tokenizer, PptxLoader(ocr=False).load(deck_path, str(deck_path)))
    [picture] = [c for c in chunks if c.modality is Modality.IMAGE]
    assert picture.slide == 2
    # its alt text, then the nearest text on the slide (the caption below it, not the far footer)
    assert picture.text == "Twelve people smiling on a lawn\nOur support team at the summer offsite"
    assert picture.metadata["nearby_text"] == "Our support team at the summer offsite"
    texts2 = [c for c in chunks if c.slide == 2 and c.modality is Modality.TEXT]
    assert texts2 and all(c.metadata["image_ids"] == [picture.id] for c in texts2)
    assert picture.metadata["text_ids"] == [c.id for c in texts2]
    assert all(c.metadata["image_ids"] == [] for c in chunks if c.slide == 1)

    pdf = write_text_pdf(tmp_path / "r.pdf", ["Page one words, enough of them.", "Page two shows a red box below."], image_on_page=2)
    pdf_chunks = chunks_of(tokenizer, PdfLoader().load(pdf, str(pdf)))
    page2 = [c for c in pdf_chunks if c.page == 2]
    [text2] = [c for c in page2 if c.modality is Modality.TEXT]
    visuals = [c for c in page2 if c.modality is not Modality.TEXT]
    assert {c.modality for c in visuals} == {Modality.PAGE_IMAGE, Modality.IMAGE}
    assert text2.metadata["image_ids"] == [c.id for c in visuals]
    for visual in visuals:
        assert visual.context == "Test report > page 2"
        assert visual.metadata["text_ids"] == [text2.id]
    # The embedded picture carries the text around it, so BM25 and MiniLM can find it now;
    # the page render does not repeat its page's text (that would return every text hit twice).
    [picture] = [c for c in visuals if c.modality is Modality.IMAGE]
    [render] = [c for c in visuals if c.modality is Modality.PAGE_IMAGE]
    assert "Page two shows a red box below." in picture.text
    assert "Page two" not in render.text


def cue(start: float, end: float, text: str, speaker: str | None = None) -> Element:
    meta = {"document_title": "standup.vtt", **({"speaker": speaker} if speaker else {})}
    return Element(source="standup.vtt", modality=Modality.TEXT, text=text, start=start, end=end, metadata=meta)


CUES = [
    cue(0.0, 3.0, "Good morning everyone.", "Ana"),
    cue(3.0, 6.0, "The database migration finished last night and the", "Ana"),
    cue(6.0, 9.0, "nightly backups now run against the new cluster.", "Ana"),
    cue(9.0, 12.0, "Thanks. Any blockers for the release?", "Ben"),
    cue(12.0, 15.0, "The payment tests still fail on the staging", "Cho"),
    cue(15.0, 18.0, "environment because of an expired certificate.", "Cho"),
    cue(18.0, 21.0, "I will renew it today. Let us meet again tomorrow.", "Ben"),
]


def test_rule4_transcript_windows_end_at_sentences_overlap_and_keep_times(tokenizer) -> None:
    chunks = chunks_of(tokenizer, CUES, max_tokens=24, overlap=10)
    assert len(chunks) >= 3
    for c in chunks:
        assert c.text.rstrip().endswith((".", "?")), c.text
        assert c.start is not None and c.end is not None and c.end > c.start
        assert c.context == "standup.vtt"
    multi = [(a, b) for a, b in zip(chunks, chunks[1:]) if len(re.findall(r"[.?](\s|$)", a.text)) > 1]
    assert multi
    for a, b in multi:  # a window of one long sentence has nothing to share; all others overlap
        assert b.start < a.end, "consecutive windows must overlap"
    # the sentences split across cues are whole in a chunk spanning both cues
    split_sentences = [
        ("The database migration finished last night and the nightly backups now run against the new cluster.", 3.0, 9.0),
        ("The payment tests still fail on the staging environment because of an expired certificate.", 12.0, 18.0),
    ]
    for sentence, start, end in split_sentences:
        holders = [c for c in chunks if sentence in re.sub(r"\b(Ana|Ben|Cho): ", "", c.text)]
        assert holders and all(c.start <= start and c.end >= end for c in holders), sentence
    payment = next(c for c in chunks if "payment" in c.text)
    assert "Cho" in payment.metadata["speakers"] and "Cho: The payment tests" in payment.text
    # a window that starts inside a speaker's turn still says who is speaking
    assert all(re.match(r"(Ana|Ben|Cho): ", c.text) for c in chunks)


def test_rule4_windows_also_stop_at_max_seconds(tokenizer) -> None:
    chunks = chunks_of(tokenizer, CUES, max_tokens=200, overlap=0, max_seconds=10.0)
    assert len(chunks) > 1
    assert all(c.end - c.start <= 10.0 or c.metadata["cues"][0] == c.metadata["cues"][1] for c in chunks)
    assert chunks[0].start == 0.0 and chunks[-1].end == 21.0


def test_rule5_ids_are_stable_and_follow_content(tokenizer, tmp_path: Path) -> None:
    pdf = write_text_pdf(tmp_path / "r.pdf", ["First page with enough words in it.", "Second page with enough words too."])
    first = [c.id for c in chunks_of(tokenizer, PdfLoader().load(pdf, str(pdf)))]
    again = [c.id for c in chunks_of(tokenizer, PdfLoader().load(pdf, str(pdf)))]
    assert first == again and len(set(first)) == len(first)
    write_text_pdf(pdf, ["First page with enough words in it.", "Second page now says something else."])
    changed = [c.id for c in chunks_of(tokenizer, PdfLoader().load(pdf, str(pdf)))]
    assert changed[:2] == first[:2]  # page 1 text and render: untouched
    assert not set(changed[2:]) & set(first[2:])


def test_rule5_an_edited_picture_without_text_gets_a_new_id(tokenizer, tmp_path: Path) -> None:
    from PIL import Image

    from mmrag.loaders import ImageLoader

    path = tmp_path / "photo.png"
    Image.new("RGB", (32, 32), (10, 10, 10)).save(path)
    before = chunks_of(tokenizer, ImageLoader(ocr=False).load(path, str(path)))
    assert [c.id for c in before] == [c.id for c in chunks_of(tokenizer, ImageLoader(ocr=False).load(path, str(path)))]
    Image.new("RGB", (32, 32), (250, 10, 10)).save(path)
    after = chunks_of(tokenizer, ImageLoader(ocr=False).load(path, str(path)))
    assert before[0].id != after[0].id

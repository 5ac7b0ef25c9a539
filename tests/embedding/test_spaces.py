import numpy as np
import pytest
from PIL import Image

from mmrag.embedding.clip import ImageTextEmbedder
from mmrag.embedding.late_interaction import ColBERTEmbedder, PageEmbedder
from mmrag.embedding.spaces import EmbeddingSpaces
from mmrag.types import Chunk, ImageKind, ImageRef, Modality


@pytest.fixture
def chunks(jpegs):
    page = ImageRef(source="report.pdf", kind=ImageKind.PAGE_RENDER, page=2)
    photo = ImageRef(source=str(jpegs[2]), kind=ImageKind.FILE)
    return [
        Chunk(id="t1", doc_id="d", source="report.pdf", modality=Modality.TEXT, text="Revenue grew 12%.", context="Report > p.1"),
        Chunk(id="p2", doc_id="d", source="report.pdf", modality=Modality.PAGE_IMAGE, text="page 2 OCR", image=page, page=2),
        Chunk(id="t3", doc_id="d", source="report.pdf", modality=Modality.TEXT, text="Outlook for next year."),
        Chunk(id="i4", doc_id="e", source=str(jpegs[2]), modality=Modality.IMAGE, text="", image=photo),
    ]


@pytest.fixture
def loader(jpegs):
    calls = []

    def load(ref):
        calls.append(ref)
        return Image.open(jpegs[0] if ref.kind is ImageKind.PAGE_RENDER else ref.source)

    load.calls = calls
    return load


def test_pooled_and_multivector_spaces_align_with_chunks(chunks, loader, jpegs, text_embedder, clip_path, colpali_path, colbert_path):
    clip = ImageTextEmbedder(clip_path)
    pages = PageEmbedder(colpali_path)
    colbert = ColBERTEmbedder(colbert_path, query_length=16)
    spaces = EmbeddingSpaces({"text": text_embedder, "clip": clip, "pages": pages, "late": colbert}, image_loader=loader)
    vectors = spaces.embed_chunks(chunks)

    assert vectors["text"].shape == (4, 384)  # text-only space: image chunks embedded by their text
    np.testing.assert_allclose(vectors["text"][0], text_embedder.embed_documents([chunks[0].embed_text])[0], atol=1e-5)

    assert vectors["clip"].shape == (4, clip.dim)  # image chunks by pixels, through the loader
    np.testing.assert_allclose(vectors["clip"][1], clip.embed_images([jpegs[0]])[0], atol=1e-5)
    np.testing.assert_allclose(vectors["clip"][3], clip.embed_images([jpegs[2]])[0], atol=1e-5)
    np.testing.assert_allclose(vectors["clip"][2], clip.embed_documents([chunks[2].embed_text])[0], atol=1e-5)
    assert [r.page for r in loader.calls[:2]] == [2, None]

    multi = vectors["pages"]
    assert isinstance(multi, list) and len(multi) == 4 and spaces.is_multivector("pages")
    np.testing.assert_allclose(multi[1], pages.embed_images([jpegs[0]])[0], atol=1e-5)
    np.testing.assert_allclose(multi[0], pages.embed_documents([chunks[0].embed_text])[0], atol=1e-5)
    assert all(v.ndim == 2 and v.shape[1] == pages.dim for v in multi)

    late = vectors["late"]  # text-only multi-vector space: every chunk by its text
    assert len(late) == 4 and all(v.shape[1] == colbert.dim for v in late)

    query = spaces.embed_query("revenue growth")
    assert query["text"].shape == (384,) and query["clip"].shape == (clip.dim,)
    assert query["pages"].ndim == 2 and query["pages"].shape[1] == pages.dim
    assert query["late"].shape == (16, colbert.dim)
    assert set(spaces.specs()) == {"text", "clip", "pages", "late"} and spaces.specs()["pages"].multivector


def test_space_names_must_be_identifiers(text_embedder):
    with pytest.raises(ValueError, match="Python identifier"):
        EmbeddingSpaces({"my space": text_embedder})

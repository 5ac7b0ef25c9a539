import numpy as np
import pytest
from PIL import Image

from mmrag.embedding.clip import FastImagePreprocessor, ImageTextEmbedder
from mmrag.embedding.images import BadImageError
from mmrag.errors import MmragError, ModelMismatchError
from mmrag.stores.base import check_specs
from mmrag.types import ImageKind, ImageRef


@pytest.fixture(scope="module")
def clip(clip_path):
    emb = ImageTextEmbedder(clip_path, batch_size=2)
    emb.load()
    return emb


@pytest.fixture(scope="module")
def siglip(siglip_path):
    emb = ImageTextEmbedder(siglip_path, batch_size=2)
    emb.load()
    return emb


@pytest.mark.parametrize("name", ["clip", "siglip"])
def test_images_and_texts_share_one_normalised_space(name, request, jpegs):
    emb = request.getfixturevalue(name)
    images = emb.embed_images(jpegs)
    texts = emb.embed_queries(["a red boot", "a much longer sentence about solar panels on a roof"])
    assert images.shape == (5, emb.dim) and texts.shape == (2, emb.dim)
    assert images.dtype == np.float32 and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert emb.embed_images([]).shape == (0, emb.dim)


@pytest.mark.parametrize("name", ["clip", "siglip"])
def test_a_batch_gives_the_same_vectors_as_one_by_one(name, request, jpegs):
    emb = request.getfixturevalue(name)
    batch = emb.embed_images(jpegs)
    single = np.concatenate([emb.embed_images([p]) for p in jpegs])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    texts = ["short", "a rather longer text that pads the short one", "mid length text"]
    np.testing.assert_allclose(
        emb.embed_documents(texts), np.concatenate([emb.embed_documents([t]) for t in texts]), atol=1e-5
    )


@pytest.mark.parametrize("path_fixture", ["clip_path", "siglip_path"])
def test_fast_preprocessing_matches_the_models_own_processor(path_fixture, request, jpegs):
    path = request.getfixturevalue(path_fixture)
    fast = ImageTextEmbedder(path)
    slow = ImageTextEmbedder(path, fast_preprocess=False)
    fast.load()
    assert isinstance(fast._fast, FastImagePreprocessor)
    cosine = (fast.embed_images(jpegs) * slow.embed_images(jpegs)).sum(axis=1)
    assert cosine.min() >= 0.999
    # without reduced-scale decoding the pixels are the processor's own, so vectors agree to float precision
    image = Image.open(jpegs[0]).convert("RGB")
    pixels = fast._fast.to_tensor([fast._fast.to_array(image)])
    want = slow.processor.image_processor(images=[image], return_tensors="pt")["pixel_values"]
    np.testing.assert_allclose(pixels.numpy(), want.numpy(), atol=1e-5)


def test_image_inputs_of_every_kind_and_refs_through_a_loader(clip, jpegs):
    ref = ImageRef(source="slides.pptx", kind=ImageKind.EMBEDDED, slide=1, index=0)
    items = [jpegs[0], str(jpegs[0]), jpegs[0].read_bytes(), ref, Image.open(jpegs[0])]
    vecs = clip.embed_images(items, image_loader=lambda r: Image.open(jpegs[0]))
    np.testing.assert_allclose(vecs[:4], np.repeat(vecs[:1], 4, axis=0), atol=1e-5)
    # a caller's PIL image is decoded at full scale (never shrunk in place): same vector within tolerance
    assert float(vecs[4] @ vecs[0]) >= 0.999


def test_a_bad_image_in_a_batch_names_the_file(clip, jpegs, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(jpegs[0].read_bytes()[:200])
    with pytest.raises(BadImageError, match=r"broken\.jpg"):
        clip.embed_images([jpegs[1], bad, jpegs[2]])
    with pytest.raises(BadImageError, match="never fetches URLs"):
        clip.embed_images(["https://example.com/cat.jpg"])


def test_instructions_prefix_or_template_the_text(clip_path):
    plain = ImageTextEmbedder(clip_path)
    templ = ImageTextEmbedder(clip_path, query_instruction="a photo of {text}", document_instruction="doc: ")
    q = templ.embed_queries(["a boot"])
    np.testing.assert_allclose(q, plain.embed_queries(["a photo of a boot"]), atol=1e-6)
    np.testing.assert_allclose(templ.embed_documents(["a boot"]), plain.embed_documents(["doc: a boot"]), atol=1e-6)
    assert not np.allclose(q, plain.embed_queries(["a boot"]), atol=1e-3)
    spec = templ.spec()
    assert (spec.model_name, spec.dim, spec.multivector) == (clip_path, 24, False)
    assert (spec.query_instruction, spec.document_instruction) == ("a photo of {text}", "doc: ")


def test_composed_query_is_the_normalised_weighted_sum_of_image_and_text(clip, jpegs):
    image = clip.embed_images(jpegs[:1])[0]
    text = clip.embed_queries(["but lighter"])[0]
    both = clip.embed_composed(jpegs[:1], ["but lighter"])[0]
    want = (image + text) / np.linalg.norm(image + text)
    np.testing.assert_allclose(both, want, atol=1e-5)
    np.testing.assert_allclose(clip.embed_composed(jpegs[:1], ["x"], text_weight=0.0)[0], image, atol=1e-5)
    with pytest.raises(ValueError, match="pair images with texts"):
        clip.embed_composed(jpegs[:2], ["only one"])


def test_a_collection_refuses_another_image_model(clip, siglip):
    stored = {"image": clip.spec()}
    check_specs("c", stored, {"image": clip.spec()})
    with pytest.raises(ModelMismatchError, match="was built with"):
        check_specs("c", stored, {"image": siglip.spec()})


def test_a_text_only_checkpoint_is_refused_with_a_clear_error(text_embedder):
    from mmrag.embedding.sentence_transformer import resolve_model_path

    emb = ImageTextEmbedder(resolve_model_path(text_embedder.model_name))
    with pytest.raises(MmragError, match="not an image-text model"):
        emb.load()


def test_device_auto_is_cpu_here_and_dtype_names_are_checked(clip_path):
    assert ImageTextEmbedder(clip_path).device == "cpu"
    with pytest.raises(ValueError, match="unknown dtype 'fp8'; valid: auto, float32"):
        ImageTextEmbedder(clip_path, dtype="fp8")


def test_bfloat16_weights_still_return_float32_unit_vectors(clip_path, jpegs):
    emb = ImageTextEmbedder(clip_path, dtype="bfloat16")
    vecs = emb.embed_images(jpegs[:2])
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)

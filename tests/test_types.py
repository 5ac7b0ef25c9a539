import pytest

from mmrag.types import Chunk, Element, Hit, ImageKind, ImageRef, Modality, stable_id

CONTRACT_KEYS = {
    "source", "modality", "page", "slide", "start", "end", "score", "text", "chunk_id",
    "sheet", "row_start", "row_end", "heading", "attachment",
}


def test_locations_are_validated_on_construction():
    with pytest.raises(ValueError, match="1-based"):
        Element(source="a.pdf", modality=Modality.TEXT, text="x", page=0)
    with pytest.raises(ValueError, match="end"):
        Element(source="a.srt", modality=Modality.TEXT, text="x", start=5.0, end=2.0)
    with pytest.raises(ValueError, match="together"):
        Element(source="a.srt", modality=Modality.TEXT, text="x", start=5.0)
    with pytest.raises(ValueError, match="non-blank"):
        Element(source="a.txt", modality=Modality.TEXT, text="  ")
    with pytest.raises(ValueError, match="needs an image"):
        Element(source="a.png", modality=Modality.IMAGE)
    with pytest.raises(ValueError, match="page render needs"):
        ImageRef("a.pdf", ImageKind.PAGE_RENDER)


def test_unknown_modality_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: text, image, page_image"):
        Modality.parse("video")


def test_metadata_is_frozen_and_json_checked():
    e = Element(source="a.txt", modality="text", text="x", metadata={"k": 1})
    with pytest.raises(TypeError):
        e.metadata["k"] = 2  # type: ignore[index]
    with pytest.raises(ValueError, match="JSON"):
        Element(source="a.txt", modality="text", text="x", metadata={"k": object()})


def test_stable_id_is_deterministic_and_sensitive_to_each_part():
    assert stable_id("a", 1, None) == stable_id("a", 1, None)
    assert stable_id("a", 1) != stable_id("a", 2)
    assert len(stable_id("x")) == 32


def test_hit_json_has_the_contract_keys_with_nulls_for_what_does_not_apply():
    ref = ImageRef("deck.pptx", ImageKind.EMBEDDED, slide=2, index=0)
    chunk = Chunk(id="c1", doc_id="d1", source="deck.pptx", modality=Modality.IMAGE, text="a chart", image=ref, slide=2)
    data = Hit(chunk, 0.5, {"dense": 0.5}).to_dict()
    assert CONTRACT_KEYS <= data.keys()
    assert data["slide"] == 2 and data["page"] is None and data["start"] is None and data["end"] is None
    assert data["chunk_id"] == "c1" and data["modality"] == "image"
    assert ImageRef.from_dict(data["image"]) == ref


def test_row_locations_are_validated_and_reach_the_hit_json():
    with pytest.raises(ValueError, match="together"):
        Element(source="a.csv", modality=Modality.TEXT, text="x", row_start=2)
    with pytest.raises(ValueError, match="1-based"):
        Element(source="a.csv", modality=Modality.TEXT, text="x", row_start=0, row_end=0)
    with pytest.raises(ValueError, match="before"):
        Chunk(id="c", doc_id="d", source="a.csv", modality="text", text="x", metadata={"row_start": 5, "row_end": 4})
    with pytest.raises(ValueError, match="blank"):
        Element(source="a.xlsx", modality=Modality.TEXT, text="x", sheet=" ")
    meta = {"sheet": "Q3", "row_start": 12, "row_end": 20, "title_path": ["Plan", "Costs"]}
    data = Hit(Chunk(id="c", doc_id="d", source="b.xlsx", modality="text", text="x", metadata=meta), 1.0).to_dict()
    assert (data["sheet"], data["row_start"], data["row_end"]) == ("Q3", 12, 20)
    assert data["heading"] == "Plan > Costs" and data["attachment"] is None


def test_a_chunk_pickles_for_worker_processes() -> None:
    import pickle

    chunk = Chunk(id="c1", doc_id="d1", source="a.pdf", modality="text", text="Owls", page=2, metadata={"sheet": "S", "tags": ["x"]})
    again = pickle.loads(pickle.dumps(chunk))
    assert again == chunk and again.metadata["tags"] == ["x"]
    with pytest.raises(TypeError):
        again.metadata["sheet"] = "T"  # still frozen after the trip

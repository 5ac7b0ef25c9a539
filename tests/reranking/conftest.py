"""Tiny randomly initialised models built from configs, saved to tmp and loaded by
path through the same ``from_pretrained`` code a real model uses. No weights are
downloaded; scores are meaningless, orderings and shapes are what is checked."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmrag.embedding.base import Embedder, MultiVectorEmbedder
from mmrag.types import Chunk, Hit, ImageKind, ImageRef, Modality

WORDS = "the a of and to in is was for on solar panel battery power grid wind turbine energy storage cat dog photo chart".split()


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real WordPiece tokenizer over a small vocabulary (words, then single characters)."""
    from transformers import BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-tokenizer")
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *chars, *(f"##{c}" for c in chars)]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    return folder


def _vocab_size(folder: Path) -> int:
    return len((folder / "vocab.txt").read_text(encoding="utf-8").split())


def _bert_config(folder: Path, **extra: Any) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=_vocab_size(folder), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, **extra,
    )


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> str:
    """Path of a random one-logit BertForSequenceClassification with its tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    BertForSequenceClassification(_bert_config(tiny_tokenizer_dir, num_labels=1)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_tokenizer_dir).save_pretrained(folder)
    return str(folder)


class TokenVectorEmbedder(MultiVectorEmbedder):
    """ColBERT-style test embedder: a transformer's unit-length token vectors (padding dropped)."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        from transformers import AutoModel, AutoTokenizer

        super().__init__(**kwargs)
        self.model_name = path
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.calls = 0

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def _embed_texts(self, texts: list[str], *, query: bool) -> list[np.ndarray]:
        import torch

        self.calls += 1
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.no_grad():
            out = self.model(**batch).last_hidden_state
        out = torch.nn.functional.normalize(out, dim=-1)
        return [o[m.bool()].numpy() for o, m in zip(out, batch["attention_mask"])]


@pytest.fixture(scope="session")
def tiny_late_interaction(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> TokenVectorEmbedder:
    import torch
    from transformers import AutoTokenizer, BertModel

    torch.manual_seed(1)
    folder = tmp_path_factory.mktemp("tiny-late-interaction")
    BertModel(_bert_config(tiny_tokenizer_dir)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_tokenizer_dir).save_pretrained(folder)
    return TokenVectorEmbedder(str(folder), batch_size=2)


class TinyClipEmbedder(Embedder):
    """Pooled image-text test embedder around a CLIPModel loaded by path."""

    modalities = frozenset({Modality.TEXT, Modality.IMAGE})

    def __init__(self, path: str, **kwargs: Any) -> None:
        from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

        super().__init__(**kwargs)
        self.model_name = path
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.processor = CLIPImageProcessor.from_pretrained(path)
        self.model = CLIPModel.from_pretrained(path).eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    @staticmethod
    def _pooled(out: Any) -> np.ndarray:
        tensor = out if hasattr(out, "numpy") else out.pooler_output
        return tensor.detach().numpy()

    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
        with torch.no_grad():
            return self._pooled(self.model.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]))

    def _embed_prepared(self, images: list[Any]) -> np.ndarray:
        import torch

        pixels = self.processor(images=images, return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            return self._pooled(self.model.get_image_features(pixel_values=pixels))


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> TinyClipEmbedder:
    import torch
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(2)
    folder = tmp_path_factory.mktemp("tiny-clip")
    config = CLIPConfig(
        # CLIP pools the text at the end token, found by id: give it this vocabulary's [CLS]/[SEP]
        # ([SEP] = 3), else every text pools at position 0 and all texts embed the same.
        text_config={"vocab_size": _vocab_size(tiny_tokenizer_dir), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 32,
                     "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_tokenizer_dir).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return TinyClipEmbedder(str(folder), batch_size=2)


@pytest.fixture(scope="session")
def png_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three real PNGs of different colours and shapes, written by PIL."""
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("pngs")
    paths = []
    for i, colour in enumerate(["red", "green", "blue"]):
        img = Image.new("RGB", (48, 40), "white")
        ImageDraw.Draw(img).rectangle([4 + 4 * i, 4, 30 + 5 * i, 30], fill=colour)
        path = folder / f"figure{i}.png"
        img.save(path)
        paths.append(path)
    return paths


def text_hit(i: int, text: str, score: float) -> Hit:
    chunk = Chunk(id=f"t{i}", doc_id="doc", source="doc.md", modality=Modality.TEXT, text=text, context="Doc > Section")
    return Hit(chunk, score, {"rrf": score})


def image_hit(i: int, path: Path, score: float, modality: Modality = Modality.IMAGE) -> Hit:
    chunk = Chunk(
        id=f"i{i}", doc_id="img", source=str(path), modality=modality, text="",
        image=ImageRef(str(path), ImageKind.FILE),
    )
    return Hit(chunk, score, {"dense": score})


@pytest.fixture
def text_hits() -> list[Hit]:
    texts = [
        "solar panel output drops in winter",
        "the wind turbine feeds the grid",
        "battery storage smooths power peaks",
        "a photo of a cat on a dog",
        "energy storage of the grid in winter",
        "chart of solar power",
        "the dog and the cat",
    ]
    return [text_hit(i, t, 1.0 - i / 10) for i, t in enumerate(texts)]

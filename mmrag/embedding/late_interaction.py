"""Late-interaction (multi-vector) embedders: ColPali/ColQwen2 for page images, ColBERT for text.

Each input becomes one ``(n_tokens, dim)`` float32 array of unit vectors, scored
against a query with MaxSim (``mmrag.embedding.maxsim``). Page models read the
rendered page itself, so tables, charts and layout count without OCR.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import numpy as np

from mmrag.embedding.base import LazyModel, MultiVectorEmbedder, apply_instruction
from mmrag.embedding.device import Precision, resolve_device, resolve_dtype
from mmrag.embedding.images import DEFAULT_MAX_PIXELS, ImageLoader
from mmrag.embedding.pooling import pool_tokens, round_float16
from mmrag.errors import InvalidArgument, MmragError
from mmrag.types import Modality

PAGE_MODELS = {"colpali": "ColPaliForRetrieval", "colqwen2": "ColQwen2ForRetrieval"}


class _Compression:
    """Pool factor and float16 rounding applied to stored (document/image) vectors, never to queries:
    pooling a query would drop query terms, and queries are not stored."""

    def __init__(self, pool_factor: int, float16: bool) -> None:
        if pool_factor < 1:
            raise InvalidArgument(f"pool_factor must be >= 1, got {pool_factor}")
        self.pool_factor = pool_factor
        self.float16 = float16

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        vectors = pool_tokens(vectors, self.pool_factor)
        return round_float16(vectors) if self.float16 else vectors


class PageEmbedder(LazyModel, MultiVectorEmbedder):
    """ColPali / ColQwen2 token vectors for page images and queries.

    Example::

        emb = PageEmbedder("vidore/colpali-v1.3-hf", pool_factor=3)
        pages = emb.embed_images([page_ref_1, "scan.png"])   # [(n_1, 128), (n_2, 128)] float32
        query = emb.embed_queries(["revenue by region"])[0]   # (n_q, 128)
        scores = maxsim(query, pages)

    The model class comes from the checkpoint's ``model_type`` (``colpali`` ->
    ``ColPaliForRetrieval``, ``colqwen2`` -> ``ColQwen2ForRetrieval``) and the
    processor from ``AutoProcessor``. Text documents go through the query path
    (the models embed text only as queries) with ``document_instruction``.
    """

    modalities = frozenset({Modality.TEXT, Modality.IMAGE, Modality.PAGE_IMAGE})

    def __init__(
        self,
        model: str,
        *,
        device: str | None = "auto",
        dtype: str | Precision = Precision.AUTO,
        batch_size: int = 4,
        pool_factor: int = 1,
        float16: bool = False,
        query_instruction: str | None = None,
        document_instruction: str | None = None,
        image_loader: ImageLoader | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        decode_workers: int = 2,
    ) -> None:
        super().__init__(
            batch_size=batch_size,
            query_instruction=query_instruction,
            document_instruction=document_instruction,
            image_loader=image_loader,
            max_pixels=max_pixels,
            decode_workers=decode_workers,
        )
        self.model_name = model
        self.device = resolve_device(device)
        self.dtype = Precision.parse(dtype)
        self.compress = _Compression(pool_factor, float16)
        self._processor: Any = None

    def _load(self) -> None:
        import transformers
        from transformers import AutoConfig, AutoProcessor

        model_type = AutoConfig.from_pretrained(self.model_name, trust_remote_code=False).model_type
        if model_type not in PAGE_MODELS:
            raise MmragError(
                f"{self.model_name} is a '{model_type}' model; page embedders load {', '.join(PAGE_MODELS)} checkpoints"
            )
        cls = getattr(transformers, PAGE_MODELS[model_type])
        model = cls.from_pretrained(self.model_name, trust_remote_code=False, dtype=resolve_dtype(self.dtype, self.device))
        self._processor = AutoProcessor.from_pretrained(self.model_name, trust_remote_code=False)
        self._model = model.to(self.device).eval()

    @property
    def processor(self) -> Any:
        self.load()
        return self._processor

    @property
    def dim(self) -> int:
        return int(self.model.config.embedding_dim)

    def _forward(self, inputs: Any) -> list[np.ndarray]:
        import torch

        model = self.model
        inputs = {k: v.to(self.device) for k, v in inputs.items() if k != "labels"}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        with torch.inference_mode():
            emb = model(**inputs).embeddings.float().cpu().numpy()
        mask = inputs["attention_mask"].bool().cpu().numpy()
        return [emb[i][mask[i]] for i in range(len(emb))]

    def _embed_texts(self, texts: list[str], *, query: bool) -> list[np.ndarray]:
        instruction = self.query_instruction if query else self.document_instruction
        inputs = self.processor.process_queries(
            text=[apply_instruction(instruction, t) for t in texts], return_tensors="pt", padding="longest"
        )
        out = self._forward(inputs)
        return out if query else [self.compress(v) for v in out]

    def _embed_prepared(self, prepared: list[Any]) -> list[np.ndarray]:
        inputs = self.processor.process_images(images=prepared, return_tensors="pt")
        return [self.compress(v) for v in self._forward(inputs)]


def _projection_weight(model_dir: Path) -> np.ndarray | None:
    """The ColBERT projection ``linear.weight`` saved beside the encoder: in the main weights
    (``HF_ColBERT`` checkpoints such as colbert-ir/colbertv2.0) or in a sentence-transformers
    ``Dense`` module folder (PyLate checkpoints)."""
    from safetensors import safe_open

    candidates = [model_dir / "model.safetensors"]
    modules = model_dir / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text()):
            if module.get("type", "").endswith("Dense") and module.get("path"):
                candidates.insert(0, model_dir / module["path"] / "model.safetensors")
    for path in candidates:
        if not path.is_file():
            continue
        with safe_open(str(path), framework="np") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open is not iterable
                if key == "linear.weight" or key.endswith(".linear.weight"):
                    return f.get_tensor(key).astype(np.float32)
    return None


def _model_dir(model: str) -> Path:
    """A local folder for ``model``: itself if it is one, else the Hugging Face cache snapshot."""
    path = Path(model)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(model, allow_patterns=["*.json", "*.safetensors", "*.txt", "*/*.json", "*/*.safetensors"]))


class ColBERTEmbedder(LazyModel, MultiVectorEmbedder):
    """ColBERT-style token vectors for text from a transformers encoder.

    Example::

        emb = ColBERTEmbedder("colbert-ir/colbertv2.0")
        docs = emb.embed_documents(["Paris is the capital of France."])  # [(n, 128)]
        q = emb.embed_queries(["capital of France"])[0]                   # (32, 128)

    As in ColBERT: a marker token after ``[CLS]`` tells queries from documents;
    queries are padded with ``[MASK]`` to ``query_length`` and every position is
    kept (query augmentation); documents drop padding and punctuation tokens.
    The encoder's output goes through the checkpoint's ``linear`` projection
    when one is saved with it, else the hidden states are used; vectors are
    L2-normalised.
    """

    def __init__(
        self,
        model: str,
        *,
        device: str | None = "auto",
        dtype: str | Precision = Precision.AUTO,
        batch_size: int = 32,
        query_length: int = 32,
        document_length: int = 300,
        query_marker: str | None = "[unused0]",
        document_marker: str | None = "[unused1]",
        query_augmentation: bool = True,
        mask_punctuation: bool = True,
        pool_factor: int = 1,
        float16: bool = False,
        query_instruction: str | None = None,
        document_instruction: str | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, query_instruction=query_instruction, document_instruction=document_instruction)
        if query_length < 4 or document_length < 4:
            raise InvalidArgument("query_length and document_length must be at least 4 tokens")
        self.model_name = model
        self.device = resolve_device(device)
        self.dtype = Precision.parse(dtype)
        self.query_length = query_length
        self.document_length = document_length
        self.markers = {True: query_marker, False: document_marker}
        self.query_augmentation = query_augmentation
        self.mask_punctuation = mask_punctuation
        self.compress = _Compression(pool_factor, float16)
        self._tokenizer: Any = None
        self._projection: Any = None
        self._skip: set[int] = set()

    def _load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        folder = _model_dir(self.model_name)
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False)
        model = AutoModel.from_pretrained(str(folder), trust_remote_code=False, dtype=resolve_dtype(self.dtype, self.device))
        weight = _projection_weight(folder)
        if weight is not None:
            proj = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
            proj.weight.data = torch.from_numpy(weight)
            self._projection = proj.to(self.device, model.dtype).eval()
        tok = self._tokenizer
        if self.mask_punctuation:
            ids = tok.convert_tokens_to_ids(list(string.punctuation))
            self._skip = {i for i in ids if i is not None and i != tok.unk_token_id}
        self._model = model.to(self.device).eval()

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tokenizer

    @property
    def max_tokens(self) -> int:
        return self.document_length - 3

    @property
    def dim(self) -> int:
        _ = self.model
        if self._projection is not None:
            return int(self._projection.out_features)
        return int(self.model.config.hidden_size)

    def _marker_id(self, query: bool) -> int | None:
        marker = self.markers[query]
        if not marker:
            return None
        tok = self.tokenizer
        marker_id = tok.convert_tokens_to_ids(marker)
        if marker_id is None or marker_id == tok.unk_token_id:
            raise MmragError(f"{self.model_name}'s tokenizer has no marker token {marker!r}; pass query_marker/document_marker")
        return int(marker_id)

    def _encode(self, text: str, query: bool) -> tuple[list[int], int]:
        """Token ids and how many of them are real (attended) tokens."""
        tok = self.tokenizer
        limit = self.query_length if query else self.document_length
        marker = self._marker_id(query)
        head = [tok.cls_token_id] + ([marker] if marker is not None else [])
        body = tok(text, add_special_tokens=False, truncation=False)["input_ids"][: limit - len(head) - 1]
        ids = head + body + [tok.sep_token_id]
        real = len(ids)
        if query and self.query_augmentation:
            ids += [tok.mask_token_id] * (limit - len(ids))
        return ids, real

    def _embed_texts(self, texts: list[str], *, query: bool) -> list[np.ndarray]:
        import torch

        instruction = self.query_instruction if query else self.document_instruction
        encoded = [self._encode(apply_instruction(instruction, t), query) for t in texts]
        width = max(len(ids) for ids, _ in encoded)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in encoded])
        # ColBERT's query encoder does not attend to the [MASK] padding; their outputs are still kept.
        attention = torch.tensor([[1] * real + [0] * (width - real) for _, real in encoded])
        with torch.inference_mode():
            hidden = self.model(input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device)).last_hidden_state
            if self._projection is not None:
                hidden = self._projection(hidden)
            hidden = torch.nn.functional.normalize(hidden.float(), dim=-1).cpu().numpy()
        out = []
        for row, (ids, real) in zip(hidden, encoded):
            if query:
                out.append(row[: len(ids)])
                continue
            keep = [i for i, t in enumerate(ids[:real]) if t not in self._skip]
            out.append(self.compress(row[keep]))
        return out

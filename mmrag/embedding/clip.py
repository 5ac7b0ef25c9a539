"""Pooled image-text embeddings (CLIP, SigLIP, SigLIP2) through transformers' Auto classes.

Text and images land in one space, so a text query finds photos, figures and
page renders, and an image finds text. Speed comes from cheap preprocessing
(see ``FastImagePreprocessor``) overlapped with model compute by the base
class's decode threads; vectors match the model's own processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmrag.embedding.base import Embedder, LazyModel, apply_instruction, l2_normalize
from mmrag.embedding.device import Precision, resolve_device, resolve_dtype
from mmrag.embedding.images import DEFAULT_MAX_PIXELS, ImageInput, ImageLoader, open_image
from mmrag.errors import InvalidArgument, MmragError
from mmrag.types import Modality

# Image processors whose whole pipeline is resize -> [center crop] -> rescale -> normalize, which
# FastImagePreprocessor reproduces; any other processor (e.g. SigLIP2's NaFlex patching) runs as is.
FAST_PROCESSORS = frozenset({"CLIPImageProcessor", "CLIPImageProcessorPil", "SiglipImageProcessor", "SiglipImageProcessorPil"})
# Text towers trained on fixed-length padded input that pool the last position: they must be padded to max length.
PAD_TO_MAX_LENGTH = frozenset({"siglip", "siglip2"})


@dataclass(frozen=True)
class FastImagePreprocessor:
    """The model processor's resize/crop/normalise, done cheaply and batch-wise.

    Written by hand (not the processor) because on a CPU the processor's
    per-image float32 numpy path costs about as much as the model itself. Here:
    JPEGs are decoded at a reduced DCT scale (PIL ``draft``) no smaller than
    ``oversample`` x the resize target; one PIL resize with the processor's
    filter; a uint8 centre crop; then rescale+normalise for the whole batch in
    one torch op. Vectors agree with the processor's to cosine >= 0.999 (checked
    in tests and the benchmark).
    """

    shortest_edge: int | None
    height: int | None
    width: int | None
    crop: tuple[int, int] | None  # (height, width)
    resample: int
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    oversample: float = 2.0

    @classmethod
    def from_processor(cls, image_processor: Any, oversample: float = 2.0) -> FastImagePreprocessor | None:
        """The fast equivalent of ``image_processor``, or ``None`` where it does something else too."""
        if type(image_processor).__name__ not in FAST_PROCESSORS:
            return None
        ip = image_processor
        if not (getattr(ip, "do_resize", False) and getattr(ip, "do_rescale", False) and getattr(ip, "do_normalize", False)):
            return None
        if getattr(ip, "do_pad", False):
            return None
        size = dict(ip.size or {})
        shortest, height, width = size.get("shortest_edge"), size.get("height"), size.get("width")
        if size.get("longest_edge") or not (shortest or (height and width)):
            return None
        crop = None
        if getattr(ip, "do_center_crop", False):
            crop_size = dict(ip.crop_size or {})
            crop = (int(crop_size["height"]), int(crop_size["width"]))
        mean, std = _triple(ip.image_mean), _triple(ip.image_std)
        resample = int(ip.resample) if ip.resample is not None else 2  # PIL BILINEAR, the backend default
        return cls(shortest, height, width, crop, resample, float(ip.rescale_factor), mean, std, oversample)

    def resized_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """``(width, height)`` after the resize step, by the processor's own rounding."""
        w, h = size
        if self.shortest_edge is None:
            return int(self.width), int(self.height)  # type: ignore[arg-type]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = self.shortest_edge, int(self.shortest_edge * long / short)
        return (new_short, new_long) if w <= h else (new_long, new_short)

    def decode_size(self, size: tuple[int, int]) -> tuple[int, int]:
        w, h = self.resized_size(size)
        return int(w * self.oversample), int(h * self.oversample)

    def to_array(self, image: Any) -> np.ndarray:
        """One decoded RGB image -> uint8 ``(H, W, 3)`` at the model's input size."""
        resized = image.resize(self.resized_size(image.size), resample=self.resample)
        arr = np.asarray(resized, dtype=np.uint8)
        if self.crop is not None:
            ch, cw = self.crop
            top, left = (arr.shape[0] - ch) // 2, (arr.shape[1] - cw) // 2
            if top < 0 or left < 0:  # smaller than the crop: the processor pads; let it
                raise InvalidArgument("image smaller than the crop size")
            arr = arr[top : top + ch, left : left + cw]
        return arr

    def to_tensor(self, arrays: Sequence[np.ndarray], dtype: Any = None) -> Any:
        """A batch of uint8 ``(H, W, 3)`` -> normalised float ``(B, 3, H, W)``."""
        import torch

        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).to(torch.float32)
        mean = torch.tensor(self.mean).view(1, 3, 1, 1) / self.scale
        std = torch.tensor(self.std).view(1, 3, 1, 1) / self.scale
        out = (batch - mean) / std  # == (x * scale - mean) / std, in one pass
        return out if dtype is None else out.to(dtype)


def _triple(values: Any) -> tuple[float, float, float]:
    vals = [float(v) for v in (values if isinstance(values, (list, tuple)) else [values] * 3)]
    return vals[0], vals[1], vals[2]


def _features(output: Any) -> Any:
    """``get_*_features`` returns a tensor in older transformers and a ModelOutput (``pooler_output``) in newer."""
    return output if hasattr(output, "shape") else output.pooler_output


class ImageTextEmbedder(LazyModel, Embedder):
    """CLIP / SigLIP / SigLIP2 pooled vectors for text and images in one space.

    Example::

        emb = ImageTextEmbedder("openai/clip-vit-base-patch32")      # id or local path
        imgs = emb.embed_images(["boot.jpg", page_ref])                # float32 (2, 512), unit length
        q = emb.embed_queries(["a red boot"])                         # text tower, same space
        both = emb.embed_composed(["boot.jpg"], ["but lighter"])      # image + text query
        ranked = imgs @ q[0]

    ``query_instruction``/``document_instruction`` wrap texts: a prefix, or a
    template with ``{text}`` such as ``"a photo of {text}"``. ``device`` is
    ``auto`` (cuda, mps, cpu) or a torch device; ``dtype`` one of ``Precision``.
    ``fast_preprocess=False`` runs the model's own processor on each batch.
    """

    modalities = frozenset({Modality.TEXT, Modality.IMAGE})

    def __init__(
        self,
        model: str,
        *,
        device: str | None = "auto",
        dtype: str | Precision = Precision.AUTO,
        batch_size: int = 32,
        query_instruction: str | None = None,
        document_instruction: str | None = None,
        image_loader: ImageLoader | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        decode_workers: int = 2,
        fast_preprocess: bool = True,
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
        self.fast_preprocess = fast_preprocess
        self._processor: Any = None
        self._fast: FastImagePreprocessor | None = None

    def _load(self) -> None:
        from transformers import AutoModel, AutoProcessor

        torch_dtype = resolve_dtype(self.dtype, self.device)
        model = AutoModel.from_pretrained(self.model_name, trust_remote_code=False, dtype=torch_dtype)
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise MmragError(
                f"{self.model_name} is a {type(model).__name__}, not an image-text model with "
                "get_image_features/get_text_features (CLIP, SigLIP, SigLIP2)"
            )
        self._processor = AutoProcessor.from_pretrained(self.model_name, trust_remote_code=False)
        self._model = model.to(self.device).eval()
        if self.fast_preprocess:
            self._fast = FastImagePreprocessor.from_processor(self._processor.image_processor)

    @property
    def processor(self) -> Any:
        self.load()
        return self._processor

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer

    @property
    def max_tokens(self) -> int:
        """The text tower's context (77 for CLIP, 64 for SigLIP): longer text is truncated."""
        return int(self.model.config.text_config.max_position_embeddings)

    @property
    def dim(self) -> int:
        config = self.model.config
        projection = getattr(config, "projection_dim", None)
        return int(projection or config.text_config.hidden_size)

    # -- text ---------------------------------------------------------------
    def _embed_texts(self, texts: list[str], *, query: bool) -> np.ndarray:
        import torch

        instruction = self.query_instruction if query else self.document_instruction
        padding = "max_length" if self.model.config.model_type in PAD_TO_MAX_LENGTH else True
        inputs = self.tokenizer(
            [apply_instruction(instruction, t) for t in texts],
            padding=padding,
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        )
        inputs = {k: v.to(self.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            feats = _features(self.model.get_text_features(**inputs))
        return l2_normalize(feats.float().cpu().numpy())

    # -- images -------------------------------------------------------------
    def _prepare_image(self, item: Any, image_loader: ImageLoader | None) -> Any:
        fast = self._fast
        if fast is None:
            return open_image(item, image_loader=image_loader, max_pixels=self.max_pixels)
        image = open_image(item, image_loader=image_loader, max_pixels=self.max_pixels, decode_size=fast.decode_size)
        try:
            return fast.to_array(image)
        except ValueError:
            return image  # a case the fast path does not cover: the processor handles this one

    def _embed_prepared(self, prepared: list[Any]) -> np.ndarray:
        import torch

        model = self.model
        if self._fast is not None and all(isinstance(p, np.ndarray) for p in prepared):
            inputs = {"pixel_values": self._fast.to_tensor(prepared, dtype=model.dtype)}
        else:
            images = [self._as_pil(p) for p in prepared]
            inputs = dict(self.processor.image_processor(images=images, return_tensors="pt"))
            inputs = {k: v.to(model.dtype) if v.is_floating_point() else v for k, v in inputs.items()}
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            feats = _features(model.get_image_features(**inputs))
        return l2_normalize(feats.float().cpu().numpy())

    @staticmethod
    def _as_pil(prepared: Any) -> Any:
        from PIL import Image

        return Image.fromarray(prepared) if isinstance(prepared, np.ndarray) else prepared

    # -- composed queries ---------------------------------------------------
    def embed_composed(
        self, images: Sequence[ImageInput], texts: Sequence[str], *, text_weight: float = 0.5
    ) -> np.ndarray:
        """One query vector per (image, text) pair: "this boot, but lighter".

        Formed as ``normalize((1 - w) * image_vec + w * text_vec)`` with both parts
        unit length and ``w = text_weight``; the text goes through the query
        instruction. This is the late-fusion baseline of composed image retrieval:
        the result lies between the picture and the modification in the shared
        space, so it ranks items that look like the image *and* match the text.
        """
        if len(images) != len(texts):
            raise InvalidArgument(f"composed queries pair images with texts: got {len(images)} images, {len(texts)} texts")
        if not 0.0 <= text_weight <= 1.0:
            raise InvalidArgument(f"text_weight must be in [0, 1], got {text_weight}")
        image_vecs = self.embed_images(images)
        text_vecs = self.embed_queries(texts)
        return l2_normalize((1.0 - text_weight) * image_vecs + text_weight * text_vecs)

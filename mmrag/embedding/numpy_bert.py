"""A BERT sentence encoder in numpy: the query side of ``mmrag search`` without torch.

Why hand-written: a cold ``mmrag search`` embeds one short query, and importing
sentence-transformers (or transformers' BertModel, which pulls torch.distributed,
dynamo, sympy and scipy.optimize) costs 6-9 s of CPU before the first token; torch
alone is 2 s. This forward pass needs numpy, safetensors, tokenizers and
scipy.special (~0.3 s) and gives the vectors sentence-transformers gives (tested
to 1e-5 on the real MiniLM and on tiny random models). It runs only the folders
``st_folder.read_plan`` accepts; everything else loads sentence-transformers.
"""

from __future__ import annotations

import numpy as np

from mmrag.embedding.st_folder import BERT_TOKENIZERS, TextModelPlan, Unsupported

_LAYER = (
    "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
    "intermediate.dense", "output.dense",
)
_NORMS = ("attention.output.LayerNorm", "output.LayerNorm")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mean).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # BERT's exact GELU; numpy has no erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(np.float32(2.0))))


def _load_weights(plan: TextModelPlan) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    raw = load_file(str(plan.folder / "model.safetensors"))
    prefix = "bert." if any(k.startswith("bert.encoder.") for k in raw) else ""
    weights = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    needed = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
              "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
    for i in range(int(plan.config["num_hidden_layers"])):
        needed += [f"encoder.layer.{i}.{m}.{p}" for m in _LAYER + _NORMS for p in ("weight", "bias")]
    missing = [k for k in needed if k not in weights]
    if missing:
        raise Unsupported(f"weights without {missing[0]}")
    if any(weights[k].dtype != np.float32 for k in needed):
        raise Unsupported("weights not in float32")
    return {k: weights[k] for k in needed}


class NumpyBert:
    """Pooled, unnormalised sentence vectors of a BERT folder, as ``SentenceTransformer.encode`` gives them."""

    def __init__(self, plan: TextModelPlan) -> None:
        from tokenizers import Tokenizer
        from tokenizers.normalizers import BertNormalizer, Lowercase
        from tokenizers.normalizers import Sequence as Normalizers

        self.plan = plan
        self.weights = _load_weights(plan)
        tokenizer = Tokenizer.from_file(str(plan.folder / "tokenizer.json"))
        settings = plan.tokenizer
        if settings.get("tokenizer_class") in BERT_TOKENIZERS:  # as transformers' BertTokenizer rebuilds it
            tokenizer.normalizer = BertNormalizer(
                clean_text=True, handle_chinese_chars=settings.get("tokenize_chinese_chars", True),
                strip_accents=settings.get("strip_accents"), lowercase=settings.get("do_lower_case", True),
            )
        if plan.lower_case and not isinstance(tokenizer.normalizer, Lowercase):  # what sentence-transformers adds
            kept = [] if tokenizer.normalizer is None else [tokenizer.normalizer]
            tokenizer.normalizer = Normalizers([Lowercase(), *kept])
        tokenizer.enable_truncation(plan.max_length, strategy="longest_first")
        pad = tokenizer.padding or {}
        tokenizer.enable_padding(pad_id=pad.get("pad_id", int(plan.config.get("pad_token_id") or 0)),
                                 pad_token=pad.get("pad_token", "[PAD]"))
        self.tokenizer = tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 pooled vectors (prompts already prepended)."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        return self._pool(self._forward(ids, types, mask), mask)

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, cfg = self.weights, self.plan.config
        eps = float(cfg.get("layer_norm_eps", 1e-12))
        heads = int(cfg["num_attention_heads"])
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        blocked = (1.0 - mask)[:, None, None, :] * np.finfo(np.float32).min  # padding gets no attention
        hidden = x.shape[-1]
        size = hidden // heads
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."

            def dense(name: str, inputs: np.ndarray, p: str = p) -> np.ndarray:
                return inputs @ w[f"{p}{name}.weight"].T + w[f"{p}{name}.bias"]

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q, k, v = (split(dense(f"attention.self.{n}", x)) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            context = (scores / scores.sum(axis=-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = _layer_norm(dense("attention.output.dense", context) + x,
                            w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"], eps)
            out = dense("output.dense", _gelu(dense("intermediate.dense", x)))
            x = _layer_norm(out + x, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"], eps)
        return x.astype(np.float32, copy=False)

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.plan.pooling == "cls":
            return tokens[np.arange(len(tokens)), mask.argmax(axis=1)]
        if self.plan.pooling == "max":
            return np.where(mask[:, :, None] > 0, tokens, -np.inf).max(axis=1).astype(np.float32)
        summed = (tokens * mask[:, :, None]).sum(axis=1)
        return summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)

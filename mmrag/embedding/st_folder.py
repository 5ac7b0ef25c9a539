"""What a sentence-transformers folder asks of its text model, read from its JSON files alone.

The query fast path (``mmrag.embedding.numpy_bert``) runs a folder only when every
module and setting in it is one it reproduces exactly: a BERT ``Transformer``, one
``Pooling`` mode (mean, cls or max) and an optional ``Normalize``. Anything else
(a ``Dense`` layer, a custom module, prompts excluded from pooling, left padding,
half-precision weights) raises ``Unsupported`` with the reason, and the caller
loads sentence-transformers instead, so a vector never changes silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MODULE_KINDS = {"Transformer": "transformer", "Pooling": "pooling", "Normalize": "normalize"}
_POOLING_MODES = ("mean", "cls", "max")
_LEGACY_POOLING = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
# sentence_bert_config.json settings at the values that mean "plain text through the encoder"
_TRANSFORMER_DEFAULTS: dict[str, Any] = {
    "transformer_task": "feature-extraction",
    "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
    "module_output_name": "token_embeddings",
    "processing_kwargs": {},
    "unpad_inputs": None,
    "query_length": None,
    "document_length": None,
    "query_expansion": None,
    "model_args": {},
    "tokenizer_args": {},
    "config_args": {},
}
_ST_CONFIG_KEYS = {"__version__", "prompts", "default_prompt_name", "model_type", "similarity_fn_name"}
_BERT_SETTINGS: dict[str, tuple[Any, ...]] = {  # config.json keys the numpy encoder depends on, and the values it runs
    "model_type": ("bert",),
    "hidden_act": ("gelu",),
    "position_embedding_type": (None, "absolute"),
    "is_decoder": (None, False),
    "add_cross_attention": (None, False),
    "quantization_config": (None,),
    "dtype": (None, "float32"),
    "torch_dtype": (None, "float32"),
}
_NO_LIMIT = 10**30  # transformers' "no model_max_length"
# tokenizer classes transformers builds from tokenizer.json; the BERT ones rebuild its normalizer
# from tokenizer_config.json (``NumpyBert`` does the same)
BERT_TOKENIZERS = ("BertTokenizer", "BertTokenizerFast")
_TOKENIZERS = (None, "PreTrainedTokenizerFast", "TokenizersBackend", *BERT_TOKENIZERS)


class Unsupported(Exception):
    """The folder holds something the fast path does not reproduce; the message says what."""


@dataclass(frozen=True)
class TextModelPlan:
    """A BERT folder the fast path can run, and how sentence-transformers would run it."""

    folder: Path
    pooling: str
    max_length: int
    lower_case: bool
    dim: int
    config: dict[str, Any]
    tokenizer: dict[str, Any]
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None

    def prompt(self, prompt: str | None, prompt_name: str | None) -> str | None:
        """The prompt ``SentenceTransformer.encode`` would prepend: an explicit one, a named
        one, else the folder's default."""
        if prompt is not None:
            return prompt
        if prompt_name is not None:
            if prompt_name not in self.prompts:
                raise Unsupported(f"no prompt named {prompt_name!r}")  # sentence-transformers says it in its words
            return self.prompts[prompt_name]
        return self.prompts.get(self.default_prompt_name) if self.default_prompt_name else None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {path.name}: {exc}") from None


def _kinds(folder: Path) -> list[tuple[str, str]]:
    modules = _json(folder / "modules.json")
    out = []
    for module in modules:
        type_name = str(module.get("type", ""))
        kind = _MODULE_KINDS.get(type_name.rsplit(".", 1)[-1])
        if not type_name.startswith("sentence_transformers.") or kind is None:
            raise Unsupported(f"module {type_name or '?'}")
        out.append((kind, str(module.get("path", ""))))
    if [k for k, _ in out] not in (["transformer", "pooling"], ["transformer", "pooling", "normalize"]) or out[0][1]:
        raise Unsupported(f"module layout {[k for k, _ in out]}")
    return out


def _pooling(config: dict[str, Any]) -> tuple[str, int]:
    if not config.get("include_prompt", True):
        raise Unsupported("a pooling that leaves the prompt out")
    mode = config.get("pooling_mode")
    if mode is None:
        modes = [name for key, name in _LEGACY_POOLING.items() if config.get(key)]
        mode = modes[0] if len(modes) == 1 else modes
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if mode not in _POOLING_MODES:
        raise Unsupported(f"pooling mode {mode!r}")
    dim = config.get("embedding_dimension", config.get("word_embedding_dimension"))
    return mode, int(dim)


def _transformer(folder: Path) -> tuple[int | None, bool]:
    path = folder / "sentence_bert_config.json"
    settings = _json(path) if path.is_file() else {}
    for key, value in settings.items():
        if key in ("max_seq_length", "do_lower_case"):
            continue
        if key not in _TRANSFORMER_DEFAULTS or value not in (_TRANSFORMER_DEFAULTS[key], None, False):
            raise Unsupported(f"sentence_bert_config.json {key}={value!r}")
    limit = settings.get("max_seq_length")
    return (int(limit) if limit is not None else None), bool(settings.get("do_lower_case", False))


def _bert(folder: Path) -> dict[str, Any]:
    config = _json(folder / "config.json")
    for key, allowed in _BERT_SETTINGS.items():
        if config.get(key) not in allowed:
            raise Unsupported(f"config.json {key}={config.get(key)!r}")
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        raise Unsupported("no model.safetensors or tokenizer.json")
    return config


def read_plan(folder: str | os.PathLike[str]) -> TextModelPlan:
    """The plan for ``folder``, or ``Unsupported`` naming the first thing it cannot reproduce."""
    folder = Path(folder)
    kinds = _kinds(folder)
    pooling, dim = _pooling(_json(folder / kinds[1][1] / "config.json"))
    limit, lower_case = _transformer(folder)
    config = _bert(folder)
    tokenizer = _json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").is_file() else {}
    if tokenizer.get("tokenizer_class") not in _TOKENIZERS:
        raise Unsupported(f"tokenizer class {tokenizer.get('tokenizer_class')}")
    for side in ("padding_side", "truncation_side"):
        if tokenizer.get(side, "right") != "right":
            raise Unsupported(f"tokenizer {side}={tokenizer[side]!r}")
    if limit is None:  # as sentence-transformers caps it
        limit = min(int(tokenizer.get("model_max_length") or _NO_LIMIT), int(config["max_position_embeddings"]))
    if limit > int(config["max_position_embeddings"]) or dim != int(config["hidden_size"]):
        raise Unsupported(f"max length {limit} or dimension {dim} beyond the encoder's")
    st_path = folder / "config_sentence_transformers.json"
    st_config = _json(st_path) if st_path.is_file() else {}
    if set(st_config) - _ST_CONFIG_KEYS or st_config.get("model_type", "SentenceTransformer") != "SentenceTransformer":
        raise Unsupported(f"config_sentence_transformers.json keys {sorted(set(st_config) - _ST_CONFIG_KEYS)}")
    prompts = {str(k): str(v) for k, v in (st_config.get("prompts") or {}).items() if v is not None}
    return TextModelPlan(
        folder, pooling, limit, lower_case, dim, config, tokenizer, prompts, st_config.get("default_prompt_name") or None
    )

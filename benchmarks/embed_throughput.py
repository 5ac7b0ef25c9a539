"""Embedding throughput on CPU: our embedders vs the common patterns, timed side by side.

Images: a full-size CLIP ViT-B/32 built from its config with random weights
(the compute of the trained model) embeds JPEGs of mixed sizes from disk:

* ``ours``: ``ImageTextEmbedder.embed_images(paths)`` (reduced-scale decode, one
  resize, batch normalisation, decoding overlapped with the model);
* ``loop``: one image per call through the model's own processor (the LlamaIndex
  CLIP pattern);
* ``naive_batch``: the processor on a whole batch, then one forward;
* ``bound``: a batched forward on already-resized tensors (the compute bound).

Text: MiniLM ``SentenceTransformerEmbedder.embed_documents`` vs bare batched
``SentenceTransformer.encode`` vs one sentence per call.

Other processes share the CPU, so methods run interleaved in rounds (rotating
order) and the report gives medians and ratios. Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/embed_throughput.py            # ~5 min on 2 cores
    PYTHONPATH=. .venv/bin/python benchmarks/embed_throughput.py --quick    # seconds, tiny model
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

SIZES = [
    (320, 240), (640, 480), (800, 600), (1024, 768), (1280, 960), (1600, 1200), (1920, 1080), (1080, 1920), (2048, 1536),
]
WORDS = [
    "the", "a", "revenue", "quarter", "slide", "chart", "growth", "solar", "panel", "roof",
    "page", "table", "figure", "market", "boot", "red", "light", "model", "data",
]


def write_images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Photo-like JPEGs (smooth colour fields plus mild noise) of mixed sizes, quality 90."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        w, h = SIZES[i % len(SIZES)]
        base = rng.integers(0, 256, size=(h // 32 + 2, w // 32 + 2, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((w, h), Image.Resampling.BICUBIC)
        noise = rng.integers(-8, 9, size=(h, w, 3))
        image = Image.fromarray(np.clip(np.asarray(image, dtype=np.int16) + noise, 0, 255).astype(np.uint8))
        path = folder / f"photo{i:03d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def build_clip(folder: Path, quick: bool) -> Path:
    """CLIP ViT-B/32 (``CLIPConfig()`` defaults) with random weights; ``quick``: a tiny one, same 224 input."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL, resolve_model_path

    torch.manual_seed(0)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_TEXT_MODEL))  # CLIP's own is not offline
    if quick:
        tiny = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}
        config = CLIPConfig(text_config={**tiny, "vocab_size": tokenizer.vocab_size}, vision_config=tiny, projection_dim=64)
    else:
        config = CLIPConfig(text_config={"vocab_size": tokenizer.vocab_size})
    CLIPModel(config).save_pretrained(folder)
    CLIPProcessor(image_processor=CLIPImageProcessorPil(), tokenizer=tokenizer).save_pretrained(folder)
    return folder


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(methods: dict[str, Callable[[], object]], rounds: int) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Seconds per round for each method, run in rotating order so load from other processes hits all alike."""
    names = list(methods)
    times: dict[str, list[float]] = {n: [] for n in names}
    results: dict[str, object] = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds, results[name] = timed(methods[name])
            times[name].append(seconds)
            print(f"  round {r + 1} {name:12s} {seconds:7.2f}s", flush=True)
    return times, results


def image_benchmark(paths: list[Path], model_dir: Path, rounds: int, batch_size: int) -> dict:
    import torch
    from PIL import Image
    from transformers import AutoModel, AutoProcessor

    from mmrag.embedding.base import l2_normalize
    from mmrag.embedding.clip import ImageTextEmbedder, _features

    model = AutoModel.from_pretrained(str(model_dir)).eval()
    processor = AutoProcessor.from_pretrained(str(model_dir))
    ours = ImageTextEmbedder(str(model_dir), batch_size=batch_size, device="cpu")
    ours.load()

    def forward(pixels: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return l2_normalize(_features(model.get_image_features(pixel_values=pixels)).numpy())

    def loop() -> np.ndarray:  # one image per call, the model's processor
        return np.concatenate(
            [forward(processor.image_processor(images=Image.open(p), return_tensors="pt")["pixel_values"]) for p in paths]
        )

    def naive_batch() -> np.ndarray:
        out = []
        for start in range(0, len(paths), batch_size):
            images = [Image.open(p) for p in paths[start : start + batch_size]]
            out.append(forward(processor.image_processor(images=images, return_tensors="pt")["pixel_values"]))
        return np.concatenate(out)

    pixels = torch.randn(len(paths), 3, 224, 224)

    def bound() -> np.ndarray:
        return np.concatenate([forward(pixels[s : s + batch_size]) for s in range(0, len(paths), batch_size)])

    times, results = interleaved(
        {"ours": lambda: ours.embed_images(paths), "loop": loop, "naive_batch": naive_batch, "bound": bound}, rounds
    )
    cosine = (np.asarray(results["ours"]) * np.asarray(results["loop"])).sum(axis=1)
    rate = {name: len(paths) / statistics.median(t) for name, t in times.items()}
    return {
        "images": len(paths),
        "batch_size": batch_size,
        "images_per_s": rate,
        "seconds_per_round": times,
        "ours_vs_bound": rate["ours"] / rate["bound"],
        "ours_vs_loop": rate["ours"] / rate["loop"],
        "loop_vs_bound": rate["loop"] / rate["bound"],
        "naive_batch_vs_bound": rate["naive_batch"] / rate["bound"],
        "cosine_ours_vs_loop_min": float(cosine.min()),
        "cosine_ours_vs_loop_mean": float(cosine.mean()),
    }


def text_benchmark(count: int, rounds: int, batch_size: int) -> dict:
    from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder

    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(5, 120)))) for _ in range(count)]
    ours = SentenceTransformerEmbedder(batch_size=batch_size)
    bare = ours.model  # the very same SentenceTransformer: only the call pattern differs

    def encode() -> np.ndarray:
        return bare.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)

    def one_per_call() -> np.ndarray:
        return np.concatenate([bare.encode([t], convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False) for t in texts])

    times, results = interleaved(
        {"ours": lambda: ours.embed_documents(texts), "bare_encode": encode, "one_per_call": one_per_call}, rounds
    )
    rate = {name: len(texts) / statistics.median(t) for name, t in times.items()}
    cosine = (np.asarray(results["ours"]) * np.asarray(results["bare_encode"])).sum(axis=1)
    return {
        "texts": len(texts),
        "batch_size": batch_size,
        "texts_per_s": rate,
        "seconds_per_round": times,
        "ours_vs_bare_encode": rate["ours"] / rate["bare_encode"],
        "one_per_call_vs_bare_encode": rate["one_per_call"] / rate["bare_encode"],
        "cosine_ours_vs_bare_min": float(cosine.min()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny CLIP, few inputs, one round (seconds)")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--texts", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--skip-images", action="store_true", help="text part only")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "embed_throughput.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.texts, args.rounds = 8, 16, 1

    import torch

    report: dict = {
        "benchmark": "embed_throughput",
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "platform": platform.platform()},
        "model": "CLIP tiny (random)" if args.quick else "CLIP ViT-B/32 from CLIPConfig() (random weights)",
    }
    if not args.skip_images:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "img").mkdir()
            paths = write_images(folder / "img", args.images)
            model_dir = build_clip(folder / "clip", args.quick)
            print(f"images: {len(paths)} JPEGs, {args.rounds} interleaved rounds", flush=True)
            report["image"] = image_benchmark(paths, model_dir, args.rounds, args.batch_size)
    print(f"texts: {args.texts} with MiniLM-L6", flush=True)
    report["text"] = text_benchmark(args.texts, args.rounds, 64)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for part in ("image", "text"):
        if part in report:
            print(json.dumps({k: v for k, v in report[part].items() if k != "seconds_per_round"}, indent=2))
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()

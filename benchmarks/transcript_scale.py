"""Long transcripts: seconds per 10k cues to load and chunk a SubRip file and a
Whisper JSON file as they grow, mmrag against LlamaIndex's SentenceSplitter.

A 200,000-cue .srt and a 100,000-segment Whisper JSON once did not finish in
400 s (the whole transcript went to the tokenizer as one string). Here each
size is loaded and windowed by mmrag's loaders and chunker (MiniLM's tokenizer,
the default windows); the baseline is what LlamaIndex's default path does with
the same file: its text split by ``SentenceSplitter`` with the same tokenizer
(no times kept). Linear time reads as a flat seconds-per-10k column.

    python benchmarks/transcript_scale.py [--quick]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

os.environ.update(harness.threads_env())  # before torch is imported

NAME = "transcript_scale"
_WORDS = "the committee reviewed the budget and agreed to meet again next week".split()


def _line(i: int) -> str:
    words = [_WORDS[(i + k) % len(_WORDS)] for k in range(8)]
    return " ".join(words) + (f" item {i}." if i % 3 == 0 else f" point {i}")


def _stamp(seconds: float, sep: str = ",") -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def write_srt(path: Path, cues: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(cues):
            fh.write(f"{i + 1}\n{_stamp(i * 2.0)} --> {_stamp(i * 2.0 + 1.8)}\n{_line(i)}\n\n")
    return path


def write_whisper(path: Path, segments: int) -> Path:
    data = {"segments": [{"start": i * 2.0, "end": i * 2.0 + 1.8, "text": _line(i)} for i in range(segments)]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def mmrag_seconds(path: Path, chunker) -> tuple[float, int]:
    from mmrag.loaders import find_loader

    started = time.perf_counter()
    loader, _ = find_loader(path)
    chunks = list(chunker.chunk("bench", loader.load(path, str(path))))
    return time.perf_counter() - started, len(chunks)


def anchor_seconds(path: Path, tokenizer) -> tuple[float, int]:
    from llama_index.core.node_parser import SentenceSplitter

    started = time.perf_counter()
    splitter = SentenceSplitter(chunk_size=256, chunk_overlap=32, tokenizer=lambda t: tokenizer(t, add_special_tokens=False)["input_ids"])
    nodes = splitter.split_text(path.read_text(encoding="utf-8"))
    return time.perf_counter() - started, len(nodes)


def main() -> None:
    args = harness.parser(__doc__.split("\n\n")[0]).parse_args()
    from mmrag.chunking import Chunker
    from mmrag.embedding.sentence_transformer import SentenceTransformerEmbedder
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the anchor tokenizes the whole file at once, and transformers says so
    sizes = {"srt": [1_000, 2_000], "whisper-json": [1_000, 2_000]} if args.quick else {
        "srt": [10_000, 50_000, 200_000], "whisper-json": [10_000, 100_000]}
    info = harness.machine()
    tokenizer = SentenceTransformerEmbedder(harness.minilm_path()).tokenizer
    chunker = Chunker(tokenizer)
    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, counts in sizes.items():
            for n in counts:
                path = Path(tmp) / (f"t{n}.srt" if kind == "srt" else f"t{n}.json")
                (write_srt if kind == "srt" else write_whisper)(path, n)
                ours, windows = mmrag_seconds(path, chunker)
                theirs, nodes = anchor_seconds(path, tokenizer)
                per = {"mmrag": ours / n * 10_000, "anchor": theirs / n * 10_000}
                rows.append([kind, n, round(path.stat().st_size / 2**20, 1), round(ours, 2), round(per["mmrag"], 3), windows,
                             round(theirs, 2), round(per["anchor"], 3), nodes, harness.ratio(ours, theirs)])
                raw.append({"kind": kind, "cues": n, "mmrag_s": ours, "anchor_s": theirs, "windows": windows, "nodes": nodes})
                path.unlink()
    notes = [
        "mmrag: find_loader + the loader + Chunker (MiniLM tokenizer, default windows: whole sentences, times and "
        "cue ranges kept). Anchor: LlamaIndex SentenceSplitter(chunk_size=256, overlap=32) over the file's text with "
        "the same tokenizer; it keeps no times and reads no cue structure (it splits the raw SRT/JSON text).",
        "Synthetic cues of 9-10 words, one a line, every third ending a sentence. One run per size; seconds are wall "
        "time in this process. The machine is shared by ~8 sessions: read machine.load_avg_at_start before the "
        "absolute numbers, and the per-10k column across sizes (flat = linear) rather than between runs.",
    ]
    columns = ["format", "cues", "MB", "mmrag s", "mmrag s / 10k cues", "windows", "anchor s", "anchor s / 10k cues",
               "anchor nodes", "ratio mmrag/anchor"]
    print(harness.write_result(
        args.out, NAME, "Long transcripts: time per 10k cues", quick=args.quick, machine_info=info,
        tables=[harness.Table("Transcript load + chunk time by size", columns, rows)], notes=notes, raw={"runs": raw},
    ))


if __name__ == "__main__":
    main()

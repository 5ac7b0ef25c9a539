"""Image query: text-to-image and image-to-image search through the adapters.

    PYTHONPATH=. .venv/bin/python examples/image_query.py --model openai/clip-vit-base-patch32
    PYTHONPATH=. .venv/bin/python examples/image_query.py            # offline: tiny random CLIP

With ``--model`` (a CLIP checkpoint id or local folder) the rankings are real.
Without it, no CLIP weights exist offline, so a tiny randomly initialised CLIP is
built and saved to ``.mmrag/tiny-clip`` and loaded back by path: every step runs
the same code, but the rankings mean nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from langchain_mmrag import MmragEmbeddings
from langchain_mmrag import MmragVectorStore as LangChainStore
from llama_index.core import StorageContext
from llama_index.core.indices import MultiModalVectorStoreIndex
from llama_index.core.schema import ImageNode
from llama_index.embeddings.mmrag import MmragEmbedding
from llama_index.vector_stores.mmrag import MmragVectorStore

from mmrag.embedding.clip import ImageTextEmbedder

ROOT = Path(__file__).resolve().parent.parent


def tiny_clip(folder: Path) -> str:
    """A random, tiny CLIP saved like a checkpoint (tokenizer borrowed from the offline MiniLM)."""
    if (folder / "config.json").exists():
        return str(folder)
    import torch
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel

    from mmrag.embedding.sentence_transformer import DEFAULT_TEXT_MODEL, resolve_model_path

    tok = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_TEXT_MODEL))
    config = CLIPConfig(
        text_config={"vocab_size": tok.vocab_size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 80, "eos_token_id": tok.sep_token_id,
                     "pad_token_id": tok.pad_token_id},
        vision_config={"image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64,
                       "num_hidden_layers": 2, "num_attention_heads": 2},
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return str(folder)


def make_images(folder: Path) -> list[str]:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, color, box in [("red_square", "red", (16, 16, 112, 112)), ("green_circle", "green", None), ("blue_stripe", "blue", (0, 52, 128, 76))]:
        img = Image.new("RGB", (128, 128), "white")
        draw = ImageDraw.Draw(img)
        draw.ellipse((12, 12, 116, 116), fill=color) if box is None else draw.rectangle(box, fill=color)
        path = folder / f"{name}.png"
        img.save(path)
        out.append(str(path))
    return out


def main(model: str | None, workdir: str) -> None:
    work = Path(workdir)
    if model is None:
        model = tiny_clip(work / "tiny-clip")
        print("no --model given: using a tiny RANDOM CLIP; rankings below are meaningless")
    clip = ImageTextEmbedder(model)
    images = make_images(work / "images")

    # LangChain: images and captions in one store, searched by text.
    store = LangChainStore(MmragEmbeddings(clip), uri=str(work / "images.db"), collection="lc_images")
    store.delete([d.id for d in store.get_by_ids(["red", "green", "blue"])])
    store.add_images(images, ids=["red", "green", "blue"])
    print("\nLangChain similarity_search('a red square', mode='dense'):")
    for doc, score in store.similarity_search_with_score("a red square", k=3, mode="dense"):
        print(f"  {score:+.4f} {Path(doc.metadata['image']['source']).name} ({doc.metadata['modality']})")

    # LlamaIndex: a MultiModalVectorStoreIndex whose image store is mmrag.
    embed = MmragEmbedding(clip)
    image_store = MmragVectorStore(str(work / "images.db"), collection="li_images", embed_model=embed)
    text_store = MmragVectorStore(str(work / "images.db"), collection="li_text", embed_model=embed)
    image_store.clear()
    index = MultiModalVectorStoreIndex(
        # Metadata gives each node content: LlamaIndex skips nodes whose content is empty.
        [ImageNode(image_path=p, id_=Path(p).stem, metadata={"file_name": Path(p).name}) for p in images],
        storage_context=StorageContext.from_defaults(vector_store=text_store, image_store=image_store),
        embed_model=embed,
        image_embed_model=embed,
    )
    retriever = index.as_retriever(image_similarity_top_k=3)
    print("\nLlamaIndex text_to_image_retrieve('a green circle'):")
    for n in retriever.text_to_image_retrieve("a green circle"):
        print(f"  {n.score:+.4f} {Path(n.node.image_path).name}")
    print(f"\nLlamaIndex image_to_image_retrieve({Path(images[2]).name}):")
    for n in retriever.image_to_image_retrieve(images[2]):
        print(f"  {n.score:+.4f} {Path(n.node.image_path).name}")
    store.index.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="CLIP checkpoint id or folder (default: tiny random CLIP, offline)")
    parser.add_argument("--workdir", default=".mmrag/image_query", help="where images, model and store go")
    args = parser.parse_args()
    main(args.model, args.workdir)

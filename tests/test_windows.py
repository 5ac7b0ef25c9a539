import re

import pytest

from mmrag.chunking import WindowOptions, token_windows


def sentences(n: int) -> str:
    return " ".join(f"Sentence number {i} talks about topic {i} in a few more words." for i in range(n))


def test_short_text_is_one_window(text_embedder):
    assert token_windows("One short line.", text_embedder.tokenizer) == [(0, 15)]


def test_windows_fit_the_budget_overlap_and_keep_every_sentence_whole_somewhere(text_embedder):
    tok = text_embedder.tokenizer
    text = sentences(60)
    opts = WindowOptions(max_tokens=64, overlap=16)
    spans = token_windows(text, tok, opts)
    assert len(spans) > 3
    chunks = [text[a:b] for a, b in spans]
    for chunk in chunks:
        assert len(tok(chunk, add_special_tokens=False)["input_ids"]) <= opts.max_tokens
    for (a1, b1), (a2, _) in zip(spans, spans[1:]):
        assert a2 < b1, "consecutive windows overlap"
    for sentence in re.findall(r"Sentence number \d+ [^.]*\.", text):
        assert any(sentence in c for c in chunks), sentence
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_overlap_is_validated():
    with pytest.raises(ValueError, match="overlap"):
        WindowOptions(max_tokens=64, overlap=40)
    with pytest.raises(ValueError, match="max_tokens"):
        WindowOptions(max_tokens=2, overlap=0)

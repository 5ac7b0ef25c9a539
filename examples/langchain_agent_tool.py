"""LangChain retriever + agent tool over the example folder, fully offline.

    PYTHONPATH=. .venv/bin/python examples/langchain_agent_tool.py

mmrag ingests the folder; ``MmragRetriever`` returns Documents that say where
each passage came from; ``MmragSearchTool`` is what an agent calls: its
ToolMessage has citable text for the model and the structured hits as artifact.
A scripted chat model plays the agent's model so no LLM or key is needed; with a
real one, ``llm.bind_tools([tool])`` (or ``create_agent(llm, [tool])``) is all it takes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_mmrag import MmragRetriever, MmragSearchTool

import mmrag

ROOT = Path(__file__).resolve().parent.parent


def main(store_path: str) -> None:
    os.chdir(ROOT)
    index = mmrag.Index(store_path, collection="langchain_agent")
    print("\n".join(index.ingest(["examples/data"]).lines()))

    retriever = MmragRetriever(index=index, k=3, mode="hybrid")
    print("\nretriever.invoke('coffee brewing temperature'):")
    for doc in retriever.invoke("coffee brewing temperature"):
        m = doc.metadata
        print(f"  {m['score']:.4f} {m['source']} page={m['page']} modality={m['modality']}: {doc.page_content[:60]!r}")

    tool = MmragSearchTool(retriever=retriever)
    # The "model" asks for a search, as a tool-calling LLM would.
    llm = FakeMessagesListChatModel(responses=[
        AIMessage(content="", tool_calls=[{"name": tool.name, "args": {"query": "perovskite tandem efficiency", "k": 2}, "id": "call_1"}]),
    ])
    ai = llm.invoke([HumanMessage("How efficient are tandem perovskite cells? Cite the page.")])
    for call in ai.tool_calls:
        message = tool.invoke({**call, "type": "tool_call"})
        print(f"\ntool {call['name']}({call['args']}) ->\n{message.content}")
        print("artifact (structured hits):")
        for hit in message.artifact:
            print(f"  chunk {hit['chunk_id'][:8]} source={hit['source']} page={hit['page']} scores={hit['scores']}")
    index.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=".mmrag/langchain_agent.db", help="Milvus Lite file (created if missing)")
    main(parser.parse_args().store)

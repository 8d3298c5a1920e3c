"""What the question memory does to a document added after the ranker was fitted.

For each document D, the QA sets named on the command line (ones that are not training sets, so
none of their questions are in the memory) are ranked with every earlier question about D taken
out of the memory, as if D were new: all their answerable questions, and D's own. Compare with
the first line (the full memory) and the last (no memory: the ranker fitted without it).

    python scripts/new_document_check.py vault tenth
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import ROOT, Settings  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.evaluation import _rank, load_items  # noqa: E402
from bot.qasets import seed_set  # noqa: E402



def main(sets: list[str]) -> None:
    engine = Engine.load(Settings.from_env())
    r, memory = engine.retriever, engine.retriever.memory[0]
    if memory is None:
        sys.exit("no question memory: the corpus has no questions.jsonl (see bot/known_questions.py)")
    qa = [i for s in sets for i in load_items(seed_set(s).qa_path) if i.get("expect")]
    def show(label: str, doc: str | None = None) -> None:
        # rank of the answering passage among the first 10 (99: not among them)
        ranks = np.array([_rank(engine, i["question"], i["expect"])[0] or 99 for i in qa])
        line = f"{label:<26} all {len(qa)}: hit@1 {np.mean(ranks == 1):.2f} hit@3 {np.mean(ranks <= 3):.2f}"
        if doc:
            own = np.array([i["doc"] == doc for i in qa])
            line += f"   its own {own.sum()}: hit@1 {np.mean(ranks[own] == 1):.2f} hit@3 {np.mean(ranks[own] <= 3):.2f}"
        print(line, flush=True)

    r.use_memory(memory)
    show("full memory")
    for doc in sorted({i["doc"] for i in qa}):
        r.use_memory(memory.without_document(doc))
        show(f"{doc} new", doc)
    r.use_memory(None)
    show("no memory")
    for doc in sorted({i["doc"] for i in qa}):
        show(f"no memory, {doc}", doc)


if __name__ == "__main__":
    main(sys.argv[1:] or ["vault", "tenth"])

"""Earlier questions as evidence: the question memory and its vote (the "asked" ranker feature).

People ask about the same facts again and again, in many wordings and both languages; a new
question close to an earlier one is evidence for the passage that answered it
(:class:`QuestionMemory`). :class:`MemoryVotes` binds a memory to one index's passages and
turns the nearest earlier questions into a vote per candidate passage.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: nearest earlier questions that vote in the "asked" ranker feature
KNN_K = 5


def normalise(text: str) -> str:
    """Lower-cased, whitespace folded: how answer phrases are matched against passage text."""
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class QuestionMemory:
    """Questions asked before about a corpus, each with the phrase its answer holds.

    A new question that closely resembles an earlier one is evidence for the passage that
    answered it: people ask about the same facts in many wordings and both languages, and the
    encoder finds two questions alike far more reliably than a question and a long passage in
    the other language (doc2query-style expansion, with real questions instead of generated
    ones). Kept by answer phrase and document, not by passage row, so it survives a rebuilt or
    extended index: a passage whose phrase is gone just loses its questions, and a new document
    has none (it is then ranked on the other evidence alone).
    """

    vectors: np.ndarray
    #: the answer's phrases per question (normalised; any one found in a passage links it)
    phrases: list[tuple[str, ...]]
    docs: list[str]
    #: the QA set (writer) of each question, so fitting can leave a writer out
    groups: list[str]
    embedder: str

    def bind(self, passages: list) -> tuple[np.ndarray, np.ndarray]:
        """(question, passage row) pairs: the passages of its document holding its answer."""
        by_doc: dict[str, list[int]] = defaultdict(list)
        for row, p in enumerate(passages):
            by_doc[p.doc_id].append(row)
        texts: dict[int, str] = {}
        pairs = []
        for i, (phrases, doc) in enumerate(zip(self.phrases, self.docs)):
            for row in by_doc.get(doc, ()):
                if row not in texts:
                    texts[row] = normalise(passages[row].text)
                if any(ph in texts[row] for ph in phrases):
                    pairs.append((i, row))
        a = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return a[:, 0], a[:, 1]

    def without_document(self, doc: str) -> "QuestionMemory":
        """The memory as it was before ``doc`` was asked about: none of its questions."""
        keep = [i for i, d in enumerate(self.docs) if d != doc]
        return QuestionMemory(self.vectors[keep], [self.phrases[i] for i in keep], [self.docs[i] for i in keep],
                              [self.groups[i] for i in keep], self.embedder)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, vectors=self.vectors.astype(np.float16),
                            phrases=np.array(json.dumps(self.phrases, ensure_ascii=False)),
                            docs=np.array(self.docs), groups=np.array(self.groups),
                            embedder=np.array(self.embedder))

    @classmethod
    def load(cls, path: Path) -> "QuestionMemory | None":
        try:
            with np.load(path) as d:
                return cls(d["vectors"].astype(np.float32), [tuple(x) for x in json.loads(str(d["phrases"]))],
                           [str(x) for x in d["docs"]], [str(x) for x in d["groups"]], str(d["embedder"]))
        except (OSError, ValueError, KeyError):
            return None


def index_memory(index, embedder_id: str) -> QuestionMemory | None:
    """The questions asked before about the indexed corpus (its ``questions.jsonl``, embedded by
    ``index``: :mod:`bot.known_questions`), or None when it has none."""
    questions = getattr(index, "questions", None) or []
    vectors = getattr(index, "question_vectors", None)
    if not questions or vectors is None or len(vectors) != len(questions):
        return None
    return QuestionMemory(np.asarray(vectors, dtype=np.float32), [tuple(normalise(p) for p in q.expect) for q in questions],
                          [q.doc for q in questions], [q.group or q.source for q in questions], embedder_id)


class MemoryVotes:
    """A :class:`QuestionMemory` bound to one index's passages: which passages each earlier
    question was answered from, and their vote for a new question's candidates."""

    def __init__(self, passages: list) -> None:
        self.passages = passages
        self.memory: QuestionMemory | None = None
        self.leave_out: set[str] = set()
        self.use(None)

    def use(self, memory: QuestionMemory | None, leave_out: set[str] = frozenset()) -> None:
        """Take earlier questions as evidence (:class:`QuestionMemory`), without those of the
        ``leave_out`` groups (fitting and cross-validation leave a writer's own questions out)."""
        if memory is None:
            self._bound = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        elif memory is not self.memory:  # a new memory: match its phrases once
            self._bound = memory.bind(self.passages)
        self.memory, self.leave_out = memory, set(leave_out)
        qs, rows = self._bound
        keep = (np.array([memory.groups[i] not in leave_out for i in qs], dtype=bool) if memory is not None
                else slice(None))
        self._pairs = (qs[keep], rows[keep])
        #: the documents some earlier question was answered from
        self.known_docs = {self.passages[int(r)].doc_id for r in self._pairs[1]}

    def vote(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """How strongly the earlier questions nearest to this one vote for each candidate: each
        of the :data:`KNN_K` nearest votes for the passages that answered it, by how much closer
        it is than the next nearest. 0 for passages none of them was answered from."""
        qs, prow = self._pairs
        if qs.size == 0:
            return np.zeros(len(rows))
        # einsum, not BLAS: a threaded matrix product here leaves its threads spinning and
        # doubles the next question's encoding time (python run_bot.py bench)
        sims = np.einsum("ij,j->i", self.memory.vectors, q.astype(np.float32, copy=False)).astype(np.float64)
        top = np.sort(sims[np.unique(qs)])[::-1]
        floor = top[KNN_K] if len(top) > KNN_K else 0.0
        near = sims[qs] > floor
        vote = np.zeros(len(self.passages))
        np.add.at(vote, prow[near], sims[qs][near] - floor)
        return vote[rows]

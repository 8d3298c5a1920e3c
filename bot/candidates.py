"""Which passages are considered for a question, and what the encoder says of each.

The first stage of :class:`bot.retrieval.Retriever`: the passages nearest the question's vector
(all of them, for a small corpus), each with its cosine to the question and the cosines of its
sentences. The later stages weigh only these candidates, so a large index costs what FAISS
returns, not a pass over every passage.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import SearchIndex


def zscores(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standardise ``scores`` within each group (language) separately."""
    out = np.zeros_like(scores)
    for g in np.unique(groups):
        mask = groups == g
        s = scores[mask]
        sd = float(s.std()) if s.size > 1 else 0.0
        out[mask] = (s - s.mean()) / (sd if sd > 1e-6 else 1.0)
    return out


@dataclass(frozen=True)
class Candidates:
    """The passages considered for one question (``rows`` of the index), aligned arrays."""

    rows: np.ndarray
    #: each candidate's language ("lt", "en")
    languages: np.ndarray
    #: cosine of question and passage
    dense: np.ndarray
    #: the best sentence's cosine, standardised within the sentences of its language
    sentence: np.ndarray
    #: the best sentence's raw cosine
    sentence_raw: np.ndarray
    #: the cosine of every candidate's every sentence: candidate j's are ``sentence_scores[bounds[j]:bounds[j + 1]]``
    sentence_scores: np.ndarray
    bounds: np.ndarray

    def sentences(self, j: int) -> np.ndarray:
        """The cosines of candidate ``j``'s sentences, in passage order."""
        return self.sentence_scores[self.bounds[j]:self.bounds[j + 1]]


class CandidateSearch:
    """Finds the :class:`Candidates` for a question's vector in one index.

    ``size`` candidates per language are wanted; FAISS is asked for four times as many (its
    nearest are mostly in the question's own language), and an index of fewer passages than
    that is taken whole.
    """

    def __init__(self, index: SearchIndex, size: int) -> None:
        self.index = index
        self.size = size
        self.languages = np.array([p.language for p in index.passages])

    def _rows(self, q: np.ndarray) -> np.ndarray:
        n = len(self.index.passages)
        if n <= self.size * 4:
            return np.arange(n)
        _, ids = self.index.faiss.search(q[None, :].astype(np.float32), self.size * 4)
        return ids[0][ids[0] >= 0]

    def find(self, q: np.ndarray) -> Candidates:
        """The candidates for the question vector ``q``, with their dense and sentence scores."""
        rows = self._rows(q)
        langs = self.languages[rows]
        dense = np.asarray(self.index.vectors[rows] @ q, dtype=np.float32)

        # Best sentence of each passage, each sentence standardised within its language.
        # Only the candidates' sentences are scored, so a large index costs what FAISS returns,
        # not a pass over every sentence (for a small corpus the candidates are everything).
        starts = self.index.sentence_offsets[rows]
        counts = np.array([len(self.index.passages[r].sentences) for r in rows], dtype=np.int64)
        sent_rows = np.concatenate([np.arange(a, a + c) for a, c in zip(starts, counts)]) if counts.sum() \
            else np.zeros(0, dtype=np.int64)
        owner = np.repeat(np.arange(len(rows)), counts)
        sent_scores = np.asarray(self.index.sentence_vectors[sent_rows] @ q, dtype=np.float32)
        sent_z = zscores(sent_scores, langs[owner])
        sentence = np.full(len(rows), -1e9, dtype=np.float32)
        np.maximum.at(sentence, owner, sent_z)
        sent_raw = np.full(len(rows), -1.0, dtype=np.float32)
        np.maximum.at(sent_raw, owner, sent_scores)
        sentence[counts == 0], sent_raw[counts == 0] = 0.0, 0.0
        return Candidates(rows=rows, languages=langs, dense=dense, sentence=sentence, sentence_raw=sent_raw,
                          sentence_scores=sent_scores, bounds=np.concatenate([[0], np.cumsum(counts)]))

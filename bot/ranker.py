"""The learned ranker: one score per candidate passage from its evidence (:mod:`bot.features`).

A linear model over standardised features, fitted listwise on the questions of several corpora
across the development corpora (``python run_bot.py eval --fit``, ``bot/ranker.json``, one model per embedder); for an embedder it was not fitted
for, the hand-set fusion of :class:`bot.hits.RetrievalSettings` in the same form. The fitted file
also holds a ranker fitted without the question memory: a corpus (or a document) nobody asked about
has no earlier questions, and is ranked on its own evidence (:meth:`bot.retrieval.Retriever.search`).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import RANK_FEATURES
from .hits import RetrievalSettings, for_embedder

log = logging.getLogger(__name__)

RANKER_FILE = Path(__file__).with_name("ranker.json")


@dataclass
class LinearRanker:
    """score = standardised features · weights: a listwise (softmax over a question's passages)
    linear model fitted by :func:`bot.evaluation.fit_ranker`, or the hand-set fusion weights."""

    features: tuple[str, ...]
    weights: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    #: a runner-up is shown when its score is within this of the best passage's
    show_margin: float = 1.75

    def __post_init__(self) -> None:
        self._cols = np.array([RANK_FEATURES.index(n) for n in self.features], dtype=np.int64)

    def score(self, X: np.ndarray) -> np.ndarray:
        return (((X[:, self._cols] - self.mean) / self.std) @ self.weights).astype(np.float32)

    @classmethod
    def hand(cls, s: RetrievalSettings) -> "LinearRanker":
        """The hand-set fusion as a linear model: w_dense·z(dense) + w_sentence·z(best sentence)
        + 3·w_lexical·BM25 + w_cognate·prefix BM25 (both normalised per language) + w_numbers·numbers."""
        names = ("dense_z", "sentence_z", "lex_lang", "cog_lang", "numbers")
        w = np.array([s.w_dense, s.w_sentence, 3 * s.w_lexical, s.w_cognate, s.w_numbers])
        return cls(names, w, np.zeros(len(names)), np.ones(len(names)))

    @classmethod
    def from_dict(cls, d: dict) -> "LinearRanker":
        return cls(tuple(d["features"]), np.asarray(d["weights"], dtype=np.float64),
                   np.asarray(d["mean"], dtype=np.float64), np.asarray(d["std"], dtype=np.float64),
                   float(d.get("show_margin", 1.75)))


@lru_cache(maxsize=1)
def ranker_model() -> dict:
    """The fitted passage ranker (see :func:`bot.evaluation.fit_ranker`); {} when absent."""
    try:
        return json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def rankers(fitted: dict, embedder_id: str, settings: RetrievalSettings) -> tuple[LinearRanker, LinearRanker | None]:
    """The ranker to use with ``embedder_id`` and the one fitted without the question memory
    (None when there is none): the ``fitted`` one (:func:`ranker_model`) when it was fitted for
    that embedder and uses only features this version computes, else the hand-set fusion."""
    fitted = for_embedder(fitted, embedder_id)
    unknown = set(fitted.get("features", ())) - set(RANK_FEATURES)
    if unknown:
        log.warning("%s uses features this version does not compute (%s): passages are ranked by the "
                    "hand-set fusion (run: python run_bot.py eval --fit)", RANKER_FILE.name,
                    ", ".join(sorted(unknown)))
    if fitted.get("embedder") == embedder_id and not unknown:
        without_memory = fitted.get("without_memory")
        return (LinearRanker.from_dict(fitted),
                LinearRanker.from_dict(without_memory) if without_memory else None)
    return LinearRanker.hand(settings), None

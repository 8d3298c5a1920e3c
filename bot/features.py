"""The evidence the ranker weighs for each candidate passage (:data:`RANK_FEATURES`).

Every score comes twice where it matters: standardised/normalised within the passage's
language (so the two languages compete fairly) and against all passages (so a weak best match
in the other language is not taken for a strong one), plus whether the passage is in the
question's own language. Besides the encoder's scores (:mod:`bot.candidates`): BM25 over
stemmed, folded words, over language-neutral word prefixes and over the question's words
translated through the lexicon; numbers shared with the question; rarity-weighted word
coverage; and the vote of earlier questions (:mod:`bot.memory`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .candidates import Candidates, zscores
from .index import SearchIndex, lexical_text
from .lexical import passage_tokens

#: per-passage features the ranker sees (see :meth:`Features.compute`)
RANK_FEATURES = ("dense_z", "dense_raw", "sentence_z", "sentence_raw", "lex_lang", "lex_global",
                 "cog_lang", "cog_global", "numbers", "same_language", "same_x_lex_global",
                 "same_x_cog_global", "same_x_dense_raw", "dense_rank", "lex_rank",
                 "dense_zg", "sentence_zg", "coverage", "trans_lang", "asked")

_NUMBER = re.compile(r"\b\d{2,}(?:[.,]\d+)?\b")


@dataclass(frozen=True)
class Evidence:
    """The ranker's features for one question's candidates."""

    #: one row per candidate, columns :data:`RANK_FEATURES`
    matrix: np.ndarray
    #: the per-language normalised BM25 of each candidate (shown in :class:`bot.hits.Hit`)
    lexical: np.ndarray

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, RANK_FEATURES.index(name)]


def _per_language(x: np.ndarray, langs: np.ndarray) -> np.ndarray:
    """``x`` over its best value within each language (BM25 scores are never negative)."""
    out = np.zeros(len(x), dtype=np.float64)
    for g in np.unique(langs):
        m = langs == g
        top = float(x[m].max())
        out[m] = x[m] / top if top > 0 else 0.0
    return out


def _by_max(x: np.ndarray) -> np.ndarray:
    """Against all passages: the best one is 1 (BM25 scores are never negative)."""
    n = len(x)
    top = float(x.max()) if n else 0.0
    return x / top if top > 0 else np.zeros(n)


def _rank_score(x: np.ndarray) -> np.ndarray:
    """1 for the best passage, 1/2 for the second, ...; 0 when the score is nothing."""
    n = len(x)
    ranks = np.empty(n, dtype=np.float64)
    ranks[np.argsort(-x, kind="stable")] = np.arange(1, n + 1)
    return np.where(x > 0, 1.0 / ranks, 0.0) if x.min() >= 0 else 1.0 / ranks


class Features:
    """Computes the :class:`Evidence` of one index's candidates (the passages' words and
    numbers are read once and kept)."""

    def __init__(self, index: SearchIndex, lexical_per_language: bool = True) -> None:
        self.index = index
        self.lexical_per_language = lexical_per_language
        self._token_cache: dict[int, set[str]] = {}
        self._number_cache: dict[int, set[str]] = {}

    def compute(self, query: str, found: Candidates, question_language: str | None,
                asked: np.ndarray) -> Evidence:
        """Per-passage evidence for the ranker (one row per candidate, columns
        :data:`RANK_FEATURES`) and the per-language normalised BM25 shown in :class:`bot.hits.Hit`.

        ``asked`` is the earlier questions' vote for each candidate (:meth:`bot.memory.MemoryVotes.vote`).
        """
        rows, langs, dense = found.rows, found.languages, found.dense
        n = len(rows)
        f = np.zeros((n, len(RANK_FEATURES)), dtype=np.float64)
        col = {name: i for i, name in enumerate(RANK_FEATURES)}
        same = (langs == question_language).astype(np.float64)
        lexical = self.index.lexical
        lex = lexical.scores(query)[rows]
        lex_global = _by_max(lex)
        lex_lang = _per_language(lex, langs) if self.lexical_per_language else lex_global
        cog = lexical.cognate_scores(query)[rows].astype(np.float64)
        cog_global = _by_max(cog)
        # the question's words through the bilingual lexicon, scored on the other language only
        trans = lexical.translated_scores(query, question_language)[rows].astype(np.float64)
        trans = np.where(same > 0, 0.0, trans) if question_language else trans
        # idf-weighted share of the question's words each passage contains (in either language):
        # absolute lexical evidence, comparable across languages and questions, unlike BM25
        coverage = lexical.coverages(query, [self._tokens(int(r)) for r in rows])
        numbers = set(_NUMBER.findall(query))
        have = np.zeros(n)
        if numbers:
            # years and figures are the same in every language: strong cross-lingual evidence
            have = np.array([len(numbers & self._numbers(int(r))) / len(numbers) for r in rows])
        values = {
            "asked": asked,
            "dense_z": zscores(dense, langs), "dense_zg": zscores(dense, np.zeros(n)),
            "sentence_zg": zscores(found.sentence_raw, np.zeros(n)), "coverage": coverage, "dense_raw": dense,
            "sentence_z": found.sentence, "sentence_raw": found.sentence_raw, "lex_lang": lex_lang,
            "lex_global": lex_global, "cog_lang": _per_language(cog, langs), "cog_global": cog_global,
            "numbers": have, "same_language": same, "same_x_lex_global": same * lex_global,
            "same_x_cog_global": same * cog_global, "same_x_dense_raw": same * dense,
            "dense_rank": _rank_score(dense), "lex_rank": _rank_score(lex),
            "trans_lang": _per_language(trans, langs),
        }
        for name, v in values.items():
            f[:, col[name]] = v
        return Evidence(f, lex_lang.astype(np.float32))

    def _numbers(self, row: int) -> set[str]:
        nums = self._number_cache.get(row)
        if nums is None:
            nums = self._number_cache[row] = set(_NUMBER.findall(self.index.passages[row].text))
        return nums

    def _tokens(self, row: int) -> set[str]:
        toks = self._token_cache.get(row)
        if toks is None:
            p = self.index.passages[row]
            toks = self._token_cache[row] = passage_tokens(lexical_text(p), p.language)
        return toks

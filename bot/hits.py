"""What passes between the retriever's stages: the settings that shape them, one retrieved
passage (:class:`Hit`) and the ranked answer to a question (:class:`Retrieval`).

Every stage (:mod:`bot.candidates`, :mod:`bot.features`, :mod:`bot.ranker`, :mod:`bot.highlight`,
:mod:`bot.confidence`) may read these; they import nothing of the stages, so the imports run one way.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RetrievalSettings:
    """Weights and thresholds. Passages are ranked by the learned ranker in ``bot/ranker.json``
    (``python run_bot.py eval --fit-ranker``) when it was fitted for the embedder in use; otherwise
    by the hand fusion below (a listwise fit on the dev+test QA sets). The refusal threshold is
    calibrated with ``python run_bot.py eval --calibrate``."""

    w_dense: float = 1.39
    w_sentence: float = 1.34
    w_lexical: float = 0.16
    lexical_per_language: bool = True
    #: bonus for passages containing the question's numbers (years, figures)
    w_numbers: float = 1.44
    #: BM25 over language-neutral word prefixes (names, international words), per language
    w_cognate: float = 1.36
    #: use the learned ranker (bot/ranker.json) when it was fitted for this embedder; the
    #: weights above are the fallback
    learned_ranker: bool = True
    #: candidates taken from FAISS per language before fusion (all, for a small corpus)
    candidates: int = 200
    #: minimum confidence to answer; None takes the calibrated threshold
    threshold: float | None = None
    #: cosine above which two passages count as duplicates
    duplicate_cosine: float = 0.97
    #: the highlighted sentence maximises cosine + this × the share of the question's words it
    #: holds (idf-weighted, in either language): the vector alone often picks the neighbour
    #: that is about the same thing but does not answer (0.83 → 0.90 of highlights on the
    #: answering sentence over the eight QA sets; a plateau from 0.4 to 0.8)
    w_highlight_words: float = 0.5
    #: a follow-up's highlight prefers (by this × the share of its words held) a sentence built
    #: like the one the previous answer highlighted: "o importas?" after "• Eksportas sudaro
    #: 390,83 mln. eurų ..." is answered by "• Importas sudaro 606,16 mln. eurų ..."
    w_parallel_highlight: float = 0.1
    #: a sentence that lacks the kind of answer asked for (no number for "how much?", no person
    #: or body for "who?": :func:`bot.slots.missing_slot`) loses this much when the highlight is chosen
    w_slot_highlight: float = 0.2
    #: when the question names a year and the first passage does not hold it, the first of the
    #: runners-up worth showing (within ``show_margin``) whose highlighted sentence holds it, and
    #: the kind of answer asked for, goes first: "trade in 2021?" is not answered by the figure of
    #: 2022, however alike the two passages read
    year_first: bool = True


@dataclass
class Hit:
    """One retrieved passage with its scores and the row of its best sentence."""

    row: int
    score: float
    dense: float
    lexical: float
    sentence: int
    sentence_score: float
    #: idf-weighted share of the question's words found in the passage
    coverage: float = 0.0


@dataclass
class Retrieval:
    """The ranked hits for a question and whether they are good enough to answer."""

    query: str
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 0.0
    answered: bool = False
    fused: np.ndarray | None = None
    #: closeness of the question to the corpus as a whole (centroid of its language)
    domain: float = 0.0
    #: how much more the question resembles known out-of-domain questions than answerable ones
    exemplar: float = 0.0
    #: the question asks for a kind of answer (a person or body, a date, a number, a unit) that the top
    #: passage's highlighted sentence does not hold (:func:`bot.slots.missing_slot`)
    slot: float = 0.0
    #: the question names a year the top passage does not hold (:func:`bot.slots.missing_year`)
    year: float = 0.0
    #: runners-up within this of the best passage's score are worth showing (the margin of the
    #: ranker that ranked this question)
    show_margin: float = 1.75
    #: candidate passage rows and their ranker features (columns :data:`bot.features.RANK_FEATURES`)
    rows: np.ndarray | None = None
    rank_features: np.ndarray | None = None


def for_embedder(fitted: dict, embedder_id: str) -> dict:
    """The model fitted for ``embedder_id`` out of a fitted-models file ({} when none was).

    ``bot/ranker.json`` and ``bot/calibration.json`` keep one model per embedder under
    ``"per_embedder"``: scores differ in scale from one encoder to another, so nothing fitted
    with one is used with another. (A file holding a single model names its embedder.)
    """
    if "per_embedder" in fitted:
        return dict(fitted["per_embedder"].get(embedder_id) or {})
    return dict(fitted) if fitted.get("embedder") == embedder_id else {}

"""Answer, hedge or refuse: how sure the retriever is that its best passage answers.

A logistic model (fitted on the training QA sets, ``python run_bot.py eval --calibrate``,
``bot/calibration.json``) over the best passage's raw similarity, how far it stands out, its
word coverage, the question's closeness to the corpus, whether the passage lacks the kind of
answer or the year asked for, and how much the question resembles known out-of-domain questions
more than answerable ones (:func:`exemplar`). Below the calibrated threshold the answer is "not
in these documents", below the "sure" level it is given with a "not sure" note.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from .hits import Retrieval

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
#: the training questions' vectors and labels behind :func:`exemplar`
EXEMPLARS_FILE = Path(__file__).with_name("exemplars.npz")
#: nearest training questions of each kind the exemplar feature averages over
EXEMPLAR_K = 3

#: what the answer/refuse model may look at (see :func:`features`)
FEATURES = ("dense", "sentence", "fused", "margin_second", "margin_median", "coverage", "domain",
            "slot", "year", "exemplar")


def features(result: Retrieval, names: tuple[str, ...] | None = None) -> np.ndarray:
    """What the answer/refuse decision looks at, for the top passage of ``result``.

    raw cosine of passage and best sentence (absolute closeness), fused score and its
    margin over the runner-up and over the median (how far it stands out), and the
    idf-weighted share of the question's words it contains (lexical evidence), the
    question's closeness to the corpus centroid, whether the passage lacks the kind of
    answer or the year the question asks for (:mod:`bot.slots`), and its resemblance to
    known out-of-domain questions (:func:`exemplar`).
    ``names`` picks a subset (the calibrated model's own list).
    """
    hits, fused = result.hits, result.fused
    top = hits[0]
    second = hits[1].score if len(hits) > 1 else float(np.median(fused))
    values = {"dense": top.dense, "sentence": top.sentence_score, "fused": top.score,
              "margin_second": top.score - second, "margin_median": top.score - float(np.median(fused)),
              "coverage": top.coverage, "domain": result.domain, "slot": result.slot, "year": result.year,
              "exemplar": result.exemplar}
    return np.array([values[n] for n in (names or FEATURES)], dtype=np.float64)


def confidence(result: Retrieval, model: dict | None) -> float:
    """A 0..1 confidence that the top passage answers: a logistic model over
    :func:`features`, fitted on the training QA sets (``python run_bot.py eval --calibrate``).

    The model is fitted per embedder; with an embedder it was not fitted for (``model`` None),
    the confidence is the top passage's raw cosine and nothing is refused.
    """
    if not result.hits:
        return 0.0
    if model is None:
        return float(max(0.0, result.hits[0].dense))
    names = tuple(model.get("features") or FEATURES)
    x = (features(result, names) - model["mean"]) / model["std"]
    z = float(x @ model["weights"] + model["bias"])
    return float(1.0 / (1.0 + np.exp(-z)))


def threshold(model: dict | None, fixed: float | None = None) -> float:
    """The confidence below which the answer is refused: ``fixed`` when set, else the calibrated
    one (0 without a model: nothing is refused)."""
    if fixed is not None:
        return fixed
    return model["threshold"] if model is not None else 0.0


def sure_threshold(model: dict | None, fixed: float | None = None) -> float:
    """Confidence from which an answer is given without a "not sure" note (calibrated so
    that few out-of-domain questions reach it); the refusal threshold when not calibrated."""
    refuse = threshold(model, fixed)
    if model is None or fixed is not None:
        return refuse
    return max(refuse, float(model.get("sure", refuse)))


def exemplar(q: np.ndarray, exemplars: tuple[np.ndarray, np.ndarray], leave_out: int | None = None) -> float:
    """How much more the question resembles the known out-of-domain questions than the known
    answerable ones: mean cosine to its :data:`EXEMPLAR_K` nearest out-of-domain training
    questions minus the same for answerable ones (0 when either kind is missing).

    Near-topic questions the documents do not answer ("What is the population of
    Kazakhstan?") retrieve passages about the same countries and numbers, so nothing the
    retriever computes sets them apart; but people ask such questions again and again, in
    both languages, and their vectors sit near the ones seen in training. ``exemplars``:
    vectors, 1 = answerable / 0 = out-of-domain; ``leave_out`` skips one of them (a training
    question scored against the others).
    """
    vectors, labels = exemplars
    # not BLAS: see bot.memory.MemoryVotes.vote
    sims = np.einsum("ij,j->i", vectors, q.astype(np.float32, copy=False)).astype(np.float64)
    if leave_out is not None:
        sims[leave_out] = np.nan
    near = []
    for label in (0, 1):
        s = sims[(labels == label) & ~np.isnan(sims)]
        if s.size == 0:
            return 0.0
        near.append(float(np.sort(s)[-EXEMPLAR_K:].mean()))
    return near[0] - near[1]


def centroids(vectors: np.ndarray, languages: np.ndarray) -> dict[str, np.ndarray]:
    """The normalised mean passage vector of each language, and of all passages ("all")."""
    out = {}
    vecs = np.asarray(vectors)
    for lang in set(languages.tolist()) | ({"all"} if len(vecs) else set()):
        rows = vecs if lang == "all" else vecs[languages == lang]
        c = rows.mean(axis=0)
        out[lang] = c / (np.linalg.norm(c) or 1.0)
    return out


def domain(q: np.ndarray, language: str | None, centres: dict[str, np.ndarray]) -> float:
    """Cosine of the question with the centroid of the passages in its language."""
    c = centres.get(language or "en")
    if c is None:
        c = centres.get("all")
    return float(q @ c) if c is not None else 0.0


@lru_cache(maxsize=1)
def calibration() -> dict:
    """The fitted confidence model (see :func:`bot.evaluation.calibrate`), with its exemplars
    when the model uses them."""
    try:
        model = calibration_arrays(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}
    unknown = set(model.get("features", ())) - set(FEATURES)
    if unknown:
        log.warning("%s uses features this version does not compute (%s): the answer/refuse model is "
                    "not used (run: python run_bot.py eval --calibrate)", CALIBRATION_FILE.name, ", ".join(sorted(unknown)))
        return {}
    if "exemplar" in model.get("features", ()):
        try:
            with np.load(EXEMPLARS_FILE) as data:
                model["exemplars"] = data["vectors"].astype(np.float32)
                model["exemplar_labels"] = data["labels"].astype(np.int8)
        except (OSError, ValueError, KeyError):
            log.warning("%s is missing or damaged: the answer/refuse model is not used "
                        "(run: python run_bot.py eval --calibrate)", EXEMPLARS_FILE.name)
            return {}
    return model


def save_calibration(model: dict) -> None:
    """Write a model from :func:`bot.evaluation.calibrate`: numbers as JSON, exemplars as npz."""
    plain = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in model.items()
             if k not in ("exemplars", "exemplar_labels")}
    CALIBRATION_FILE.write_text(json.dumps(plain, indent=1))
    if "exemplars" in model:
        np.savez_compressed(EXEMPLARS_FILE, vectors=np.asarray(model["exemplars"], dtype=np.float16),
                            labels=np.asarray(model["exemplar_labels"], dtype=np.int8))
    calibration.cache_clear()


def calibration_arrays(model: dict) -> dict:
    """A calibration model as JSON stores it, with its vectors as numpy arrays."""
    return {k: np.asarray(v, dtype=np.float64) if k in ("mean", "std", "weights") else v for k, v in model.items()}

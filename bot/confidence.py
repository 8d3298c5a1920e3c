"""Answer, hedge or refuse: how sure the retriever is that its best passage answers.

A logistic model (fitted across the development corpora, ``python run_bot.py eval --fit``,
``bot/calibration.json``, one per embedder) over the best passage's raw similarity, how far it stands out, its
word coverage, the question's closeness to the corpus, whether the passage lacks the kind of
answer or the year asked for, and how far the passage stands out among the question's candidates. Below the calibrated threshold the answer is "not
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

#: what the answer/refuse model may look at (see :func:`features`)
FEATURES = ("dense", "sentence", "fused", "margin_second", "margin_median", "coverage", "domain",
            "slot", "year", "dense_zg", "sentence_zg")


def features(result: Retrieval, names: tuple[str, ...] | None = None) -> np.ndarray:
    """What the answer/refuse decision looks at, for the top passage of ``result``.

    raw cosine of passage and best sentence (absolute closeness), fused score and its
    margin over the runner-up and over the median (how far it stands out), and the
    idf-weighted share of the question's words it contains (lexical evidence), the
    question's closeness to the corpus centroid, whether the passage lacks the kind of
    answer or the year the question asks for (:mod:`bot.slots`), and
    how far the passage and its sentence stand out among the candidates (z-scores).
    ``names`` picks a subset (the calibrated model's own list).
    """
    hits, fused = result.hits, result.fused
    top = hits[0]
    second = hits[1].score if len(hits) > 1 else float(np.median(fused))
    values = {"dense": top.dense, "sentence": top.sentence_score, "fused": top.score,
              "margin_second": top.score - second, "margin_median": top.score - float(np.median(fused)),
              "coverage": top.coverage, "domain": result.domain, "slot": result.slot, "year": result.year}
    if result.rows is not None and result.rank_features is not None:
        # how far the passage and its best sentence stand out among this question's candidates
        # (z-scores over all of them): a scale any corpus and encoder share
        from .features import RANK_FEATURES

        j = int(np.flatnonzero(result.rows == top.row)[0])
        values["dense_zg"] = float(result.rank_features[j, RANK_FEATURES.index("dense_zg")])
        values["sentence_zg"] = float(result.rank_features[j, RANK_FEATURES.index("sentence_zg")])
    return np.array([values[n] for n in (names or FEATURES)], dtype=np.float64)


def confidence(result: Retrieval, model: dict | None) -> float:
    """A 0..1 confidence that the top passage answers: a logistic model over
    :func:`features`, fitted across corpora (``python run_bot.py eval --fit``).

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
def calibration_file() -> dict:
    """The fitted confidence models as stored (one per embedder); {} when absent."""
    try:
        return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def calibration(embedder_id: str) -> dict:
    """The confidence model fitted for ``embedder_id`` (see :func:`bot.fitting.fit_across`);
    {} when there is none or it uses features this version does not compute."""
    from .hits import for_embedder

    model = calibration_arrays(for_embedder(calibration_file(), embedder_id))
    unknown = set(model.get("features", ())) - set(FEATURES)
    if unknown:
        log.warning("%s uses features this version does not compute (%s): the answer/refuse model is "
                    "not used (run: python run_bot.py eval --fit)", CALIBRATION_FILE.name, ", ".join(sorted(unknown)))
        return {}
    return model


def save_models(path: Path, embedder_id: str, model: dict) -> None:
    """Store ``model`` as the one fitted for ``embedder_id`` in ``path`` (the others kept)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    per = stored.get("per_embedder", {})
    per[embedder_id] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in model.items()}
    path.write_text(json.dumps({"per_embedder": per}, indent=1))
    calibration_file.cache_clear()


def calibration_arrays(model: dict) -> dict:
    """A calibration model as JSON stores it, with its vectors as numpy arrays."""
    return {k: np.asarray(v, dtype=np.float64) if k in ("mean", "std", "weights") else v for k, v in model.items()}

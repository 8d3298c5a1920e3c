"""The two learning algorithms, plain numpy: a listwise linear ranker and a logistic answer/refuse model.

What they are fitted on, and how they are judged on corpora they never saw, is
:mod:`bot.fitting`'s job; here is only the arithmetic, so it can be read (and tested) alone.
"""
from __future__ import annotations

import numpy as np

from .features import RANK_FEATURES

#: share of the answerable training questions the refusal threshold may refuse (each corpus
#: weighing alike); new corpora's writers refuse more, so it is kept below the 5 % target
MAX_REFUSED = 0.03


def fit_refusal(X, y, max_refused: float = MAX_REFUSED, max_unhedged_ood: float = 0.10, max_hedged: float = 0.10,
                sample_weight=None) -> dict:
    """Logistic regression answerable (1) vs out-of-domain (0) over standardised features
    (L2-regularised, plain gradient descent: no extra dependency), then the highest threshold
    that refuses at most ``max_refused`` of the answerable questions, with a small safety margin,
    and the confidence ("sure") above which an answer needs no "not sure" note: where at most
    ``max_unhedged_ood`` of the out-of-domain questions, and at most half of those that clear the
    threshold, remain, unless that would put the note on
    more than ``max_hedged`` of the answerable ones."""
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-9
    Z = (X - mean) / std
    w, b = np.zeros(Z.shape[1]), 0.0
    # balance the two classes so the few out-of-domain questions count as much
    cw = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    if sample_weight is not None:
        # e.g. each corpus counting as much as any other, however many questions it has
        sw = np.asarray(sample_weight, dtype=np.float64)
        cw = np.where(y == 1, 0.5 * sw / max(1e-12, sw[y == 1].sum()), 0.5 * sw / max(1e-12, sw[y == 0].sum()))
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = (p - y) * cw
        w -= 0.5 * (Z.T @ g + 0.01 * w)
        b -= 0.5 * g.sum()
    conf = 1 / (1 + np.exp(-(Z @ w + b)))
    pos = np.sort(conf[y == 1])
    k = int(np.floor(max_refused * len(pos)))
    if sample_weight is not None and len(pos):
        # the share refused counted by weight: each corpus's answerable questions count alike
        w_pos = sw[y == 1][np.argsort(conf[y == 1])]
        k = min(len(pos) - 1, int(np.searchsorted(np.cumsum(w_pos) / w_pos.sum(), max_refused, side="right")))
    threshold = float(pos[k] - 1e-6) if len(pos) else 0.5
    # a small margin below the last accepted answerable question
    threshold = max(0.01, min(threshold, 0.9) - 0.02)
    # above "sure" at most ``max_unhedged_ood`` of the out-of-domain questions remain, and at most
    # half of those that clear the threshold (fitted on its own questions the model lets few
    # through, which alone would leave no band, while new questions get through more often):
    # answers between the two thresholds are given with a "not sure" note
    neg = conf[y == 0]
    through = neg[neg >= threshold]
    sure = float(np.quantile(neg, 1 - max_unhedged_ood)) if len(neg) else threshold
    if len(through):
        sure = max(sure, float(np.median(through)))
    # ... unless that would put the note on more than ``max_hedged`` of the answerable ones: a
    # note on most right answers would mean nothing
    sure = max(threshold, min(sure, float(np.quantile(pos, max_hedged)) if len(pos) else sure))
    return {"mean": mean.tolist(), "std": std.tolist(), "weights": w.tolist(), "bias": float(b),
            "threshold": threshold, "sure": sure, "fitted_on": len(y)}


def fit_ranker(groups: list[tuple], features: tuple[str, ...],
               l2: float = 0.01, iterations: int = 3000, weights=None) -> dict:
    """Fit the passage ranker: a linear model over standardised :data:`RANK_FEATURES` columns,
    listwise (softmax over each question's passages, maximising the probability of the passages
    that hold the answer), L2-regularised, plain gradient descent with backtracking (numpy only).

    ``groups`` holds one (features of every candidate passage, relevant or not) pair per question.
    """
    cols = [RANK_FEATURES.index(f) for f in features]
    weights = [1.0] * len(groups) if weights is None else list(weights)
    kept = [(X[:, cols], y.astype(bool), w) for (X, y), w in zip(groups, weights) if y.any() and not y.all()]
    groups = [(X, y) for X, y, _ in kept]
    qw = np.array([w for _, _, w in kept], dtype=np.float64)
    qw = qw / qw.mean()  # each question's weight in the loss (all 1 unless given)
    width = max(len(y) for _, y in groups)
    Q, F = len(groups), len(cols)
    X = np.zeros((Q, width, F))
    mask = np.zeros((Q, width), bool)
    rel = np.zeros((Q, width), bool)
    for i, (x, y) in enumerate(groups):
        X[i, :len(y)], mask[i, :len(y)], rel[i, :len(y)] = x, True, y
    flat = X[mask]
    mean, std = flat.mean(axis=0), flat.std(axis=0) + 1e-9
    Z = np.where(mask[..., None], (X - mean) / std, 0.0)

    def loss_grad(w):
        s = np.where(mask, Z @ w, -np.inf)
        m = s.max(axis=1, keepdims=True)
        e = np.exp(s - m)
        er = np.where(rel, e, 0.0)
        loss = np.mean(qw * (np.log(e.sum(axis=1)) - np.log(er.sum(axis=1)))) + 0.5 * l2 * w @ w
        g = (e / e.sum(axis=1, keepdims=True) - er / er.sum(axis=1, keepdims=True)) * qw[:, None]
        grad = np.einsum("qp,qpf->f", g, Z) / Q + l2 * w
        return loss, grad

    w, step = np.zeros(F), 1.0
    loss, grad = loss_grad(w)
    for _ in range(iterations):
        while True:
            w_new = w - step * grad
            loss_new, grad_new = loss_grad(w_new)
            if loss_new <= loss - 0.5 * step * grad @ grad or step < 1e-8:
                break
            step *= 0.5
        converged = loss - loss_new < 1e-10
        w, loss, grad, step = w_new, loss_new, grad_new, step * 1.5
        if converged:
            break
    return {"features": list(features), "mean": mean.tolist(), "std": std.tolist(), "weights": w.tolist(),
            "l2": l2, "loss": float(loss), "fitted_on": Q}

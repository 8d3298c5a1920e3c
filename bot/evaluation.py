"""Measure retrieval on the QA sets in ``eval/``: hit@1, hit@3, MRR per slice, refusal rates.

A QA item is ``{"id", "slice", "question", "expect", "doc"}``: a retrieved passage is right
when its text contains the ``expect`` phrase (case and whitespace folded; a list gives several
equally good answers, e.g. a fact stated in two places); ``expect`` is
null for out-of-domain questions, which should be refused. A dialogue item has ``turns``;
only its last turn is scored, after the earlier ones went through the same conversation.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .dialogue import Conversation
from .engine import Engine
from .language import detect
from .qasets import load_items  # noqa: F401  (the QA sets' reader, re-exported)
from .retrieval import Retriever
from .retrieval import normalise as _norm




@dataclass
class SliceScore:
    n: int = 0
    hit1: int = 0
    hit3: int = 0
    rr: float = 0.0
    refused: int = 0
    #: answered with a "not sure" note (confidence between the refusal and the "sure" thresholds)
    hedged: int = 0
    #: of the questions whose first passage holds the answer: how many highlight the sentence
    #: that answers (the one with the ``expect`` phrase)
    highlit: int = 0
    highlight_ok: int = 0
    failures: list[str] = field(default_factory=list)
    #: answered (not refused) with the answer among the first three: "hit@3 as answered"
    hit3_answered: int = 0
    #: the confidence of each question, for the answerable-vs-out-of-domain AUROC
    confidences: list[float] = field(default_factory=list)

    def add(self, other: "SliceScore") -> None:
        """Pool ``other``'s counts into this one (cross-validation folds)."""
        for name in ("n", "hit1", "hit3", "rr", "refused", "hedged", "highlit", "highlight_ok", "hit3_answered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures
        self.confidences += other.confidences

    def row(self, name: str) -> str:
        if name == "language":
            return f"{name:<12} n={self.n:<4} detected right={self.hit1 / max(1, self.n):.2f}"
        if name.startswith("ood") or name.endswith("-ood"):
            return (f"{name:<12} n={self.n:<4} refused={self.refused / max(1, self.n):.2f} "
                    f"hedged={self.hedged / max(1, self.n):.2f}")
        return (f"{name:<12} n={self.n:<4} hit@1={self.hit1 / max(1, self.n):.2f} "
                f"hit@3={self.hit3 / max(1, self.n):.2f} MRR={self.rr / max(1, self.n):.2f} "
                f"refused={self.refused / max(1, self.n):.2f} hedged={self.hedged / max(1, self.n):.2f}"
                + (f" highlight={self.highlight_ok / self.highlit:.2f}" if self.highlit else ""))

    def as_dict(self) -> dict:
        n = max(1, self.n)
        return {"n": self.n, "hit@1": self.hit1 / n, "hit@3": self.hit3 / n, "mrr": self.rr / n,
                "refused": self.refused / n, "hedged": self.hedged / n,
                "highlight": self.highlight_ok / max(1, self.highlit)}


def _answered(engine: Engine, result) -> str:
    """"refused", "hedged" (answered with a "not sure" note) or "sure"."""
    if not result.answered:
        return "refused"
    return "hedged" if result.confidence < engine.retriever.sure_threshold else "sure"


def _targets(expect: str | list[str] | None) -> list[str]:
    """The ``expect`` phrases, normalised: one, a list of equally good answers, or none."""
    return [_norm(e) for e in ([] if expect is None else [expect] if isinstance(expect, str) else expect)]


def _replayed(engine: Engine, dialogue: dict) -> Conversation:
    """The conversation after the dialogue's turns but the last."""
    conv = Conversation()
    for turn in dialogue["turns"][:-1]:
        engine.reply(turn, conv)
    return conv


def _last_turn_query(engine: Engine, dialogue: dict) -> str:
    """The dialogue's last turn completed with the earlier turns (what the ranker learns from)."""
    return _replayed(engine, dialogue).resolve(dialogue["turns"][-1])[0]


def _highlights(text: str, span: tuple[int, int], targets: list[str]) -> bool:
    """Does the character ``span`` of ``text`` overlap one of the (normalised) target phrases?"""
    for target in targets:
        pattern = r"\s+".join(re.escape(w) for w in target.split())
        if any(m.start() < span[1] and m.end() > span[0]
               for m in re.finditer(pattern, text, flags=re.IGNORECASE)):
            return True
    return False


def _rank(engine: Engine, query: str, expect: str | list[str] | None,
          k: int = 10) -> tuple[int | None, str, bool | None]:
    """:func:`_rank_result` of ``query`` searched alone."""
    return _rank_result(engine, engine.retriever.search(query, k=k), expect)


def _rank_result(engine: Engine, result,
                 expect: str | list[str] | None) -> tuple[int | None, str, bool | None]:
    """1-based rank in ``result`` of the first passage containing an ``expect`` phrase (one, or a
    list of equally good answers; None for out-of-domain), how the question was answered, and,
    when the first passage holds the answer, whether its highlighted sentence is the answering one."""
    targets = _targets(expect)
    for i, h in enumerate(result.hits, 1):
        p = engine.index.passages[h.row]
        if any(t in _norm(p.text) for t in targets):
            lit = None
            if i == 1:
                span = p.sentences[h.sentence] if p.sentences else (0, len(p.text))
                lit = _highlights(p.text, span, targets)
            return i, _answered(engine, result), lit
    return None, _answered(engine, result), None


def evaluate(engine: Engine, qa: list[dict], dialogues: list[dict] = ()) -> dict[str, SliceScore]:
    """Score every item; returns per-slice scores plus "answerable" and "all" totals."""
    scores: dict[str, SliceScore] = defaultdict(SliceScore)

    def record(names: tuple[str, ...], item_id: str, rank: int | None, how: str, ood: bool,
               lit: bool | None = None, confidence: float = 0.0) -> None:
        answered = how != "refused"
        for name in names:
            sc = scores[name]
            sc.n += 1
            sc.confidences.append(confidence)
            sc.hit3_answered += answered and rank is not None and rank <= 3
            if lit is not None:
                sc.highlit += 1
                sc.highlight_ok += lit
            sc.refused += not answered
            sc.hedged += how == "hedged"
            if not ood:
                sc.hit1 += rank == 1
                sc.hit3 += rank is not None and rank <= 3
                sc.rr += 1.0 / rank if rank else 0.0
                if rank is None or rank > 3:
                    sc.failures.append(item_id)
            elif answered:
                sc.failures.append(item_id)

    for item in qa:
        ood = item.get("expect") is None
        result = engine.retriever.search(item["question"], k=3 if ood else 10)
        if ood:
            _, how, _ = _rank_result(engine, result, None)
            record((item["slice"], "ood-all"), item["id"], None, how, True, confidence=result.confidence)
        else:
            rank, how, lit = _rank_result(engine, result, item["expect"])
            record((item["slice"], "answerable"), item["id"], rank, how, False, lit, result.confidence)
            # the question's language, which the reply is framed in, from its slice ("lt-en" -> lt)
            lang = scores["language"]
            lang.n += 1
            if detect(item["question"]) == item["slice"][:2]:
                lang.hit1 += 1
            else:
                lang.failures.append(item["id"])

    for dlg in dialogues:
        # the last turn as the engine reads it after the earlier turns (Engine.retrieve)
        ood = dlg.get("expect") is None
        _, result = engine.retrieve(dlg["turns"][-1], _replayed(engine, dlg), k=3 if ood else 10)
        name = f"dlg-{dlg['slice']}"
        if ood:  # the conversation ends on something the documents don't answer
            _, how, _ = _rank_result(engine, result, None)
            record((f"{name}-ood",), dlg["id"], None, how, True, confidence=result.confidence)
            continue
        rank, how, lit = _rank_result(engine, result, dlg["expect"])
        record((name,), dlg["id"], rank, how, False, lit, result.confidence)
        # the same last question asked alone, for comparison
        rank, how, _ = _rank(engine, dlg["turns"][-1], dlg["expect"])
        record((f"{name}-alone",), dlg["id"], rank, how, False)
    return dict(scores)


def report(scores: dict[str, SliceScore], verbose: bool = False) -> str:
    order = ["en-en", "en-lt", "lt-lt", "lt-en", "lt-nodiac", "answerable", "ood", "ood-all",
             "dlg-followup", "dlg-followup-alone", "dlg-switch", "dlg-switch-alone", "language"]
    names = [n for n in order if n in scores] + sorted(set(scores) - set(order))
    lines = []
    for name in names:
        if name == "ood-all":
            continue
        lines.append(scores[name].row(name))
        if verbose and scores[name].failures:
            lines.append(f"{'':14}misses: {', '.join(scores[name].failures)}")
    return "\n".join(lines)


def baselines(engine: Engine, qa: list[dict]) -> str:
    """hit@1 / hit@3 per slice of simpler retrievers on the same index, for comparison:
    plain dense cosine, dense standardised per language, and BM25 alone."""
    import numpy as np

    from .retrieval import _zscores

    idx = engine.index
    vectors = np.asarray(idx.vectors)
    langs = np.array([p.language for p in idx.passages])
    methods = {
        "plain dense": lambda q: vectors @ engine.retriever.embed(q),
        "dense, z per language": lambda q: _zscores(vectors @ engine.retriever.embed(q), langs),
        "BM25 alone": lambda q: idx.lexical.scores(q),
    }
    lines = []
    for name, score in methods.items():
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for item in qa:
            if item.get("expect") is None:
                continue
            order = np.argsort(-score(item["question"]))[:3]
            targets = _targets(item["expect"])
            ranks = [i for i, r in enumerate(order, 1) if any(t in _norm(idx.passages[r].text) for t in targets)]
            for key in (item["slice"], "answerable"):
                per[key][0] += 1
                per[key][1] += bool(ranks) and ranks[0] == 1
                per[key][2] += bool(ranks)
        cells = " ".join(f"{k}={v[1] / v[0]:.2f}/{v[2] / v[0]:.2f}" for k, v in per.items())
        lines.append(f"{name:<22} hit@1/hit@3: {cells}")
    return "\n".join(lines)



"""Fit the learned parts across corpora, and judge them on corpora they never saw.

The passage ranker and the answer/refuse model are fitted on the questions of several
development corpora at once (``eval/corpora/``, :mod:`bot.qasets`), each corpus weighing as
much as any other, so they learn what an answer looks like rather than what one corpus's
answers look like. ``python run_bot.py eval --cv`` scores each corpus with models fitted on
the others only (leave one corpus out), one row per corpus with the plain dense baselines
beside it, as BEIR and MTEB judge a retriever: zero-shot.

Each corpus gets its own index, built by the ordinary :func:`bot.index.build_index` into
``eval/.indexes/<corpus>`` (incremental: an unchanged corpus is not embedded again).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import qasets
from .config import ROOT
from .embedding import Embedder
from .engine import Engine
from .evaluation import SliceScore, _last_turn_query, _norm, _targets, evaluate
from .index import build_index, load_index
from .learning import MAX_REFUSED, fit_ranker, fit_refusal
from .memory import index_memory
from .retrieval import CALIBRATION_FILE, RANKER_FILE, LinearRanker, Retriever, _zscores, calibration_arrays, save_models

log = logging.getLogger(__name__)

#: where each evaluation corpus's index is built (not committed)
CACHE_DIR = ROOT / "eval" / ".indexes"
#: the five language directions every table reports
DIRECTIONS = ("en-en", "en-lt", "lt-lt", "lt-en", "lt-nodiac")
#: what the answer/refuse model looks at: nothing but what any corpus's own retrieval gives
CROSS_FEATURES = Retriever.FEATURES
#: the passage ranker's features without the question memory: per-language z-scores of dense and
#: best-sentence cosine, per-language BM25 and word-prefix BM25, numbers, whether the passage is in
#: the question's language, BM25 and prefix BM25 against all passages, dense and sentence cosine
#: standardised over all candidates, word coverage, and the BM25 of the question translated word
#: by word into the other language
CROSS_RANKER = ("dense_z", "sentence_z", "lex_lang", "cog_lang", "numbers", "same_language", "lex_global",
                "cog_global", "dense_zg", "sentence_zg", "coverage", "trans_lang")
#: with the question memory: the vote of the nearest earlier questions too
MEMORY_RANKER = (*CROSS_RANKER, "asked")


@dataclass
class CorpusRun:
    """One corpus ready to be searched: its engine and its development questions."""

    corpus: qasets.EvalCorpus
    engine: Engine
    qa: list[dict] = field(default_factory=list)
    dialogues: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.corpus.name


def open_corpus(corpus: qasets.EvalCorpus, embedder: Embedder, sets: list[str] | None = None,
                cache: Path = CACHE_DIR, memory: bool = False) -> CorpusRun:
    """Build (or bring up to date) the corpus's index and load an engine over it, with the
    questions of ``sets`` (default: the corpus's cross-validation sets, see :func:`cv_sets`)."""
    index_dir = cache / corpus.name
    index_dir.mkdir(parents=True, exist_ok=True)
    build_index(corpus.corpus_dir, index_dir, embedder=embedder)
    engine = Engine(load_index(index_dir, embedder.id), embedder)
    if not memory:  # a corpus the models never saw has no earlier questions
        engine.retriever.use_memory(None)
    qa, dialogues = [], []
    for name in (sets if sets is not None else cv_sets(corpus)):
        q, d = corpus.set(name).load(group=f"{corpus.name}/{name}")
        qa += q
        dialogues += d
    return CorpusRun(corpus, engine, qa, dialogues)


def cv_sets(corpus: qasets.EvalCorpus) -> list[str]:
    """The sets a corpus brings to cross-corpus fitting and scoring: its ``cv`` list in
    ``sets.toml`` (the seed corpus names a few of its many writers, so that it does not
    outweigh the others by sheer number) or else all its development sets."""
    spec = qasets.spec(corpus.folder)
    return list(spec.get("cv", corpus.training))


def development_corpora(embedder: Embedder, names: list[str] | None = None) -> dict[str, CorpusRun]:
    """Every development corpus (not a sealed final one), opened."""
    out = {}
    for corpus in qasets.corpora():
        if names is not None and corpus.name not in names:
            continue
        if not cv_sets(corpus):
            continue  # only a final test: measured once, never fitted on
        if not corpus.corpus_dir.is_dir():
            continue  # documents fetched on demand (the GIMP manual: bench --gimp)
        log.info("opening QA corpus %s", corpus.name)
        out[corpus.name] = open_corpus(corpus, embedder)
    return out


# ---------------------------------------------------------------- fitting

def _per_writer(retriever: Retriever, entries: list, item_of) -> Iterator[list]:
    """``entries`` grouped by the QA set (writer) of their item (``item_of(entry)``), each group
    yielded while the question memory leaves that writer's own questions out, as an unseen
    writer's questions would be ranked; the memory is put back afterwards."""
    memory, leave_out = retriever.memory
    groups: dict[str, list] = defaultdict(list)
    for entry in entries:
        groups[item_of(entry).get("group", "")].append(entry)
    try:
        for group, members in groups.items():
            if memory is not None:
                retriever.use_memory(memory, leave_out | {group})
            yield members
    finally:
        if memory is not None:
            retriever.use_memory(memory, leave_out)


def _queries(engine: Engine, qa: list[dict], dialogues: list[dict] = ()) -> list[tuple[str, object, dict]]:
    """(query, expect, item) per answerable question, and per dialogue its last turn as the
    conversation resolves it."""
    out = [(item["question"], item["expect"], item) for item in qa if item.get("expect") is not None]
    out += [(_last_turn_query(engine, dlg), dlg["expect"], dlg) for dlg in dialogues if dlg.get("expect") is not None]
    return out


def ranker_training_data(engine: Engine, qa: list[dict], dialogues: list[dict] = ()) -> list[tuple]:
    """(features of every candidate passage, which contain the answer) per answerable question,
    and per dialogue its last turn as the conversation resolves it. With a question memory in
    use, each question is ranked without its own set's questions in it (as an unseen writer's
    would be)."""
    texts = [_norm(p.text) for p in engine.index.passages]
    data = []
    for queries in _per_writer(engine.retriever, _queries(engine, qa, dialogues), lambda q: q[2]):
        for query, expect, _ in queries:
            result = engine.retriever.search(query, k=1)
            targets = _targets(expect)
            labels = np.array([any(t in texts[r] for t in targets) for r in result.rows])
            data.append((result.rank_features, labels))
    return data



def _corpus_weights(counts: dict[str, int]) -> dict[str, float]:
    """Per-item weight so that every corpus weighs the same in total."""
    return {name: 1.0 / max(1, n) for name, n in counts.items()}


def ranker_data(runs: dict[str, CorpusRun]) -> dict[str, list[tuple]]:
    """Per corpus: (features of every candidate, which hold the answer) per answerable question
    and per dialogue's last turn. Independent of the ranker, so computed once."""
    return {name: ranker_training_data(run.engine, run.qa, run.dialogues) for name, run in runs.items()}


def fit_ranker_across(data: dict[str, list[tuple]], features: tuple[str, ...] = CROSS_RANKER,
                      show_margin: float = 1.75) -> LinearRanker:
    """One ranker fitted on the questions of every corpus in ``data``, each corpus weighing alike."""
    groups, weights = [], []
    w = _corpus_weights({n: len(d) for n, d in data.items()})
    for name, d in data.items():
        groups += d
        weights += [w[name]] * len(d)
    model = fit_ranker(groups, features, weights=weights)
    model["show_margin"] = _show_margin(groups, model, show_margin)
    return LinearRanker.from_dict(model)


def _show_margin(groups: list[tuple], model: dict, hand_margin: float) -> float:
    """The margin within which runners-up are shown, set so that as many passages are shown on
    average as the hand fusion showed with ``hand_margin`` (as :func:`fit_ranker_model`)."""
    from .retrieval import RetrievalSettings

    hand, learned = LinearRanker.hand(RetrievalSettings()), LinearRanker.from_dict(model)

    def shown(ranker, margin):
        counts = []
        for X, _ in groups:
            s = np.sort(ranker.score(X))[::-1][:3]
            counts.append(int((s >= s[0] - margin).sum()))
        return float(np.mean(counts))

    target = shown(hand, hand_margin)
    margins = np.linspace(0.05, 10.0, 200)
    return float(margins[int(np.argmin([abs(shown(learned, m) - target) for m in margins]))])


def refusal_rows(run: CorpusRun, features: tuple[str, ...] = CROSS_FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """(answer/refuse features, 1 = answerable / 0 = out-of-domain) for the corpus's questions,
    ranked by the models its engine holds now."""
    retriever = run.engine.retriever
    rows, y = [], []
    for items in _per_writer(retriever, run.qa, lambda item: item):
        for item in items:
            result = retriever.search(item["question"], k=5)
            if result.hits:
                rows.append(retriever.features(result, features))
                y.append(0.0 if item.get("expect") is None else 1.0)
    return np.array(rows).reshape(-1, len(features)), np.array(y)


def fit_across(runs: dict[str, CorpusRun], data: dict[str, list[tuple]], training: list[str],
               features: tuple[str, ...] = CROSS_FEATURES, max_refused: float = MAX_REFUSED,
               rankers: dict[str, LinearRanker] | None = None) -> tuple[LinearRanker, dict]:
    """The ranker and the answer/refuse model fitted on the ``training`` corpora only; the
    refusal model sees each corpus ranked by ``rankers[name]`` when given (a corpus with a
    question memory by the ranker that uses it), else by the ranker fitted here."""
    ranker = fit_ranker_across({n: data[n] for n in training})
    Xs, ys, ws = [], [], []
    for name in training:
        run = runs[name]
        run.engine.retriever.use_models((rankers or {}).get(name, ranker), None)
        X, y = refusal_rows(run, features)
        Xs.append(X)
        ys.append(y)
        ws.append(np.full(len(y), 1.0 / max(1, len(y))))
    model = fit_refusal(np.vstack(Xs), np.concatenate(ys), max_refused, sample_weight=np.concatenate(ws))
    model.update(embedder=runs[training[0]].engine.embedder.id, features=list(features))
    return ranker, calibration_arrays(model)


# ---------------------------------------------------------------- scoring

@dataclass
class CorpusRow:
    """What one corpus scored, with models that never saw a question about it."""

    name: str
    scores: dict[str, SliceScore]
    baselines: dict[str, dict[str, float]]

    def hit3_answered(self, name: str = "answerable") -> float:
        s = self.scores.get(name)
        return s.hit3_answered / s.n if s and s.n else float("nan")

    def rate(self, name: str, what: str) -> float:
        s = self.scores.get(name)
        if not s or not s.n:
            return float("nan")
        return {"hit@1": s.hit1, "hit@3": s.hit3, "refused": s.refused}[what] / s.n

    @property
    def auroc(self) -> float:
        pos = self.scores.get("answerable")
        neg = self.scores.get("ood")
        if not pos or not neg or not pos.confidences or not neg.confidences:
            return float("nan")
        return auroc(np.array(pos.confidences), np.array(neg.confidences))

    @property
    def followup_hit3(self) -> float:
        """Follow-up last turns found among the first three and answered."""
        s = self.scores.get("dlg-followup")
        return s.hit3_answered / s.n if s and s.n else float("nan")


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that an answerable question is more confident than an out-of-domain one."""
    scores = np.concatenate([pos, neg])
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind="mergesort")
    ranks[order] = np.arange(1, len(scores) + 1)
    # ties share their mean rank
    for v in np.unique(scores):
        m = scores == v
        if m.sum() > 1:
            ranks[m] = ranks[m].mean()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def dense_baselines(engine: Engine, qa: list[dict]) -> dict[str, dict[str, float]]:
    """hit@3 per direction (and "answerable") of plain dense cosine and of dense cosine
    standardised within each passage language, on the same index and questions."""
    idx = engine.index
    vectors = np.asarray(idx.vectors)
    langs = np.array([p.language for p in idx.passages])
    texts = [_norm(p.text) for p in idx.passages]
    out: dict[str, dict[str, float]] = {}
    for method in ("plain dense", "z-scored dense"):
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in qa:
            if item.get("expect") is None:
                continue
            s = vectors @ engine.retriever.embed(item["question"])
            if method == "z-scored dense":
                s = _zscores(s, langs)
            top = np.argsort(-s)[:3]
            targets = _targets(item["expect"])
            hit = any(any(t in texts[r] for t in targets) for r in top)
            for key in (item["slice"], "answerable"):
                per[key][0] += 1
                per[key][1] += hit
        out[method] = {k: v[1] / v[0] for k, v in per.items()}
    return out


def score(run: CorpusRun) -> CorpusRow:
    """Evaluate a corpus with the models its engine holds now."""
    return CorpusRow(run.name, evaluate(run.engine, run.qa, run.dialogues), dense_baselines(run.engine, run.qa))


def leave_one_corpus_out(runs: dict[str, CorpusRun], features: tuple[str, ...] = CROSS_FEATURES,
                         max_refused: float = MAX_REFUSED) -> list[CorpusRow]:
    """Each corpus scored by models fitted on the other corpora only; the engines' own models
    are put back afterwards."""
    saved = {n: r.engine.retriever.models for n, r in runs.items()}
    data = ranker_data(runs)
    rows = []
    try:
        for held_out in runs:
            training = [n for n in runs if n != held_out]
            ranker, model = fit_across(runs, data, training, features, max_refused)
            runs[held_out].engine.retriever.use_models(ranker, model)
            rows.append(score(runs[held_out]))
            log.info("held out %s: hit@3 as answered %.2f", held_out, rows[-1].hit3_answered())
    finally:
        for n, r in runs.items():
            r.engine.retriever.use_models(*saved[n])
    return rows


def fit_deployed(embedder: Embedder) -> str:
    """Fit the models the bot uses on every development corpus and store them for ``embedder``
    (``bot/ranker.json``, ``bot/calibration.json``): the ranker without the memory, the ranker
    with it (fitted where a corpus has earlier questions, each writer left out of the memory
    while its own questions are ranked), and the refusal model seeing each corpus as the bot
    will (with its memory when it has one). Returns a line saying what was fitted."""
    runs = development_corpora(embedder)
    plain = ranker_data(runs)
    for run in runs.values():  # the corpora's own earlier questions, where they have any
        run.engine.retriever.use_memory(index_memory(run.engine.index, embedder.id))
    remembered = {n: ranker_training_data(r.engine, r.qa, r.dialogues) if r.engine.retriever.memory[0] else plain[n]
                  for n, r in runs.items()}
    with_memory = fit_ranker_across(remembered, MEMORY_RANKER)
    by_corpus = {n: with_memory for n, r in runs.items() if r.engine.retriever.memory[0]}
    ranker, model = fit_across(runs, plain, list(runs), rankers=by_corpus)
    stored = {"features": list(ranker.features), "weights": ranker.weights.tolist(), "mean": ranker.mean.tolist(),
              "std": ranker.std.tolist(), "show_margin": ranker.show_margin}
    full = {"features": list(with_memory.features), "weights": with_memory.weights.tolist(),
            "mean": with_memory.mean.tolist(), "std": with_memory.std.tolist(),
            "show_margin": with_memory.show_margin, "without_memory": stored, "embedder": embedder.id,
            "corpora": list(runs)}
    save_models(RANKER_FILE, embedder.id, full)
    model["corpora"] = list(runs)
    save_models(CALIBRATION_FILE, embedder.id, model)
    from .ranker import ranker_model

    ranker_model.cache_clear()
    return (f"fitted on {len(runs)} corpora ({', '.join(runs)}) for {embedder.id}: "
            f"refusal threshold {model['threshold']:.3f} -> {RANKER_FILE.name}, {CALIBRATION_FILE.name}")


# ---------------------------------------------------------------- the table

#: the thresholds of the issue "Any corpus, no refit", per corpus
TARGETS = {"hit@3": 0.90, "hit@1": 0.80, "answerable refused": 0.05, "ood refused": 0.85,
           "follow-up hit@3": 0.85, "AUROC": 0.95, "over z-dense": 0.15}


def table(rows: list[CorpusRow]) -> str:
    """One row per corpus: hit@3 as answered (a refusal is a miss) overall and per direction,
    hit@3 of the ranking alone, hit@1, refusals, confidence AUROC, follow-ups, baselines."""
    head = ("| corpus | hit@3 as answered | " + " | ".join(DIRECTIONS) + " | hit@3 ranking | hit@1 | "
            "answerable refused | OOD refused | AUROC | follow-up hit@3 | plain dense hit@3 | z-dense hit@3 |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def f(x: float) -> str:
        return "–" if x != x else f"{x:.2f}"

    for r in rows:
        cells = [r.name, f(r.hit3_answered())] + [f(r.hit3_answered(d)) for d in DIRECTIONS]
        cells += [f(r.rate("answerable", "hit@3")), f(r.rate("answerable", "hit@1")),
                  f(r.rate("answerable", "refused")), f(r.rate("ood", "refused")), f(r.auroc),
                  f(r.followup_hit3), f(r.baselines["plain dense"].get("answerable", float("nan"))),
                  f(r.baselines["z-scored dense"].get("answerable", float("nan")))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def misses(rows: list[CorpusRow]) -> str:
    """The ids missed per corpus and slice (for --verbose)."""
    out = []
    for r in rows:
        for name, s in r.scores.items():
            if s.failures and name in (*DIRECTIONS, "ood", "dlg-followup", "dlg-switch", "dlg-followup-ood"):
                out.append(f"{r.name:<18} {name:<16} {', '.join(s.failures)}")
    return "\n".join(out)

"""Find the passages that answer a question, in either language, with a confidence.

Evidence per candidate passage, each score taken two ways where it matters — standardised
within the passage's language and over all passages:

- **dense**: cosine of question and passage vectors. A multilingual encoder scores passages
  in the question's own language higher across the board, so a Lithuanian question tends to
  miss the English passage that answers it; standardising each language's scores separately
  (z-scores for this question) lets the best English and the best Lithuanian passage compete
  on how much they stand out in their own language, not on raw cosine.
- **sentence**: the best single sentence of the passage, scored the same way (a precise
  fact buried in a long passage still counts);
- **lexical**: BM25 over stemmed, diacritic-folded words (names, numbers, "pilieciu"), and a
  second BM25 over language-neutral word prefixes (Vasiulis/Vasiulio, consultations/
  konsultacijose), and BM25 of the question's words translated through a Lithuanian-English
  dictionary (``bot/lexicon.json``: "piliečių" finds "citizens"); numbers shared with the
  question; rarity-weighted word coverage, a word counting as found in either language;
- whether the passage is in the question's language.

A linear ranker weighs them (learned from the QA sets, ``bot/ranker.json``; the hand-set
fusion of :class:`RetrievalSettings` when no ranker was fitted for the embedder). Near-
duplicate passages collapse to one. The confidence (a logistic model over the best passage's
raw similarity, how far it stands out, its word coverage, and how much the question resembles
known out-of-domain questions more than answerable ones) decides: below the calibrated
threshold the answer is "not in these documents", below the "sure" level it is given with a
"not sure" note.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .embedding import Embedder
from .index import SearchIndex, lexical_text
from .language import detect
from . import slots
from .lexical import passage_tokens

log = logging.getLogger(__name__)


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
    #: a sentence that points the other way from the question ("Kazakh companies are present in
    #: Lithuania" for "Lithuanian firms in Kazakhstan?", :func:`bot.slots.reversed_direction`)
    #: loses this much when the highlight is chosen (highlights on the answering sentence over the
    #: 13 training sets: 0.878 -> 0.893; a plateau from 0.1 to 0.5)
    w_reversed_highlight: float = 0.2
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
    #: candidate passage rows and their ranker features (columns :data:`RANK_FEATURES`)
    rows: np.ndarray | None = None
    rank_features: np.ndarray | None = None


_NUMBER = re.compile(r"\b\d{2,}(?:[.,]\d+)?\b")


def _zscores(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standardise ``scores`` within each group (language) separately."""
    out = np.zeros_like(scores)
    for g in np.unique(groups):
        mask = groups == g
        s = scores[mask]
        sd = float(s.std()) if s.size > 1 else 0.0
        out[mask] = (s - s.mean()) / (sd if sd > 1e-6 else 1.0)
    return out


def normalise(text: str) -> str:
    """Lower-cased, whitespace folded: how answer phrases are matched against passage text."""
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class QuestionMemory:
    """Questions asked before (the training QA sets), each with the phrase its answer holds.

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


class Retriever:
    """Search a :class:`SearchIndex` with an :class:`Embedder`.

    The question's vector is cached (a "more" or a repeated question costs nothing).
    """

    def __init__(self, index: SearchIndex, embedder: Embedder,
                 settings: RetrievalSettings = RetrievalSettings()) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._languages = np.array([p.language for p in index.passages])
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._token_cache: dict[int, set[str]] = {}
        self._number_cache: dict[int, set[str]] = {}
        self._sentence_token_cache: dict[int, list[set[str]]] = {}
        self._names_cache: dict[str, frozenset[str]] = {}
        self._doc_rows: dict[str, list[int]] | None = None
        self.restorer = index.lexical.restorer
        fitted_ranker = ranker_model() if settings.learned_ranker else {}
        self._fallback_ranker: LinearRanker | None = None
        unknown = set(fitted_ranker.get("features", ())) - set(RANK_FEATURES)
        if unknown:
            log.warning("%s uses features this version does not compute (%s): passages are ranked by the "
                        "hand-set fusion (run: python run_bot.py eval --fit-ranker)", RANKER_FILE.name,
                        ", ".join(sorted(unknown)))
        if fitted_ranker.get("embedder") == embedder.id and not unknown:
            self._ranker = LinearRanker.from_dict(fitted_ranker)
            if fitted_ranker.get("without_memory"):
                self._fallback_ranker = LinearRanker.from_dict(fitted_ranker["without_memory"])
        else:
            self._ranker = LinearRanker.hand(settings)
        memory = question_memory() if settings.learned_ranker else None
        self._memory: QuestionMemory | None = None
        self.use_memory(memory if memory is not None and memory.embedder == embedder.id else None)
        fitted = calibration()
        self._calibration = fitted if fitted.get("embedder") == embedder.id else None
        if self._calibration is None:
            log.warning("no answer/refuse calibration for %s: every question gets its best passages "
                        "(run: python run_bot.py eval --calibrate)", embedder.id)
        self._centroids = {}
        vecs = np.asarray(index.vectors)
        for lang in set(self._languages.tolist()) | ({"all"} if len(vecs) else set()):
            rows = vecs if lang == "all" else vecs[self._languages == lang]
            c = rows.mean(axis=0)
            self._centroids[lang] = c / (np.linalg.norm(c) or 1.0)

    def embed(self, text: str) -> np.ndarray:
        """The question's vector (cached, LRU of 1,024 questions).

        Lithuanian typed without diacritics is embedded with them restored: the encoder knows
        "piliečių" far better than "pilieciu".
        """
        if detect(text) == "lt":
            text = self.restorer.restore(text)
        with self._cache_lock:  # several chats' worker threads share the cache
            vec = self._cache.get(text)
            if vec is not None:
                self._cache.move_to_end(text)
                return vec
        vec = self.embedder.encode_query([text])[0]
        with self._cache_lock:
            self._cache[text] = vec
            if len(self._cache) > 1024:
                self._cache.popitem(last=False)
        return vec

    def _candidates(self, q: np.ndarray) -> np.ndarray:
        n = len(self.index.passages)
        if n <= self.settings.candidates * 4:
            return np.arange(n)
        _, ids = self.index.faiss.search(q[None, :].astype(np.float32), self.settings.candidates * 4)
        return ids[0][ids[0] >= 0]

    def search(self, query: str, k: int = 10, vector: np.ndarray | None = None,
               lexical_query: str | None = None, focus: str | None = None, after: str = "",
               previous: str = "") -> Retrieval:
        """Rank passages for ``query``; ``vector`` overrides the embedded query. ``focus`` is the
        part of a follow-up query the reader just asked ("and in 2022?"): its words count twice
        when the highlighted sentence is chosen. ``after``: the sentence the previous answer
        highlighted, when the follow-up asks for what comes next ("o kas po jos?"): in a passage
        holding it, the sentence after it is highlighted. ``previous``: the sentence the previous
        answer highlighted, for any follow-up (see ``w_parallel_highlight``)."""
        result = Retrieval(query=query)
        if not self.index.passages or not query.strip():
            return result
        q = self.embed(query) if vector is None else vector
        rows = self._candidates(q)
        langs = self._languages[rows]
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
        sent_z = _zscores(sent_scores, langs[owner])
        sentence = np.full(len(rows), -1e9, dtype=np.float32)
        np.maximum.at(sentence, owner, sent_z)
        sent_raw = np.full(len(rows), -1.0, dtype=np.float32)
        np.maximum.at(sent_raw, owner, sent_scores)
        sentence[counts == 0], sent_raw[counts == 0] = 0.0, 0.0

        lex_all = self.index.lexical.scores(lexical_query or query)
        X, lex_norm = self._rank_features(lexical_query or query, rows, langs, dense, sentence,
                                          sent_raw, lex_all[rows], detect(query), q)
        fused, result.show_margin = self._ranker.score(X), self._ranker.show_margin
        if self._fallback_ranker is not None and len(self._known_docs) < len(self.index.documents):
            # earlier questions speak only for the documents they were asked about: when the
            # evidence without them puts a passage of a document nobody asked about (one added
            # since the ranker was fitted) first, that ranking stands
            plain = self._fallback_ranker.score(X)
            if self.index.passages[int(rows[int(np.argmax(plain))])].doc_id not in self._known_docs:
                fused, result.show_margin = plain, self._fallback_ranker.show_margin
        order = np.argsort(-fused)

        hits: list[Hit] = []
        coverage = X[:, RANK_FEATURES.index("coverage")]
        bounds = np.concatenate([[0], np.cumsum(counts)])  # candidate j's sentences in sent_scores
        for j in order:
            row = int(rows[j])
            sents = sent_scores[bounds[j]:bounds[j + 1]]
            best = self._highlight(lexical_query or query, row, sents, focus, after, previous)
            if any(self._duplicate(row, best, h.row) for h in hits):
                continue
            hits.append(Hit(row=row, score=float(fused[j]), dense=float(dense[j]),
                            lexical=float(lex_norm[j]), sentence=best,
                            sentence_score=float(sents.max()) if sents.size else 0.0,
                            coverage=float(coverage[j])))
            if len(hits) >= k:
                break
        asked = focus or query
        if self.settings.year_first and len(hits) > 1 and slots.years_asked(asked) \
                and self._year_missing(asked, hits[0]):
            holds = next((h for h in hits[1:] if h.score >= hits[0].score - result.show_margin
                          and not self._year_missing(asked, h, sentence_only=True)
                          and not self._slot_missing(asked, h)), None)
            if holds is not None:
                hits.remove(holds)
                hits.insert(0, holds)
        result.hits, result.fused = hits, fused
        result.domain = self._domain(q, query)
        result.exemplar = self.exemplar(q)
        if hits:
            # the part of a follow-up the reader just asked ("and who signed it?") says what is asked
            result.slot, result.year = self._slots(focus or query, hits[0])
        result.confidence = self._confidence(result)
        result.answered = bool(hits) and result.confidence >= self.threshold
        if not result.answered and hits and self.threshold > 0:
            # "Who is Gintautas Vasiulis?" and one of the top passages names him: that passage is
            # what the documents say of him (the refusal model, fitted on questions that ask for
            # a fact, weighs the little else such a question shares with it). It goes first and is
            # given with the "not sure" note.
            naming = next((h for h in hits[:3] if slots.named_subject(focus or query,
                                                                       self.index.passages[h.row].text)), None)
            if naming is not None:
                hits.remove(naming)
                hits.insert(0, naming)
                result.answered = True
        result.rows, result.rank_features = rows, X
        return result

    def _rank_features(self, query: str, rows: np.ndarray, langs: np.ndarray, dense: np.ndarray,
                       sentence: np.ndarray, sent_raw: np.ndarray, lex: np.ndarray,
                       question_language: str | None, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-passage evidence for the ranker (one row per candidate, columns
        :data:`RANK_FEATURES`) and the per-language normalised BM25 shown in :class:`Hit`.

        Every score comes twice where it matters: standardised/normalised within the passage's
        language (so the two languages compete fairly) and against all passages (so a weak
        best match in the other language is not taken for a strong one), plus whether the
        passage is in the question's own language.
        """
        n = len(rows)
        f = np.zeros((n, len(RANK_FEATURES)), dtype=np.float64)
        col = {name: i for i, name in enumerate(RANK_FEATURES)}
        same = (langs == question_language).astype(np.float64)

        def per_language(x: np.ndarray) -> np.ndarray:
            out = np.zeros(n, dtype=np.float64)
            for g in np.unique(langs):
                m = langs == g
                top = float(x[m].max())
                out[m] = x[m] / top if top > 0 else 0.0
            return out

        def by_max(x: np.ndarray) -> np.ndarray:
            # against all passages: the best one is 1 (BM25 scores are never negative)
            top = float(x.max()) if n else 0.0
            return x / top if top > 0 else np.zeros(n)

        def rank_score(x: np.ndarray) -> np.ndarray:
            # 1 for the best passage, 1/2 for the second, ...; 0 when the score is nothing
            ranks = np.empty(n, dtype=np.float64)
            ranks[np.argsort(-x, kind="stable")] = np.arange(1, n + 1)
            return np.where(x > 0, 1.0 / ranks, 0.0) if x.min() >= 0 else 1.0 / ranks

        lex_global = by_max(lex)
        lex_lang = per_language(lex) if self.settings.lexical_per_language else lex_global
        cog = self.index.lexical.cognate_scores(query)[rows].astype(np.float64)
        cog_global = by_max(cog)
        # the question's words through the bilingual lexicon, scored on the other language only
        trans = self.index.lexical.translated_scores(query, question_language)[rows].astype(np.float64)
        trans = np.where(same > 0, 0.0, trans) if question_language else trans
        # idf-weighted share of the question's words each passage contains (in either language):
        # absolute lexical evidence, comparable across languages and questions, unlike BM25
        coverage = self.index.lexical.coverages(query, [self._tokens(int(r)) for r in rows])
        numbers = set(_NUMBER.findall(query))
        have = np.zeros(n)
        if numbers:
            # years and figures are the same in every language: strong cross-lingual evidence
            have = np.array([len(numbers & self._numbers(int(r))) / len(numbers) for r in rows])
        values = {
            "asked": self._asked(q, rows),
            "dense_z": _zscores(dense, langs), "dense_zg": _zscores(dense, np.zeros(n)),
            "sentence_zg": _zscores(sent_raw, np.zeros(n)), "coverage": coverage, "dense_raw": dense,
            "sentence_z": sentence, "sentence_raw": sent_raw, "lex_lang": lex_lang, "lex_global": lex_global,
            "cog_lang": per_language(cog), "cog_global": cog_global, "numbers": have,
            "same_language": same, "same_x_lex_global": same * lex_global,
            "same_x_cog_global": same * cog_global, "same_x_dense_raw": same * dense,
            "dense_rank": rank_score(dense), "lex_rank": rank_score(lex),
            "trans_lang": per_language(trans),
        }
        for name, v in values.items():
            f[:, col[name]] = v
        return f, lex_lang.astype(np.float32)

    def use_memory(self, memory: QuestionMemory | None, leave_out: set[str] = frozenset()) -> None:
        """Take earlier questions as evidence (:class:`QuestionMemory`), without those of the
        ``leave_out`` groups (fitting and cross-validation leave a writer's own questions out)."""
        if memory is None:
            self._bound = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        elif memory is not self._memory:  # a new memory: match its phrases once
            self._bound = memory.bind(self.index.passages)
        self._memory, self._memory_leave_out = memory, set(leave_out)
        qs, rows = self._bound
        keep = (np.array([memory.groups[i] not in leave_out for i in qs], dtype=bool) if memory is not None
                else slice(None))
        self._memory_pairs = (qs[keep], rows[keep])
        self._known_docs = {self.index.passages[int(r)].doc_id for r in self._memory_pairs[1]}

    @property
    def memory(self) -> tuple[QuestionMemory | None, set[str]]:
        return self._memory, self._memory_leave_out

    def _asked(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """How strongly the earlier questions nearest to this one vote for each candidate: each
        of the :data:`KNN_K` nearest votes for the passages that answered it, by how much closer
        it is than the next nearest. 0 for passages none of them was answered from."""
        qs, prow = self._memory_pairs
        if qs.size == 0:
            return np.zeros(len(rows))
        # einsum, not BLAS: a threaded matrix product here leaves its threads spinning and
        # doubles the next question's encoding time (python run_bot.py bench)
        sims = np.einsum("ij,j->i", self._memory.vectors, q.astype(np.float32, copy=False)).astype(np.float64)
        top = np.sort(sims[np.unique(qs)])[::-1]
        floor = top[KNN_K] if len(top) > KNN_K else 0.0
        near = sims[qs] > floor
        vote = np.zeros(len(self.index.passages))
        np.add.at(vote, prow[near], sims[qs][near] - floor)
        return vote[rows]

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

    def _highlight(self, query: str, row: int, cosines: np.ndarray, focus: str | None = None,
                   after: str = "", previous: str = "") -> int:
        """The sentence of passage ``row`` that answers ``query``: closest in meaning, with the
        question's words (found directly or through the lexicon), and ``focus``'s once more, as
        evidence. For follow-ups the focus takes 0.72 → 0.80 of highlights to the answering
        sentence (156 follow-up dialogues of the eight sets)."""
        if cosines.size <= 1:
            return 0
        p = self.index.passages[row]
        texts = [p.text[s:e].strip() for s, e in p.sentences] if after or previous else []
        if after and after in texts[:-1]:
            return texts.index(after) + 1
        tokens = self._sentence_token_cache.get(row)
        if tokens is None:
            tokens = self._sentence_token_cache[row] = [passage_tokens(p.text[s:e], p.language)
                                                        for s, e in p.sentences]
        words = self.index.lexical.coverages(query, tokens)
        if focus and focus != query:
            words = words + self.index.lexical.coverages(focus, tokens)
        score = cosines + self.settings.w_highlight_words * words
        if previous and self.settings.w_parallel_highlight:
            other = np.array([t != previous for t in texts], dtype=np.float32)  # itself gets no bonus
            score = score + self.settings.w_parallel_highlight * self.index.lexical.coverages(previous, tokens) * other
        asked = focus or query
        if self.settings.w_slot_highlight and slots.asks_for(asked):
            names = self._names(p.doc_id)
            score = score - self.settings.w_slot_highlight * np.array(
                [slots.missing_slot(asked, p.text[s:e], names) for s, e in p.sentences], dtype=np.float32)
        if self.settings.w_reversed_highlight and slots.direction(asked)[1]:
            score = score - self.settings.w_reversed_highlight * np.array(
                [slots.reversed_direction(asked, p.text[s:e]) for s, e in p.sentences], dtype=np.float32)
        return int(np.argmax(score))

    def _duplicate(self, a: int, a_sentence: int, b: int) -> bool:
        """Is passage ``a`` (answering with sentence ``a_sentence``) a near-duplicate of ``b``?

        Overlapping cuts of one paragraph, a highlight the reader already sees in ``b``, or
        nearly identical vectors (the same text in two documents) all count.
        """
        pa, pb = self.index.passages[a], self.index.passages[b]
        if pa.doc_id == pb.doc_id:
            overlap = min(pa.end, pb.end) - max(pa.start, pb.start)
            if overlap > 0.5 * min(pa.end - pa.start, pb.end - pb.start):
                return True
            if pa.sentences:
                s, e = pa.sentences[a_sentence]
                if pb.start <= pa.start + s and pa.start + e <= pb.end:
                    return True
        return float(self.index.vectors[a] @ self.index.vectors[b]) >= self.settings.duplicate_cosine

    def _slots(self, question: str, hit: Hit) -> tuple[float, float]:
        """:func:`~bot.slots.missing_slot` on the hit's highlighted sentence and
        :func:`~bot.slots.missing_year` on its passage."""
        return self._slot_missing(question, hit), self._year_missing(question, hit)

    def _slot_missing(self, question: str, hit: Hit) -> float:
        """:func:`~bot.slots.missing_slot` on the hit's highlighted sentence."""
        p = self.index.passages[hit.row]
        s, e = p.sentences[hit.sentence] if p.sentences else (0, len(p.text))
        return slots.missing_slot(question, p.text[s:e], self._names(p.doc_id))

    def _year_missing(self, question: str, hit: Hit, sentence_only: bool = False) -> float:
        """:func:`~bot.slots.missing_year` on the hit's passage, or only on its highlighted sentence."""
        p = self.index.passages[hit.row]
        s, e = p.sentences[hit.sentence] if sentence_only and p.sentences else (0, len(p.text))
        return slots.missing_year(question, p.text[s:e], p.section, self.document_date(p.doc_id))

    def document_date(self, doc_id: str) -> str:
        """The date its metadata gives the document ("" when none): what a passage naming no
        year speaks of (:func:`~bot.slots.missing_year`)."""
        return str((self.index.documents.get(doc_id) or {}).get("date") or "")

    def _names(self, doc_id: str) -> frozenset[str]:
        """:func:`~bot.slots.person_names` of one document, computed once: a surname alone
        ("Vasiulis’ term ...") names a person that its document names in full elsewhere."""
        names = self._names_cache.get(doc_id)
        if names is None:
            if self._doc_rows is None:
                rows: dict[str, list[int]] = {}
                for i, p in enumerate(self.index.passages):
                    rows.setdefault(p.doc_id, []).append(i)
                self._doc_rows = rows
            passages = self.index.passages
            names = self._names_cache[doc_id] = slots.person_names(
                passages[i].text for i in self._doc_rows.get(doc_id, ()))
        return names

    def _domain(self, q: np.ndarray, text: str) -> float:
        """Cosine of the question with the centroid of the passages in its language."""
        lang = detect(text) or "en"
        c = self._centroids.get(lang)
        if c is None:
            c = self._centroids.get("all")
        return float(q @ c) if c is not None else 0.0

    def exemplar(self, q: np.ndarray, exemplars: tuple[np.ndarray, np.ndarray] | None = None,
                 leave_out: int | None = None) -> float:
        """How much more the question resembles the known out-of-domain questions than the known
        answerable ones: mean cosine to its :data:`EXEMPLAR_K` nearest out-of-domain training
        questions minus the same for answerable ones (0 without exemplars).

        Near-topic questions the documents do not answer ("What is the population of
        Kazakhstan?") retrieve passages about the same countries and numbers, so nothing the
        retriever computes sets them apart; but people ask such questions again and again, in
        both languages, and their vectors sit near the ones seen in training. ``exemplars``
        (vectors, 1 = answerable / 0 = out-of-domain) default to the calibrated model's;
        ``leave_out`` skips one of them (a training question scored against the others).
        """
        if exemplars is None:
            c = self._calibration or {}
            if "exemplars" not in c:
                return 0.0
            exemplars = (c["exemplars"], c["exemplar_labels"])
        vectors, labels = exemplars
        sims = np.einsum("ij,j->i", vectors, q.astype(np.float32, copy=False)).astype(np.float64)  # not BLAS: see _asked
        if leave_out is not None:
            sims[leave_out] = np.nan
        near = []
        for label in (0, 1):
            s = sims[(labels == label) & ~np.isnan(sims)]
            if s.size == 0:
                return 0.0
            near.append(float(np.sort(s)[-EXEMPLAR_K:].mean()))
        return near[0] - near[1]

    FEATURES = ("dense", "sentence", "fused", "margin_second", "margin_median", "coverage", "domain",
                "slot", "year", "exemplar")

    def features(self, result: Retrieval, names: tuple[str, ...] | None = None) -> np.ndarray:
        """What the answer/refuse decision looks at, for the top passage of ``result``.

        raw cosine of passage and best sentence (absolute closeness), fused score and its
        margin over the runner-up and over the median (how far it stands out), and the
        idf-weighted share of the question's words it contains (lexical evidence), the
        question's closeness to the corpus centroid, whether the passage lacks the kind of
        answer or the year the question asks for (:mod:`bot.slots`), and its resemblance to
        known out-of-domain questions (:meth:`exemplar`).
        ``names`` picks a subset (the calibrated model's own list).
        """
        hits, fused = result.hits, result.fused
        top = hits[0]
        second = hits[1].score if len(hits) > 1 else float(np.median(fused))
        values = {"dense": top.dense, "sentence": top.sentence_score, "fused": top.score,
                  "margin_second": top.score - second, "margin_median": top.score - float(np.median(fused)),
                  "coverage": top.coverage, "domain": result.domain, "slot": result.slot, "year": result.year,
                  "exemplar": result.exemplar}
        return np.array([values[n] for n in (names or self.FEATURES)], dtype=np.float64)

    def _confidence(self, result: Retrieval) -> float:
        """A 0..1 confidence that the top passage answers: a logistic model over
        :meth:`features`, fitted on the training QA sets (``python run_bot.py eval --calibrate``).

        The model is fitted per embedder; with an embedder it was not fitted for, the
        confidence is the top passage's raw cosine and nothing is refused.
        """
        if not result.hits:
            return 0.0
        c = self._calibration
        if c is None:
            return float(max(0.0, result.hits[0].dense))
        names = tuple(c.get("features") or self.FEATURES)
        x = (self.features(result, names) - c["mean"]) / c["std"]
        z = float(x @ c["weights"] + c["bias"])
        return float(1.0 / (1.0 + np.exp(-z)))

    def would_answer(self, result: Retrieval, leniency: float = 1.0) -> bool:
        """Whether ``result``, as it stands (e.g. with one feature set aside), clears the
        refusal threshold (times ``leniency``: 0.5 asks only whether it comes near)."""
        return bool(result.hits) and self._confidence(result) >= self.threshold * leniency

    @property
    def models(self) -> tuple["LinearRanker", dict | None]:
        """The passage ranker and the answer/refuse model (as :func:`calibration_arrays`) in use."""
        return self._ranker, self._calibration

    def use_models(self, ranker: "LinearRanker", calibration: dict | None) -> None:
        """Rank and refuse with other models from now on (cross-validation fits one pair per fold)."""
        self._ranker, self._calibration = ranker, calibration

    @property
    def sure_threshold(self) -> float:
        """Confidence from which an answer is given without a "not sure" note (calibrated so
        that few out-of-domain questions reach it); the refusal threshold when not calibrated."""
        if self._calibration is None or self.settings.threshold is not None:
            return self.threshold
        return max(self.threshold, float(self._calibration.get("sure", self.threshold)))

    @property
    def threshold(self) -> float:
        if self.settings.threshold is not None:
            return self.settings.threshold
        return self._calibration["threshold"] if self._calibration is not None else 0.0


CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
#: the training questions behind the "asked" ranker feature (:class:`QuestionMemory`)
MEMORY_FILE = Path(__file__).with_name("memory.npz")
#: nearest earlier questions that vote in the "asked" ranker feature
KNN_K = 5


@lru_cache(maxsize=1)
def question_memory() -> QuestionMemory | None:
    """The earlier questions the ranker was fitted with (see :class:`QuestionMemory`)."""
    return QuestionMemory.load(MEMORY_FILE) if MEMORY_FILE.exists() else None
#: the training questions' vectors and labels behind :meth:`Retriever.exemplar`
EXEMPLARS_FILE = Path(__file__).with_name("exemplars.npz")
#: nearest training questions of each kind the exemplar feature averages over
EXEMPLAR_K = 3


@lru_cache(maxsize=1)
def calibration() -> dict:
    """The fitted confidence model (see :func:`bot.evaluation.calibrate`), with its exemplars
    when the model uses them."""
    try:
        model = calibration_arrays(json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}
    unknown = set(model.get("features", ())) - set(Retriever.FEATURES)
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


#: per-passage features the ranker sees (see :meth:`Retriever._rank_features`)
RANK_FEATURES = ("dense_z", "dense_raw", "sentence_z", "sentence_raw", "lex_lang", "lex_global",
                 "cog_lang", "cog_global", "numbers", "same_language", "same_x_lex_global",
                 "same_x_cog_global", "same_x_dense_raw", "dense_rank", "lex_rank",
                 "dense_zg", "sentence_zg", "coverage", "trans_lang", "asked")


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


RANKER_FILE = Path(__file__).with_name("ranker.json")


@lru_cache(maxsize=1)
def ranker_model() -> dict:
    """The fitted passage ranker (see :func:`bot.evaluation.fit_ranker`); {} when absent."""
    try:
        return json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}

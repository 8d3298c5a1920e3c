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
raw similarity, how far it stands out, its word coverage, and whether it holds the kind of
answer asked for) decides: below the calibrated
threshold the answer is "not in these documents", below the "sure" level it is given with a
"not sure" note.

The stages, in the order :meth:`Retriever.search` calls them, each in a module of its own:

1. :mod:`bot.candidates`: the passages considered and their dense and sentence scores
   (:class:`~bot.candidates.Candidates`);
2. :mod:`bot.features`: the ranker's evidence for each (:class:`~bot.features.Evidence`), with
   the vote of earlier questions from :mod:`bot.memory`;
3. :mod:`bot.ranker`: one score per candidate (:class:`~bot.ranker.LinearRanker`);
4. :mod:`bot.highlight`: each passage's answering sentence, near-duplicates dropped
   (:class:`Hit`);
5. :mod:`bot.confidence`: answer, hedge or refuse (:class:`Retrieval`).

The data they pass is defined in :mod:`bot.hits`; this module orders the stages and adds the
two rules that look at the ranked hits as a whole (a named year first, a named subject rescued).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import numpy as np

from . import confidence, slots
from .candidates import Candidates, CandidateSearch, zscores as _zscores
from .confidence import CALIBRATION_FILE, calibration, calibration_arrays, save_models
from .embedding import Embedder
from .features import RANK_FEATURES, Evidence, Features
from .highlight import Highlighter
from .hits import Hit, Retrieval, RetrievalSettings
from .index import SearchIndex
from .language import detect
from .memory import KNN_K, MemoryVotes, QuestionMemory, index_memory, normalise
from .ranker import RANKER_FILE, LinearRanker, rankers, ranker_model

#: what other modules import from here (the stages' names, re-exported)
__all__ = ["CALIBRATION_FILE", "KNN_K", "RANKER_FILE", "RANK_FEATURES", "Candidates", "Evidence", "Hit",
           "LinearRanker", "QuestionMemory", "Retrieval", "RetrievalSettings", "Retriever", "_zscores",
           "calibration", "calibration_arrays", "index_memory", "normalise", "ranker_model", "save_models"]

log = logging.getLogger(__name__)


class Retriever:
    """Search a :class:`SearchIndex` with an :class:`Embedder`.

    The question's vector is cached (a "more" or a repeated question costs nothing).
    """

    FEATURES = confidence.FEATURES

    def __init__(self, index: SearchIndex, embedder: Embedder,
                 settings: RetrievalSettings = RetrievalSettings()) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.restorer = index.lexical.restorer
        self._candidates = CandidateSearch(index, settings.candidates)
        self._features = Features(index, settings.lexical_per_language)
        self._highlighter = Highlighter(index, settings)
        # the fitted models are read here, through this module's names, and handed to the stages
        self._ranker, self._fallback_ranker = rankers(ranker_model() if settings.learned_ranker else {},
                                                      embedder.id, settings)
        self._votes = MemoryVotes(index.passages)
        # the questions asked before about this corpus, when it has any (bot.known_questions)
        self.use_memory(index_memory(index, embedder.id) if settings.learned_ranker else None)
        self._calibration = calibration(embedder.id) or None
        if self._calibration is None:
            log.warning("no answer/refuse model for %s: every question gets its best passages "
                        "(run: python run_bot.py eval --fit)", embedder.id)
        self._centroids = confidence.centroids(index.vectors, self._candidates.languages)

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
        language = detect(query)
        words = lexical_query or query
        # the part of a follow-up the reader just asked ("and who signed it?") says what is asked
        asked = focus or query
        found = self._candidates.find(q)
        evidence = self._features.compute(words, found, language, self._asked(q, found.rows))
        fused, result.show_margin = self._rank(evidence.matrix, found.rows)
        hits = self._hits(words, found, evidence, fused, k, focus, after, previous)
        if self.settings.year_first:
            self._year_first(asked, hits, result.show_margin)
        result.hits, result.fused = hits, fused
        result.domain = confidence.domain(q, language, self._centroids)
        result.rows, result.rank_features = found.rows, evidence.matrix
        if hits:
            result.slot = self._highlighter.slot_missing(asked, hits[0])
            result.year = self._highlighter.year_missing(asked, hits[0])
        result.confidence = self._confidence(result)
        result.answered = bool(hits) and result.confidence >= self.threshold
        if not result.answered and hits and self.threshold > 0:
            result.answered = self._named_subject_first(asked, hits)
        return result

    def _rank(self, X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """The ranker's scores of the candidates, and the margin within which runners-up are shown."""
        if self._fallback_ranker is not None and len(self._votes.known_docs) < len(self.index.documents):
            # earlier questions speak only for the documents they were asked about: when the
            # evidence without them puts a passage of a document nobody asked about (one added
            # since the ranker was fitted) first, that ranking stands
            plain = self._fallback_ranker.score(X)
            if self.index.passages[int(rows[int(np.argmax(plain))])].doc_id not in self._votes.known_docs:
                return plain, self._fallback_ranker.show_margin
        return self._ranker.score(X), self._ranker.show_margin

    def _hits(self, query: str, found: Candidates, evidence: Evidence, fused: np.ndarray, k: int,
              focus: str | None, after: str, previous: str) -> list[Hit]:
        """The best ``k`` candidates by ``fused``, each with its highlighted sentence, leaving out
        any that repeats one already taken (:meth:`bot.highlight.Highlighter.duplicate`)."""
        hits: list[Hit] = []
        coverage = evidence.column("coverage")
        for j in np.argsort(-fused):
            row = int(found.rows[j])
            sents = found.sentences(j)
            best = self._highlighter.sentence(query, row, sents, focus, after, previous)
            if any(self._highlighter.duplicate(row, best, h.row) for h in hits):
                continue
            hits.append(Hit(row=row, score=float(fused[j]), dense=float(found.dense[j]),
                            lexical=float(evidence.lexical[j]), sentence=best,
                            sentence_score=float(sents.max()) if sents.size else 0.0,
                            coverage=float(coverage[j])))
            if len(hits) >= k:
                break
        return hits

    def _year_first(self, asked: str, hits: list[Hit], show_margin: float) -> None:
        """When ``asked`` names a year the first hit does not hold, the first runner-up worth
        showing whose highlighted sentence holds it (and the kind of answer asked for) goes
        first (see ``RetrievalSettings.year_first``)."""
        check = self._highlighter
        if len(hits) > 1 and slots.years_asked(asked) and check.year_missing(asked, hits[0]):
            holds = next((h for h in hits[1:] if h.score >= hits[0].score - show_margin
                          and not check.year_missing(asked, h, sentence_only=True)
                          and not check.slot_missing(asked, h)), None)
            if holds is not None:
                hits.remove(holds)
                hits.insert(0, holds)

    def _named_subject_first(self, asked: str, hits: list[Hit]) -> bool:
        """For a refused question, put first the top passage that names its subject, and say
        whether there was one. "Who is Gintautas Vasiulis?" and one of the top passages names
        him: that passage is what the documents say of him (the refusal model, fitted on
        questions that ask for a fact, weighs the little else such a question shares with it).
        It goes first and is given with the "not sure" note."""
        naming = next((h for h in hits[:3] if slots.named_subject(asked, self.index.passages[h.row].text)), None)
        if naming is None:
            return False
        hits.remove(naming)
        hits.insert(0, naming)
        return True

    # ------------------------------------------------------------ the question memory

    def use_memory(self, memory: QuestionMemory | None, leave_out: set[str] = frozenset()) -> None:
        """Take earlier questions as evidence (:class:`QuestionMemory`), without those of the
        ``leave_out`` groups (fitting and cross-validation leave a writer's own questions out)."""
        self._votes.use(memory, leave_out)

    @property
    def memory(self) -> tuple[QuestionMemory | None, set[str]]:
        return self._votes.memory, self._votes.leave_out

    def _asked(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The earlier questions' vote for each candidate (:meth:`bot.memory.MemoryVotes.vote`)."""
        return self._votes.vote(q, rows)

    # ------------------------------------------------------------ answer or refuse

    def document_date(self, doc_id: str) -> str:
        """The date its metadata gives the document ("" when none): what a passage naming no
        year speaks of (:func:`~bot.slots.missing_year`)."""
        return self._highlighter.document_date(doc_id)

    def features(self, result: Retrieval, names: tuple[str, ...] | None = None) -> np.ndarray:
        """What the answer/refuse decision looks at, for the top passage of ``result``
        (:func:`bot.confidence.features`); ``names`` picks a subset."""
        return confidence.features(result, names)

    def _confidence(self, result: Retrieval) -> float:
        return confidence.confidence(result, self._calibration)

    def would_answer(self, result: Retrieval, leniency: float = 1.0) -> bool:
        """Whether ``result``, as it stands (e.g. with one feature set aside), clears the
        refusal threshold (times ``leniency``: 0.5 asks only whether it comes near)."""
        return bool(result.hits) and self._confidence(result) >= self.threshold * leniency

    @property
    def models(self) -> tuple[LinearRanker, dict | None]:
        """The passage ranker and the answer/refuse model (as :func:`calibration_arrays`) in use."""
        return self._ranker, self._calibration

    def use_models(self, ranker: LinearRanker, calibration: dict | None) -> None:
        """Rank and refuse with other models from now on (cross-validation fits one pair per fold)."""
        self._ranker, self._calibration = ranker, calibration

    @property
    def sure_threshold(self) -> float:
        """Confidence from which an answer is given without a "not sure" note (calibrated so
        that few out-of-domain questions reach it); the refusal threshold when not calibrated."""
        return confidence.sure_threshold(self._calibration, self.settings.threshold)

    @property
    def threshold(self) -> float:
        return confidence.threshold(self._calibration, self.settings.threshold)

"""The question-answering engine: a message and the conversation so far in, an answer out.

Knows nothing of Telegram or terminals; the front ends (:mod:`bot.cli`,
:mod:`bot.telegram_bot`) are thin layers over :meth:`Engine.reply`. The index can be swapped
while the engine keeps answering (:meth:`Engine.swap_index`).
"""
from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from dataclasses import dataclass

from . import language as language_mod
from . import slots
from .answer import Answer, compose, passage_key
from .config import Settings
from .dialogue import Conversation, Turn, is_more, is_reset, small_talk, stands_alone, strip_pleasantries
from .embedding import Embedder, load_embedder
from .index import SearchIndex, load_index
from .messages import about_fields, help_text, t
from .retrieval import Retrieval, Retriever, RetrievalSettings

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
#: a message longer than this is refused outright (Telegram allows 4096)
MAX_MESSAGE_CHARS = 4096
PAGE = 3


@dataclass
class Timing:
    """Where the time of the last question went (seconds): ``embed`` reading the question in
    the conversation and embedding it, ``search`` the search (and, for a follow-up that may
    stand alone, embedding and searching it as asked too), ``compose`` the reply."""

    embed: float = 0.0
    search: float = 0.0
    compose: float = 0.0


def clean_input(text: str) -> str:
    """Drop control characters and NULs, HTML tags (a script or style element whole), Markdown
    marks and links ("[text](url)" keeps its text, a bare address goes), collapse whitespace;
    keep letters of any script. A question pasted with formatting then means what it says (the
    price: "a_b" reads as "ab")."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", " ", text or "")
    text = re.sub(r"\[([^\]]*)\]\((?:https?://|www\.)[^)\s]*\)", r"\1", text)
    text = re.sub(r"(?:https?://|www\.)\S+", " ", text)
    text = re.sub(r"<(script|style)\b[^>]*>.*?</\1\s*>", " ", text, flags=re.IGNORECASE | re.DOTALL)
    text = re.sub(r"</?[a-zA-Z][\w-]*(?:\s[^<>]{0,300})?/?>", " ", text)  # pasted HTML: "<p>Kada <a href=...>"
    text = re.sub(r"[*_`~]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


class Engine:
    """Answers questions from one index with one embedder."""

    def __init__(self, index: SearchIndex, embedder: Embedder,
                 retrieval: RetrievalSettings = RetrievalSettings()) -> None:
        self._lock = threading.Lock()
        self.embedder = embedder
        self.retrieval_settings = retrieval
        self.retriever = Retriever(index, embedder, retrieval)
        self.last_timing = Timing()

    @classmethod
    def load(cls, settings: Settings) -> "Engine":
        """Load the embedder and the index named by ``settings`` (raises IndexProblem)."""
        language_mod.warm(background=True)
        embedder = load_embedder(settings.embedder)
        index = load_index(settings.index_dir, embedder.id)
        engine = cls(index, embedder)
        engine.warm()
        return engine

    @property
    def index(self) -> SearchIndex:
        return self.retriever.index

    def warm(self) -> None:
        """Pay one-off costs (detector models, first inference) before the first user does."""
        language_mod.warm()
        passages = self.index.passages
        self.retriever.search(passages[0].text[:200] if passages else "warm-up", k=1)

    def swap_index(self, index: SearchIndex) -> None:
        """Serve from ``index`` from now on; questions in flight finish on the old one."""
        retriever = Retriever(index, self.embedder, self.retrieval_settings)
        with self._lock:
            self.retriever = retriever

    # ------------------------------------------------------------ public API

    def ask(self, question: str, conversation: Conversation | None = None) -> Answer:
        """Answer ``question`` (a convenience over :meth:`reply` with a fresh conversation)."""
        return self.reply(question, conversation or Conversation())

    def reply(self, text: str, conversation: Conversation) -> Answer:
        """Answer one message in ``conversation`` (updated in place)."""
        raw = text or ""
        text = clean_input(raw)
        prefer = conversation.language or conversation.last_language
        if not text:
            return self._notice(raw, prefer or "en", "empty", **about_fields(self.index.about, prefer or "en"))
        if len(raw) > MAX_MESSAGE_CHARS or len(text) > MAX_QUESTION_CHARS:
            lang = conversation.language or language_mod.detect(text[:300], default=prefer) or "en"
            lang = lang if lang in language_mod.SUPPORTED else "en"
            return self._notice(text, lang, "too_long", n=len(raw), limit=MAX_QUESTION_CHARS)
        if is_reset(text):
            lang = conversation.language or prefer or "en"
            conversation.reset()
            ans = self._notice(text, lang, "reset")
            ans.command = "reset"
            return ans
        if is_more(text):
            return self.more(conversation, text)
        chat = small_talk(text)
        if chat is not None:  # "labas", "thanks", "ką moki?": a reply of its own, the conversation as it was
            kind, said_in = chat
            return self._small_talk(text, kind, conversation.language or said_in or prefer or "en")
        text = strip_pleasantries(text)  # "Labas, kiek ...? Ačiū" asks "kiek ...?"
        if not re.search(r"[^\W\d_]", text):  # no letters at all: emoji, digits, punctuation
            numbers = re.findall(r"\d+", text)
            if re.fullmatch(r"[\d\s.,?!/–-]+", text) and conversation.turns and numbers \
                    and all(len(n) <= 4 for n in numbers):
                pass  # "2022?", "2016-2020" after a question is a follow-up; "12345678901234567890" is not
            else:
                return self._notice(text, prefer or "en", "no_words")
        detected = language_mod.detect(text, default=prefer or "en")
        if detected not in language_mod.SUPPORTED:
            ans = self._notice(text, "en", "unsupported_language")
            if detected in ("ru", "kk"):  # many in Kazakhstan write Russian: say it in Russian too
                ans.message += "\n" + t("unsupported_language_ru", "en")
            ans.language = detected or "en"
            return ans
        lang = conversation.language or detected
        retriever = self.retriever  # one consistent index for the whole question
        query, followup, result, timing = self._retrieve(retriever, text, conversation)
        t0 = time.perf_counter()
        answer = self._answer(retriever, text, query, lang, result)
        timing.compose = time.perf_counter() - t0
        self.last_timing = timing  # one assignment: replies run in several threads
        # the note "understood as: ..." when it was read with the earlier turns; the turn stays a
        # follow-up (``followup``) even when it was best read alone, so the topic carries on
        answer.followup = query != text
        conversation.add(Turn(question=text, query=query, language=lang, answered=answer.answered,
                              shown=[p.key for p in answer.passages], followup=followup,
                              highlight=answer.passages[0].highlight.strip() if answer.passages else ""))
        return answer

    def retrieve(self, question: str, conversation: Conversation, k: int = PAGE + 2) -> tuple[str, Retrieval]:
        """The query ``question`` is searched with in ``conversation``, and what it finds.

        A follow-up is searched completed with the earlier turns ("O 2022 m.?" after "Kokia
        buvo prekyba 2021 m.?") and, when it has words enough of its own, also as asked: a
        message that opens like a follow-up may stand alone ("o kaip dėl JT Saugumo
        Tarybos?" after a question about the OECD, whose words would only pull the search back
        to the OECD). The more confident reading wins; the one asked alone only if it is
        answered. A question that does not lean on earlier turns is searched as asked, so an
        old topic never answers a new, unrelated question.
        """
        query, _, result, _ = self._retrieve(self.retriever, question, conversation, k)
        return query, result

    def more(self, conversation: Conversation, text: str = "more") -> Answer:
        """The next-best passages for the previous question."""
        last = conversation.last
        lang = conversation.language or (last.language if last else None)
        if lang is None:
            detected = language_mod.detect(text)
            lang = detected if detected in language_mod.SUPPORTED else "en"
        if last is None:
            ans = self._notice(text, lang, "more_nothing_asked")
            ans.command = "more"
            return ans
        retriever = self.retriever  # one consistent index, as for a question
        result = retriever.search(last.query, k=len(last.shown) + PAGE + 5, focus=last.question)
        shown = set(last.shown)

        def key(row: int) -> str:
            p = retriever.index.passages[row]
            return passage_key(p.doc_id, p.start, p.end)

        fresh = [h for h in result.hits if key(h.row) not in shown][:PAGE]
        answer = compose(retriever.index, fresh, text, lang, query=last.query,
                         confidence=result.confidence, answered=bool(fresh) and last.answered, kind="more")
        answer.command = "more"
        if not fresh:
            answer.kind, answer.message = "more_none", t("more_none", lang)
        else:  # after a refusal, "more" shows what came closest, and says so
            answer.message = t("more_intro" if last.answered else "more_closest", lang, query=last.question)
            last.shown.extend(p.key for p in answer.passages)
        return answer

    # ------------------------------------------------------------ internals

    def _retrieve(self, retriever: Retriever, question: str, conversation: Conversation,
                  k: int = PAGE + 2) -> tuple[str, bool, Retrieval, Timing]:
        """:meth:`retrieve` on ``retriever``; also whether ``question`` leans on the conversation,
        and the time taken."""
        t0 = time.perf_counter()
        query, followup = conversation.resolve(question)
        vec = retriever.embed(query)
        t1 = time.perf_counter()
        result = retriever.search(query, k=k, vector=vec, focus=question,
                                  after=conversation.previous_answer(question),
                                  previous=conversation.previous_highlight(question))
        if followup and stands_alone(question):
            alone = retriever.search(question, k=k, focus=question)
            if alone.answered and alone.confidence > result.confidence:
                query, result = question, alone
        return query, followup, result, Timing(t1 - t0, time.perf_counter() - t1)

    def _answer(self, retriever: Retriever, question: str, query: str, lang: str, result: Retrieval) -> Answer:
        """The reply to ``question`` from what the search found: the passages worth showing, or
        why nothing was found."""
        if result.answered:
            # show the runners-up only when they are nearly as good as the best passage
            top = result.hits[0].score
            shown = [h for h in result.hits if h.score >= top - result.show_margin]
            answer = compose(retriever.index, shown, question, lang, query=query,
                             confidence=result.confidence)
            if result.confidence < retriever.sure_threshold:
                answer.message = t("unsure", lang)
        else:
            answer = Answer(question=question, language=lang, answered=False, kind="not_found",
                            message=self._not_found(retriever, result, question, lang), query=query,
                            confidence=result.confidence)
        return answer

    @staticmethod
    def _not_found(retriever: Retriever, result, question: str, lang: str) -> str:
        """Why nothing was found, when it can be said plainly: the question names a year the
        closest passage lacks, and without that the passage would have been (nearly: the year
        a question names also costs it some similarity) the answer; the reader learns which year
        the closest sentence does speak of. ("What happened in France in 1789?" is refused
        plainly: it is no nearer an answer with the year left aside.)"""
        if result.hits and result.year and retriever.would_answer(dataclasses.replace(result, year=0.0), 0.5):
            # the years of the sentence that came closest (not of its whole passage: one about
            # the diaspora names the founding year of every society it lists)
            hit = result.hits[0]
            p = retriever.index.passages[hit.row]
            s, e = p.sentences[hit.sentence] if p.sentences else (0, len(p.text))
            date = retriever.document_date(p.doc_id)
            # only the years the passage lacks ("between 2010 and 2020": 2010, if it has 2020)
            asked = [y for y in slots.years_asked(question) if slots.missing_year(y, p.text, p.section, date)]
            held = [y for y in slots.years(p.text[s:e]) if y not in asked]
            if held and asked:
                return t("not_found_year", lang, asked=", ".join(asked), held=", ".join(held), example=held[-1])
        return t("not_found", lang, **about_fields(retriever.index.about, lang))

    def _small_talk(self, text: str, kind: str, lang: str) -> Answer:
        if kind == "help":
            return Answer(question=text, language=lang, answered=False, kind="help",
                          message=help_text(lang, len(self.index.documents), self.index.about))
        return self._notice(text, lang, f"smalltalk_{kind}", **about_fields(self.index.about, lang))

    @staticmethod
    def _notice(question: str, lang: str, kind: str, **fields) -> Answer:
        return Answer(question=question, language=lang, answered=False, kind=kind,
                      message=t(kind, lang, **fields))

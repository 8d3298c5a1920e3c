"""Turn ranked hits into an answer a person reads at a glance, and render it.

An :class:`Answer` holds at most three passages, best first, each trimmed at sentence
boundaries around the sentence that answers (the *highlight*), with a numbered citation.
Passages are quoted in their own language and marked when that differs from the reader's.
When the shown passages come from different documents and give different figures for the
same thing (the 2021 trade volume), both are kept, each with its source, and a note says so.

Renderers: :func:`render_text` (terminal) and :func:`render_html` (HTML subset that Telegram
accepts, every corpus- or user-derived string escaped, never over the length limit).
"""
from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field

from .index import SearchIndex
from .messages import about_fields, language_name, t
from .retrieval import Hit

MAX_PASSAGES = 3
#: a trimmed passage stays under this many characters (the highlight is always whole)
TRIM_CHARS = 600


@dataclass
class AnswerPassage:
    """A quoted passage with its highlight and citation fields."""

    text: str
    highlight: str
    doc_id: str
    title: str
    publisher: str
    date: str
    url: str
    section: str
    language: str
    score: float
    #: the whole passage, for "show full passage"
    full_text: str = ""
    #: offsets of the highlight in ``text``
    highlight_start: int = 0
    highlight_end: int = 0
    key: str = ""

    def public(self) -> dict:
        """The fields of ``ask --json``."""
        return {k: getattr(self, k) for k in
                ("text", "doc_id", "title", "publisher", "date", "url", "section",
                 "language", "score", "highlight")}


@dataclass
class Answer:
    """What the engine says to one message."""

    question: str
    language: str
    answered: bool = False
    passages: list[AnswerPassage] = field(default_factory=list)
    #: "answer", "not_found", "more", or a notice: "empty", "too_long", "no_words",
    #: "unsupported_language", "more_none", "reset", "help", "unknown_command", ...
    kind: str = "answer"
    message: str = ""
    query: str = ""
    #: read with the earlier turns (``query`` is the question completed from them)
    followup: bool = False
    confidence: float = 0.0
    sources_disagree: bool = False
    command: str | None = None

    def to_json(self) -> dict:
        out = {
            "question": self.question,
            "language": self.language,
            "answered": self.answered,
            "passages": [p.public() for p in self.passages],
        }
        if self.kind not in ("answer",):
            out["kind"] = self.kind
        if self.message:
            out["message"] = self.message
        if self.query and self.query != self.question:
            out["query"] = self.query
        if self.command:
            out["command"] = self.command
        out["confidence"] = round(self.confidence, 3)
        return out

    def to_state(self) -> dict:
        return asdict(self)


def passage_key(doc_id: str, start: int, end: int) -> str:
    return f"{doc_id}:{start}-{end}"


def _trim(text: str, sentences: list[tuple[int, int]], best: int, limit: int) -> tuple[int, int]:
    """The span of whole sentences around sentence ``best`` that fits in ``limit`` characters."""
    lo = hi = best
    start, end = sentences[best]
    while True:
        grew = False
        if hi + 1 < len(sentences) and sentences[hi + 1][1] - start <= limit:
            hi += 1
            end = sentences[hi][1]
            grew = True
        if lo > 0 and end - sentences[lo - 1][0] <= limit:
            lo -= 1
            start = sentences[lo][0]
            grew = True
        if not grew:
            return start, end


_NUMBER = re.compile(r"\d[\d,.\s]*\d|\d")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def _disagree(passages: list[AnswerPassage]) -> bool:
    """Two shown passages from different documents whose highlights give the same year
    different figures: the reader should see both sources, not a merged number."""
    seen: dict[str, tuple[str, frozenset]] = {}
    for p in passages:
        years = {m.group(0) for m in _YEAR.finditer(p.highlight)}
        nums = frozenset(n.strip() for n in _NUMBER.findall(_YEAR.sub("", p.highlight)) if len(n.strip()) > 1)
        for y in years:
            if y in seen and seen[y][0] != p.doc_id and nums and seen[y][1] and not (nums & seen[y][1]):
                return True
            seen.setdefault(y, (p.doc_id, nums))
    return False


def compose(index: SearchIndex, hits: list[Hit], question: str, language: str,
            query: str = "", confidence: float = 0.0, answered: bool = True,
            kind: str = "answer", limit: int = MAX_PASSAGES) -> Answer:
    """Build the :class:`Answer` for ``hits`` (already ranked and de-duplicated)."""
    passages = []
    for hit in hits[:limit]:
        p = index.passages[hit.row]
        doc = index.documents.get(p.doc_id, {})
        if p.sentences:
            s, e = _trim(p.text, p.sentences, hit.sentence, TRIM_CHARS)
            hs, he = p.sentences[hit.sentence]
        else:
            s, e, hs, he = 0, len(p.text), 0, len(p.text)
        text = p.text[s:e]
        passages.append(AnswerPassage(
            text=text, highlight=p.text[hs:he], doc_id=p.doc_id,
            title=doc.get("title", p.doc_id), publisher=doc.get("publisher", ""),
            date=doc.get("date", ""), url=doc.get("url", ""), section=p.section,
            language=p.language, score=round(hit.score, 4), full_text=p.text,
            highlight_start=hs - s, highlight_end=he - s,
            key=passage_key(p.doc_id, p.start, p.end),
        ))
    return Answer(question=question, language=language, answered=answered and bool(passages),
                  passages=passages, kind=kind, query=query or question,
                  confidence=confidence, sources_disagree=_disagree(passages))


def citation(p: AnswerPassage, lang: str) -> str:
    """"Title — Publisher, date, section" as plain text."""
    parts = [p.title]
    tail = ", ".join(x for x in (p.publisher, p.date) if x)
    if tail:
        parts.append(tail)
    if p.section:
        parts.append(f"{t('section', lang)}: {p.section}")
    return " — ".join(parts)


def sources(passages: list[AnswerPassage], lang: str) -> list[tuple[str, str, str]]:
    """One line per source, the passages it gives numbered: ("1, 3", citation, url). Three
    passages of one news item are one source, not the same line three times."""
    lines: dict[tuple[str, str], list[str]] = {}
    for i, p in enumerate(passages, 1):
        lines.setdefault((citation(p, lang), p.url), []).append(str(i))
    return [(", ".join(numbers), text, url) for (text, url), numbers in lines.items()]


def document_list(documents: dict[str, dict]) -> list[tuple[str, str]]:
    """(label, url) of each indexed document: "Title — Publisher — date", for /sources."""
    return [(" — ".join(x for x in (d["title"], d.get("publisher"), d.get("date")) if x), d.get("url") or "")
            for d in documents.values()]


# ---------------------------------------------------------------- terminal


def render_text(answer: Answer, color: bool = False) -> str:
    """The answer as a person reads it in a terminal (the highlight in bold or **marked**)."""
    lang = answer.language
    if not answer.passages:
        return answer.message or t("not_found", lang, **about_fields(None, lang))
    on, off = ("\033[1m", "\033[0m") if color else ("**", "**")
    lines = []
    if answer.message:
        lines.append(answer.message)
    if answer.followup:
        lines.append(t("followup_note", lang, query=answer.query))
    for i, p in enumerate(answer.passages, 1):
        body = p.text[:p.highlight_start] + on + p.highlight + off + p.text[p.highlight_end:]
        mark = f" ({t('in_language', lang, language=language_name(p.language, lang))})" if p.language != lang else ""
        lines.append(f"[{i}]{mark} {body}")
    if answer.sources_disagree:
        lines.append(t("sources_disagree", lang))
    lines.append(f"{t('sources_label', lang)}:")
    for numbers, text, url in sources(answer.passages, lang):
        lines.append(f"  [{numbers}] {text}" + (f" <{url}>" if url else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML

TELEGRAM_LIMIT = 4096
_esc = html.escape


def _html_passage(i: int, p: AnswerPassage, lang: str, budget: int) -> str:
    mark = f" <i>({_esc(t('in_language', lang, language=language_name(p.language, lang)))})</i>" if p.language != lang else ""
    before, hl, after = p.text[:p.highlight_start], p.highlight, p.text[p.highlight_end:]
    fixed = len(f"[{i}] ") + len(mark) + 20 + len(_esc(hl))
    room = max(0, budget - fixed)
    # shorten the context around the highlight if needed, never the highlight itself
    b, a = _esc(before), _esc(after)
    while len(b) + len(a) > room and (b or a):
        before = before[len(before) // 3:] if len(before) > len(after) else before
        after = after[: 2 * len(after) // 3] if len(after) >= len(before) else after
        b, a = _esc(before), _esc(after)
        if len(before) < 20 and len(after) < 20:
            b, a = "", ""
    if b and before != p.text[:p.highlight_start]:
        b = "… " + b.lstrip()
    if a and after != p.text[p.highlight_end:]:
        a = a.rstrip() + " …"
    return f"<b>[{i}]</b>{mark} {b}<b>{_esc(hl)}</b>{a}"


def render_html(answer: Answer, limit: int = TELEGRAM_LIMIT) -> str:
    """The answer as Telegram HTML: escaped, highlight in bold, numbered linked citations.

    The visible text stays under ``limit`` characters: passage context is shortened first;
    the highlight and the citations are kept.
    """
    return fit_html(answer, limit)[0]


def fit_html(answer: Answer, limit: int = TELEGRAM_LIMIT) -> tuple[str, int]:
    """:func:`render_html` and how many of the answer's passages it kept: as a last resort the
    weakest are dropped, and buttons must not offer a passage the message does not show."""
    lang = answer.language
    if not answer.passages:
        return _esc(answer.message or t("not_found", lang, **about_fields(None, lang)))[:limit], 0
    head = []
    if answer.message:
        head.append(_esc(answer.message))
    if answer.followup:
        head.append(f"<i>{_esc(t('followup_note', lang, query=answer.query))}</i>")
    def cites(passages: list[AnswerPassage]) -> str:
        lines = [f"<b>{_esc(t('sources_label', lang))}:</b>"]
        for numbers, text, url in sources(passages, lang):
            lines.append(f'[{numbers}] <a href="{_esc(url, quote=True)}">{_esc(text)}</a>' if url
                         else f"[{numbers}] {_esc(text)}")
        return "\n".join(lines)

    tail = [_esc(t("sources_disagree", lang))] if answer.sources_disagree else []
    fixed = len("\n\n".join(head + tail + [cites(answer.passages)])) + 8
    budget = max(200, (limit - fixed) // max(1, len(answer.passages)))
    body = [_html_passage(i, p, lang, budget) for i, p in enumerate(answer.passages, 1)]
    out = "\n\n".join(head + body + tail + [cites(answer.passages)])
    while visible_length(out) > limit and body:  # last resort: drop the weakest passage
        body.pop()
        out = "\n\n".join(head + body + tail + [cites(answer.passages[:len(body)])])
    return out, len(body)


def visible_length(html_text: str) -> int:
    """Length of the text Telegram shows (tags removed, entities decoded), in UTF-16 units."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", html_text))
    return len(plain.encode("utf-16-le")) // 2

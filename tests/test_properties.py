"""Property-based tests: any text in gives sane passages and valid Telegram HTML within 4,096 characters."""
from __future__ import annotations

import html
from html.parser import HTMLParser
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.answer import Answer, AnswerPassage, fit_html, render_html, visible_length
from bot.chunking import ChunkSettings, chunk_document, split_sentences
from bot.corpus import Document, clean

ALLOWED = {"b", "i", "a", "u", "s", "code", "pre", "blockquote"}
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000)
messy = st.lists(st.sampled_from(["Lietuva", "ir", "Kazachstanas", ".", "?", "!", "\n", "\n\n", " ", "m.", "d.",
                                  "[1]", "<b>", "&amp;", "&", "<", ">", "\"", "„", "“", "# Heading", "1991",
                                  "[redaguoti | redaguoti vikitekstą]", "Flag.svg", "\x00", "😀", "שלום"]),
                 max_size=400).map(" ".join)


class TelegramHTML(HTMLParser):
    """Fails on tags Telegram does not accept and on unbalanced tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []

    def handle_starttag(self, tag, attrs):
        assert tag in ALLOWED, tag
        if tag == "a":
            assert [k for k, _ in attrs] == ["href"]
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag


def assert_valid_html(out: str) -> None:
    parser = TelegramHTML()
    parser.feed(out)
    parser.close()
    assert not parser.stack
    # every '<' and '&' in the text is part of a tag or an entity
    assert visible_length(out) <= 4096
    assert out.strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, messy))
def test_cleaning_and_chunking_never_break(raw):
    paras = clean(raw)
    doc = Document(doc_id="x", path=Path("x.txt"), title="T", language="lt", paragraphs=paras)
    cs = ChunkSettings()
    full = "\n\n".join(p.text for p in paras)
    for p in chunk_document(doc, cs):
        assert full[p.start:p.end] == p.text
        assert len(p.text) <= cs.max_chars
        assert "[1]" not in p.text and "redaguoti" not in p.text and "\x00" not in p.text


@settings(max_examples=150, deadline=None)
@given(st.one_of(texts, messy))
def test_sentence_spans_cover_only_text(raw):
    for s, e in split_sentences(raw):
        assert 0 <= s < e <= len(raw) and raw[s:e].strip() == raw[s:e]


passage = st.builds(
    lambda before, hl, after, title, url, section, lang: AnswerPassage(
        text=before + hl + after, highlight=hl, doc_id="d", title=title, publisher="P&Co <x>", date="2022",
        url=url, section=section, language=lang, score=1.0, full_text=before + hl + after,
        highlight_start=len(before), highlight_end=len(before) + len(hl)),
    st.one_of(texts, messy), st.one_of(texts, messy).filter(str.strip), st.one_of(texts, messy),
    st.one_of(texts, messy), st.sampled_from(["", "https://a.b/c?x=1&y=<2>", "https://lt.wikipedia.org/wiki/\""]),
    texts, st.sampled_from(["lt", "en"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(passage, min_size=0, max_size=3), st.one_of(texts, messy), st.sampled_from(["lt", "en"]),
       st.booleans())
def test_any_answer_renders_to_valid_telegram_html_within_the_limit(passages, question, lang, followup):
    answer = Answer(question=question, language=lang, answered=bool(passages), passages=passages,
                    query=question, followup=followup, message="" if passages else "<nothing & more>")
    assert_valid_html(render_html(answer))


# ------------------------------------------------------------------ the length limit's last resort


def long_passage(n: int, highlight: str, context: str = "", title: str = "T", url: str = "https://a.b/",
                 section: str = "") -> AnswerPassage:
    before, after = context, context
    return AnswerPassage(text=before + highlight + after, highlight=highlight, doc_id=f"d{n}", title=title,
                         publisher="P&Co <x>", date="2022", url=url, section=section, language="lt", score=1.0,
                         full_text=before + highlight + after, highlight_start=len(before),
                         highlight_end=len(before) + len(highlight))


def shown(out: str, total: int) -> list[int]:
    """The passage numbers whose quote is in the reply; their citations must be exactly those."""
    quoted = [i for i in range(1, total + 1) if f"<b>[{i}]</b>" in out]
    cited = sorted(int(n) for line in re.findall(r"\n\[([\d, ]+)\] ", out) for n in line.split(", "))
    assert quoted == cited == list(range(1, len(quoted) + 1)), (quoted, cited)
    return quoted


SPECIAL = "Kazachstanas & Lietuva <2021 m.> „prekyba“ \"454\" mln. € — "
UNSHORTENABLE = {
    # the highlight is never shortened: three long ones do not fit together
    "long highlights": [long_passage(i, f"{i}: " + SPECIAL * 35, context=SPECIAL * 5) for i in (1, 2, 3)],
    # citations are never shortened either: long titles, sections and links with characters to escape
    "long citations": [long_passage(i, f"Sakinys {i} & <b>.", title=f"{i} " + SPECIAL * 25,
                                    url="https://lt.wikipedia.org/wiki/?a=1&b=\"<x>\"" + "&q=ž" * 100,
                                    section=SPECIAL * 5) for i in (1, 2, 3)],
    # Telegram counts UTF-16 units: emoji and flags take two each, more than len() says
    "astral characters": [long_passage(i, f"{i} " + "😀🇱🇹" * 400, context="𝔸 " * 50) for i in (1, 2, 3)],
}


@pytest.mark.parametrize("case", UNSHORTENABLE)
def test_when_shortening_is_not_enough_the_weakest_passages_are_dropped(case):
    passages = UNSHORTENABLE[case]
    answer = Answer(question="?", language="lt", answered=True, passages=passages, followup=True,
                    query="Kiek <b>&</b>?")
    out = render_html(answer)
    assert_valid_html(out)  # valid, and within 4,096 visible characters
    kept = shown(out, len(passages))
    assert 1 <= len(kept) < len(passages), kept  # the best passages stay, the weakest go
    for i in kept:
        assert html.escape(passages[i - 1].highlight) in out  # whole highlights
    assert fit_html(answer) == (out, len(kept))  # what the buttons are built from


def test_long_context_is_shortened_and_every_passage_kept():
    passages = [long_passage(i, f"Sakinys {i} & <b>.", context=SPECIAL * 60) for i in (1, 2, 3)]
    out = render_html(Answer(question="?", language="lt", answered=True, passages=passages))
    assert_valid_html(out)
    assert shown(out, 3) == [1, 2, 3]
    assert visible_length(out) > 2000  # shortened to fit, not cut to nothing

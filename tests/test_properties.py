"""Property-based tests: any text in gives sane passages and valid Telegram HTML within 4,096 characters."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from bot.answer import Answer, AnswerPassage, render_html, visible_length
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

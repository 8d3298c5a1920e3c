"""Cleaning and chunking on the real corpus and on junk files."""
from __future__ import annotations

import logging
import re

from bot.chunking import ChunkSettings, chunk_document, clean_text, split_sentences
from bot.corpus import clean, read_corpus, read_document


def all_text(settings) -> str:
    return "\n".join(p.text for d in read_corpus(settings.corpus_dir) for p in d.paragraphs)


def test_scraping_leftovers_never_reach_a_paragraph(settings):
    text = all_text(settings)
    assert "redaguoti" not in text
    assert not re.search(r"\[\d+\]", text)
    assert ".svg" not in text and ".png" not in text
    assert "Tell a friend" not in text
    assert "Images | Kazakh MFA" not in text
    assert "Source: astanatimes.com" not in text
    assert "Straipsnis iš Vikipedijos" not in text
    assert "KAZINFORM -" not in text and "Телерадиокомпания" not in text
    # the reference list (Šaltiniai) is gone, its entries too
    assert "Migracijos metraštis" not in text
    assert "Wayback Machine" not in text


def test_headings_become_sections_and_empty_sections_vanish(settings):
    docs = {d.doc_id: d for d in read_corpus(settings.corpus_dir)}
    wiki = docs["000_ee3232754ca895a1"]
    sections = {p.section for p in wiki.paragraphs}
    assert "Ekonominiai santykiai" in sections
    assert "Pasiuntiniai Lietuvai" not in sections  # heading with no entries
    assert "Šaltiniai" not in sections and "Nuorodos" not in sections
    assert all("redaguoti" not in s for s in sections)


def test_flattened_table_becomes_readable_figures(settings):
    text = all_text(settings)
    assert "Kazachstano piliečių skaičius Lietuvoje: 2016 m. – 347; 2020 m. – 488; 2021 m. – 686; 2022 m. – 833." in text


def test_metadata_comes_from_the_sidecar(settings):
    docs = {d.doc_id: d for d in read_corpus(settings.corpus_dir)}
    d = docs["001_f89bf38950e97dc5"]
    assert d.date == "2022-06-15" and d.language == "en" and "Kazinform" in d.publisher
    assert docs["000_ee3232754ca895a1"].language == "lt"


def test_contradictory_trade_sentence_is_quoted_as_written(settings):
    assert "it increased by 311% compared to the same period in 2021 (USD 71.6 million)" in all_text(settings)


def test_junk_files_are_skipped_with_a_warning_naming_them(tmp_path, caplog):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG" * 100)
    (tmp_path / "latin1.txt").write_bytes("Kaunas – Šiauliai".encode("cp1257"))
    (tmp_path / "ok.md").write_text("# Title\n\nA real sentence about Vilnius.\n", encoding="utf-8")
    (tmp_path / "big.txt").write_text("Lietuva ir Kazachstanas. " * 90_000, encoding="utf-8")  # ~2 MB
    with caplog.at_level(logging.WARNING):
        docs = read_corpus(tmp_path)
    names = {d.path.name for d in docs}
    assert "ok.md" in names and "big.txt" in names
    assert not names & {"empty.txt", "binary.txt", "latin1.txt"}
    for bad in ("empty.txt", "binary.txt", "latin1.txt"):
        assert any(bad in r.getMessage() for r in caplog.records), bad


def test_a_symlink_pointing_outside_the_corpus_is_refused(tmp_path, caplog):
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "link.txt").symlink_to(outside)
    with caplog.at_level(logging.WARNING):
        assert read_corpus(corpus) == []
    assert any("outside" in r.getMessage() for r in caplog.records)


def test_a_metadata_sidecar_pointing_outside_the_corpus_is_ignored(tmp_path, caplog):
    outside = tmp_path / "elsewhere.toml"
    outside.write_text('title = "from outside"\n', encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.txt").write_text("Lithuania and Kazakhstan signed an agreement in 1994.\n", encoding="utf-8")
    (corpus / "doc.meta.toml").symlink_to(outside)
    with caplog.at_level(logging.WARNING):
        [doc] = read_corpus(corpus)
    assert doc.title != "from outside"
    assert any("outside" in r.getMessage() for r in caplog.records)


def test_markdown_headings_are_sections():
    paras = clean("# Intro\n\nFirst.\n\n## Trade\n\nSecond [3].\n\n## Empty\n\n## References\n\n1. x\n")
    assert [(p.section, p.text) for p in paras] == [("Intro", "First."), ("Trade", "Second.")]


def test_sentences_split_on_punctuation_but_not_abbreviations():
    t = ("Nepriklausomybę pripažino 1991 m. gruodžio 23 d. Diplomatiniai santykiai užmegzti. "
         "Kazachijos S. D. Asfendijarovo universitetas. 1918 m. Lietuva atkūrė. Mr. Smith came.")
    parts = [t[a:b] for a, b in split_sentences(t)]
    assert parts == ["Nepriklausomybę pripažino 1991 m. gruodžio 23 d.", "Diplomatiniai santykiai užmegzti.",
                     "Kazachijos S. D. Asfendijarovo universitetas.", "1918 m. Lietuva atkūrė.", "Mr. Smith came."]


def test_passages_know_document_section_language_and_span(settings):
    cs = ChunkSettings()
    for doc in read_corpus(settings.corpus_dir):
        full = clean_text(doc)
        passages = chunk_document(doc, cs)
        assert passages
        for p in passages:
            assert full[p.start:p.end] == p.text
            assert len(p.text) <= cs.max_chars
            assert p.language == doc.language and p.doc_id == doc.doc_id
            for s, e in p.sentences:
                assert p.text[s:e].strip() == p.text[s:e] and p.text[s:e]
            assert p.section in {q.section for q in doc.paragraphs}


def test_a_long_paragraph_is_cut_with_overlap(tmp_path):
    sentences = [f"Sentence number {i} talks about trade between Vilnius and Almaty." for i in range(40)]
    (tmp_path / "long.txt").write_text(" ".join(sentences), encoding="utf-8")
    doc = read_document(tmp_path / "long.txt")
    ps = chunk_document(doc, ChunkSettings(target_chars=300, max_chars=400, overlap=1))
    assert len(ps) > 3
    for a, b in zip(ps, ps[1:]):
        assert b.start < a.end  # one sentence shared

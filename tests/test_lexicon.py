"""The bilingual word lexicon (bot/lexicon.json, from FreeDict) and what it adds to retrieval:
a question's words translated into the other language's index tokens, scored with BM25, and
counted in a passage's word coverage."""
from __future__ import annotations

import gzip
import json
import runpy
import sys
from pathlib import Path

import bot.lexical as lexical
from bot.engine import clean_input
from bot.lexical import passage_tokens, translate

ROOT = Path(__file__).resolve().parents[1]


def _flat(groups: list[list[str]]) -> set[str]:
    return {t for g in groups for t in g}


def test_lexicon_ships_with_the_package_and_translates_both_ways_with_or_without_diacritics():
    import tomllib

    assert lexical.LEXICON_FILE.is_file()
    # an installed (non-editable) package carries it only as declared package data
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "lexicon.json" in pyproject["tool"]["setuptools"]["package-data"]["bot"]
    lt = _flat(translate("Kiek piliečių ištremta?", "lt"))
    assert {"citizen", "deport"} <= lt
    # typed without diacritics the words still meet the lexicon (it is filed by folded stem prefix)
    assert _flat(translate("kiek pilieciu istremta", "lt")) >= {"citizen", "deport"}
    en = _flat(translate("Which citizens were deported?", "en"))
    assert {"piliet", "istrem"} <= en
    # the language decides the direction; an unknown one tries both
    assert not _flat(translate("citizens", "lt")) & {"citizen"}
    assert _flat(translate("citizens piliečiai", None)) >= {"piliet", "citizen"}
    assert translate("", "lt") == [] and translate("Vasiulis Nursultan 2022", "lt") == []
    # forms of one word are one entry, counted once
    assert len(translate("state states stated", "en")) == 1


def test_a_lithuanian_question_finds_english_passages_through_its_translation(built_index):
    lex = built_index.lexical
    question = "Kiek lietuvių buvo ištremta į Kazachstaną?"
    scores = lex.translated_scores(question, "lt")
    english = [i for i, p in enumerate(built_index.passages) if p.language == "en"]
    best = max(english, key=lambda i: scores[i])
    assert scores[best] > 0 and "deport" in built_index.passages[best].text.lower()
    # one score per passage, and nothing for a question the lexicon cannot translate
    assert scores.shape == (len(built_index.passages),)
    assert not lex.translated_scores("Zxqw Vbnm", "lt").any()


def test_coverage_counts_a_word_found_in_translation_or_in_another_inflection(built_index):
    lex = built_index.lexical
    passage = next(p for p in built_index.passages if p.language == "lt" and "piliečiai" in p.text)
    tokens = passage_tokens(passage.text, "lt")
    assert lex.coverages("citizens", [tokens], bilingual=False)[0] == 0.0
    assert lex.coverages("citizens", [tokens])[0] == 1.0
    assert lex.coverages("pancakes", [tokens])[0] == 0.0


def test_a_damaged_lexicon_file_means_no_translation_and_a_warning(tmp_path, monkeypatch, caplog):
    for content in ("[]", '{"lt": [], "en": {}}', "{not json"):
        path = tmp_path / "lexicon.json"
        path.write_text(content, encoding="utf-8")
        monkeypatch.setattr(lexical, "LEXICON_FILE", path)
        lexical._lexicon.cache_clear()
        try:
            assert translate("Kiek piliečių?", "lt") == []
            assert "lexicon.json is missing or damaged" in caplog.text
        finally:
            lexical._lexicon.cache_clear()
    monkeypatch.undo()
    assert translate("Kiek piliečių?", "lt")


def test_the_build_script_reads_dictd_dictionaries(tmp_path, monkeypatch):
    """scripts/build_lexicon.py on two tiny dictionaries in dictd's format (the Debian packages
    dict-freedict-lit-eng and dict-freedict-eng-lit are not installed here)."""
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def num(n: int) -> str:
        out = ""
        while True:
            out = b64[n % 64] + out
            n //= 64
            if not n:
                return out

    def write(name: str, entries: list[tuple[str, str]]) -> None:
        body, index = b"", ["00databaseinfo\tA\tB"]
        for head, text in entries:
            chunk = f"{head}\n{text}\n\n".encode()
            index.append(f"{head.split(' /')[0]}\t{num(len(body))}\t{num(len(chunk))}")
            body += chunk
        (tmp_path / f"{name}.dict.dz").write_bytes(gzip.compress(body))
        (tmp_path / f"{name}.index").write_text("\n".join(index) + "\n", encoding="utf-8")

    write("freedict-lit-eng", [("pilietis /pʲɪlʲˈɛtʲɪs/ <n, m>", "citizen, subject"),
                               ("tremtis <n, f>", "1. exile; 2. deportation"), ("du /du/", "2")])
    write("freedict-eng-lit", [("harbour /ˈhɑːbə/", "uostas"), ("2", "du")])
    out = tmp_path / "lexicon.json"
    monkeypatch.setattr(lexical, "LEXICON_FILE", out)
    monkeypatch.setattr(sys, "argv", ["build_lexicon.py", str(tmp_path)])
    try:
        runpy.run_path(str(ROOT / "scripts" / "build_lexicon.py"), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["lt"][lexical.lexicon_key("pilietis", "lt")]) == {"citizen", "subject"}
    assert "2" not in data["lt"] and "2" not in data["en"]
    assert {"eksil", "deport"} <= set(data["lt"][lexical.lexicon_key("tremtis", "lt")])
    # each dictionary is read backwards too
    assert "piliet" in data["en"][lexical.lexicon_key("citizen", "en")]
    assert data["en"][lexical.lexicon_key("harbour", "en")] == ["uost"]
    assert data["lt"][lexical.lexicon_key("uostas", "lt")] == ["harbour"]


def test_markdown_and_links_in_a_question_are_not_part_of_it():
    assert clean_input("*When* were _diplomatic_ relations `established`? [x](http://a.b) **now**") == \
        "When were diplomatic relations established? x now"
    assert clean_input("see https://example.com/a?b=c please") == "see please"
    assert clean_input("kada\x00 užmegzti   santykiai") == "kada užmegzti santykiai"
    assert clean_input("") == "" and clean_input("**") == ""

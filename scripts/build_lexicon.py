"""Build bot/lexicon.json, the Lithuanian<->English word lexicon behind the ranker's
"translated BM25" feature, from the FreeDict dictionaries (GPL-2+, https://freedict.org).

    apt-get install dict-freedict-lit-eng dict-freedict-eng-lit
    python scripts/build_lexicon.py [DICTD_DIR]      # default /usr/share/dictd

Keys are a word's stem (bot.lexical.lexicon_key; at run time a stem not found is also looked up
by its first letters); values are the translations in the BM25 index's own token form (folded, stemmed,
spelling-normalised: bot.lexical.analyze), so a question's word translates straight into tokens
that index knows. Only single-word headwords are kept; each maps to the words of its
first few translations (dictionaries list the common senses first), in both directions, since
each dictionary also reads backwards.
"""
from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bot.lexical import LEXICON_FILE, analyze, lexicon_key, words  # noqa: E402

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
SENSES = 8  # translations kept per headword


def _num(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + _B64.index(c)
    return n


def entries(dictd: Path, name: str) -> list[tuple[str, list[str]]]:
    """(headword, translations) of a dictd dictionary, in the dictionary's order."""
    import re

    data = gzip.open(dictd / f"{name}.dict.dz").read()
    out = []
    for line in (dictd / f"{name}.index").read_text(encoding="utf-8").splitlines():
        head, off, length = line.split("\t")[:3]
        if head.startswith("00"):
            continue
        body = data[_num(off):_num(off) + _num(length)].decode("utf-8").strip().split("\n")
        head = re.sub(r"/.*|<.*?>", "", body[0]).strip()
        senses = []
        for text in body[1:]:
            text = re.sub(r"^\s*\d+\.\s*", "", text)
            for t in re.split(r"[;,]", text):
                t = re.sub(r"\(.*?\)|<.*?>|/.*?/|\[.*?\]", "", t).strip()
                if t and not t.lower().startswith(("synonym", "see ")):
                    senses.append(t)
        out.append((head, senses))
    return out


def main() -> int:
    dictd = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/usr/share/dictd")
    lexicon: dict[str, dict[str, set[str]]] = {"lt": {}, "en": {}}

    def add(src: str, dst: str, head: str, senses: list[str]) -> None:
        if len(words(head)) != 1 or not words(head)[0].isalpha() or not analyze(head, src):
            return
        key = lexicon_key(words(head)[0], src)
        for sense in senses[:SENSES]:
            toks = analyze(sense, dst)
            if 1 <= len(toks) <= 2:
                lexicon[src].setdefault(key, set()).update(t for t in toks if len(t) > 2 and t.isalpha())

    lt_en, en_lt = entries(dictd, "freedict-lit-eng"), entries(dictd, "freedict-eng-lit")
    for head, senses in lt_en:
        add("lt", "en", head, senses)
        for s in senses[:SENSES]:
            add("en", "lt", s, [head])
    for head, senses in en_lt:
        add("en", "lt", head, senses)
        for s in senses[:SENSES]:
            add("lt", "en", s, [head])
    out = {lang: {k: sorted(v) for k, v in sorted(m.items()) if v} for lang, m in lexicon.items()}
    LEXICON_FILE.write_text(json.dumps({"source": "FreeDict lit-eng 0.7.2 + eng-lit (GPL-2+)", **out},
                                       ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{LEXICON_FILE}: {len(out['lt'])} Lithuanian and {len(out['en'])} English stems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

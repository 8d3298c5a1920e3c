"""Lexical search: BM25 (bm25s) over stemmed, diacritic-folded tokens in Lithuanian and English.

Diacritics are folded *before* stemming on both sides, so "pilieciu" and "piliečių" meet at
the same stem. A passage is stemmed with its own language's Snowball stemmer; a question's
language is uncertain, so its words are stemmed both ways and both stems are searched.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
#: Lithuanian<->English word lexicon in token form (built by scripts/build_lexicon.py from FreeDict)
LEXICON_FILE = Path(__file__).with_name("lexicon.json")
_STEMMERS = {"lt": "lithuanian", "en": "english"}
#: very common words that carry no evidence (after folding); Snowball lists are not shipped
_STOPWORDS = set(
    """
    a an and are as at be by for from has have how i in is it its of on or that the this to was
    were what when where which who whom why will with did do does there their they he she his her
    and about many much tell me please
    ir ar kad kas kur kada kaip kiek kokia koks kokie kokios kuri kuris kurie kurios yra buvo bus
    tai tas ta su be is i iki nuo del per apie po prie uz o bet kai jis ji jie jos jo ju mes jus
    man mane pasakyk prasau kuo ka
    """.split()
)


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Piliečių" -> "pilieciu"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_STEMMERS.get(language, "english"))


_SPELLING = [("kh", "h"), ("ch", "h"), ("sh", "s"), ("zh", "z"), ("y", "j"), ("w", "v"), ("x", "ks"),
             ("ph", "f"), ("th", "t")]


def spelling_key(token: str) -> str:
    """Bridge English and Lithuanian spellings of names: Nazarbayev/Nazarbajev,
    Kazakhstan/Kazachstan, Shymkent/Šymkent (after folding)."""
    for a, b in _SPELLING:
        token = token.replace(a, b)
    return token


@lru_cache(maxsize=65536)
def cognate_key(word: str, length: int = 5) -> str | None:
    """A language-neutral key for a (folded) word: spelling key, c/q as k, doubled letters
    single, first ``length`` letters. Names and international words then meet across the two
    languages whatever their endings: Vasiulis/Vasiulio, consultations/konsultacijose,
    Klaipeda/Klaipėdos, technologies/technologijos. Words under four letters have none."""
    word = spelling_key(word).replace("c", "k").replace("q", "k")
    word = re.sub(r"(.)\1", r"\1", word)
    return word[:length] if len(word) >= 4 else None


def cognate_keys(text: str) -> list[str]:
    return [k for k in (cognate_key(w) for w in words(text)) if k]


def _bm25s():
    """bm25s, imported on first use (it pulls in scipy) and kept quiet: it sets its own logger
    to DEBUG when imported."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def bm25(corpus_tokens: Sequence[Sequence[str]]):
    """A bm25s index over already-analysed tokens (one list per passage, none empty)."""
    retriever = _bm25s().BM25()
    retriever.index([list(t) for t in corpus_tokens], show_progress=False)
    return retriever


def words(text: str) -> list[str]:
    """Folded word tokens without stopwords."""
    return [w for w in _WORD.findall(fold(text)) if w not in _STOPWORDS and w != "_"]


def analyze(text: str, language: str) -> list[str]:
    """Tokens of a passage: folded, stopwords removed, stemmed in ``language``."""
    return [spelling_key(t) for t in _stemmer(language).stemWords(words(text))]


def analyze_query(text: str) -> list[str]:
    """Tokens of a question: each word stemmed as Lithuanian and as English (both kept)."""
    ws = words(text)
    seen: dict[str, None] = {}
    for lang in _STEMMERS:
        for t in _stemmer(lang).stemWords(ws):
            seen[spelling_key(t)] = None
    return list(seen)


@lru_cache(maxsize=16384)
def word_stems(word: str) -> frozenset[str]:
    """The (folded) word's stems under each language's stemmer, spelling-normalised (cached:
    every candidate passage and sentence asks for the question's words again)."""
    return frozenset({spelling_key(_stemmer(lang).stemWord(word)) for lang in _STEMMERS})


_LT_MARKS = set("ąčęėįšųūžĄČĘĖĮŠŲŪŽ")


class DiacriticRestorer:
    """Puts Lithuanian diacritics back into a question typed without them ("kiek pilieciu" ->
    "kiek piliečių"), using the words of the corpus itself, so the embedder sees real words.

    Only words the corpus knows are changed, and only when the question has no diacritics at all.
    The word forms are worked out when the index is built (:meth:`from_texts`) and stored with it.
    """

    def __init__(self, forms: dict[str, str] | None = None) -> None:
        #: folded word -> its most frequent spelling with diacritics in the corpus
        self.forms = forms or {}

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> "DiacriticRestorer":
        counts: dict[str, dict[str, int]] = {}
        for text in texts:
            for w in _WORD.findall(text.lower()):
                if any(c in _LT_MARKS for c in w):
                    forms = counts.setdefault(fold(w), {})
                    forms[w] = forms.get(w, 0) + 1
        return cls({k: max(v, key=v.get) for k, v in counts.items()})

    def restore(self, text: str) -> str:
        if any(c in _LT_MARKS for c in text):
            return text

        def swap(m: re.Match) -> str:
            w = m.group(0)
            form = self.forms.get(w.lower())
            if form is None:
                return w
            return form.capitalize() if w[0].isupper() else form

        return _WORD.sub(swap, text)


def lexicon_key(word: str, language: str) -> str:
    """How the lexicon files a (folded) word: its stem, spelling-normalised."""
    return spelling_key(_stemmer(language).stemWord(word))


#: letters of a stem that find lexicon entries when the whole stem does not
_PREFIX = 5


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[dict[str, list[str]], dict[str, list[str]]]]:
    """Per language: the lexicon by stem, and by stem prefix (the union of the stems sharing it),
    so forms a stemmer leaves apart still meet ("piliečių" -> "pilieci", "pilietis" -> "piliet").
    {} (and a warning) when the file is missing, unreadable or not a lexicon."""
    import json
    import logging

    try:
        data = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))
        tables = {lang: data[lang] for lang in _STEMMERS}
        if not all(isinstance(t, dict) and all(isinstance(v, list) for v in t.values()) for t in tables.values()):
            raise ValueError("not a lexicon")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        logging.getLogger(__name__).warning("%s is missing or damaged (%s): no word translation "
                                            "(reinstall the package)", LEXICON_FILE.name, exc)
        return {}
    out = {}
    for lang, table in tables.items():
        prefixes: dict[str, dict[str, None]] = {}
        for stem, targets in table.items():
            prefixes.setdefault(stem[:_PREFIX], {}).update(dict.fromkeys(targets))
        out[lang] = (table, {k: list(v) for k, v in prefixes.items()})
    return out


def in_lexicon(word: str) -> bool:
    """Is the (folded) word, by its stem, a dictionary word of either language (a name is not)?"""
    return any(lexicon_key(word, lang) in entry[0] for lang, entry in _lexicon().items())


def translations(word: str, language: str) -> list[str]:
    """A (folded) word's translations into the other language, as index tokens (:func:`analyze`):
    by its stem, or else by its stem's first letters; [] when the lexicon lacks it."""
    entry = _lexicon().get(language)
    if not entry or word.isdigit():
        return []
    key = lexicon_key(word, language)
    return entry[0].get(key) or entry[1].get(key[:_PREFIX], [])


def translate(question: str, language: str | None) -> list[list[str]]:
    """The question's words looked up in the bilingual lexicon, as index tokens of the *other*
    language, one list per distinct entry found:
    "piliečių gyvena" -> [["citizen", "subject"], ["abid", "life", ...]].
    ``language`` is the question's; when it is not lt or en, both directions are tried. Words the
    lexicon lacks give nothing (names and international words are the word-prefix BM25's job)."""
    out: dict[tuple[str, ...], None] = {}
    for src in ([language] if language in _STEMMERS else list(_STEMMERS)):
        for w in dict.fromkeys(words(question)):
            if found := translations(w, src):
                out[tuple(found)] = None  # "state", "states", "stated": one entry, counted once
    return [list(t) for t in out]


def passage_tokens(text: str, language: str) -> set[str]:
    """What word coverage looks for in a passage: its index tokens, plus its word prefixes marked
    "~" (:func:`cognate_key`), which meet the other language's cognates and inflections."""
    return set(analyze(text, language)) | {"~" + k for k in cognate_keys(text)}


@lru_cache(maxsize=1024)
def question_forms(question: str, bilingual: bool = True) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each distinct word of ``question`` with the passage tokens that count as finding it
    (:meth:`LexicalIndex.coverages`): its stems and, with ``bilingual``, its translations and
    word prefixes. Cached: one question is matched against every candidate and sentence."""
    out = []
    for w in sorted(set(words(question))):
        found = word_stems(w)
        for src in (_STEMMERS if bilingual else ()):
            targets = translations(w, src)
            # a translation counts in any inflection: by its word prefix too
            found = found | set(targets) | {"~" + k for t in targets if (k := cognate_key(t))}
        if bilingual and (key := cognate_key(w)):
            found = found | {"~" + key}
        out.append((w, frozenset(found)))
    return tuple(out)


class LexicalIndex:
    """Lexical evidence over passages, built once with the index and loaded with it.

    - ``scores``: BM25 over stemmed, diacritic-folded words, every passage scored for a question;
    - ``cognate_scores``: BM25 over language-neutral word prefixes (:func:`cognate_keys`), so
      names and international words meet across Lithuanian and English;
    - ``coverage``: how much of a question (weighted by word rarity) a passage contains,
      absolute evidence that BM25's relative scores lack, from the stored document frequencies;
    - ``restorer``: the corpus's spellings with diacritics, for questions typed without them.
    """

    def __init__(self, retriever=None, size: int = 0, df: dict[str, int] | None = None,
                 cognates=None, restorer: DiacriticRestorer | None = None) -> None:
        self._bm25 = retriever
        self._cognates = cognates
        self.size = size
        self.df = df or {}
        self.restorer = restorer or DiacriticRestorer()

    def idf(self, word: str) -> float:
        """Rarity of a (folded) word: unknown words count as rare as the rarest known ones."""
        df = max((self.df.get(s, 0) for s in word_stems(word)), default=0)
        return float(np.log((self.size + 1) / (df + 0.5)))

    def coverage(self, question: str, passage_tokens: set[str]) -> float:
        """Share of the question's words (idf-weighted) found in a passage's token set."""
        return float(self.coverages(question, [passage_tokens])[0])

    def coverages(self, question: str, token_sets: Sequence[set[str]], bilingual: bool = True) -> np.ndarray:
        """:meth:`coverage` for several passages, the question's stems and weights worked out once.
        With ``bilingual`` a word also counts as found when one of its translations is, or a word
        with its prefix (token sets from :func:`passage_tokens`)."""
        forms = question_forms(question, bilingual)
        stems = [found for _, found in forms]
        weights = [self.idf(w) for w, _ in forms]
        total = sum(weights)
        if total <= 0:
            return np.zeros(len(token_sets))
        return np.array([sum(wt for st, wt in zip(stems, weights) if st & toks) / total
                         for toks in token_sets])

    @classmethod
    def build(cls, texts: Sequence[str], languages: Sequence[str]) -> "LexicalIndex":
        corpus_tokens = [analyze(t, lang) or ["∅"] for t, lang in zip(texts, languages)]
        retriever = bm25(corpus_tokens)
        df: dict[str, int] = {}
        for toks in corpus_tokens:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        cognates = bm25([cognate_keys(t) or ["∅"] for t in texts]) if texts else None
        return cls(retriever, len(texts), df, cognates, DiacriticRestorer.from_texts(texts))

    @staticmethod
    def _get_scores(index, tokens: list[str], size: int) -> np.ndarray:
        known = [t for t in tokens if t in index.vocab_dict] if index is not None and size else []
        if not known:
            return np.zeros(size, dtype=np.float32)
        return np.asarray(index.get_scores(known), dtype=np.float32)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for ``question`` (zeros when no word matches)."""
        return self._get_scores(self._bm25, analyze_query(question), self.size)

    def cognate_scores(self, question: str) -> np.ndarray:
        """Word-prefix BM25 score of every passage for ``question`` (zeros when nothing matches)."""
        return self._get_scores(self._cognates, cognate_keys(question), self.size)

    def translated_scores(self, question: str, language: str | None) -> np.ndarray:
        """BM25 evidence of every passage for the question's words translated into the other
        language (:func:`translate`): per word, its best-matching translation's BM25 score, summed
        over words, so a word with many senses counts once, like a word with one."""
        total = np.zeros(self.size, dtype=np.float32)
        if self._bm25 is None or not self.size:
            return total
        vocab = self._bm25.vocab_dict
        scored: dict[str, np.ndarray] = {}  # each distinct token scored once
        for senses in translate(question, language):
            known = [t for t in senses if t in vocab]
            for t in known:
                if t not in scored:
                    scored[t] = np.asarray(self._bm25.get_scores([t]), dtype=np.float32)
            if known:
                total += np.max([scored[t] for t in known], axis=0)
        return total

    def save(self, directory: Path) -> None:
        import json

        directory = Path(directory)
        self._bm25.save(str(directory))
        if self._cognates is not None:
            self._cognates.save(str(directory / "cognates"))
        (directory / "df.json").write_text(json.dumps(self.df, ensure_ascii=False), encoding="utf-8")
        (directory / "diacritics.json").write_text(json.dumps(self.restorer.forms, ensure_ascii=False),
                                                   encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, size: int) -> "LexicalIndex":
        import json

        directory = Path(directory)
        df = json.loads((directory / "df.json").read_text(encoding="utf-8"))
        forms = json.loads((directory / "diacritics.json").read_text(encoding="utf-8"))
        cognates = _bm25s().BM25.load(str(directory / "cognates")) if (directory / "cognates").is_dir() else None
        if size and cognates is None:
            raise ValueError("the word-prefix BM25 is missing")
        return cls(_bm25s().BM25.load(str(directory)), size, df, cognates, DiacriticRestorer(forms))

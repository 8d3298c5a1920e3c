"""Which language a question is in: Lithuanian, English, or something the bot does not speak.

Two kinds of evidence, both cheap:

* **Function words.** Questions are short and full of names ("Who is Rimantas Benetis?"), which
  pull a character n-gram detector towards the names' language. The little words around them
  ("who", "is", "kas", "kiek", "o") say which language the person writes in, with or without
  diacritics. Words both languages share ("i", "is", "be", "to") count for neither.
* **lingua** (a maintained n-gram detector) in its low-accuracy mode, restricted to the languages
  people are likely to write to this bot in: it decides when the function words do not, and it
  recognises a question in another language ("Wie hoch war der Handel?"). Low-accuracy mode loads
  in ~0.1 s instead of ~1 s for the full models, which held the interpreter lock for the whole
  start-up. The full models alone took English questions about Lithuanian people for Lithuanian;
  the combination gets every answerable question of the QA sets right (``run_bot.py eval``, the
  "language" row).

Cyrillic needs no model: Kazakh has letters Russian lacks; other scripts (Arabic, Hebrew, Greek,
CJK, ...) are named by the script itself.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

from .lexical import fold

#: languages the bot answers in
SUPPORTED = ("lt", "en")

#: the bot's two languages and the Latin-script ones people around them most often write in
_CANDIDATES = ("ENGLISH", "LITHUANIAN", "LATVIAN", "POLISH", "GERMAN")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_WORD = re.compile(r"[^\W\d_]+")
_POSSESSIVE = re.compile(r"(?<=[^\W\d_])['’]s\b", re.IGNORECASE)
#: letters only Lithuanian has among the candidates, and Latvian's own (its long vowels and softened consonants)
_LT_LETTERS = re.compile(r"[ėįųĖĮŲ]")
_LV_LETTERS = re.compile(r"[āēīģķļņĀĒĪĢĶĻŅ]")
_SHARED_WITH_LV = re.compile(r"[čšžūČŠŽŪ]")

# Function words, folded (no diacritics), as people use them in questions.
_EN = set("""
the a an of in on at to for from with by about and or but is are was were be been has have had do does did
will would can could should what which who whom whose when where why how many much there their they
this that these those it its he she his her him we our you your i me my not no any some than into after
before during between
""".split())
_LT = set("""
ir ar o bet kad kas ko kam ka kuo kur kada kaip kiek kodel koks kokia kokie kokios kokiu kokio kuris
kuri kurie kurios kurio kuriu yra buvo bus tai tas ta tie tos to jis ji jie jos jo ju su is i iki nuo
del per apie po prie uz tarp be m metais metu ten cia sis si sie sios sio nei dar jau tik taip pat
""".split())
_SHARED = _EN & _LT
_EN -= _SHARED
_LT -= _SHARED
#: a clear detection of another language outweighs function words only when they are this sparse
#: ("Wie viele Litauer leben in Kasachstan?" has one English-looking word, "in")
_FEW_WORDS = 0.25

_lock = threading.Lock()
_built = []


def _detector():
    """The detector, built once per process (callers wait for a build already under way)."""
    if not _built:
        with _lock:
            if not _built:
                from lingua import Language, LanguageDetectorBuilder

                langs = [getattr(Language, name) for name in _CANDIDATES]
                _built.append(LanguageDetectorBuilder.from_languages(*langs)
                              .with_preloaded_language_models().with_low_accuracy_mode().build())
    return _built[0]


def warm(background: bool = False) -> None:
    """Load the detector's models now rather than on the first question (optionally in a thread)."""
    if background:
        threading.Thread(target=_detector, name="lingua-warm", daemon=True).start()
    else:
        _detector()


#: scripts other than Latin and Cyrillic, by the first word of their letters' Unicode names
_SCRIPTS = {"ARABIC": "ar", "HEBREW": "he", "GREEK": "el", "CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja",
            "HANGUL": "ko", "GEORGIAN": "ka", "ARMENIAN": "hy", "DEVANAGARI": "hi", "THAI": "th"}


def _other_script(letters: str) -> str | None:
    """The language code of a non-Latin, non-Cyrillic script most of ``letters`` are in."""
    counts: dict[str, int] = {}
    for c in letters:
        if ord(c) < 0x0370:  # Latin and its diacritics
            continue
        code = _SCRIPTS.get(unicodedata.name(c, "").split(" ")[0])
        if code:
            counts[code] = counts.get(code, 0) + 1
    if not counts:
        return None
    code, n = max(counts.items(), key=lambda kv: kv[1])
    return code if n > len(letters) / 2 else None


def is_function_word(word: str) -> bool:
    """Is the (folded) word one of the little words of English or Lithuanian ("the", "in", "o")?"""
    return word in _EN or word in _LT or word in _SHARED


def function_words(text: str) -> tuple[int, int, int]:
    """(English function words, Lithuanian function words, all words) in ``text``. The English
    possessive counts as one ("Who is Lithuania's ambassador?" has two, not one in five words)."""
    possessives = len(_POSSESSIVE.findall(text))
    words = [fold(w) for w in _WORD.findall(_POSSESSIVE.sub("", text))]
    return sum(w in _EN for w in words) + possessives, sum(w in _LT for w in words), len(words)


@lru_cache(maxsize=4096)
def detect(text: str, default: str | None = None) -> str | None:
    """Return an ISO 639-1 code ("lt", "en", "ru", ...) or ``default`` when the text has no words.

    Short or ambiguous text leans towards the two languages the bot speaks: another language
    wins only when lingua is clearly sure of it and the text has few English/Lithuanian
    function words.
    """
    letters = re.sub(r"[^\w]|\d|_", "", text)
    if len(letters) < 2:
        en, lt, _ = function_words(text)  # "o 2020?" is Lithuanian
        return "lt" if lt > en else "en" if en > lt else default
    if len(_CYRILLIC.findall(letters)) > len(letters) / 2:
        return "kk" if _KAZAKH_LETTERS.search(text) else "ru"
    script = _other_script(letters)
    if script:
        return script
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return default
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    en, lt, n = function_words(text)
    if en != lt:
        voted = "en" if en > lt else "lt"
        strong = max(en, lt) >= 2 or max(en, lt) / max(n, 1) >= _FEW_WORDS
        if code in SUPPORTED or strong or best.value < 0.6:
            return voted
        return code
    if code in SUPPORTED:
        return code
    # No function words either way: the letters. "ė", "į", "ų" are Lithuanian's alone; a word
    # lingua takes for Latvian ("kultūra") without any of Latvian's own letters is Lithuanian.
    if _LT_LETTERS.search(text) or (code == "lv" and _SHARED_WITH_LV.search(text)
                                    and not _LV_LETTERS.search(text)):
        return "lt"
    supported = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    lt_value, en_value = supported.get("lt", 0.0), supported.get("en", 0.0)
    # Latin-script text where lingua is unsure: short questions in LT/EN often look Latvian or
    # German to it; only a clear win for another language counts.
    if best.value < 0.6 and max(lt_value, en_value) > 0.05:
        return "lt" if lt_value >= en_value else "en"
    if len(letters) < 12 and default in SUPPORTED:
        return default
    return code

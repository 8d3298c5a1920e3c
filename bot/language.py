"""Which language a question is in: Lithuanian, English, or something the bot does not speak.

Uses lingua (a maintained, n-gram based detector that works on short text) restricted to
the languages people are likely to write to this bot in. Lithuanian typed without
diacritics ("kiek pilieciu") is still detected as Lithuanian.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

#: languages the bot answers in
SUPPORTED = ("lt", "en")

#: the bot's two languages and the ones people around them most often write in; each extra
#: language costs start-up time (lingua loads its models), so the list stays short
#: Cyrillic needs no model: Kazakh has letters Russian lacks.
_CANDIDATES = ("ENGLISH", "LITHUANIAN", "LATVIAN", "POLISH", "GERMAN")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


_lock = threading.Lock()
_built = []


def _detector():
    """The detector, built once per process (callers wait for a build already under way)."""
    if not _built:
        with _lock:
            if not _built:
                from lingua import Language, LanguageDetectorBuilder

                langs = [getattr(Language, name) for name in _CANDIDATES]
                _built.append(LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build())
    return _built[0]


def warm(background: bool = False) -> None:
    """Load the detector's models now rather than on the first question (optionally in a
    thread, overlapping with loading the index and the embedder)."""
    if background:
        threading.Thread(target=_detector, name="lingua-warm", daemon=True).start()
    else:
        _detector()


@lru_cache(maxsize=4096)
def detect(text: str, default: str | None = None) -> str | None:
    """Return an ISO 639-1 code ("lt", "en", "ru", ...) or ``default`` when the text has no words.

    Short or ambiguous text leans towards the two languages the bot speaks: lingua's
    confidence for English or Lithuanian is preferred unless another language clearly wins.
    """
    letters = re.sub(r"[^\w]|\d|_", "", text)
    if len(letters) < 2:
        return default
    cyrillic = len(_CYRILLIC.findall(letters))
    if cyrillic > len(letters) / 2:
        return "kk" if _KAZAKH_LETTERS.search(text) else "ru"
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return default
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if code in SUPPORTED:
        return code
    supported = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
    lt, en = supported.get("lt", 0.0), supported.get("en", 0.0)
    # Latin-script text where lingua is unsure: short questions in LT/EN often look Latvian or
    # German to it; only a clear win for another language counts.
    if best.value < 0.6 and max(lt, en) > 0.05:
        return "lt" if lt >= en else "en"
    if len(letters) < 12 and default in SUPPORTED:
        return default
    return code

"""Which language a question is in: Lithuanian, English, or something the bot does not speak.

Uses lingua (a maintained, n-gram based detector that works on short text) restricted to
the languages people are likely to write to this bot in. Lithuanian typed without
diacritics ("kiek pilieciu") is still detected as Lithuanian.
"""
from __future__ import annotations

import re
from functools import lru_cache

#: languages the bot answers in
SUPPORTED = ("lt", "en")

_CANDIDATES = (
    "ENGLISH", "LITHUANIAN", "RUSSIAN", "KAZAKH", "LATVIAN", "POLISH", "GERMAN", "FRENCH",
    "SPANISH", "UKRAINIAN", "ESTONIAN", "ITALIAN",
)


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    langs = [getattr(Language, name) for name in _CANDIDATES]
    return LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()


def warm() -> None:
    """Load the detector's models now rather than on the first question."""
    _detector()


def detect(text: str, default: str | None = None) -> str | None:
    """Return an ISO 639-1 code ("lt", "en", "ru", ...) or ``default`` when the text has no words.

    Short or ambiguous text leans towards the two languages the bot speaks: lingua's
    confidence for English or Lithuanian is preferred unless another language clearly wins.
    """
    letters = re.sub(r"[^\w]|\d|_", "", text)
    if len(letters) < 2:
        return default
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return default
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if code in SUPPORTED:
        return code
    # A script the bot does not read (Cyrillic, ...) is a clear answer.
    if re.search(r"[\u0400-\u04ff]", text):
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

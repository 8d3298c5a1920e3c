"""What the corpus is about, in words the bot's messages can use ("I know about ...").

Nothing about one corpus is written in the code: an operator may put an ``about.toml`` beside
the documents, and ``index`` stores it with the index, so the help, the greeting and the
"not found" reply speak of this corpus and no other::

    [en]
    topic = "Kazakhstan–Lithuania relations"          # what follows "about"
    examples = ["When were diplomatic relations established?", "..."]
    [lt]
    topic = "Kazachstano ir Lietuvos santykius"       # what follows "apie" (accusative)
    examples = ["Kada užmegzti diplomatiniai santykiai?", "..."]

Without it the bot names its documents' titles instead, and gives no example questions.
"""
from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

ABOUT_FILE = "about.toml"
#: titles named when the corpus says nothing of itself
MAX_TITLES = 3


@dataclass(frozen=True)
class About:
    """The corpus's topic and example questions per language, or its documents' titles."""

    topic: dict[str, str] = field(default_factory=dict)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    titles: tuple[str, ...] = ()

    @classmethod
    def read(cls, corpus_dir: Path, titles: list[str] | tuple[str, ...] = ()) -> "About":
        """``about.toml`` of ``corpus_dir`` (a damaged one is reported and ignored) with ``titles``."""
        path = Path(corpus_dir) / ABOUT_FILE
        data: dict = {}
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                log.warning("%s is unreadable (%s): the bot will name its documents instead", path, exc)
        topic, examples = {}, {}
        for lang in ("en", "lt"):
            part = data.get(lang) if isinstance(data.get(lang), dict) else {}
            if isinstance(part.get("topic"), str) and part["topic"].strip():
                topic[lang] = part["topic"].strip()
            ex = part.get("examples")
            if isinstance(ex, list):
                examples[lang] = tuple(str(e).strip() for e in ex if str(e).strip())
        return cls(topic, examples, tuple(t for t in titles if t))

    def as_dict(self) -> dict:
        return {"topic": self.topic, "examples": {k: list(v) for k, v in self.examples.items()},
                "titles": list(self.titles)}

    @classmethod
    def from_dict(cls, d: dict | None) -> "About":
        d = d or {}
        return cls(dict(d.get("topic") or {}), {k: tuple(v) for k, v in (d.get("examples") or {}).items()},
                   tuple(d.get("titles") or ()))

    def topic_in(self, lang: str | None) -> str:
        """What follows "about" / "apie": the operator's topic, or the first titles quoted."""
        lang = "lt" if lang == "lt" else "en"
        if self.topic.get(lang):
            return self.topic[lang]
        if not self.titles:
            return "these documents" if lang == "en" else "šiuos dokumentus"
        quoted = [f"“{t}”" if lang == "en" else f"„{t}“" for t in self.titles[:MAX_TITLES]]
        more = len(self.titles) - MAX_TITLES
        joined = ", ".join(quoted)
        if lang == "en":
            return f"the documents {joined}" + (f" and {more} more" if more > 0 else "")
        return f"dokumentus {joined}" + (f" ir dar {more}" if more > 0 else "")

    def examples_in(self, lang: str | None) -> tuple[str, ...]:
        """The operator's example questions in ``lang`` (none when not given)."""
        return self.examples.get("lt" if lang == "lt" else "en", ())

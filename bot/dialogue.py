"""A conversation: the last turns, and how a new question becomes a retrieval query.

People lean on what was said before: "What was the trade volume in 2021?" → "And at the end
of 2022?"; "Kada Lietuvoje lankėsi Nazarbajevas?" → "Ką jis įteikė?". A question that
depends on earlier turns (a continuation word, a pronoun or "there", or too few words of
its own to stand alone) is completed with the previous question; a fully specified new
question is left alone, so an old topic never pollutes a new one.

The state is a plain dict (JSON-serialisable) so any front end can store it.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .lexical import fold, words

MAX_TURNS = 6

# Continuation openers (folded, so "o kaip" also matches typed without diacritics).
_CONTINUATION = re.compile(
    r"^(and|but|also|then|so|what about|how about|and what about|what of|same for|anything (on|about|else)|"
    r"what else|any more on|"
    r"o|ir|bet|taip pat|o kaip|kaip del|o kas|o kiek|o kada|o kur|tai|na o)\b"
)
# Pronouns and deictic words that point back (folded). Not Lithuanian "to" (of that): it is
# English "to", and "deported to Kazakhstan" would tie a new question to the old topic.
_ANAPHORA = {
    "en": {"he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs", "it", "its",
           "there", "that", "those", "these", "then", "same", "former", "latter"},
    "lt": {"jis", "ji", "jie", "jos", "jo", "ju", "jam", "jai", "jiems", "joms", "ji", "juos", "jas",
           "ten", "tai", "tas", "ta", "ta", "tie", "tos", "tuo", "toje", "tame", "tam", "tu", "tokia",
           "sis", "si", "sie", "sios", "sio", "sia", "siam", "sioje", "siame", "sias", "jame", "joje"},
}
#: a question with fewer content words than this cannot stand alone ("And in 2022?", "Imports?")
MIN_OWN_WORDS = 2
_MORE = {"more", "show more", "next", "daugiau", "rodyk daugiau", "parodyk daugiau", "dar", "toliau",
         "/more", "/daugiau"}
_RESET = {"/reset", "reset", "start over", "is naujo", "pradeti is naujo", "/restart"}


# "And who came after her?", "o kas po jo?", "and the next one?": the item after the one just shown
_SUCCESSOR = re.compile(
    r"\b(after (him|her|them|that one)|the next (one|year)|and next|who (came|was) next|successor|took over"
    r"|what('s|’s|s| is)? next|replaced (him|her)|po (jo|jos|ju|to)\b|kas (buvo )?toliau|kitas|sekantis|paskui)\b")


def asks_for_next(text: str) -> bool:
    """Does a follow-up ask for what comes after the answer just given ("who came after her?")?"""
    return _SUCCESSOR.search(fold(text)) is not None


def is_more(text: str) -> bool:
    """True for "more" / "Daugiau" (any case, with or without diacritics or punctuation)."""
    return fold(text).strip(" .!?…") in _MORE


def is_reset(text: str) -> bool:
    return fold(text).strip(" .!?…") in _RESET


@dataclass
class Turn:
    """One question and what the bot did with it."""

    question: str
    query: str
    language: str
    answered: bool = False
    #: keys of the passages shown, in order (for "more")
    shown: list[str] = field(default_factory=list)
    followup: bool = False
    #: the sentence highlighted in the first passage shown ("" when none)
    highlight: str = ""


@dataclass
class Conversation:
    """The last turns of one chat plus its reply-language preference."""

    turns: list[Turn] = field(default_factory=list)
    #: "lt"/"en" when the user chose a reply language with /lang; None follows each question
    language: str | None = None

    # -------------------------------------------------- state

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Conversation":
        if not data:
            return cls()
        try:
            turns = [Turn(**t) for t in data.get("turns", [])][-MAX_TURNS:]
            lang = data.get("language")
            return cls(turns=turns, language=lang if lang in ("lt", "en") else None)
        except TypeError:
            return cls()  # an unknown shape (older or damaged state): start fresh

    def reset(self) -> None:
        self.turns.clear()

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def last_language(self) -> str | None:
        return self.turns[-1].language if self.turns else None

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        del self.turns[:-MAX_TURNS]

    # -------------------------------------------------- follow-ups

    def depends_on_context(self, question: str) -> bool:
        """Does ``question`` lean on earlier turns (ellipsis, pronoun, "there", too short)?"""
        if not self.turns:
            return False
        folded = fold(question).strip()
        if _CONTINUATION.match(folded):
            return True
        tokens = re.findall(r"\w+", folded)
        if any(tok in _ANAPHORA["en"] or tok in _ANAPHORA["lt"] for tok in tokens):
            return True
        own = [w for w in words(question) if not w.isdigit() and len(w) > 1 and w not in ("m", "metais", "metai", "year", "years")]
        return len(own) < MIN_OWN_WORDS

    def previous_answer(self, question: str) -> str:
        """For a follow-up asking for what comes next ("o kas po jos?"), the sentence the
        previous answer highlighted; "" otherwise."""
        last = self.last
        if last is None or not last.highlight or not asks_for_next(question) or not self.depends_on_context(question):
            return ""
        return last.highlight

    def resolve(self, question: str) -> tuple[str, bool]:
        """The retrieval query for ``question`` and whether it was completed from context.

        A dependent question is prefixed with the question that set the topic (the latest
        self-contained one) and, if different, the previous question, so a chain of
        follow-ups keeps its topic without growing without bound.
        """
        if not self.depends_on_context(question):
            return question, False
        anchor = next((t for t in reversed(self.turns) if not t.followup), self.turns[0])
        parts = [anchor.question]
        if self.turns[-1] is not anchor:
            parts.append(self.turns[-1].question)
        parts.append(question)
        return " ".join(p.strip() for p in parts), True

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

from .language import is_function_word
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
    "lt": {"jis", "ji", "jie", "jos", "jo", "ju", "jam", "jai", "jiems", "joms", "juos", "jas",
           "ten", "tai", "tas", "ta", "tie", "tos", "tuo", "toje", "tame", "tam", "tu", "tokia",
           "sis", "si", "sie", "sios", "sio", "sia", "siam", "sioje", "siame", "sias", "jame", "joje"},
}
#: a question with fewer content words than this cannot stand alone ("And in 2022?", "Imports?")
MIN_OWN_WORDS = 2
#: ... unless it asks what or who something is: "Kas yra Lituanica?", "Who was Poška?" name their
#: subject in one word and stand alone ("which party?", "kuris universitetas?" do not)
_COPULA = r"(?:yra|buvo|tai|is|was|are|were)"
_DEFINITION = re.compile(rf"^(?:kas|ka|who|what) {_COPULA}(?: (?:the|a|an))? \W*(?!{_COPULA}\b)[^\W\d_]{{3,}}\W*$")
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


# Small talk, folded: whole messages that greet, thank, acknowledge, take leave or ask what the
# bot is. They get a short reply of their own and leave the conversation as it was, so "thanks"
# after an answer does not become the next question's topic.
_SMALL_TALK = {
    "greeting": {
        "en": r"hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening|day)",
        "lt": r"labas( rytas| vakaras)?|labutis|laba diena|labry|sveiki( gyvi)?|sveikas|sveika|sveikinu|ciao",
    },
    "how_are_you": {
        "en": r"how are (you|u)( doing)?( today)?|how('s| is) it going|what'?s up|how do you do",
        "lt": r"kaip (tau |jums )?(sekasi|einasi)|kaip gyveni|kaip laikaisi|kaip laikotes|kaip reikalai|kas naujo",
    },
    "thanks": {
        "en": r"thanks?( you)?( (so|very) much| a lot)?|thank you|thx|ty|cheers|much appreciated",
        "lt": r"(labai )?(aciu|dekoju|dekui)( labai| jums| tau| uz atsakyma)?",
    },
    "ack": {
        "en": r"ok(ay)?|great|cool|nice|perfect|got it|i see|understood|good|fine|alright",
        "lt": r"gerai|aisku|puiku|supratau|suprantu|super|saunu|nuostabu|nu gerai",
    },
    "bye": {
        "en": r"bye|goodbye|good bye|bye bye|see you( later)?|good night|take care",
        "lt": r"viso gero|iki( pasimatymo)?|ate|sudie|labanakt|viso labo",
    },
    "help": {
        "en": r"help|what can you do|who are you|what are you|what do you (know|do)|how do(es)? (this|it|you) work"
              r"|what can i ask( you)?|what is this( bot)?|who (made|built|created) you|are you a (bot|robot|human)",
        "lt": r"pagalba|padek(ite)?|ka (tu )?(moki|gali|zinai|darai)|ka (jus )?(mokate|galite|zinote|darote)"
              r"|kas (tu )?esi|kas tu|kas jus( esate)?|ka (galiu|galima) (paklausti|klausti)|kaip (tu )?veiki"
              r"|apie ka (tu )?(zinai|gali papasakoti)|kas tave (sukure|padare)|ar tu (botas|robotas|zmogus)",
    },
}
#: words that may stand beside small talk without making it a question ("hi there", "ačiū, botai")
_FILLER = r"there|all|again|bot|botai|botas|dear|friend|everyone|mate|dar|karta|jums|tau|man|per"
_PHRASES = [(kind, lang, re.compile(rf"\b(?:{p})\b")) for kind, by_lang in _SMALL_TALK.items()
            for lang, p in by_lang.items()]
_ANY = "|".join(p for by_lang in _SMALL_TALK.values() for p in by_lang.values())
_ONLY_SMALL_TALK = re.compile(rf"^\W*(?:(?:{_ANY}|{_FILLER})\b\W*)+$")
_GREETING = "|".join(_SMALL_TALK["greeting"].values())
_POLITE = "|".join(p for k in ("thanks", "ack") for p in _SMALL_TALK[k].values())
#: a greeting opening a question ("Labas, kiek lietuvių ...?", "Hi bot, ..."), or "thanks" or
#: "ok" set off by a comma ("Ok, and in 2022?"; not "Thanks to what ...?", "Great Steppe?")
_OPENER = re.compile(rf"^\W*(?:(?:(?:{_GREETING})(?:\s+(?:{_FILLER}))?(?:\s*[,.!:;—–-]+\s*|\s+))"
                     rf"|(?:(?:{_POLITE})(?:\s+(?:{_FILLER}))?\s*[,.!:;—–-]+\s*))+(?=\w)")
#: "... ? Ačiū!" closing one
_CLOSER = re.compile(rf"[,.!?;]\s*(?:{_SMALL_TALK['thanks']['en']}|{_SMALL_TALK['thanks']['lt']})\W*$")
#: words of either language ("ok", "super"): the reply keeps the conversation's language
_NEUTRAL = re.compile(r"^\W*(ok(ay)?|super|ciao)\W*$")
#: the reply to a message doing several things: help over thanks over goodbye over hello
_PRIORITY = ("help", "thanks", "bye", "how_are_you", "greeting", "ack")


def small_talk(text: str) -> tuple[str, str | None] | None:
    """(kind, language) when the whole message is small talk: "greeting", "how_are_you",
    "thanks", "ack" ("ok", "gerai"), "bye" or "help" ("what can you do?", "ką moki?"), with the
    language of its words ("lt", "en", or None when they say neither); None for anything else."""
    folded = fold(text)
    if not _ONLY_SMALL_TALK.match(folded):
        return None
    found = [(kind, lang) for kind, lang, pattern in _PHRASES if pattern.search(folded)]
    if not found:
        return None
    kinds = {k for k, _ in found}
    langs = {lang for _, lang in found} if not _NEUTRAL.match(folded) else set()
    return next(k for k in _PRIORITY if k in kinds), (langs.pop() if len(langs) == 1 else None)


def strip_pleasantries(text: str) -> str:
    """The question without a greeting or "thanks" around it ("Labas, kiek lietuvių gyvena
    Kazachstane? Ačiū" asks "kiek lietuvių gyvena Kazachstane?"). Cut word for word, so the
    question keeps its diacritics."""
    folded = fold(text)
    end = len(text)
    closer = _CLOSER.search(folded)
    if closer and len(folded) == len(text):
        end = closer.start() + 1  # keep the question mark
    opener = _OPENER.match(folded)
    n = len(re.findall(r"\w+", opener.group(0))) if opener else 0
    rest = re.sub(rf"^\W*(?:\w+\W+){{{n}}}", "", text[:end], count=1) if n else text[:end]
    return rest.strip() if re.search(r"[^\W\d_]", rest) else text


_NAME = re.compile(r"[„“\"«]?\b([A-ZĄČĘĖĮŠŲŪŽ][\w’'-]+)")


def _names(text: str) -> list[re.Match]:
    """Capitalised words that are no function or question words ("Lituanica", "Petras Cvirka");
    group 1 is the word without an opening quote."""
    return [m for m in _NAME.finditer(text) if not is_function_word(fold(m.group(1)))]


def _points_back(question: str) -> bool:
    """Does ``question`` hold a pronoun or deictic word pointing to earlier turns ("he", "ten")?"""
    return any(tok in _ANAPHORA["en"] or tok in _ANAPHORA["lt"] for tok in re.findall(r"\w+", fold(question)))


def _new_subject(follow_up: str, topic: str) -> bool:
    """Does ``follow_up`` name someone or something ``topic`` does not, without a pronoun
    pointing back ("o Petras Cvirka?" after "Kas yra Marytė Bižytė?"; not "and what did he say
    about Kazakhstan?")?"""
    if _points_back(follow_up):
        return False
    known = {fold(m.group(1))[:5] for m in _names(topic)}
    return any(fold(m.group(1))[:5] not in known for m in _names(follow_up))


def _without_names(text: str) -> str:
    """``text`` with its names left out: the question's frame without its old subject."""
    for m in reversed(_names(text)):
        text = text[:m.start()] + text[m.end():]
    return re.sub(r"\s+([?.!,;:])", r"\1", re.sub(r"\s+", " ", text)).strip()


def stands_alone(question: str) -> bool:
    """Has ``question`` words enough of its own to be searched without the conversation? Not
    "And in 2022?", "Imports?"; "Kas yra Lituanica?" does."""
    if _DEFINITION.match(fold(question).strip()):
        return True
    own = [w for w in words(question)
           if not w.isdigit() and len(w) > 1 and w not in ("m", "metais", "metai", "year", "years")]
    return len(own) >= MIN_OWN_WORDS


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
    #: leaned on earlier turns (even when it was best read alone): the topic carries on
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

    def choose_language(self, choice: str, current: str) -> None:
        """/lang: "lt" or "en" fixes the reply language, "auto" follows each question, anything
        else switches from ``current`` to the other one."""
        choice = fold(choice).lower()
        if choice in ("lt", "lit", "lietuviskai"):
            self.language = "lt"
        elif choice in ("en", "eng", "english"):
            self.language = "en"
        elif choice == "auto":
            self.language = None
        else:
            self.language = "en" if current == "lt" else "lt"

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
        if _points_back(question):
            return True
        return not stands_alone(question)

    def previous_answer(self, question: str) -> str:
        """For a follow-up asking for what comes next ("o kas po jos?"), the sentence the
        previous answer highlighted; "" otherwise."""
        return self.previous_highlight(question) if asks_for_next(question) else ""

    def previous_highlight(self, question: str) -> str:
        """For a follow-up, the sentence the previous answer highlighted ("" otherwise): its
        answer is often a sentence built the same way ("o importas?" after the export figure)."""
        last = self.last
        if last is None or not last.highlight or not self.depends_on_context(question):
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
        last = self.turns[-1]
        topic = anchor.question
        # "What is Nursaulė?" → "o Lituanica?" → "kada ji įkurta?": the follow-up that names a
        # new subject replaces the old one, whose names would otherwise win the search
        if _new_subject(question, anchor.question) or (
                last is not anchor and _new_subject(last.question, anchor.question)):
            topic = _without_names(anchor.question)
        parts = [topic]
        if last is not anchor:
            parts.append(last.question)
        parts.append(question)
        return " ".join(p.strip() for p in parts if p.strip()), True

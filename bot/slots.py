"""Answer slots: what kind of answer a question asks for, and whether a passage can hold it.

"When was the monument to Marytė Bižytė unveiled?" retrieves the one sentence about that
monument, which names no date; "What was the trade turnover in 2010?" retrieves the trade
figures of 2020. Both passages are about the right thing, so similarity alone answers them,
wrongly. Two cheap checks catch many such questions, in both languages and without
diacritics:

* :func:`missing_slot`: the question asks *who* (a person; for a "who" naming no office,
  "who represents Kazakhstan?", a person or a body such as an embassy or a society), *when* (a
  year, a month, a date or an era such as "during the First World War"), *which month*, *how
  many / how much* (a number), or names a unit (tonnes, kilometres, euros, dollars, per cent),
  and the highlighted sentence holds nothing of that kind beyond what the question itself says
  (the person the question names is no answer, nor is a deputy when the minister, president or
  chair is asked for);
* :func:`missing_year`: the question names a year that the passage (its text and section, or,
  for a passage naming no year at all, its document's date: "Today marks 30 years ...") does
  not hold. A span such as "2013–2015" holds the years between. A year that dates the source
  the question cites ("according to Kazinform 2022", "the 2019 interview") is held by a passage
  of a document of that year.

Both are features of the answer/refuse model (:meth:`bot.retrieval.Retriever.features`), weighed
against the others when it is fitted, never rules on their own.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .language import is_function_word
from .lexical import fold, in_lexicon

__all__ = ["answer_type", "asks_for", "missing_slot", "missing_year", "named_subject", "person_names",
           "place_names", "years", "years_asked"]

_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_YEAR_SPAN = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)\s*[–-]\s*(1[6-9]\d\d|20\d\d)(?!\d)")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_DECADE = re.compile(r"(?<!\d)(1[6-9]\d0|20\d0)['’]?s\b")
_BEFORE_YEAR = re.compile(r"\b(?:before|prior to|until|till|up to|pries|iki)\s+(?:the\s+)?(1[6-9]\d\d|20\d\d)(?!\d)")
# a year that dates the source, not the fact asked: "according to Kazinform 2022", "(the 2019
# interview)", "2017 m. straipsnyje"; matched on the folded question
_SOURCE = (r"(?:interviews?|articles?|reports?|press releases?|stor(?:y|ies)|news|newspapers?"
           r"|wikipedia\w*|vikipedij\w*|interviu\w*|straipsn\w*|pranesim\w*|naujien\w*)")
_SOURCE_YEAR = re.compile(rf"\b{_SOURCE}\W+(?:\w+\W+){{0,2}}?(1[6-9]\d\d|20\d\d)(?!\d)"
                          rf"|(?<!\d)(1[6-9]\d\d|20\d\d)(?:\s*m\.)?\W+(?:\w+\W+)??{_SOURCE}\b")

# question patterns, matched on the folded (lower-case, no diacritics) question
_WHO = re.compile(
    r"^(and |so |but |then |tell me |do you know |could you tell me )?(who|whom|whose)\b|, (who|whom)\b|\bby whom\b"
    r"|^(o |ir |tai )?(kas|kaip vadinasi|kuo vardu) (\w+ ){0,2}(yra|buvo|bus|dabar|siuo metu)? ?(\w+ ){0,3}(ambasador(ius|e|iai|e)|konsul(as|e|ai|es)|pirminink|vadov(as|e|ai)|ministr(as|e|ai)|prezident(as|e|ai)"
    r"|sekretor|direktor|autori|ikurej|isteig|atstov(as|e|ai)|premjer)\b"
    r"|\b(which|what|name of)( the)? ((?!(did|does|do|is|was|were|are|has|have|had|will|can)\b)\w+ ){0,3}(ambassador|consul|minister|president|chairman|chair|head|leader"
    r"|author|founder|deputy|envoy|official|diplomat)s?\b"
    r"|^(o |ir |tai )?kas (\w+ ){0,3}(vadovauja|vadovavo|ikure|isteige|pasirase|atstovauja|pirmininkauja|pirmininkavo"
    r"|parase|sukure|dalyvavo|atidare|lankesi)\b")
#: a question word opening the clause before "when" makes it a conjunction ("what does he mean
#: when he says ...?"), unless "and" or a comma joins a second question ("where and when ...?",
#: "..., and since when?"); a relative "who" inside the clause does not ("Lithuanians who were
#: deported - when did they return?")
_WH_OPENS = re.compile(r"^\W*((and|so|but|then|o|ir|tai|bet)\s+)?(what|who|whom|whose|how|which|where|why|ka|kas|kaip"
                       r"|kur|kodel|kiek|koks|kokia|kokie|kokios|kuris|kuri|kurie|kurios|kuriame|kuriais)\b")
_CLAUSE_END = re.compile(r".*[?.!;:–—]|.*\s-\s", re.DOTALL)
_JOINED = re.compile(r"(\b(and|or|ir|bei|arba|o)|,)\s*(in\s+|since\s+|nuo\s+)?$")

_MONTH_Q = re.compile(r"which month|what month|(kuri|koki|kelinta) menesi\b|kuriais menesiais|kokiais menesiais")
_WHEN = re.compile(r"\bwhen\b(?! it comes)|what year|which year|what date|since when|\bkada\b|kuriais metais"
                   r"|kuriuo metu|kokiais metais|kelintais|kuria diena|nuo kada|iki kada")
_COUNT = re.compile(r"how many|how much|what percentage|by how much|what share|\bkiek\b|keliais procentais"
                    r"|\bkeli\b|\bkelios\b|\bkelis\b|\bkeliose\b")  # not "keliu": also "by road"
_UNITS = (  # (in the question, in the sentence)
    (r"\btons?\b|\btonn(e|es)\b|\bton(os|u|a)\b", r"\bt\b(?!\.\s*y)|\btons?\b|\btonn|\bton(a|os|u)\b"),
    (r"\bkm\b|kilomet", r"\bkm\b|kilomet"),
    (r"\beur(o|os|ai|u|ais|as)?\b", r"\beur(o|os|ai|u|ais|as)?\b|€"),  # not "Europe"
    (r"dollar|doler|\busd\b", r"\busd\b|dollar|doler|\$"),
    (r"percent|procent|%", r"%|percent|procent"),
    (r"hectar|hektar", r"\bha\b|hectar|hektar"),
)

def _deputy(role: str) -> str:
    """``role`` held by a deputy: "deputy (foreign) minister", "viceministras", "ministro pavaduotojas"."""
    return rf"(\b(deputy|vice)[ -](\w+ ){{0,2}}|\bvice-?)({role})|({role}) pavaduotoj"


#: roles a deputy holds only in part, each with its deputy's pattern: asked without the
#: qualifier, one with it does not answer
_ROLES = tuple((re.compile(role), re.compile(_deputy(role))) for role in (
    r"\bminist(er|ras|ro|rui|ra|re|rai|ru)?s?\b", r"\bpresident(as|o|ui|a|e)?s?\b",
    r"\b(chairman|chair|pirminink(as|o|ui|a|e))\b"))

# what answers them, matched on the sentence (folded unless said otherwise)
_LT_MONTH = re.compile(r"\b(sausi|vasari|balandzi|balandi|geguz|birzeli|rugpjuci|rugpjuti|rugsej|spali"
                       r"|lapkrici|lapkriti|gruodzi|gruodi)(o|s|a|e|es|os|i|j|ui|is|yje)?\b"
                       r"|\bkov(as|o|ui|e)\b|\bliep(a|os|ai|oje)\b")  # not "kova" (struggle), "liepė" (ordered)
_EN_MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November"
                       r"|December)\b")  # case kept: "may" is a verb
_ERA = re.compile(r"\b(today|now|war|century|decade|karo|kara|karas|karu|amziu\w*|amz|laikus|laikais|siandien"
                  r"|dabar)\b|\b(\d+|[ivx]+) ?a\.")
_NUMBER_WORD = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|eleven|twelve|dozens?|hundreds?"
                          r"|(thir|four|fif|six|seven|eigh|nine)teen|(twen|thir|for|fif|six|seven|eigh|nine)ty"
                          r"|a (year|month|week|decade|dozen)"  # "which gives me a year of experience"
                          r"|thousands?|millions?|billions?|half|vienas|viena|vieneri\w*|du|dvi|trys|trej\w*"
                          r"|(keturi|penki|sesi|septyni|astuoni|devyni)(s|as|os|u|ems|omis|ais|ose)?|desimt\w*|simt\w*"
                          r"|tukstan\w*|mln|mlrd|puse)\b")
_CAP = "A-ZĄČĘĖĮŠŲŪŽ"
_LOW = "a-ząčęėįšųūž"
_PERSON = re.compile(rf"(?:\b[{_CAP}]\.\s?|\b[{_CAP}][{_LOW}]+\s)[{_CAP}][{_LOW}]+")  # Petras Cvirka, Z. Tverkus
# capitalised pairs that are not people: institutions, events, places
_NOT_PEOPLE = {"respublika", "respublikos", "republic", "ministry", "ministerija", "jungtiniu", "tautu", "world",
               "war", "international", "european", "europos", "sajunga", "union", "nations", "parliament",
               "seimas", "forum", "transport", "central", "great", "road", "street", "gatve", "gatves",
               "bank", "banko", "bankas", "national", "nacionalinio", "government", "vyriausybes", "vyriausybe",
               "university", "universitetas", "universiteto", "institute", "institutas", "instituto",
               "embassy", "ambasada", "ambasados", "commission", "komisija", "komisijos", "council", "taryba",
               "tarybos", "assembly", "asamblejos", "association", "asociacija", "society", "draugija",
               "museum", "muziejus", "foundation", "fondas", "fondo", "agency", "agentura", "company",
               "times", "news", "airlines", "railways", "gelezinkeliai"}
_SENTENCE_OPENERS = {"today", "yesterday", "however", "also", "since", "during", "after", "before", "later",
                     "veliau", "taciau", "siandien", "dabar", "pirmiausia", "taip", "monday", "tuesday",
                     "wednesday", "thursday", "friday", "saturday", "sunday"}
#: capitalised words that name a place, not a person: the first letters of the corpus's own place
#: names (:func:`place_names`, marked "@" in the names a document gives), and of the compass
_PLACE_STEMS = ("centr", "europ", "weste", "easte", "north", "south", "armij")
#: a place named as one: Lithuanian locatives ("Kaune", "Almatoje", "Nidoje") and English "in X"
_LT_LOCATIVE = re.compile(rf"\b([{_CAP}][{_LOW}]+(?:oje|uje|yje|ėje|ije|ane|une|ene|ine))\b")
_NATIONALITY = re.compile(r"(?:ian|ish|ese|an)$")
_LOCATIVE_END = re.compile(r"(?:oje|uje|yje|ėje|ije|ane|une|ene|ine)$")
_EN_PLACE = re.compile(rf"\b(?:in|to|from|near|across|throughout|around) ([{_CAP}][{_LOW}]+)\b")


#: "Who is Gintautas Vasiulis?", "Kas yra „Nursaulė“?", "What is Nursaulė?": a question asking only
#: who or what a name is (group 1: the name). It names its subject: no person to find
_NAME_ASKED = re.compile(rf"^(?:[Aa]nd |[Ss]o |[Oo] )?(?:[Ww]ho|[Ww]hom|[Ww]hat|[Kk]as) "
                         rf"(?:is|was|are|were|yra|buvo) \W*((?:[{_CAP}][\w’'.-]*[\s„“”\"«»]*){{1,3}})\W*$")


@lru_cache(maxsize=65536)
def _stems(text: str) -> frozenset[str]:
    """The first five letters, folded, of each word of ``text``: how a name is matched however
    it is inflected ("Vasiulis" / "Vasiulio")."""
    return frozenset(fold(w)[:5] for w in re.findall(r"\w+", text))


def named_subject(question: str, sentence: str) -> bool:
    """Does ``question`` ask only who or what a name is ("Who is Gintautas Vasiulis?", "Kas yra
    „Nursaulė“?"), and does ``sentence`` name it (each word, inflected or transliterated alike
    in its first five letters: "Nazarbayev" / "Nazarbajevas")? Such a sentence is the answer
    the documents give, however little else of the question it shares."""
    m = _NAME_ASKED.match(question.strip())
    if not m:
        return False
    asked = [fold(w)[:5] for w in re.findall(r"\w+", m.group(1)) if len(w) >= 3]
    if any(w in _NOT_PEOPLE or w in _PLACE_STEMS for w in asked):
        return False  # "What is Lithuania?", "Who is the Ministry?": every passage names those
    held = _stems(sentence)
    return bool(asked) and all(w in held for w in asked)


#: a "who" question naming an office or a trade asks for a person ("who is the ambassador?");
#: one without ("who represents Kazakhstan in Lithuania?", "whose expeditions tended the graves?",
#: "who did the Grand Duchy ally with?") may be answered by a body: an embassy, a society, a horde
_ROLE_ASKED = re.compile(
    r"\b(ambassadors?|ambasador(ius|iaus|iai|iui|iu|e|es|ei)?|consuls?|konsul(as|o|ui|ai|u|e|a|ams)?"
    r"|ministers?|ministr(as|o|ui|ai|u|e|a|ams|es|ei)?|presidents?|prezident(as|o|ui|ai|u|e|a|es|ei)?"
    r"|chair(man|men|woman|person)?|chairs|pirminink(as|o|ui|ai|u|e|a|es|ei)|heads?|leaders?|leads|vadov(as|o|ui|ai|u|e|a|es|ei|auja|avo|aus)"
    r"|pirmininkau(ja|s)|pirmininkavo"
    r"|authors?|autori(us|aus|ai|ui|u|e|es)|founders?|ikurej(as|o|ai|u|a|e)|deputy|deputies|pavaduotoj(as|o|ai|u|a|e)"
    r"|envoys?|pasiuntin(ys|io|iai|iu|i)|officials?|representatives?|atstov(as|o|ui|ai|u|e|a|es|ei)"
    r"|diplomat(s|as|o|ui|ai|u|a|e|es)?|secretar(y|ies)|sekretori(us|aus|ai|ui|u)|sekretor(e|es)"
    r"|directors?|direktori(us|aus|ai|ui|u)|direktor(e|es)|premier|prime minister|premjer(as|o|ui|e|a)"
    r"|writers?|rasytoj(as|o|ai|u|a|e|os)|poets?|poet(as|o|ai|e|es)|scientists?|mokslinink(as|o|ai|u|e|es)"
    r"|professors?|profesori(us|aus|ai|ui|u|e|es))\b")
#: a body named in a sentence, the head noun folded: "Kazachstano ambasada", "Lietuvos politinių
#: kalinių ir tremtinių bendrijos ekspedicijos", "Aukso orda", "the Soviet Union"
_BODY = re.compile(r"\b(ambasad\w*|embass(y|ies)|bendrij\w*|draugij\w*|societ(y|ies)|associations?|asociacij\w*"
                   r"|ministr(y|ies|ij\w*)|ord(a|os|ai|oje)|horde|komisij\w*|commissions?|organizacij\w*"
                   r"|organi[sz]ations?|ekspedicij\w*|expeditions?|vyriausyb\w*|governments?|parliaments?"
                   r"|parlament\w*|seim(as|o|ui|e)|councils?|taryb\w*|fond(as|o|ui|e)|foundations?|universit\w*"
                   r"|institut\w*|compan(y|ies)|bendrov\w*|bendruomen\w*|communit(y|ies)|unions?|sajung\w*"
                   r"|banks?|bank(as|o|ui|e)|agenc(y|ies)|agentur\w*|museums?|muziej\w*|part(y|ies)|partij\w*"
                   r"|arm(y|ies)|armij\w*|consulates?|konsulat\w*|assembl(y|ies)|asamblej\w*|nato)\b")


def _asks_when(q: str) -> bool:
    """Does the folded question ``q`` ask when (:data:`_WHEN`), "when" not being a conjunction?"""
    for m in _WHEN.finditer(q):
        before = q[:m.start()]
        end = _CLAUSE_END.match(before)
        clause = before[end.end():] if end else before
        if not _WH_OPENS.match(clause) or _JOINED.search(clause):
            return True
    return False


@lru_cache(maxsize=8192)
def answer_type(question: str) -> str | None:
    """"person", "agent" (a person or a body), "month", "date", "count" or None: what kind of
    answer ``question`` asks for."""
    q = fold(question).strip()
    if _NAME_ASKED.match(question.strip()):
        return None
    if _WHO.search(q):
        return "person" if _ROLE_ASKED.search(q) else "agent"
    if _MONTH_Q.search(q):
        return "month"
    if _asks_when(q):
        return "date"
    if _COUNT.search(q):
        return "count"
    return None


def _people(text: str, places: frozenset[str] = frozenset()):
    """The name words (folded) of each person ``text`` names in full ("Gintautas Vasiulis",
    "President [Kassym-Jomart] Tokayev": an editor's brackets are no break)."""
    for m in _PERSON.finditer(text.replace("[", "").replace("]", "")):
        raw = re.findall(r"\w+", m.group(0))
        words = [fold(w) for w in raw]
        # "The Deputy ...", "In March ...", "Vėliau Nursaulė ...": a capital after a little word
        if is_function_word(words[0]) or words[0] in _SENTENCE_OPENERS:
            continue
        if any(_LOCATIVE_END.search(w) for w in raw):  # "Kazachus Lietuvoje": a place, in Lithuanian
            continue
        if _NATIONALITY.search(words[0]) and in_lexicon(words[0]):  # "Estonian Ambassador": a title
            continue
        if not any(w in _NOT_PEOPLE or w[:5] in _PLACE_STEMS or "@" + w[:4] in places for w in words):
            yield words


def person_names(texts) -> frozenset[str]:
    """The first five letters of the surname of every person ``texts`` name in full: once
    named so, "Vasiulis’ term as Lithuanian Ambassador ..." names a person too. Words the
    texts also write in lower case, or that the dictionary knows ("Foreign Affairs", "Deputy
    Minister"), are not names."""
    texts = list(texts)
    lower = {fold(w)[:5] for text in texts for w in re.findall(rf"\b[{_LOW}]+\b", text)}
    places = place_names(texts)
    return places | frozenset(words[-1][:5] for text in texts for words in _people(text, places)
                              if len(words[-1]) >= 4 and words[-1][:5] not in lower and not in_lexicon(words[-1]))


def place_names(texts) -> frozenset[str]:
    """The places ``texts`` name as places ("Kaune", "in Almaty"), each as "@" and the first
    four letters of its folded name (as inflections share them: "Kaune", "Kaunas"): a
    capitalised pair with one of them is not a person."""
    return frozenset("@" + fold(m.group(1))[:4] for text in texts
                     for pattern in (_LT_LOCATIVE, _EN_PLACE) for m in pattern.finditer(text))


def _has_person(sentence: str, question: str, names: frozenset[str] = frozenset()) -> bool:
    asked = _stems(question)
    # a person the question does not name: "Gintautas Vasiulis" does not answer "who was
    # ambassador before Vasiulis?" (the surname decides, so a question naming only a first name
    # still takes the person for an answer)
    if any(words[-1][:5] not in asked for words in _people(sentence, names)):
        return True
    # a surname alone, capitalised, of someone the documents name in full elsewhere
    return any(len(w) >= 4 and fold(w)[:5] in names and fold(w)[:5] not in asked
               for w in re.findall(rf"\b[{_CAP}][{_LOW}]+", sentence))


def _has_body(sentence: str, question: str) -> bool:
    """Does ``sentence`` name a body (:data:`_BODY`) the question does not?"""
    asked = _stems(question)
    return any(m.group(0)[:5] not in asked for m in _BODY.finditer(fold(sentence)))


def _holds(kind: str, question: str, sentence: str, names: frozenset[str] = frozenset()) -> bool:
    if kind == "person":
        return _has_person(sentence, question, names)
    if kind == "agent":
        return _has_person(sentence, question, names) or _has_body(sentence, question)
    s, q = fold(sentence), fold(question)
    if kind == "month":
        return bool(_LT_MONTH.search(s) or _EN_MONTH.search(sentence))
    if kind == "date":
        eras = {m.group(0) for m in _ERA.finditer(s)} - {m.group(0) for m in _ERA.finditer(q)}
        return bool(set(_YEAR.findall(s)) - set(_YEAR.findall(q)) or _LT_MONTH.search(s)
                    or _EN_MONTH.search(sentence) or eras)
    # count: a number the question does not already name, in digits or in words; a year
    # ("1998 m. ... įsteigė draugiją") is a date, not a count
    s = _YEAR_SPAN.sub(" ", s)
    numbers = {n for n in _DIGITS.findall(s) if not _YEAR.fullmatch(n)}
    return bool(numbers - set(_DIGITS.findall(q)) or _NUMBER_WORD.search(_DIGITS.sub(" ", s)))


@lru_cache(maxsize=8192)
def _asked(question: str) -> tuple[str | None, tuple, tuple[str, ...]]:
    """What ``question`` asks for, read once: its :func:`answer_type`, the roles it asks for
    without a deputy's qualifier (each with its deputy's pattern), and the patterns of the
    units it names as they appear in a sentence."""
    q = fold(question)
    roles = tuple((role, deputy) for role, deputy in _ROLES if role.search(q) and not deputy.search(q))
    units = tuple(held for asked, held in _UNITS if re.search(asked, q))
    return answer_type(question), roles, units


def asks_for(question: str) -> bool:
    """Does ``question`` ask for something :func:`missing_slot` can find missing (a kind of
    answer, a role, a unit)? Most do not, and their sentences need no check."""
    kind, roles, units = _asked(question)
    return kind is not None or bool(roles) or bool(units)


@lru_cache(maxsize=65536)
def missing_slot(question: str, sentence: str, names: frozenset[str] = frozenset()) -> float:
    """1.0 when ``question`` asks for a kind of answer (:func:`answer_type`) or a unit that
    ``sentence`` does not hold, else 0.0. ``names``: :func:`person_names` of the documents."""
    kind, roles, units = _asked(question)
    if kind is not None and not _holds(kind, question, sentence, names):
        return 1.0
    s = fold(sentence)
    # "Kazakhstan's foreign minister" is not answered by its deputy minister
    for role, deputy in roles:
        if role.search(s) and not role.search(deputy.sub(" ", s)):
            return 1.0
    if any(not re.search(held, s) for held in units):
        return 1.0
    return 0.0


def missing_year(question: str, text: str, section: str = "", document_date: str = "") -> float:
    """1.0 when ``question`` names a year the passage (``text``, ``section``) does not hold; a
    passage that names no year at all speaks of its document's date (``document_date``).
    "Before 2013" ("prieš 2013 m.", "until 2013") asks for an earlier year, "the 1950s" for one
    of the decade: the passage must hold one."""
    asked = set(_YEAR.findall(question))
    if not asked:
        return 0.0
    # the year of the source the question cites is held by a passage of a source of that year
    asked -= _source_years(question) & set(_YEAR.findall(document_date or ""))
    if not asked:
        return 0.0
    held = set(_YEAR.findall(text)) | set(_YEAR.findall(section or ""))
    for a, b in _YEAR_SPAN.findall(text):
        held |= {str(y) for y in range(int(a), int(b) + 1)}
    if not held:
        held = set(_YEAR.findall(document_date or ""))
    before = {m.group(1) for m in _BEFORE_YEAR.finditer(fold(question))}
    before -= {m.group(1) for m in _BEFORE_YEAR.finditer(fold(text))}  # "iki 2021 m." in both
    if any(not any(h < y for h in held) for y in before):
        return 1.0
    # "in the 1950s" asks for a year of the decade
    decades = {m.group(1) for m in _DECADE.finditer(question)}
    if any(not any(h[:3] == d[:3] for h in held) for d in decades):
        return 1.0
    return 1.0 if asked - before - decades - held else 0.0


def _source_years(question: str) -> set[str]:
    """The years ``question`` dates its source by ("the 2019 interview"), not its fact."""
    return {a or b for a, b in _SOURCE_YEAR.findall(fold(question))}


def years(text: str) -> list[str]:
    """The years ``text`` names, in order of time, each once."""
    return sorted(set(_YEAR.findall(text)))


def years_asked(question: str) -> list[str]:
    """The years ``question`` asks about as such ("in 2018"), in order of time; none when it
    asks around one ("before 2013", "the 1950s"): "And in 2015?" would not be the same question."""
    if _BEFORE_YEAR.search(fold(question)) or _DECADE.search(question):
        return []
    source = _source_years(question)
    return [y for y in years(question) if y not in source]

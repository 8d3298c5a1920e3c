"""Every piece of framing text a user sees, in Lithuanian and English.

``t(key, lang, **fields)`` returns the text in ``lang`` ("lt" or "en"; anything else gets
English). Keeping them in one table makes it easy to check that both languages are there.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .about import About

#: added to the English reply to Russian and Kazakh writers, whatever the reply language
_IN_RUSSIAN = ("Извините, я отвечаю только по-английски или по-литовски. "
               "Пожалуйста, задайте вопрос на одном из этих языков.")

TEXTS: dict[str, dict[str, str]] = {
    "unsure": {
        "en": "I am not sure my documents answer this; the closest I found:",
        "lt": "Nesu tikras, ar mano dokumentuose yra atsakymas; artimiausia, ką radau:",
    },
    "not_found": {
        "en": "I could not find this in my documents. I know about {topic}. Try asking differently, or /help.",
        "lt": "Šiuose dokumentuose to neradau. Žinau apie {topic}. Paklauskite kitaip arba /help.",
    },
    "not_found_year": {
        "en": "I could not find an answer for {asked} in my documents. The closest passage speaks of {held}; "
              "you could ask, e.g., “And in {example}?”",
        "lt": "Atsakymo apie {asked} m. mano dokumentuose neradau. Artimiausioje ištraukoje minimi {held} m.; "
              "galite paklausti, pvz., „O {example} m.?“",
    },
    "empty": {
        "en": "Please type a question about {topic}{eg}.",
        "lt": "Parašykite klausimą apie {topic}{eg}.",
    },
    "too_long": {
        "en": "That message is too long ({n} characters). Please ask a shorter question (up to {limit}).",
        "lt": "Žinutė per ilga ({n} simbolių). Užduokite trumpesnį klausimą (iki {limit}).",
    },
    "no_words": {
        "en": "I only understand text questions in English or Lithuanian. Please ask with words.",
        "lt": "Suprantu tik tekstinius klausimus lietuvių arba anglų kalba. Paklauskite žodžiais.",
    },
    "unsupported_language": {
        "en": "Sorry, I can only answer in English or Lithuanian (lietuviškai). "
              "Please ask your question in one of these languages.",
        "lt": "Atsiprašau, atsakau tik lietuvių arba anglų kalba.",
    },
    "unsupported_language_ru": {"en": _IN_RUSSIAN, "lt": _IN_RUSSIAN},
    "more_none": {
        "en": "There are no more passages for that question. Ask another one!",
        "lt": "Daugiau ištraukų šiam klausimui nėra. Užduokite kitą klausimą!",
    },
    "more_nothing_asked": {
        "en": "Ask a question first; then “more” shows further passages.",
        "lt": "Pirmiausia užduokite klausimą; tada „daugiau“ parodys kitas ištraukas.",
    },
    "reset": {
        "en": "Done: I have forgotten our conversation. Ask a new question.",
        "lt": "Gerai: pokalbį pamiršau. Užduokite naują klausimą.",
    },
    "answer_intro": {
        "en": "From the documents:",
        "lt": "Iš dokumentų:",
    },
    "more_intro": {
        "en": "More passages for: {query}",
        "lt": "Daugiau ištraukų klausimui: {query}",
    },
    "more_closest": {
        "en": "I found no answer to “{query}” in my documents; these passages came closest:",
        "lt": "Atsakymo į „{query}“ savo dokumentuose neradau; artimiausios ištraukos:",
    },
    "followup_note": {
        "en": "(understood as: {query})",
        "lt": "(supratau kaip: {query})",
    },
    "in_language": {
        "en": "in {language}",
        "lt": "{language}",
    },
    "sources_disagree": {
        "en": "Note: the sources give different figures; both are quoted as written.",
        "lt": "Pastaba: šaltiniai pateikia skirtingus skaičius; cituojami abu, kaip parašyta.",
    },
    "section": {"en": "section", "lt": "skyrius"},
    "sources_label": {"en": "Sources", "lt": "Šaltiniai"},
    "help": {
        "en": "I answer questions about {topic} from {n} documents, in English or Lithuanian, and quote "
              "the passage with its source.\n\n"
              "Just type a question{examples}\n\n"
              "Follow-up questions work (“And in 2022?”).\n"
              "Commands: /more — more passages, /reset — forget the conversation, "
              "/sources — the documents, /lang — reply language, /help — this text.",
        "lt": "Atsakau į klausimus apie {topic} pagal savo dokumentus (jų yra {n}), lietuviškai arba angliškai, ir "
              "cituoju ištrauką su šaltiniu.\n\n"
              "Tiesiog parašykite klausimą{examples}\n\n"
              "Galima klausti ir toliau („O 2022 m.?“).\n"
              "Komandos: /more — daugiau ištraukų, /reset — pamiršti pokalbį, "
              "/sources — dokumentai, /lang — atsakymų kalba, /help — ši žinutė.",
    },
    "eg": {"en": ", e.g. “{example}”", "lt": ", pvz., „{example}“"},
    "examples_list": {"en": ", e.g.:{items}", "lt": ", pvz.:{items}"},
    "greeting": {
        "en": "Hello! I am a question-answering bot about {topic}.",
        "lt": "Sveiki! Esu klausimų ir atsakymų botas apie {topic}.",
    },
    "smalltalk_greeting": {
        "en": "Hello! Ask me about {topic}{eg} (/help shows what I can do).",
        "lt": "Labas! Klauskite apie {topic}{eg} (/help – ką moku).",
    },
    "smalltalk_how_are_you": {
        "en": "Very well, thank you! Ask me about {topic}{eg}.",
        "lt": "Ačiū, puikiai! Klauskite apie {topic}{eg}.",
    },
    "smalltalk_thanks": {
        "en": "You're welcome! Ask another question whenever you like.",
        "lt": "Prašom! Klauskite dar, kada tik norite.",
    },
    "smalltalk_ack": {
        "en": "Ask me another question whenever you like.",
        "lt": "Klauskite dar, kada tik norite.",
    },
    "smalltalk_bye": {
        "en": "Goodbye! Come back with more questions about {topic}.",
        "lt": "Viso gero! Sugrįžkite su naujais klausimais apie {topic}.",
    },
    "sources_intro": {"en": "The documents I answer from:", "lt": "Dokumentai, pagal kuriuos atsakau:"},
    "lang_set": {
        "en": "I will reply in English. (/lang lt — lietuviškai, /lang auto — follow your messages)",
        "lt": "Atsakysiu lietuviškai. (/lang en — in English, /lang auto — pagal jūsų žinutes)",
    },
    "lang_auto": {
        "en": "I will reply in the language of each question.",
        "lt": "Atsakysiu kiekvieno klausimo kalba.",
    },
    "unknown_command": {
        "en": "I don't know the command {command}. Try /help.",
        "lt": "Nežinau komandos {command}. Pabandykite /help.",
    },
    "error": {
        "en": "Sorry, something went wrong on my side. Please try again in a moment.",
        "lt": "Atsiprašau, įvyko klaida. Pabandykite dar kartą po akimirkos.",
    },
    "text_only": {
        "en": "I can only read text questions — stickers, photos and voice messages I can't understand.",
        "lt": "Suprantu tik tekstinius klausimus — lipdukų, nuotraukų ir balso žinučių nesuprantu.",
    },
    "private": {
        "en": "Sorry, this bot is private and answers only its members.",
        "lt": "Atsiprašau, šis botas privatus ir atsako tik savo nariams.",
    },
    "slow_down": {
        "en": "You are asking very fast — please wait a minute and try again.",
        "lt": "Klausiate labai greitai — palaukite minutę ir bandykite vėl.",
    },
    "admins_only": {
        "en": "Sorry, only the bot's administrators can do that.",
        "lt": "Atsiprašau, tai gali tik boto administratoriai.",
    },
    "reindex_started": {
        "en": "Rebuilding the index in the background; I keep answering meanwhile.",
        "lt": "Indeksas perkuriamas fone; tuo metu toliau atsakinėju.",
    },
    "reindex_running": {
        "en": "A rebuild is already running.",
        "lt": "Indeksas jau perkuriamas.",
    },
    "reindex_done": {"en": "Rebuild finished: {summary}", "lt": "Indeksas perkurtas: {summary}"},
    "reindex_failed": {"en": "Rebuild failed: {error}", "lt": "Perkurti nepavyko: {error}"},
    "feedback_thanks": {"en": "Thanks for the feedback!", "lt": "Ačiū už įvertinimą!"},
    "expired": {
        "en": "This button has expired — please ask again.",
        "lt": "Šis mygtukas nebegalioja — paklauskite dar kartą.",
    },
    "btn_more": {"en": "More results", "lt": "Daugiau"},
    "btn_full": {"en": "Full passage", "lt": "Visa ištrauka"},
    "ask_usage": {
        "en": "Usage: /ask your question",
        "lt": "Naudojimas: /ask jūsų klausimas",
    },
    "help_admin": {
        "en": "For administrators: send me a document ({formats}, up to {limit} MB) to add it to the corpus; "
              "a caption “Title | Publisher | 2024-05-01 | https://…” (or just a title) becomes its metadata, "
              "otherwise the file's own is used. /documents — what the corpus holds, /remove name — take a "
              "document out, /reindex — rebuild the index, /stats — usage figures.",
        "lt": "Administratoriams: atsiųskite dokumentą ({formats}, iki {limit} MB), ir įtrauksiu jį į korpusą; "
              "prierašas „Pavadinimas | Leidėjas | 2024-05-01 | https://…“ (ar tik pavadinimas) taps jo "
              "metaduomenimis, kitaip imami paties failo. /documents — kas yra korpuse, /remove pavadinimas — "
              "pašalinti dokumentą, /reindex — perkurti indeksą, /stats — naudojimo statistika.",
    },
    "documents_admins_only": {
        "en": "Sorry, only the bot's administrators can add documents. Ask me a question in text instead.",
        "lt": "Atsiprašau, dokumentus pridėti gali tik boto administratoriai. Užduokite klausimą tekstu.",
    },
    "document_unknown_format": {
        "en": "I can't add “{name}”: I read only these kinds of files: {formats}. Nothing was changed.",
        "lt": "Negaliu pridėti „{name}“: skaitau tik šių rūšių failus: {formats}. Niekas nepakeista.",
    },
    "document_too_big": {
        "en": "“{name}” is too big ({size} MB; the limit is {limit} MB). Nothing was changed.",
        "lt": "„{name}“ per didelis ({size} MB; riba – {limit} MB). Niekas nepakeista.",
    },
    "document_download_failed": {
        "en": "I could not fetch “{name}” from Telegram. Nothing was changed; please send it again.",
        "lt": "Nepavyko gauti „{name}“ iš Telegram. Niekas nepakeista; atsiųskite dar kartą.",
    },
    "document_unreadable": {
        "en": "I could not read “{name}” ({reason}). Nothing was changed.",
        "lt": "Nepavyko perskaityti „{name}“ ({reason}). Niekas nepakeista.",
    },
    "document_save_failed": {
        "en": "I could not save “{name}” in the corpus folder ({reason}). Nothing was changed.",
        "lt": "Nepavyko įrašyti „{name}“ į korpuso aplanką ({reason}). Niekas nepakeista.",
    },
    "document_replace_ask": {
        "en": "The corpus already has {old}. Replace it with the file you sent, “{name}”?",
        "lt": "Korpuse jau yra {old}. Pakeisti jūsų atsiųstu failu „{name}“?",
    },
    "document_saved": {
        "en": "Saved “{name}”; indexing it in the background…",
        "lt": "Įrašiau „{name}“; indeksuoju fone…",
    },
    "document_added": {
        "en": "Added “{name}” ({title}, {language}); passages it added: {passages}. "
              "I now answer from {documents} documents.",
        "lt": "Pridėjau „{name}“ ({title}, {language}); jis pridėjo ištraukų: {passages}. "
              "Dabar atsakau pagal dokumentų: {documents}.",
    },
    "document_replaced": {
        "en": "Replaced {old} by the file you sent, “{name}” ({title}, {language}); its passages now: {passages}. "
              "I now answer from {documents} documents.",
        "lt": "{old} pakeičiau jūsų atsiųstu failu „{name}“ ({title}, {language}); dabar jo ištraukų: {passages}. "
              "Dabar atsakau pagal dokumentų: {documents}.",
    },
    "document_not_indexed": {
        "en": "Saved “{name}”, but the index build did not take it in; see the bot's log.",
        "lt": "„{name}“ įrašiau, bet indeksas jo neįtraukė; žr. boto žurnalą.",
    },
    "document_cancelled": {"en": "Cancelled; nothing was changed.", "lt": "Atšaukta; niekas nepakeista."},
    "document_remove_ask": {
        "en": "Remove “{name}” ({title}) from the corpus?",
        "lt": "Pašalinti „{name}“ ({title}) iš korpuso?",
    },
    "document_removed": {
        "en": "Removed “{name}”. I now answer from {documents} documents (passages: {passages}).",
        "lt": "Pašalinau „{name}“. Dabar atsakau pagal dokumentų: {documents} (ištraukų – {passages}).",
    },
    "remove_usage": {
        "en": "Usage: /remove file name (/documents lists them).",
        "lt": "Naudojimas: /remove failo pavadinimas (/documents juos išvardija).",
    },
    "remove_not_found": {
        "en": "The corpus has no document called “{name}”; /documents lists them.",
        "lt": "Korpuse nėra dokumento „{name}“; /documents juos išvardija.",
    },
    "remove_ambiguous": {
        "en": "Several documents are called “{name}”: {names}. Please give the one you mean as listed.",
        "lt": "Keli dokumentai vadinasi „{name}“: {names}. Nurodykite norimą taip, kaip išvardyta.",
    },
    "remove_last": {
        "en": "“{name}” is the only document; without it I would have nothing to answer from, so it stays.",
        "lt": "„{name}“ – vienintelis dokumentas; be jo neturėčiau iš ko atsakyti, tad jis lieka.",
    },
    "documents_intro": {"en": "The corpus holds {n} documents:", "lt": "Korpuse dokumentų: {n}."},
    "documents_matching": {
        "en": "Documents matching “{word}”: {n}.",
        "lt": "Dokumentų, atitinkančių „{word}“: {n}.",
    },
    "documents_passages": {"en": "passages: {n}", "lt": "ištraukų: {n}"},
    "documents_more": {
        "en": "… and {n} more; /documents word lists those matching a word.",
        "lt": "… ir dar {n}; /documents žodis išvardija atitinkančius žodį.",
    },
    "documents_skipped": {
        "en": "Not used (unreadable): {names}",
        "lt": "Nenaudojami (neperskaitomi): {names}",
    },
    "btn_replace": {"en": "Replace", "lt": "Pakeisti"},
    "btn_remove": {"en": "Remove", "lt": "Pašalinti"},
    "btn_cancel": {"en": "Cancel", "lt": "Atšaukti"},
    "reindex_progress": {
        "en": "Rebuilding the index: {done} of {total} ({percent}%), {seconds} s…",
        "lt": "Perkuriamas indeksas: {done} iš {total} ({percent} %), {seconds} s…",
    },
    "reindex_working": {
        "en": "Rebuilding the index… {seconds} s",
        "lt": "Perkuriamas indeksas… {seconds} s",
    },
    "help_admin_memory": {
        "en": "/pending — questions readers liked (👍), to confirm into the question memory or reject.",
        "lt": "/pending — skaitytojų pamėgti (👍) klausimai: patvirtinkite juos į klausimų atmintį arba atmeskite.",
    },
    "pending_intro": {
        "en": "Questions readers liked, awaiting your review: {n}. ✅ adds one to the question memory "
              "(the passage it was answered from then counts as its answer), ❌ rejects it.",
        "lt": "Skaitytojų pamėgti klausimai, laukiantys jūsų sprendimo: {n}. ✅ įtraukia klausimą į klausimų "
              "atmintį (ištrauka, iš kurios atsakyta, bus laikoma jo atsakymu), ❌ jį atmeta.",
    },
    "pending_none": {
        "en": "No liked questions are awaiting review.",
        "lt": "Pamėgtų klausimų, laukiančių sprendimo, nėra.",
    },
    "pending_more": {
        "en": "… and {n} more; decide these, then /pending again.",
        "lt": "… ir dar {n}; nuspręskite dėl šių, tada vėl /pending.",
    },
    "memory_adding": {
        "en": "Adding “{question}” to the question memory…",
        "lt": "Įtraukiu „{question}“ į klausimų atmintį…",
    },
    "memory_added": {
        "en": "Added “{question}” to the question memory; it now holds {n} questions.",
        "lt": "„{question}“ įtraukiau į klausimų atmintį; joje dabar klausimų: {n}.",
    },
    "memory_known": {
        "en": "“{question}” is already in the question memory; nothing was added.",
        "lt": "„{question}“ jau yra klausimų atmintyje; nieko nepridėjau.",
    },
    "memory_save_failed": {
        "en": "I could not add “{question}” to the question memory ({reason}); it awaits review again.",
        "lt": "Nepavyko įtraukti „{question}“ į klausimų atmintį ({reason}); jis vėl laukia sprendimo.",
    },
    "memory_confirmed": {"en": "Confirmed.", "lt": "Patvirtinta."},
    "memory_rejected": {"en": "Rejected; it will not be offered again.", "lt": "Atmesta; nebesiūlysiu."},
    "memory_decided": {
        "en": "That question has already been decided.",
        "lt": "Dėl šio klausimo jau nuspręsta.",
    },
    "stats_memory": {
        "en": "question memory: {n} questions, {feedback} of them from confirmed feedback; "
              "awaiting review: {pending}",
        "lt": "klausimų atmintis: klausimų – {n}, iš jų iš patvirtintų atsiliepimų – {feedback}; "
              "laukia sprendimo – {pending}",
    },
    "language_name_en": {"en": "English", "lt": "anglų k."},
    "language_name_lt": {"en": "Lithuanian", "lt": "lietuvių k."},
}


def t(key: str, lang: str | None, **fields) -> str:
    """The text ``key`` in ``lang`` (English when ``lang`` is not Lithuanian)."""
    entry = TEXTS[key]
    text = entry["lt"] if lang == "lt" else entry["en"]
    return text.format(**fields) if fields else text


def language_name(code: str, lang: str | None) -> str:
    """The name of language ``code`` in the reader's language ``lang``."""
    key = f"language_name_{code}"
    return t(key, lang) if key in TEXTS else code


def about_fields(about: "About | None", lang: str | None) -> dict[str, str]:
    """The fields the texts that speak of the corpus take: ``topic`` (what follows "about" /
    "apie") and ``eg`` (", e.g. “first example”", or nothing when the corpus gives none)."""
    from .about import About

    about = about or About()
    ex = about.examples_in(lang)
    return {"topic": about.topic_in(lang), "eg": t("eg", lang, example=ex[0]) if ex else ""}


def help_text(lang: str | None, documents: int, about: "About | None" = None) -> str:
    """The help message: what the bot answers from, the corpus's example questions, the commands."""
    from .about import About

    fields = about_fields(about, lang)
    ex = (about or About()).examples_in(lang)[:3]
    items = t("examples_list", lang, items="".join(f"\n• {e}" for e in ex)) if ex else "."
    return t("help", lang, n=documents, topic=fields["topic"], examples=items)

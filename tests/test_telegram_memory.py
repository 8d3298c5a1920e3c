"""Questions readers liked join the question memory after an administrator confirms them: a 👍
keeps the question as the engine read it, the highlighted sentence and its document; /pending
lists them with ✅ / ❌ buttons; ✅ appends to the corpus's questions.jsonl and rebuilds; /stats
counts them. The real bot process against the stand-in Bot API server, on a tiny corpus of its own
(the stand-in server and the bot fixtures are those of tests/test_telegram_documents.py); the store
on SQLite and PostgreSQL, an older database migrated.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from dataclasses import replace
from html import unescape

import pytest

from bot import known_questions
from bot.answer import Answer, AnswerPassage
from bot.known_questions import KnownQuestion
from bot.store import EXPECT_CHARS, MemoryCandidate, Store, answer_phrase, memory_candidate, question_key
from bot_process import ROOT
from test_telegram_documents import (ADMIN, BUILD_TIMEOUT, GALVE, OTHER, SEED, TIMEOUT,  # noqa: F401 (fixtures)
                                     ask, bot, plain, tg)

#: the corpus's question memory before any reader liked anything
ASKED_BEFORE = [KnownQuestion("Kokio gylio yra Galvės ežeras?", ("46.7 metres",), "galve", "qa", "writer"),
                KnownQuestion("Where is Lake Galve?", ("28 kilometres west of Vilnius",), "galve", "qa", "writer")]
ISLANDS = "How many islands does Lake Galve have?"
CASTLE = "Who built Trakai Island Castle?"
REGATTA = "What does Lake Galve host every summer?"
SETTLED = ("Added", "already in the question memory", "could not", "failed")


@pytest.fixture(scope="module")
def space(tmp_path_factory, settings, embedder):
    """Two seed documents and a lake, a question memory of two, indexed; and their settings."""
    from bot.index import build_index

    root = tmp_path_factory.mktemp("memory")
    corpus = root / "corpus"
    corpus.mkdir()
    for stem in SEED:
        for suffix in (".txt", ".meta.toml"):
            shutil.copy(ROOT / "corpus" / f"{stem}{suffix}", corpus)
    (corpus / "galve.txt").write_bytes(GALVE)
    (corpus / "galve.meta.toml").write_text('title = "Lake Galvė"\n', encoding="utf-8")
    known_questions.append(corpus, ASKED_BEFORE)
    build_index(corpus, root / "index", embedder=embedder)
    (root / "data").mkdir()
    return replace(settings, corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data")


def buttons(msg) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in (msg.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row}


def press(tg, chat, msg, label, user=None) -> str:
    """Press the button ``label`` under ``msg``; the bot's answer to the press (its toast)."""
    before = len(tg.callback_answers)
    tg.push_callback(chat, msg["message_id"], buttons(msg)[label], user_id=user or chat)
    tg.wait_for(lambda: len(tg.callback_answers) > before, timeout=TIMEOUT)
    return tg.callback_answers[-1].get("text", "")


def like(tg, chat, question, lang="en") -> dict:
    """Ask ``question`` in ``chat`` and press 👍 under the answer; the answer."""
    answer = ask(tg, chat, question, lang=lang)
    assert "👍" in buttons(answer), plain(answer["text"])
    assert press(tg, chat, answer, "👍")
    return answer


def highlighted(answer) -> str:
    """The sentence an answer highlights in its first passage."""
    return unescape(re.search(r"<b>\[1\]</b>.*?<b>(.*?)</b>", answer["text"], flags=re.DOTALL).group(1)).strip()


def pending(tg) -> dict:
    """The administrator's /pending list as it stands now."""
    first = ask(tg, ADMIN, "/pending")
    return next(m for m in tg.messages(ADMIN) if m["message_id"] == first["message_id"])


def listed(msg) -> list[str]:
    """The questions a /pending message lists, in order."""
    return re.findall(r"^\d+\. “(.+?)”$", msg["visible_text"], flags=re.MULTILINE)


def confirm(tg, listing, number) -> dict:
    """Press ✅ ``number`` under a /pending list; the message that tells how adding it ended."""
    last = tg.messages(ADMIN)[-1]["message_id"]
    assert press(tg, ADMIN, listing, f"✅ {number}") == "Confirmed."

    def outcome():
        later = [m for m in tg.messages(ADMIN) if m["message_id"] > last]
        return later[0] if later and any(w in later[0]["visible_text"] for w in SETTLED) else None
    return tg.wait_for(outcome, timeout=BUILD_TIMEOUT, description="the question memory to take the question")


def memory_file(space) -> list[dict]:
    path = known_questions.path_of(space.corpus_dir)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def stats_line(tg) -> str:
    return next(line for line in plain(ask(tg, ADMIN, "/stats")["text"]).splitlines()
                if line.startswith("question memory"))


# ------------------------------------------------------------------ what a 👍 keeps


def answer_state(question="Kiek salų turi Galvės ežeras?", highlight=" The lake has 21 islands. ", **kw) -> dict:
    text = "Lake Galve is deep." + highlight + "Trakai Island Castle stands on one of them."
    passage = AnswerPassage(text=text, highlight=highlight, doc_id="galve", title="Lake Galvė", publisher="",
                            date="", url="", section="", language="en", score=0.9, full_text=text)
    return Answer(question=question, language="lt", answered=True, passages=[passage], **kw).to_state()


def test_a_like_keeps_the_question_as_read_the_highlighted_sentence_and_its_document():
    assert memory_candidate(answer_state()) == MemoryCandidate("Kiek salų turi Galvės ežeras?",
                                                               "The lake has 21 islands.", "galve")
    # a follow-up is kept as the engine understood it, not as typed
    followup = answer_state("O kiek salų?", query="Galvės ežeras: o kiek salų?", followup=True)
    assert memory_candidate(followup).question == "Galvės ežeras: o kiek salų?"
    assert memory_candidate(answer_state(query="Kiek salų turi Galvės ežeras?")).question == \
        "Kiek salų turi Galvės ežeras?"
    # only an answer to a question: not a refusal, not "more", not a notice
    assert memory_candidate({**answer_state(), "answered": False}) is None
    assert memory_candidate({**answer_state(), "kind": "more"}) is None
    assert memory_candidate({**answer_state(), "passages": []}) is None


def test_a_long_highlight_is_cut_at_a_word_and_stays_a_part_of_the_passage():
    sentence = " ".join(f"word{i}" for i in range(80)) + "."
    phrase = answer_phrase(sentence)
    assert len(phrase) <= EXPECT_CHARS and sentence.startswith(phrase) and re.fullmatch(r".*word\d+", phrase)
    assert memory_candidate(answer_state(highlight=sentence)).expect == phrase
    assert answer_phrase("x" * 500) == "x" * EXPECT_CHARS
    assert question_key("  How MANY islands?? ") == question_key("how many islands") == "how many islands"


# ------------------------------------------------------------------ the store, both backends


OLD_FEEDBACK = """CREATE TABLE feedback (
    answer_id BIGINT NOT NULL, chat_id BIGINT NOT NULL, user_id BIGINT NOT NULL,
    vote INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id))"""


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "bot.db")
    return request.getfixturevalue("pg_server").create_database()


def execute_raw(target: str, *statements: tuple) -> None:
    """Run SQL on the database behind ``target`` without the store (as an older bot left it)."""
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            for sql, params in statements:
                conn.execute(sql.replace("?", "%s").replace("REAL", "DOUBLE PRECISION"), params)
    else:
        with sqlite3.connect(target) as conn:
            for sql, params in statements:
                conn.execute(sql, params)


def test_an_older_database_gains_the_columns_and_its_likes_await_review(target):
    votes = [(1, answer_state()), (-1, answer_state("Kas pastatė pilį?")), (1, {"question": "Kas?", "kind": "not_found"})]
    execute_raw(target, (OLD_FEEDBACK, ()), *[
        ("INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?)", (n, 10, 100, vote, state["question"],
                                                                json.dumps(state), float(n)))
        for n, (vote, state) in enumerate(votes, 1)])
    for _ in range(2):  # opening it again changes nothing
        store = Store.open(target)
        try:
            assert store.pending_questions() == [MemoryCandidate("Kiek salų turi Galvės ežeras?",
                                                                 "The lake has 21 islands.", "galve", 1, 100)]
            assert store.feedback()[0] == (1, 100, 1, "Kiek salų turi Galvės ežeras?")
        finally:
            store.close()


def test_liked_questions_are_offered_once_each_and_decided_once(target):
    store = Store.open(target)
    try:
        def liked(chat, user, state, vote=1):
            store.add_feedback(store.save_answer(chat, state["question"], state), chat, user, vote)

        liked(1, 101, answer_state())
        liked(2, 102, answer_state("kiek salų turi galvės ežeras"))  # the same question
        liked(3, 103, answer_state("Kas pastatė pilį?"), vote=-1)  # 👎: not offered
        liked(4, 104, answer_state("Where is Lake Galve?"))
        [islands, where] = store.pending_questions()
        assert (islands.question, islands.votes, islands.answer_id, islands.user_id) == \
            ("Kiek salų turi Galvės ežeras?", 2, 1, 101)
        assert store.pending_questions({question_key("Where is Lake Galve")}) == [islands]  # already known
        assert store.decide(2, 102, "rejected") is not None
        assert store.decide(1, 101, "confirmed") is None, "the first decision wins"
        assert store.pending_questions() == [where]
        liked(5, 105, answer_state("KIEK SALŲ TURI GALVĖS EŽERAS?"))
        assert store.pending_questions() == [where], "a rejected question is not offered again"
        # a second vote by the same reader keeps the decision
        store.add_feedback(4, 104, 104, -1)
        store.add_feedback(4, 104, 104, 1)
        assert store.decide(4, 104, "confirmed").question == "Where is Lake Galve?"
        store.add_feedback(4, 104, 104, 1)
        assert store.pending_questions() == [] and store.decide(4, 104, "confirmed") is None
        assert store.decide(4, 104, "pending", was="confirmed") is not None  # reopened
        assert [c.question for c in store.pending_questions()] == ["Where is Lake Galve?"]
    finally:
        store.close()


# ------------------------------------------------------------------ end to end


def test_administrators_have_pending_in_their_menus_and_help(tg, bot):
    scope = {"type": "chat", "chat_id": ADMIN}
    tg.wait_for(lambda: tg.commands_for(scope, "lt"), timeout=TIMEOUT)
    for lang in ("", "lt"):
        assert "pending" in {c["command"] for c in tg.commands_for(scope, lang)}
    assert "pending" not in {c["command"] for c in tg.commands[""]}
    assert "/pending" in plain(ask(tg, ADMIN, "/help")["text"])
    assert "/pending — skaitytojų pamėgti" in plain(ask(tg, ADMIN, "/help", lang="lt")["text"])
    assert "/pending" not in plain(ask(tg, OTHER, "/help")["text"])


def test_nothing_liked_means_nothing_pending(tg, bot, space):
    assert pending(tg)["visible_text"] == "No liked questions are awaiting review."
    assert stats_line(tg) == ("question memory: 2 questions, 0 of them from confirmed feedback; "
                              "awaiting review: 0")


def test_a_liked_question_confirmed_joins_the_memory_and_the_rebuilt_index(tg, bot, space):
    from bot.index import load_index

    answer = like(tg, 7001, ISLANDS)
    assert "21 islands" in plain(answer["text"])
    expect = highlighted(answer)
    listing = pending(tg)
    assert listed(listing) == [ISLANDS]
    assert f"→ {expect} — Lake Galvė" in listing["visible_text"]
    assert set(buttons(listing)) == {"✅ 1", "❌ 1"}
    assert "awaiting review: 1" in stats_line(tg)
    done = confirm(tg, listing, 1)
    assert done["visible_text"] == f"Added “{ISLANDS}” to the question memory; it now holds 3 questions."
    assert done["method"] == "editMessageText", "one message shows the progress, then the outcome"
    assert memory_file(space)[-1] == {"question": ISLANDS, "expect": expect, "doc": "galve",
                                      "source": "feedback", "group": "feedback"}
    assert expect in GALVE.decode().replace("\n", " ")
    assert memory_file(space)[:2] == [q.as_dict() for q in ASKED_BEFORE]
    index = load_index(space.index_dir)
    assert ISLANDS in [q.question for q in index.questions] and index.manifest["questions"] == 3
    # the list under the button shows what still waits
    updated = next(m for m in tg.messages(ADMIN) if m["message_id"] == listing["message_id"])
    assert updated["visible_text"] == "No liked questions are awaiting review." and not buttons(updated)
    assert stats_line(tg) == ("question memory: 3 questions, 1 of them from confirmed feedback; "
                              "awaiting review: 0")
    # the bot still answers, from the new index
    assert "21 islands" in plain(ask(tg, 7002, "How many islands are there in Lake Galve?")["text"])


def test_a_rejected_question_is_not_added_nor_offered_again(tg, bot, space):
    before = memory_file(space)
    like(tg, 7101, CASTLE)
    listing = pending(tg)
    assert listed(listing) == [CASTLE]
    assert press(tg, ADMIN, listing, "❌ 1") == "Rejected; it will not be offered again."
    assert memory_file(space) == before
    like(tg, 7102, CASTLE)
    assert listed(pending(tg)) == [] and press(tg, ADMIN, listing, "✅ 1") == "That question has already been decided."
    assert memory_file(space) == before


def test_the_same_question_liked_twice_is_listed_once_and_added_once(tg, bot, space):
    like(tg, 7201, REGATTA)
    like(tg, 7202, REGATTA.lower().rstrip("?"))
    listing = pending(tg)
    assert listed(listing) == [REGATTA] and "· 👍 2" in listing["visible_text"]
    assert "Added" in confirm(tg, listing, 1)["visible_text"]
    assert press(tg, ADMIN, listing, "✅ 1") == "That question has already been decided."
    # asked and liked again later: already in the memory, so not offered; a stale or forged
    # button for it confirms it, and the memory keeps one copy
    again = like(tg, 7203, REGATTA)
    assert listed(pending(tg)) == []
    vote = buttons(again)["👍"]
    forged = {**pending(tg), "reply_markup": {"inline_keyboard": [[
        {"text": "✅ 1", "callback_data": f"mem:yes:{vote.split(':')[1]}:7203"}]]}}
    assert "is already in the question memory; nothing was added" in confirm(tg, forged, 1)["visible_text"]
    assert [q["question"] for q in memory_file(space)].count(REGATTA) == 1
    assert len(memory_file(space)) == 4


def test_non_administrators_can_neither_list_nor_decide(tg, bot, space):
    like(tg, 7301, "When was Trakai Island Castle built?")
    listing = pending(tg)
    assert listed(listing) == ["When was Trakai Island Castle built?"]
    before = memory_file(space)
    assert ask(tg, OTHER, "/pending")["visible_text"] == "Sorry, only the bot's administrators can do that."
    assert "tik boto administratoriai" in ask(tg, OTHER + 1, "/pending", lang="lt")["visible_text"]
    assert "administrators" in ask(tg, OTHER, "/stats")["visible_text"]
    # a button pressed by someone else (a group, a forwarded message) does nothing
    assert "administrators" in press(tg, ADMIN, listing, "✅ 1", user=OTHER)
    assert listed(pending(tg)) == ["When was Trakai Island Castle built?"] and memory_file(space) == before
    assert tg.rejections == []

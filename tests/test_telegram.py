"""End to end: the real bot process, PTB's real HTTP stack, a stand-in Bot API server on 127.0.0.1."""
from __future__ import annotations

import re
from html import unescape

import pytest

from bot_process import TOKEN, BotProcess
from fake_telegram import FakeTelegram

ADMIN = 777
TIMEOUT = 60


def plain(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text))


@pytest.fixture(scope="module")
def tg():
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def bot(tg, settings, built_index):
    with BotProcess(settings, tg.api_url, admin_ids=str(ADMIN)) as proc:
        proc.wait_polling(tg)
        yield proc
    assert TOKEN not in proc.log(), "the token leaked into the log"


def ask(tg, chat_id, text, count=1, **kw):
    before = len(tg.messages(chat_id))
    if text.startswith("/"):
        tg.push_command(chat_id, text, **kw)
    else:
        tg.push_message(chat_id, text, **kw)
    msgs = tg.wait_for_messages(chat_id, before + count, timeout=TIMEOUT)
    return msgs[before:]


def test_commands_are_registered_in_both_languages(tg, bot):
    tg.wait_for(lambda: len(tg.commands) >= 2, timeout=TIMEOUT)
    langs = set(tg.commands)
    assert {"lt"} <= {k for k in langs if k} and len(langs) >= 2


@pytest.mark.parametrize("code, expect", [("lt", "Sveiki"), ("en", "Hello")])
def test_start_greets_in_the_users_language(tg, bot, code, expect):
    chat = 1000 + len(code)
    [msg] = ask(tg, chat, "/start", language_code=code)
    assert expect in msg["text"] and "•" in msg["text"]


def test_english_question_gets_a_cited_answer_with_buttons(tg, bot):
    [msg] = ask(tg, 2001, "How many Lithuanians were deported to Kazakhstan?")
    assert msg["parse_mode"] == "HTML"
    assert "<b>More than 90,000 Lithuanians" in msg["text"]
    assert 'href="https://astanatimes.com"' in msg["text"]
    buttons = [b for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    datas = [b["callback_data"] for b in buttons]
    assert any(d.startswith("more:") for d in datas) and any(d.startswith("vote:") for d in datas)
    assert all(len(d.encode()) <= 64 for d in datas)


def test_lithuanian_question_and_follow_up(tg, bot):
    [first] = ask(tg, 2002, "Kada Lietuvoje lankėsi Nazarbajevas?", language_code="lt")
    assert "2001 m. balandžio" in plain(first["text"])
    [second] = ask(tg, 2002, "Ką jis įteikė?", language_code="lt")
    assert "archyvinę medžiagą" in plain(second["text"]) and "Šaltiniai" in plain(second["text"])


def test_greetings_and_thanks_get_a_reply_and_do_not_break_the_follow_up(tg, bot):
    chat = 2099
    [hello] = ask(tg, chat, "Labas!", language_code="lt")
    assert "Klauskite apie Kazachstano ir Lietuvos santykius" in plain(hello["text"])
    assert not hello.get("reply_markup")
    ask(tg, chat, "Kada Lietuvoje lankėsi Nazarbajevas?", language_code="lt")
    [thanks] = ask(tg, chat, "Ačiū!", language_code="lt")
    assert plain(thanks["text"]).startswith("Prašom")
    [follow] = ask(tg, chat, "Ką jis įteikė?", language_code="lt")
    assert "archyvinę medžiagą" in plain(follow["text"])


def test_every_button_works(tg, bot):
    chat = 2003
    [msg] = ask(tg, chat, "Transport and logistics cooperation")
    datas = [b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    more = next(d for d in datas if d.startswith("more:"))
    full = next(d for d in datas if d.startswith("full:"))
    vote = next(d for d in datas if d.startswith("vote:") and d.endswith(":1"))
    n = len(tg.messages(chat))
    tg.push_callback(chat, msg["message_id"], more, user_id=chat)
    more_msg = tg.wait_for_messages(chat, n + 1, timeout=TIMEOUT)[-1]
    assert "More passages" in plain(more_msg["text"])
    tg.push_callback(chat, msg["message_id"], full, user_id=chat)
    full_msg = tg.wait_for_messages(chat, n + 2, timeout=TIMEOUT)[-1]
    assert "[1]" in plain(full_msg["text"])
    tg.push_callback(chat, msg["message_id"], vote, user_id=chat)
    tg.wait_for(lambda: any("Thanks" in (a.get("text") or "") for a in tg.callback_answers), timeout=TIMEOUT)
    # a button pressed on a message the bot knows nothing about says it expired
    tg.push_callback(chat, msg["message_id"], "more:999999", user_id=chat)
    tg.wait_for(lambda: any("expired" in (a.get("text") or "") for a in tg.callback_answers), timeout=TIMEOUT)


def test_special_characters_and_long_questions_are_safe(tg, bot):
    [msg] = ask(tg, 2004, "<b>Kada</b> & <i>užmegzti</i> diplomatiniai santykiai? <script>alert(1)</script>")
    assert "<script>" not in msg["text"]
    [msg] = ask(tg, 2004, "Kazachstanas " * 300)  # ~3,900 characters
    assert msg["text"]
    [msg] = ask(tg, 2004, "x" * 4096)
    assert "too long" in plain(msg["text"]) or "per ilga" in plain(msg["text"])
    # Markdown is not markup to the bot (replies are HTML): the question is still understood
    [msg] = ask(tg, 2004, "*When* were _diplomatic_ relations `established`? [x](http://a.b) **now**")
    assert "1992" in plain(msg["text"])
    [msg] = ask(tg, 2004, "😀🎉🇱🇹")
    assert "with words" in plain(msg["text"]) or "žodžiais" in plain(msg["text"])
    [msg] = ask(tg, 2004, "ما هي العلاقات بين ليتوانيا وكازاخستان؟")  # right to left
    assert "English or Lithuanian" in plain(msg["text"])
    # none of this disturbed the conversation: a follow-up still refers to the last real question
    [msg] = ask(tg, 2004, "And in 2017?")
    assert "2017" in plain(msg["text"])
    assert tg.rejections == []


def test_unknown_commands_and_non_text_messages_get_polite_replies(tg, bot):
    [msg] = ask(tg, 2005, "/frobnicate now")
    assert "/frobnicate" in plain(msg["text"])
    n = len(tg.messages(2005))
    tg.push_sticker(2005)
    msg = tg.wait_for_messages(2005, n + 1, timeout=TIMEOUT)[-1]
    assert "text" in plain(msg["text"]).lower()


def test_reindex_is_for_admins_only_and_answering_goes_on_meanwhile(tg, bot):
    [msg] = ask(tg, 2006, "/reindex", user_id=2006)
    assert "administrators" in plain(msg["text"])
    msgs = ask(tg, ADMIN, "/reindex --full", user_id=ADMIN, count=1)
    assert "background" in plain(msgs[0]["text"])
    # a question while the rebuild runs is answered
    [answer] = ask(tg, 2007, "When were diplomatic relations established?")
    assert "1992" in plain(answer["text"])
    done = tg.wait_for(lambda: [m for m in tg.messages(ADMIN) if "finished" in plain(m["text"])], timeout=120)
    assert "passages" in plain(done[0]["text"])


def test_stats_for_admins(tg, bot):
    [msg] = ask(tg, ADMIN, "/stats", user_id=ADMIN)
    assert "questions:" in plain(msg["text"]) and "p95" in plain(msg["text"])


def test_chats_never_mix_under_concurrent_load(tg, bot):
    questions = [
        ("How many Lithuanians were deported to Kazakhstan?", "90,000"),
        ("Kada užmegzti diplomatiniai santykiai?", "1992"),
        ("How many Lithuanian companies are on the Kazakh market?", "170"),
        ("Kas vienija kazachus Lietuvoje?", "Nursaulė"),
    ]
    chats = list(range(3000, 3040))
    for i, chat in enumerate(chats):
        tg.push_message(chat, questions[i % 4][0], user_id=chat)
    for i, chat in enumerate(chats):
        [msg] = tg.wait_for_messages(chat, 1, timeout=180)
        assert questions[i % 4][1] in plain(msg["text"]), (chat, msg["text"][:200])
    assert tg.rejections == []


def test_lang_switches_the_reply_language(tg, bot):
    [msg] = ask(tg, 2008, "/lang lt")
    assert "lietuviškai" in plain(msg["text"])
    [msg] = ask(tg, 2008, "How many Lithuanians were deported to Kazakhstan?")
    assert "Šaltiniai" in plain(msg["text"]) and "(in Lithuanian)" not in plain(msg["text"])
    [msg] = ask(tg, 2008, "/lang auto")
    [msg] = ask(tg, 2008, "How many Lithuanians were deported to Kazakhstan?")
    assert "Sources" in plain(msg["text"])


def test_sources_help_and_reset(tg, bot):
    [msg] = ask(tg, 2009, "/sources")
    assert msg["text"].count("<a href=") == 5
    [msg] = ask(tg, 2009, "/help", language_code="lt")
    assert "/reset" in msg["text"]
    ask(tg, 2009, "Kada Lietuvoje lankėsi Nazarbajevas?")
    [msg] = ask(tg, 2009, "/reset")
    assert "pamiršau" in plain(msg["text"]) or "forgotten" in plain(msg["text"])


def test_groups_answer_mentions_replies_and_ask_only(tg, bot):
    group = -5001
    tg.push_message(group, "just chatting among ourselves", user_id=11, chat_type="group")
    [msg] = ask(tg, group, "@fake_test_bot When were diplomatic relations established?", user_id=11,
                chat_type="group")
    assert "1992" in plain(msg["text"])
    assert len(tg.messages(group)) == 1  # the plain chatter got no reply
    [msg] = ask(tg, group, "/ask Kiek lietuvių ištremta į Kazachstaną?", user_id=12, chat_type="group")
    assert "90,000" in plain(msg["text"])
    bot_msg = tg.messages(group)[-1]
    # a reply to the bot is a question too, and follows the group's conversation ("they")
    [msg] = ask(tg, group, "And where were they imprisoned?", user_id=12, chat_type="group",
                reply_to_message_id=bot_msg["message_id"])
    assert "lageriuose" in plain(msg["text"])


def test_edited_messages_photos_and_voice_are_handled(tg, bot):
    update = tg.push_message(2010, "When were diplomatic relations?")
    tg.wait_for_messages(2010, 1, timeout=TIMEOUT)
    n = len(tg.messages(2010))
    tg.push_edited_message(2010, update["message"]["message_id"], "When were diplomatic relations established?")
    msg = tg.wait_for_messages(2010, n + 1, timeout=TIMEOUT)[-1]
    assert "1992" in plain(msg["text"])
    tg.push_photo(2010)
    tg.push_voice(2010, language_code="lt")
    msgs = tg.wait_for_messages(2010, n + 3, timeout=TIMEOUT)
    assert all("text" in plain(m["text"]).lower() or "tekst" in plain(m["text"]).lower() for m in msgs[-2:])


def test_a_restart_in_the_middle_of_a_conversation_loses_nothing(tg, bot, settings):
    chat = 2011
    ask(tg, chat, "Kada Lietuvoje lankėsi Nazarbajevas?", language_code="lt")
    bot.stop()
    polls = tg.get_updates_count
    bot.start()
    bot.wait_polling(tg, calls_before=polls)
    [msg] = ask(tg, chat, "Ką jis įteikė?", language_code="lt")
    assert "archyvinę medžiagą" in plain(msg["text"])


def test_api_faults_are_retried_and_the_bot_recovers(tg, bot):
    tg.inject("sendMessage", "429", times=1, retry_after=1)
    tg.inject("sendMessage", "500", times=1)
    tg.inject("getUpdates", "502", times=2)
    tg.inject("getUpdates", "drop", times=1)
    tg.inject("sendMessage", "timeout", times=1, delay=6)  # longer than PTB's 5 s read timeout
    [msg] = ask(tg, 2012, "How many Lithuanian companies are on the Kazakh market?")
    assert "170" in plain(msg["text"])
    [msg] = ask(tg, 2012, "And how many Kazakh companies are in Lithuania?")
    assert "Dozens" in plain(msg["text"])
    assert tg.fault_count >= 5


def test_commands_with_odd_arguments(tg, bot):
    [msg] = ask(tg, 2013, "/ask")
    assert "/ask" in plain(msg["text"])
    [msg] = ask(tg, 2013, "/lang <b>&amp;</b> ???")
    assert "lietuviškai" in plain(msg["text"]) or "English" in plain(msg["text"])
    [msg] = ask(tg, 2013, "/stats please", user_id=2013)
    assert "administrators" in plain(msg["text"]) or "administratoriai" in plain(msg["text"])
    assert tg.rejections == []


RATE = 3  # questions a minute per user for the strict bot


@pytest.fixture(scope="module")
def strict_bot(settings, built_index, tmp_path_factory):
    """A second bot: private to a few chats, and at most 3 questions a minute per user."""
    from dataclasses import replace

    with FakeTelegram(token=TOKEN) as server:
        with BotProcess(replace(settings, data_dir=tmp_path_factory.mktemp("strict")), server.api_url,
                        extra_env={"BOT_ALLOWED_CHAT_IDS": "4001,4003,4004",
                                   "BOT_USER_RATE_PER_MINUTE": str(RATE)}) as proc:
            proc.wait_polling(server)
            yield server


def test_a_private_bot_answers_only_its_chats(strict_bot):
    [member] = ask(strict_bot, 4001, "When were diplomatic relations established?")
    assert "Sources" in plain(member["text"])
    [outsider] = ask(strict_bot, 4002, "When were diplomatic relations established?")
    assert "private" in plain(outsider["text"]) and "Sources" not in plain(outsider["text"])


def test_a_user_asking_too_fast_is_asked_to_slow_down_and_nobody_else_is(strict_bot):
    for _ in range(RATE):
        [msg] = ask(strict_bot, 4003, "When were diplomatic relations established?")
        assert "1992" in plain(msg["text"])
    [msg] = ask(strict_bot, 4003, "When were diplomatic relations established?")
    assert "please wait a minute" in plain(msg["text"]) and "1992" not in plain(msg["text"])
    [other] = ask(strict_bot, 4004, "When were diplomatic relations established?")
    assert "1992" in plain(other["text"])


def test_the_rate_limit_is_per_user_over_a_sliding_minute(monkeypatch):
    from types import SimpleNamespace

    import bot.telegram_bot as tb

    now = [1000.0]
    monkeypatch.setattr(tb, "time", SimpleNamespace(monotonic=lambda: now[0]))
    context = SimpleNamespace(application=SimpleNamespace(bot_data={}))
    assert [tb._rate_ok(context, 1, 3) for _ in range(4)] == [True, True, True, False]
    assert tb._rate_ok(context, 2, 3)  # another user has a minute of their own
    now[0] += 59
    assert not tb._rate_ok(context, 1, 3)
    now[0] += 2  # the first three questions are now more than a minute old
    assert tb._rate_ok(context, 1, 3)

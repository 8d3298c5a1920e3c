"""Tests for tests/fake_telegram.py, driven by a real python-telegram-bot Application.

Each scenario starts an Application pointed at the fake server (``base_url(f"{api_url}/bot")``),
polls with ``timeout=1`` and runs inside ``asyncio.run`` -- no pytest-asyncio needed.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
import threading
import time

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fake_telegram import FakeTelegram, parse_html, utf16_len

TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456789"
CHAT = 4242


@pytest.fixture
def tg():
    with FakeTelegram(token=TOKEN) as server:
        yield server


def build_app(tg: FakeTelegram, token: str = TOKEN) -> Application:
    return Application.builder().token(token).base_url(f"{tg.api_url}/bot").build()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(
        f"<b>echo:</b> {html.escape(update.message.text)}", parse_mode=ParseMode.HTML
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Yes", callback_data="yes"),
          InlineKeyboardButton("Docs", url="https://example.org/docs")]]
    )
    await update.message.reply_text("Continue?", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(text=f"got {query.data}")
    await query.edit_message_text(f"You chose <i>{html.escape(query.data)}</i>",
                                  parse_mode=ParseMode.HTML)


def run_with_app(tg: FakeTelegram, scenario, handlers=()) -> object:
    """Start a polling Application against ``tg``, run ``await scenario(app)``, shut down."""

    async def main():
        app = build_app(tg)
        for handler in handlers:
            app.add_handler(handler)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                await in_thread(tg.wait_for_polling)
                return await scenario(app)
            finally:
                await app.updater.stop()
                await app.stop()

    return asyncio.run(main())


async def in_thread(func, *args, **kwargs):
    """Call a blocking FakeTelegram helper (wait_for...) without blocking the event loop."""
    return await asyncio.to_thread(func, *args, **kwargs)


def seconds(value) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ---------------------------------------------------------------------------- end to end


def test_updates_are_delivered_and_replies_recorded(tg):
    handlers = [MessageHandler(filters.TEXT & ~filters.COMMAND, echo)]

    async def scenario(app):
        tg.push_message(CHAT, "hello <world> & co", language_code="lt", username="alice")
        tg.push_message(CHAT, "second")
        return await in_thread(tg.wait_for_messages, CHAT, 2, timeout=5)

    started = time.monotonic()
    replies = run_with_app(tg, scenario, handlers)
    assert time.monotonic() - started < 5

    assert [r["text"] for r in replies] == [
        "<b>echo:</b> hello &lt;world&gt; &amp; co",
        "<b>echo:</b> second",
    ]
    assert replies[0]["visible_text"] == "echo: hello <world> & co"
    assert replies[0]["parse_mode"] == "HTML"
    assert replies[0]["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    # Every update was confirmed through the getUpdates offset; nothing is delivered twice.
    assert tg.pending_updates == []
    assert len(tg.calls("sendMessage")) == 2
    assert tg.calls("getMe") and tg.calls("deleteWebhook")
    assert tg.rejections == []


def test_command_and_callback_query_round_trip(tg):
    handlers = [CommandHandler("start", start), CallbackQueryHandler(on_button)]

    async def scenario(app):
        tg.push_command(CHAT, "/start")
        [menu] = await in_thread(tg.wait_for_messages, CHAT, 1)
        tg.push_callback(CHAT, menu["message_id"], "yes")
        await in_thread(
            tg.wait_for, lambda: tg.messages(CHAT)[0]["edit_date"], 5, "message edited"
        )
        # Editing to identical content is refused the way Telegram does it.
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await app.bot.edit_message_text(
                "You chose <i>yes</i>", chat_id=CHAT, message_id=menu["message_id"],
                parse_mode=ParseMode.HTML,
            )
        return menu

    menu = run_with_app(tg, scenario, handlers)
    assert menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert tg.callback_answers[0]["text"] == "got yes"
    assert tg.callback_answers[0]["data"] == "yes"
    [edited] = tg.messages(CHAT)
    assert edited["visible_text"] == "You chose yes"
    assert edited["reply_markup"] is None  # editMessageText without markup drops the keyboard
    assert edited["edits"][0]["visible_text"] == "Continue?"
    assert tg.rejections[-1]["description"].startswith("Bad Request: message is not modified")


def test_non_text_updates_are_deserialised_by_ptb(tg):
    seen = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        kind = "photo" if msg.photo else "sticker" if msg.sticker else "voice" if msg.voice \
            else "edited" if update.edited_message else "text"
        seen.append(kind)

    async def scenario(app):
        first = tg.push_message(CHAT, "original")
        tg.push_photo(CHAT, caption="look")
        tg.push_sticker(CHAT)
        tg.push_voice(CHAT, duration=4)
        tg.push_edited_message(CHAT, first["message"]["message_id"], "changed")
        await in_thread(tg.wait_for, lambda: len(seen) >= 5, 5)

    run_with_app(tg, scenario, [MessageHandler(filters.ALL, record)])
    assert seen == ["text", "photo", "sticker", "voice", "edited"]


def test_commands_and_chat_actions_are_recorded(tg):
    async def scenario(app):
        from telegram import BotCommand, BotCommandScopeAllPrivateChats

        await app.bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
        await app.bot.set_my_commands([BotCommand("start", "Pradėti")], language_code="lt")
        await app.bot.set_my_commands(
            [BotCommand("ask", "Ask")], scope=BotCommandScopeAllPrivateChats()
        )
        with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
            await app.bot.set_my_commands([BotCommand("Bad-Name", "x")])
        lt = await app.bot.get_my_commands(language_code="lt")
        await app.bot.send_chat_action(CHAT, "typing")
        with pytest.raises(BadRequest):
            await app.bot.send_chat_action(CHAT, "dancing")
        return lt

    lt = run_with_app(tg, scenario)
    assert [c.description for c in lt] == ["Pradėti"]
    assert set(tg.commands) == {"", "lt"}
    assert [c["command"] for c in tg.commands[""]] == ["start", "help"]
    assert tg.commands_for({"type": "all_private_chats"}) == [
        {"command": "ask", "description": "Ask"}
    ]
    assert [a["action"] for a in tg.chat_actions] == ["typing"]


# ---------------------------------------------------------------------------- validation


INVALID_TEXTS = [
    # (text, parse_mode, expected part of the error)
    ("", None, "message text is empty"),
    ("   \n ", None, "message text is empty"),
    ("<b> </b>", "HTML", "message text is empty"),
    ("a" * 4097, None, "message is too long"),
    ("<b>" + "a" * 4097 + "</b>", "HTML", "message is too long"),
    ("\N{GRINNING FACE}" * 2049, None, "message is too long"),  # 4098 UTF-16 code units
    ("1 < 2", "HTML", "can't parse entities: Unsupported start tag"),
    ("<p>para</p>", "HTML", 'Unsupported start tag "p"'),
    ("<b>bold<i>both</b></i>", "HTML", "Unmatched end tag"),
    ("<b>never closed", "HTML", "Can't find end tag"),
    ("AT&T", "HTML", "can't parse entities"),
    ("<span>x</span>", "HTML", "tg-spoiler"),
    ("hi", "Markdown3", "unsupported parse_mode"),
]

INVALID_BUTTONS = [
    # (button, expected part of the error)
    ({"text": "x", "callback_data": "\N{LATIN SMALL LETTER E WITH ACUTE}" * 32 + "a"},
     "BUTTON_DATA_INVALID"),  # 33 characters, 65 bytes
    ({"text": "x", "callback_data": "a" * 65}, "BUTTON_DATA_INVALID"),
    ({"text": "x"}, "Text buttons are unallowed"),
    ({"text": "x", "url": ""}, "URL '' is invalid"),
]


def test_invalid_requests_are_rejected_with_bad_request(tg):
    async def scenario(app):
        errors = []
        for text, parse_mode, _ in INVALID_TEXTS:
            with pytest.raises(BadRequest) as info:
                await app.bot.send_message(CHAT, text, parse_mode=parse_mode)
            errors.append(str(info.value))
        for button, _ in INVALID_BUTTONS:
            # A raw dict, so that PTB's own objects cannot interfere with the keyboard.
            with pytest.raises(BadRequest) as info:
                await app.bot.send_message(CHAT, "t", reply_markup={"inline_keyboard": [[button]]})
            errors.append(str(info.value))
        rows = [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
        with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
            await app.bot.send_message(CHAT, "t", reply_markup=InlineKeyboardMarkup(rows))
        # The limits themselves are fine.
        await app.bot.send_message(CHAT, "t", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("ok", callback_data="a" * 64)]] + rows[:99]
        ))
        return errors

    errors = run_with_app(tg, scenario)
    expected = [m for *_, m in INVALID_TEXTS] + [m for _, m in INVALID_BUTTONS]
    for error, message in zip(errors, expected, strict=True):
        assert message.lower() in error.lower(), (message, error)
    assert len(tg.rejections) == len(expected) + 1
    assert all(r["method"] == "sendMessage" for r in tg.rejections)
    assert len(tg.messages(CHAT)) == 1


def test_length_is_counted_after_entity_parsing(tg):
    async def scenario(app):
        ok = [
            await app.bot.send_message(CHAT, "a" * 4096),
            await app.bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML"),
            await app.bot.send_message(CHAT, "&lt;" * 4096, parse_mode="HTML"),
            await app.bot.send_message(CHAT, "\N{GRINNING FACE}" * 2048),
        ]
        return [utf16_len(m.text) for m in ok]

    assert run_with_app(tg, scenario) == [4096, 4096, 4096, 4096]
    assert tg.rejections == []


def test_unknown_message_and_callback_ids(tg):
    async def scenario(app):
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await app.bot.edit_message_text("x", chat_id=CHAT, message_id=99)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await app.bot.delete_message(CHAT, 99)
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await app.bot.answer_callback_query("12345")
        sent = await app.bot.send_message(CHAT, "bye")
        assert await app.bot.delete_message(CHAT, sent.message_id)

    run_with_app(tg, scenario)
    assert tg.messages(CHAT)[0]["deleted"] is True
    assert tg.messages(CHAT, include_deleted=False) == []


# ---------------------------------------------------------------------------- faults


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after
def test_fault_injection(tg):
    async def scenario(app):
        tg.inject("sendMessage", "429", retry_after=7)
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(CHAT, "first")
        assert seconds(info.value.retry_after) == 7

        tg.inject("sendMessage", "500")
        with pytest.raises(NetworkError, match="(?i)Internal Server Error"):
            await app.bot.send_message(CHAT, "second")

        tg.inject("sendMessage", "502")
        with pytest.raises(NetworkError, match="(?i)Bad Gateway"):
            await app.bot.send_message(CHAT, "third")

        tg.inject("sendMessage", "drop")
        with pytest.raises(NetworkError):
            await app.bot.send_message(CHAT, "fourth")

        tg.inject("sendMessage", "timeout", delay=5)
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await app.bot.send_message(CHAT, "fifth", read_timeout=0.3)
        assert time.monotonic() - started < 2

        # Faults are used up: the next call goes through.
        await app.bot.send_message(CHAT, "sixth")

    run_with_app(tg, scenario)
    assert tg.fault_count == 5
    assert [f["kind"] for f in tg.injected_faults] == ["429", "500", "502", "drop", "timeout"]
    assert [r["text"] for r in tg.messages(CHAT)] == ["sixth"]
    assert [c["fault"] for c in tg.calls("sendMessage")] == [
        "429", "500", "502", "drop", "timeout", None
    ]


def test_stop_unblocks_held_connections_and_long_polls():
    tg = FakeTelegram(token=TOKEN).start()
    tg.inject("sendMessage", "timeout", delay=30)
    results = []

    def call(method, **params):
        try:
            results.append(httpx.post(f"{tg.api_url}/bot{TOKEN}/{method}", data=params,
                                      timeout=40).status_code)
        except httpx.HTTPError as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=call, args=("sendMessage",),
                                kwargs={"chat_id": "1", "text": "x"}),
               threading.Thread(target=call, args=("getUpdates",), kwargs={"timeout": "30"})]
    for thread in threads:
        thread.start()
    tg.wait_for(lambda: tg.sent and tg.get_updates_count, 5)
    started = time.monotonic()
    tg.stop()
    for thread in threads:
        thread.join(5)
    assert time.monotonic() - started < 2
    assert len(results) == 2


# ---------------------------------------------------------------------------- tokens


def test_wrong_token_is_rejected(tg):
    async def main():
        app = build_app(tg, token="987654321:WrongTokenWrongTokenWrongToken")
        with pytest.raises(InvalidToken):
            async with app:
                pass

    asyncio.run(main())
    response = httpx.post(f"{tg.api_url}/bot987:nope/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = httpx.post(f"{tg.api_url}/bot{TOKEN}/noSuchMethod")
    assert response.status_code == 404


# ---------------------------------------------------------------------------- raw protocol


def test_long_polling_offset_limit_timeout_and_conflicts(tg):
    url = f"{tg.api_url}/bot{TOKEN}/getUpdates"

    started = time.monotonic()
    assert httpx.post(url, data={"timeout": "0.3"}).json() == {"ok": True, "result": []}
    assert 0.25 < time.monotonic() - started < 1.5

    # A waiting poll returns as soon as an update is queued.
    threading.Timer(0.2, tg.push_message, args=(CHAT, "wake up")).start()
    started = time.monotonic()
    [update] = httpx.post(url, data={"timeout": "10"}, timeout=15).json()["result"]
    assert time.monotonic() - started < 2
    assert update["message"]["text"] == "wake up"

    for i in range(3):
        tg.push_message(CHAT, f"m{i}")
    result = httpx.post(url, data={"offset": update["update_id"] + 1, "limit": 2}).json()
    assert [u["message"]["text"] for u in result["result"]] == ["m0", "m1"]
    last = httpx.post(url, data={"offset": result["result"][-1]["update_id"] + 1}).json()
    assert [u["message"]["text"] for u in last["result"]] == ["m2"]
    assert len(tg.pending_updates) == 1  # confirmed only by the next offset

    httpx.post(url, data={"offset": last["result"][0]["update_id"] + 1})
    assert tg.pending_updates == []

    # A newer getUpdates terminates a pending one with 409 Conflict, like Telegram.
    first = {}
    thread = threading.Thread(
        target=lambda: first.update(r=httpx.post(url, data={"timeout": "5"}, timeout=10))
    )
    thread.start()
    # the call is counted in the same locked step that makes it the pending poll
    tg.wait_for(lambda: tg.get_updates_count >= 6, 10)
    assert httpx.post(url, data={"timeout": "0"}).status_code == 200
    thread.join(10)
    assert first["r"].status_code == 409


def test_request_encodings(tg):
    base = f"{tg.api_url}/bot{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}
    # urlencoded with JSON-encoded values (what PTB sends) -- a numeric text stays a string
    r1 = httpx.post(f"{base}/sendMessage",
                    data={"chat_id": str(CHAT), "text": "123", "reply_markup": json.dumps(markup)})
    # JSON body
    r2 = httpx.post(f"{base}/sendMessage", json={"chat_id": CHAT, "text": "json",
                                                  "reply_markup": markup})
    # multipart form
    r3 = httpx.post(f"{base}/sendMessage", data={"chat_id": str(CHAT), "text": "multi"},
                    files={"unused": ("a.txt", b"abc", "text/plain")})
    # query string
    r4 = httpx.get(f"{base}/sendMessage", params={"chat_id": CHAT, "text": "query"})
    for response in (r1, r2, r3, r4):
        assert response.status_code == 200, response.text
    assert r1.json()["result"]["text"] == "123"
    assert r1.json()["result"]["reply_markup"] == markup
    assert [m["text"] for m in tg.messages(CHAT)] == ["123", "json", "multi", "query"]
    assert tg.calls("sendMessage")[2]["params"]["unused"]["file_size"] == 3


def test_bot_objects_from_the_fake_deserialise(tg):
    async def main():
        async with Bot(TOKEN, base_url=f"{tg.api_url}/bot") as bot:
            me = await bot.get_me()
            tg.push_message(CHAT, "hi")
            msg = await bot.send_message(
                CHAT, '<a href="https://example.org">link</a> <code>x</code>',
                parse_mode="HTML", reply_to_message_id=1,
            )
            info = await bot.get_webhook_info()
            return me, msg, info

    me, msg, info = asyncio.run(main())
    assert me.username == "fake_test_bot" and me.is_bot
    assert msg.text == "link x" and msg.from_user.id == me.id
    assert msg.reply_to_message.text == "hi"
    assert [e.type for e in msg.entities] == ["text_link", "code"]
    assert msg.entities[0].url == "https://example.org"
    assert info.pending_update_count == 1


@pytest.mark.parametrize(
    ("source", "visible", "types"),
    [
        ("<b>a</b><strong>b</strong><i>c</i><em>d</em><u>e</u><ins>f</ins>", "abcdef",
         ["bold", "bold", "italic", "italic", "underline", "underline"]),
        ("<s>a</s><strike>b</strike><del>c</del><tg-spoiler>d</tg-spoiler>", "abcd",
         ["strikethrough"] * 3 + ["spoiler"]),
        ('<pre><code class="language-py">x</code></pre>', "x", ["pre"]),
        ("<blockquote expandable>q</blockquote><blockquote>r</blockquote>", "qr",
         ["expandable_blockquote", "blockquote"]),
        ('<tg-emoji emoji-id="5368324170671202286">\N{THUMBS UP SIGN}</tg-emoji>',
         "\N{THUMBS UP SIGN}", ["custom_emoji"]),
        ("&lt;&gt;&amp;&quot;&#39;&#x41;", "<>&\"'A", []),
        ("<B>upper</B> <b>anon</>", "upper anon", ["bold", "bold"]),
    ],
)
def test_html_parser_accepts_supported_markup(source, visible, types):
    text, entities = parse_html(source)
    assert text == visible
    assert [e["type"] for e in entities] == types

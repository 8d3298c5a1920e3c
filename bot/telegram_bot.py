"""The Telegram front end: a thin layer of PTB handlers over :class:`bot.engine.Engine`.

Run with ``python run_bot.py`` (long polling) or ``python run_bot.py --webhook URL --port N``.
Configuration comes from :class:`bot.config.Settings` (``TELEGRAM_BOT_TOKEN``,
``TELEGRAM_API_URL``, ``BOT_ADMIN_IDS``, ``BOT_ALLOWED_CHAT_IDS``, ``DATABASE_URL``).

Every handler is small: it works out the chat's language and conversation, hands the text to
the engine in a worker thread (one slow question never holds up other chats), and renders
the answer as escaped HTML with an inline keyboard. Conversations live in the store
(SQLite or PostgreSQL), so they survive restarts and can be shared by several processes.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import html
import logging
import sys
import time
from datetime import datetime, timezone

from telegram import (BotCommand, BotCommandScopeDefault, InlineKeyboardButton, InlineKeyboardMarkup,
                      Update)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, filters)

from .answer import Answer, AnswerPassage, citation, document_list, fit_html, visible_length
from .config import Settings
from .dialogue import Conversation, Turn
from .engine import Engine
from .index import IndexProblem, build_index, load_index
from .messages import help_text, t
from .store import Store

log = logging.getLogger(__name__)

TELEGRAM_LIMIT = 4096
#: seconds of work before the chat shows "typing…"
TYPING_AFTER = 0.25
COMMANDS = {
    "en": [("help", "How to use the bot"), ("more", "More passages for the last question"),
           ("reset", "Forget the conversation"), ("sources", "The documents I answer from"),
           ("lang", "Reply language: /lang lt, /lang en, /lang auto"), ("ask", "Ask (in groups): /ask question")],
    "lt": [("help", "Kaip naudotis botu"), ("more", "Daugiau ištraukų paskutiniam klausimui"),
           ("reset", "Pamiršti pokalbį"), ("sources", "Dokumentai, pagal kuriuos atsakau"),
           ("lang", "Atsakymų kalba: /lang lt, /lang en, /lang auto"), ("ask", "Klausti (grupėse): /ask klausimas")],
}


class TokenFilter(logging.Filter):
    """Removes the bot token from every log record, whatever logger wrote it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            msg = record.getMessage()
            if self.token in msg:
                record.msg, record.args = msg.replace(self.token, "<token>"), ()
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                if self.token in str(exc):
                    record.exc_text = None
                    record.exc_info = (record.exc_info[0], type(exc)(str(exc).replace(self.token, "<token>"))
                                       if _simple_exc(exc) else None, None)
        return True


def _simple_exc(exc: BaseException) -> bool:
    try:
        type(exc)("x")
        return True
    except Exception:
        return False


def protect_logs(token: str) -> None:
    flt = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)


# ---------------------------------------------------------------- helpers


def _services(context: ContextTypes.DEFAULT_TYPE) -> tuple[Engine, Store, Settings]:
    d = context.application.bot_data
    return d["engine"], d["store"], d["settings"]


def _user_language(update: Update) -> str:
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    return "lt" if code.lower().startswith("lt") else "en"


def _conversation(store: Store, chat_id: int) -> Conversation:
    return Conversation.from_dict(store.get_conversation(chat_id))


def _chat_language(conv: Conversation, update: Update) -> str:
    return conv.language or conv.last_language or _user_language(update)


def _chat_lock(context, chat_id: int) -> asyncio.Lock:
    locks = context.application.bot_data.setdefault("chat_locks", {})
    return locks.setdefault(chat_id, asyncio.Lock())


def _keyboard(answer_id: int, answer: Answer) -> InlineKeyboardMarkup:
    lang = answer.language
    rows = [[InlineKeyboardButton(f"➕ {t('btn_more', lang)}", callback_data=f"more:{answer_id}")]]
    if answer.passages:
        rows.append([InlineKeyboardButton(f"📄 {i}", callback_data=f"full:{answer_id}:{i}")
                     for i in range(1, len(answer.passages) + 1)])
    rows.append([InlineKeyboardButton("👍", callback_data=f"vote:{answer_id}:1"),
                 InlineKeyboardButton("👎", callback_data=f"vote:{answer_id}:-1")])
    return InlineKeyboardMarkup(rows)


def _allowed(update: Update, settings: Settings) -> bool:
    chat = update.effective_chat
    return not settings.allowed_chat_ids or (chat is not None and chat.id in settings.allowed_chat_ids)


def _rate_ok(context, user_id: int, per_minute: int) -> bool:
    window = context.application.bot_data.setdefault("rate", {})
    q = window.setdefault(user_id, collections.deque())
    now = time.monotonic()
    while q and now - q[0] > 60:
        q.popleft()
    if len(q) >= per_minute:
        return False
    q.append(now)
    return True


async def with_retries(call, attempts: int = 5, first_delay: float = 0.5):
    """Run an API call, retrying Telegram's 5xx answers, timeouts and dropped connections with
    exponential backoff (429s are already handled by PTB's AIORateLimiter)."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, BadRequest) or attempt == attempts:
                raise
            log.warning("Bot API call failed (%s); retry %d in %.1f s", type(exc).__name__, attempt, delay)
            await asyncio.sleep(delay)
            delay *= 2


async def _send(update: Update, text: str, markup=None) -> None:
    chat = update.effective_chat
    await with_retries(lambda: chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                                 disable_web_page_preview=True))


# ---------------------------------------------------------------- the question path


async def answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Run one message through the engine in the chat's conversation and send the reply."""
    engine, store, settings = _services(context)
    chat_id = update.effective_chat.id
    user = update.effective_user
    if not _allowed(update, settings):
        await _send(update, html.escape(t("private", _user_language(update))))
        return
    if user and not _rate_ok(context, user.id, settings.user_rate_per_minute):
        await _send(update, html.escape(t("slow_down", _user_language(update))))
        return
    async with _chat_lock(context, chat_id):
        # "typing…" only when the answer is not there at once: it must not add latency, and each
        # chat action counts against Telegram's per-bot rate limit like a message does
        answered = asyncio.Event()
        typing = asyncio.create_task(_typing(update, TYPING_AFTER, answered))
        try:
            html_text, markup = await asyncio.to_thread(_question_path, engine, store, chat_id, text,
                                                        _user_language(update))
        finally:  # also on an error: no "typing…" after the apology, no task left behind
            answered.set()
            await typing
        await _send(update, html_text, markup)


def _question_path(engine: Engine, store: Store, chat_id: int, text: str, user_language: str):
    """Everything a question needs off the event loop, in one worker-thread trip: the chat's
    conversation loaded, the answer, the conversation saved, the question logged, the reply
    rendered and the answer kept for its buttons. Under load every extra trip would queue behind
    other chats' questions in the thread pool."""
    conv = _conversation(store, chat_id)
    if not conv.turns and conv.language is None and not text.strip():
        conv.language = user_language
    answer = _answer_and_record(engine, store, chat_id, text, conv)
    return _render_reply(store, chat_id, answer)


def _answer_and_record(engine: Engine, store: Store, chat_id: int, text: str, conv: Conversation) -> Answer:
    """The answer, the conversation saved, the question logged."""
    t0 = time.perf_counter()
    answer = engine.reply(text, conv)
    latency = time.perf_counter() - t0
    store.put_conversation(chat_id, conv.to_dict())
    if answer.kind in ("answer", "not_found", "more", "more_none"):
        store.log_question(chat_id, answer.language, answer.answered, latency)
    return answer


async def _typing(update: Update, delay: float, answered: asyncio.Event) -> None:
    """Show "typing…" if no answer is ready after ``delay`` seconds (a request once started
    is never cut off half-way: that would reach Telegram as an empty call)."""
    try:
        await asyncio.wait_for(answered.wait(), timeout=delay)
        return
    except asyncio.TimeoutError:
        pass
    try:
        await update.effective_chat.send_action(ChatAction.TYPING)
    except TelegramError as exc:  # cosmetic (timed out, bot blocked...): never lose the answer over it
        log.info("typing action failed: %s", type(exc).__name__)


def _render_reply(store: Store, chat_id: int, answer: Answer) -> tuple[str, InlineKeyboardMarkup | None]:
    """The reply's HTML (within Telegram's limit) and its buttons; the answer is stored for them.
    Passages that did not fit get no button and are not stored."""
    text, kept = fit_html(answer, TELEGRAM_LIMIT)
    if kept < len(answer.passages):
        answer = dataclasses.replace(answer, passages=answer.passages[:kept])
    if not answer.passages:
        return text, None
    return text, _keyboard(store.save_answer(chat_id, answer.question, answer.to_state()), answer)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message in a private chat is a question."""
    await answer_text(update, context, update.effective_message.text or "")


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when mentioned or replied to."""
    msg = update.effective_message
    me = context.bot.username or ""
    text = msg.text or ""
    mentioned = bool(me) and f"@{me.lower()}" in text.lower()
    replied = msg.reply_to_message is not None and msg.reply_to_message.from_user is not None \
        and msg.reply_to_message.from_user.id == context.bot.id
    if not (mentioned or replied):
        return
    if mentioned:
        idx = text.lower().find(f"@{me.lower()}")
        text = (text[:idx] + text[idx + len(me) + 1:]).strip()
    await answer_text(update, context, text)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question is answered again, as asked now."""
    msg = update.edited_message
    if msg and msg.text and msg.chat.type == ChatType.PRIVATE:
        await answer_text(update, context, msg.text)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice...: a polite "text questions only"."""
    store = _services(context)[1]
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    await _send(update, html.escape(t("text_only", _chat_language(conv, update))))


# ---------------------------------------------------------------- commands


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greeting in the user's language, what the bot knows, three example questions."""
    engine, store, _ = _services(context)
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    lang = conv.language or _user_language(update)
    text = t("greeting", lang) + "\n\n" + help_text(lang, len(engine.index.documents))
    await _send(update, html.escape(text))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to use the bot, in the chat's language."""
    engine, store, _ = _services(context)
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    lang = _chat_language(conv, update)
    await _send(update, html.escape(help_text(lang, len(engine.index.documents))))


async def cmd_lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang lt|en|auto — the reply language of this chat."""
    store = _services(context)[1]
    chat_id = update.effective_chat.id
    async with _chat_lock(context, chat_id):
        conv = await asyncio.to_thread(_conversation, store, chat_id)
        current = _chat_language(conv, update)
        conv.choose_language(context.args[0] if context.args else "", current)
        await asyncio.to_thread(store.put_conversation, chat_id, conv.to_dict())
    lang = conv.language or current
    await _send(update, html.escape(t("lang_set", lang) if conv.language else t("lang_auto", lang)))


async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The documents, with links."""
    engine, store, _ = _services(context)
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    lang = _chat_language(conv, update)
    lines = [f"<b>{html.escape(t('sources_intro', lang))}</b>"]
    for i, (label, url) in enumerate(document_list(engine.index.documents), 1):
        lines.append(f'{i}. <a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>' if url
                     else f"{i}. {html.escape(label)}")
    await _send(update, "\n".join(lines)[:TELEGRAM_LIMIT])


async def cmd_reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget this chat's conversation (the language choice stays)."""
    await answer_text(update, context, "/reset")


async def cmd_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """More passages for the last question."""
    await answer_text(update, context, "/more")


async def cmd_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask question — the way to ask in a group without a mention."""
    question = " ".join(context.args or [])
    if not question.strip():
        store = _services(context)[1]
        conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
        await _send(update, html.escape(t("ask_usage", _chat_language(conv, update))))
        return
    await answer_text(update, context, question)


def _is_admin(update: Update, settings: Settings) -> bool:
    user = update.effective_user
    return user is not None and user.id in settings.admin_ids


async def cmd_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: rebuild the index in the background, keep answering, swap when done."""
    engine, store, settings = _services(context)
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    lang = _chat_language(conv, update)
    if not _is_admin(update, settings):
        await _send(update, html.escape(t("admins_only", lang)))
        return
    data = context.application.bot_data
    if data.get("reindex_task") and not data["reindex_task"].done():
        await _send(update, html.escape(t("reindex_running", lang)))
        return
    await _send(update, html.escape(t("reindex_started", lang)))
    chat = update.effective_chat

    async def rebuild() -> None:
        try:
            summary = await asyncio.to_thread(
                build_index, settings.corpus_dir, settings.index_dir, settings.embedder,
                full=bool(context.args and context.args[0] == "--full"), faiss_type=settings.faiss_index,
                ann_threshold=settings.ann_threshold, embedder=engine.embedder)
            index = await asyncio.to_thread(load_index, settings.index_dir, engine.embedder.id)
            engine.swap_index(index)
            log.info("reindex: %s", summary.line())
            await chat.send_message(html.escape(t("reindex_done", lang, summary=summary.line())),
                                    parse_mode=ParseMode.HTML)
        except Exception as exc:  # report, keep serving the old index
            log.exception("reindex failed")
            await chat.send_message(html.escape(t("reindex_failed", lang, error=str(exc)[:500])),
                                    parse_mode=ParseMode.HTML)

    data["reindex_task"] = asyncio.create_task(rebuild())


async def cmd_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: questions, not-found rate, latency percentiles, index size and age."""
    engine, store, settings = _services(context)
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    if not _is_admin(update, settings):
        await _send(update, html.escape(t("admins_only", _chat_language(conv, update))))
        return
    s = await asyncio.to_thread(store.stats)
    m = engine.index.manifest
    built = datetime.fromisoformat(m["built_at"])
    age_h = (datetime.now(timezone.utc) - built).total_seconds() / 3600
    text = (f"questions: {s['questions']}, not found: {s['not_found_rate']:.0%}\n"
            f"latency p50 {s['p50'] * 1000:.0f} ms, p95 {s['p95'] * 1000:.0f} ms, p99 {s['p99'] * 1000:.0f} ms\n"
            f"chats: {s['chats']}, feedback 👍 {s['up']} 👎 {s['down']}\n"
            f"index: {len(m['documents'])} documents, {m['passages']} passages, FAISS {m['faiss']}, "
            f"built {m['built_at']} ({age_h:.1f} h ago), model {m['embedder']['id']}")
    await _send(update, html.escape(text))


async def cmd_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command."""
    store = _services(context)[1]
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    cmd = (update.effective_message.text or "/").split()[0][:64]
    await _send(update, html.escape(t("unknown_command", _chat_language(conv, update), command=cmd)))


# ---------------------------------------------------------------- buttons


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """more:<id>, full:<id>:<n>, vote:<id>:<±1> — works on old messages, or says it expired."""
    engine, store, _ = _services(context)
    query = update.callback_query
    parts = (query.data or "").split(":")
    saved = None
    if len(parts) >= 2 and parts[1].isdigit():
        saved = await asyncio.to_thread(store.get_answer, int(parts[1]))
    if saved is None or saved["chat_id"] != update.effective_chat.id:
        await query.answer(t("expired", _user_language(update)), show_alert=False)
        return
    state = saved["answer"]
    lang = state.get("language", "en")
    kind = parts[0]
    if kind == "vote" and len(parts) == 3 and parts[2] in ("1", "-1"):
        await asyncio.to_thread(store.add_feedback, int(parts[1]), update.effective_chat.id,
                                update.effective_user.id, int(parts[2]))
        await query.answer(t("feedback_thanks", lang))
    elif kind == "full" and len(parts) == 3 and parts[2].isdigit():
        passages = state.get("passages", [])
        n = int(parts[2])
        if not 1 <= n <= len(passages):
            await query.answer(t("expired", lang))
            return
        p = AnswerPassage(**passages[n - 1])
        await query.answer()
        await _send(update, _full_passage_html(p, n, lang))
    elif kind == "more":
        await query.answer()
        conv = Conversation(turns=[Turn(question=state["question"], query=state.get("query") or state["question"],
                                        language=lang, answered=True,
                                        shown=[p.get("key", "") for p in state.get("passages", [])])])
        chat_id = update.effective_chat.id
        await _send(update, *await asyncio.to_thread(
            lambda: _render_reply(store, chat_id, engine.more(conv, "/more"))))
    else:
        await query.answer(t("expired", lang))


def _full_passage_html(p: AnswerPassage, n: int, lang: str) -> str:
    cite = html.escape(citation(p, lang))
    link = f'\n<a href="{html.escape(p.url, quote=True)}">{html.escape(p.url)}</a>' if p.url else ""
    head = f"<b>[{n}]</b> "
    body = html.escape(p.full_text or p.text)
    room = TELEGRAM_LIMIT - visible_length(head + cite + link) - 10
    if visible_length(body) > room:
        body = html.escape((p.full_text or p.text)[: max(0, room - 2)]) + " …"
    return f"{head}{body}\n\n<i>{cite}</i>{link}"


# ---------------------------------------------------------------- errors and wiring


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the details; tell the user briefly, in their language."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await update.effective_chat.send_message(html.escape(t("error", _user_language(update))),
                                                     parse_mode=ParseMode.HTML)
        except Exception:  # the apology itself failed (network): already logged above
            log.warning("could not send the error apology")


async def _post_init(app: Application) -> None:
    """Register the command menu in English and Lithuanian."""
    for lang, cmds in COMMANDS.items():
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in cmds], scope=BotCommandScopeDefault(),
                                      language_code=None if lang == "en" else lang)
    me = await app.bot.get_me()
    log.info("bot @%s is up: %d documents, %d passages", me.username,
             len(app.bot_data["engine"].index.documents), len(app.bot_data["engine"].index.passages))


def build_application(settings: Settings, engine: Engine, store: Store) -> Application:
    """One Application, every handler registered in one readable block."""
    api = settings.telegram_api_url.rstrip("/")
    app = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=5))
        .concurrent_updates(64)
        .connection_pool_size(64)
        .post_init(_post_init)
        .build()
    )
    app.bot_data.update(engine=engine, store=store, settings=settings)

    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    app.add_handler(CommandHandler("start", cmd_start))
    app.add_handler(CommandHandler("help", cmd_help))
    app.add_handler(CommandHandler("lang", cmd_lang))
    app.add_handler(CommandHandler("sources", cmd_sources))
    app.add_handler(CommandHandler("reset", cmd_reset))
    app.add_handler(CommandHandler("more", cmd_more))
    app.add_handler(CommandHandler("ask", cmd_ask))
    app.add_handler(CommandHandler("reindex", cmd_reindex))
    app.add_handler(CommandHandler("stats", cmd_stats))
    app.add_handler(MessageHandler(filters.COMMAND & private, cmd_unknown))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_edited))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private & filters.UpdateType.MESSAGE, on_text))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & groups & filters.UpdateType.MESSAGE,
                                   on_group_text))
    app.add_handler(MessageHandler(
        private & filters.UpdateType.MESSAGE & (filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO
                                                | filters.VIDEO | filters.Document.ALL | filters.VIDEO_NOTE
                                                | filters.LOCATION | filters.CONTACT | filters.ANIMATION),
        on_non_text))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)
    return app


def prepare(settings: Settings) -> tuple[Engine, Store]:
    """Load the engine (building a missing index, or upgrading one of an earlier version, first)
    and open the store."""
    try:
        engine = Engine.load(settings)
    except IndexProblem as exc:
        if not exc.buildable:
            raise
        log.info("%s: building it from %s", exc, settings.corpus_dir)
        log.info(build_index(settings.corpus_dir, settings.index_dir, settings.embedder,
                             faiss_type=settings.faiss_index, ann_threshold=settings.ann_threshold).line())
        engine = Engine.load(settings)
    store = Store.open(settings.database_url or settings.db_path)
    return engine, store


NO_TOKEN = """TELEGRAM_BOT_TOKEN is not set.

To run the Telegram bot, get a token from @BotFather in Telegram (send /newbot), then:
    export TELEGRAM_BOT_TOKEN=123456:ABC...      (or put it in a .env file)
    python run_bot.py

Without Telegram you can chat in the terminal:
    python run_bot.py chat"""


def run(settings: Settings, webhook_url: str | None = None, port: int = 8443) -> int:
    """Start the bot (long polling, or a webhook server); returns an exit code."""
    if not settings.telegram_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    protect_logs(settings.telegram_token)
    engine, store = prepare(settings)
    app = build_application(settings, engine, store)
    log.info("starting (%s), API %s", "webhook" if webhook_url else "long polling", settings.telegram_api_url)
    if webhook_url:
        import hashlib

        path = hashlib.sha256(settings.telegram_token.encode()).hexdigest()[:32]
        app.run_webhook(listen="0.0.0.0", port=port, url_path=path,
                        webhook_url=f"{webhook_url.rstrip('/')}/{path}",
                        secret_token=hashlib.sha256(b"secret" + settings.telegram_token.encode()).hexdigest()[:64],
                        allowed_updates=Update.ALL_TYPES)
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    store.close()
    return 0

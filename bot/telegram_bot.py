"""The Telegram front end: a thin layer of PTB handlers over :class:`bot.engine.Engine`.

Run with ``python run_bot.py`` (long polling) or ``python run_bot.py --webhook URL --port N``.
Configuration comes from :class:`bot.config.Settings` (``TELEGRAM_BOT_TOKEN``,
``TELEGRAM_API_URL``, ``BOT_ADMIN_IDS``, ``BOT_ALLOWED_CHAT_IDS``, ``DATABASE_URL``).

Every handler is small: it works out the chat's language and conversation, hands the text to
the engine in a worker thread (one slow question never holds up other chats), and renders
the answer as escaped HTML with an inline keyboard. Conversations live in the store
(SQLite or PostgreSQL), so they survive restarts and can be shared by several processes.

Administrators (``BOT_ADMIN_IDS``) also keep the corpus from Telegram: a document sent to the bot
in a private chat is saved into the corpus folder (:class:`bot.store.CorpusFolder`; replacing an
older version only after a confirmation button) and indexed in the background, one message
showing the progress; ``/documents`` lists the corpus, ``/remove`` takes a document out,
``/reindex`` rebuilds the index. Questions readers liked (👍) join the question memory
(``questions.jsonl`` in the corpus folder, :mod:`bot.known_questions`) once an administrator
confirms them under ``/pending``; the index is then rebuilt the same way, and ``/stats`` counts them.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import html
import inspect
import logging
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from telegram import (BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Chat, Document,
                      InlineKeyboardButton, InlineKeyboardMarkup, Message, Update)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, filters)

from . import known_questions
from .answer import Answer, AnswerPassage, citation, document_list, fit_html, visible_length
from .config import Settings
from .dialogue import Conversation, Turn
from .engine import Engine
from .index import BuildSummary, IndexProblem, SearchIndex, build_index, load_index
from .known_questions import KnownQuestion
from .messages import about_fields, help_text, language_name, t
from .store import (CONFIRMED, PENDING, REJECTED, CorpusFolder, MemoryCandidate, Store, caption_metadata,
                    name_key, question_key, safe_file_name)

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
#: added to the menu in each administrator's own chat
ADMIN_COMMANDS = {
    "en": [("documents", "What the corpus holds"), ("remove", "Remove a document: /remove name"),
           ("reindex", "Rebuild the index"), ("pending", "Liked questions awaiting review"),
           ("stats", "Usage figures")],
    "lt": [("documents", "Kas yra korpuse"), ("remove", "Pašalinti dokumentą: /remove pavadinimas"),
           ("reindex", "Perkurti indeksą"), ("pending", "Pamėgti klausimai, laukiantys sprendimo"),
           ("stats", "Naudojimo statistika")],
}
#: the largest document the bot takes: what Telegram lets a bot download (getFile)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: seconds between edits of a progress message (Telegram allows a chat about one edit a second)
PROGRESS_EVERY = 3.0
#: liked questions one /pending message offers at most (a row of buttons each)
PENDING_SHOWN = 10
#: a suffix for a document sent without a file name
_MIME_SUFFIXES = {"text/plain": ".txt", "text/markdown": ".md", "text/html": ".html", "application/pdf": ".pdf",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}


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


async def _language(update: Update, store: Store) -> str:
    """The language this chat is answered in."""
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    return _chat_language(conv, update)


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


async def _reply(update: Update, key: str, lang: str, markup=None, **fields) -> None:
    """Send the text ``key`` in ``lang`` (escaped)."""
    await _send(update, html.escape(t(key, lang, **fields)), markup)


# ---------------------------------------------------------------- the question path


async def answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Run one message through the engine in the chat's conversation and send the reply."""
    engine, store, settings = _services(context)
    chat_id = update.effective_chat.id
    user = update.effective_user
    if not _allowed(update, settings):
        await _reply(update, "private", _user_language(update))
        return
    if user and not _rate_ok(context, user.id, settings.user_rate_per_minute):
        await _reply(update, "slow_down", _user_language(update))
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


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` is set within ``seconds``."""
    try:
        await asyncio.wait_for(event.wait(), timeout=seconds)
        return True
    except asyncio.TimeoutError:
        return False


async def _typing(update: Update, delay: float, answered: asyncio.Event) -> None:
    """Show "typing…" if no answer is ready after ``delay`` seconds (a request once started
    is never cut off half-way: that would reach Telegram as an empty call)."""
    if await _set_within(answered, delay):
        return
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
    await _reply(update, "text_only", await _language(update, _services(context)[1]))


# ---------------------------------------------------------------- commands


def _help(update: Update, settings: Settings, lang: str, documents: int, about=None) -> str:
    """The help text, with what administrators can do for an administrator."""
    text = help_text(lang, documents, about)
    if _is_admin(update, settings):
        text += "\n\n" + t("help_admin", lang, formats=", ".join(CorpusFolder(settings.corpus_dir).suffixes),
                           limit=MAX_UPLOAD_BYTES // 2**20) + " " + t("help_admin_memory", lang)
    return text


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greeting in the user's language, what the bot knows, three example questions."""
    engine, store, settings = _services(context)
    conv = await asyncio.to_thread(_conversation, store, update.effective_chat.id)
    lang = conv.language or _user_language(update)
    await _send(update, html.escape(t("greeting", lang, **about_fields(engine.index.about, lang)) + "\n\n"
                                  + _help(update, settings, lang, len(engine.index.documents), engine.index.about)))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to use the bot, in the chat's language."""
    engine, store, settings = _services(context)
    lang = await _language(update, store)
    await _send(update, html.escape(_help(update, settings, lang, len(engine.index.documents), engine.index.about)))


async def cmd_lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang lt|en|auto — the reply language of this chat."""
    store = _services(context)[1]
    chat_id = update.effective_chat.id
    async with _chat_lock(context, chat_id):
        conv = await asyncio.to_thread(_conversation, store, chat_id)
        current = _chat_language(conv, update)
        conv.choose_language(context.args[0] if context.args else "", current)
        await asyncio.to_thread(store.put_conversation, chat_id, conv.to_dict())
    await _reply(update, "lang_set" if conv.language else "lang_auto", conv.language or current)


async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The documents, with links."""
    engine, store, _ = _services(context)
    lang = await _language(update, store)
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
        await _reply(update, "ask_usage", await _language(update, _services(context)[1]))
        return
    await answer_text(update, context, question)


def _is_admin(update: Update, settings: Settings) -> bool:
    user = update.effective_user
    return user is not None and user.id in settings.admin_ids


async def _admin_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The chat's language when the sender is an administrator; otherwise None, the refusal sent."""
    _, store, settings = _services(context)
    lang = await _language(update, store)
    if _is_admin(update, settings):
        return lang
    await _reply(update, "admins_only", lang)
    return None


async def cmd_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: rebuild the index in the background, keep answering, swap when done; one message
    shows the progress."""
    lang = await _admin_language(update, context)
    if lang is None:
        return
    if _corpus_lock(context).locked():
        await _reply(update, "reindex_running", lang)
        return
    status = await StatusMessage.send(update.effective_chat, t("reindex_started", lang))
    full = bool(context.args and context.args[0] == "--full")
    context.application.create_task(_reindex(context, status, lang, full), update=update)


async def cmd_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: questions, not-found rate, latency percentiles, index size and age, the question memory."""
    lang = await _admin_language(update, context)
    if lang is None:
        return
    engine, store, settings = _services(context)
    s = await asyncio.to_thread(store.stats)
    memory, known = await asyncio.to_thread(_memory_state, engine, settings)
    waiting = await asyncio.to_thread(store.pending_questions, known)
    m = engine.index.manifest
    built = datetime.fromisoformat(m["built_at"])
    age_h = (datetime.now(timezone.utc) - built).total_seconds() / 3600
    text = (f"questions: {s['questions']}, not found: {s['not_found_rate']:.0%}\n"
            f"latency p50 {s['p50'] * 1000:.0f} ms, p95 {s['p95'] * 1000:.0f} ms, p99 {s['p99'] * 1000:.0f} ms\n"
            f"chats: {s['chats']}, feedback 👍 {s['up']} 👎 {s['down']}\n"
            f"index: {len(m['documents'])} documents, {m['passages']} passages, FAISS {m['faiss']}, "
            f"built {m['built_at']} ({age_h:.1f} h ago), model {m['embedder']['id']}\n"
            + t("stats_memory", lang, n=len(memory), feedback=sum(q.source == "feedback" for q in memory),
                pending=len(waiting)))
    await _send(update, html.escape(text))


async def cmd_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command."""
    cmd = (update.effective_message.text or "/").split()[0][:64]
    await _reply(update, "unknown_command", await _language(update, _services(context)[1]), command=cmd)


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


# ---------------------------------------------------------------- progress of a rebuild


@dataclasses.dataclass
class StatusMessage:
    """One bot message edited as work goes on: how a bot shows progress in Telegram."""

    chat: Chat
    message_id: int
    text: str = ""

    @classmethod
    async def send(cls, chat: Chat, text: str, markup=None) -> "StatusMessage":
        msg = await with_retries(lambda: chat.send_message(html.escape(text), parse_mode=ParseMode.HTML,
                                                           reply_markup=markup))
        return cls(chat, msg.message_id, text)

    async def show(self, text: str) -> None:
        """Edit the message to ``text`` (its buttons go); a message that can no longer be edited
        (the user deleted it) is sent again."""
        if text == self.text:
            return
        self.text = text
        bot = self.chat.get_bot()
        try:
            await with_retries(lambda: bot.edit_message_text(html.escape(text), chat_id=self.chat.id,
                                                             message_id=self.message_id, parse_mode=ParseMode.HTML))
        except BadRequest as exc:
            if "not modified" in str(exc):
                return
            log.info("could not edit a status message (%s); sending it anew", exc)
            msg = await with_retries(lambda: self.chat.send_message(html.escape(text), parse_mode=ParseMode.HTML))
            self.message_id = msg.message_id


class BuildProgress:
    """What a build running in a worker thread last reported, for the message that shows it."""

    def __init__(self) -> None:
        self.counts = (0, 0)

    def __call__(self, done, total=None, *_, **__) -> None:
        """``(done, total)``, or one object with ``done`` and ``total``."""
        if total is None:
            done, total = getattr(done, "done", 0), getattr(done, "total", 0)
        self.counts = (int(done), int(total))  # one assignment: the reader never sees half of it

    def text(self, lang: str, seconds: float) -> str:
        done, total = self.counts
        if total > 0:
            return t("reindex_progress", lang, done=done, total=total, percent=100 * done // total,
                     seconds=round(seconds))
        return t("reindex_working", lang, seconds=round(seconds))


def _progress_option(progress: BuildProgress) -> dict:
    """``build_index``'s progress callback, where it takes one (without it the message shows the
    time spent)."""
    return {"progress": progress} if "progress" in inspect.signature(build_index).parameters else {}


async def _show_progress(status: StatusMessage, progress: BuildProgress, lang: str, done: asyncio.Event) -> None:
    """Edit ``status`` with the build's progress every few seconds until ``done`` (an edit once
    started is finished, never cut off)."""
    started = time.monotonic()
    while not await _set_within(done, PROGRESS_EVERY):
        try:
            await status.show(progress.text(lang, time.monotonic() - started))
        except TelegramError as exc:  # cosmetic: the build goes on
            log.info("progress edit failed: %s", type(exc).__name__)


def _corpus_lock(context) -> asyncio.Lock:
    """One change of the corpus with its rebuild at a time."""
    return context.application.bot_data.setdefault("corpus_lock", asyncio.Lock())


async def _rebuild(context, status: StatusMessage, lang: str, full: bool = False) -> BuildSummary | None:
    """Rebuild the index (the caller holds the corpus lock) with its progress in ``status``, and
    serve the new one. None when it failed: the failure is shown and the old index keeps serving."""
    engine, _, settings = _services(context)
    progress, done = BuildProgress(), asyncio.Event()
    ticker = asyncio.create_task(_show_progress(status, progress, lang, done))
    try:
        summary = await asyncio.to_thread(
            build_index, settings.corpus_dir, settings.index_dir, settings.embedder, full=full,
            faiss_type=settings.faiss_index, ann_threshold=settings.ann_threshold, embedder=engine.embedder,
            **_progress_option(progress))
        engine.swap_index(await asyncio.to_thread(load_index, settings.index_dir, engine.embedder.id))
        log.info("reindex: %s", summary.line())
        return summary
    except Exception as exc:  # report, keep serving the old index
        log.exception("reindex failed")
        failure = t("reindex_failed", lang, error=str(exc)[:500])
    finally:
        done.set()
        await ticker
    await status.show(failure)
    return None


async def _reindex(context, status: StatusMessage, lang: str, full: bool) -> None:
    """/reindex's background work."""
    async with _corpus_lock(context):
        summary = await _rebuild(context, status, lang, full)
    if summary is not None:
        await status.show(t("reindex_done", lang, summary=summary.line()))


# ---------------------------------------------------------------- documents from administrators


def _folder(context) -> CorpusFolder:
    return CorpusFolder(_services(context)[2].corpus_dir)


def _confirm_keyboard(pending_id: int, yes: str, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(yes, lang), callback_data=f"doc:yes:{pending_id}"),
                                  InlineKeyboardButton(t("btn_cancel", lang), callback_data=f"doc:no:{pending_id}")]])


def _quoted(names, lang: str) -> str:
    return ", ".join((f"„{n}“" if lang == "lt" else f"“{n}”") for n in names)


def _indexed(index: SearchIndex, name: str) -> tuple[dict, int] | None:
    """Metadata and passage count of the document saved as ``name`` at the top of the corpus."""
    for doc_id, entry in index.manifest.get("documents", {}).items():
        if "/" not in doc_id and entry.get("file") == name:
            return index.documents.get(doc_id, {}), int(entry.get("passages", 0))
    return None


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: a file sent in a private chat joins the corpus (an older version of it is replaced
    only after a confirmation button); others get a polite refusal."""
    _, store, settings = _services(context)
    lang = await _language(update, store)
    if not _is_admin(update, settings):
        await _reply(update, "documents_admins_only", lang)
        return
    received = await _receive(update, context, lang)
    if received is None:
        return
    staged, name = received
    meta = caption_metadata(update.effective_message.caption)
    old = await asyncio.to_thread(_folder(context).versions, name)
    if old:
        pending = await asyncio.to_thread(store.save_pending, update.effective_chat.id, "replace",
                                          {"staged": staged.name, "name": name, "meta": meta})
        await _reply(update, "document_replace_ask", lang, _confirm_keyboard(pending, "btn_replace", lang),
                     old=_quoted((p.name for p in old), lang), name=name)
        return
    status = await StatusMessage.send(update.effective_chat, t("document_saved", lang, name=name))
    context.application.create_task(_add_document(context, status, lang, staged, name, meta), update=update)


def _sent_name(document: Document) -> tuple[str, str]:
    """The name a sent document is saved under ("" when none is usable), and the name to show."""
    if not document.file_name:
        suffix = _MIME_SUFFIXES.get(document.mime_type or "", "")
        return (f"document-{document.file_unique_id}{suffix}" if suffix else ""), "?"
    shown = "".join(ch if ch.isprintable() else "�" for ch in document.file_name[:80])
    return safe_file_name(document.file_name), shown


async def _receive(update: Update, context, lang: str) -> tuple[Path, str] | None:
    """The sent document checked, downloaded and staged in the corpus folder under a safe name,
    or None with the reason told (a refused file changes nothing)."""
    document = update.effective_message.document
    folder = _folder(context)
    name, shown = _sent_name(document)
    if Path(name).suffix not in folder.suffixes or not Path(name).stem:
        await _reply(update, "document_unknown_format", lang, name=shown, formats=", ".join(folder.suffixes))
        return None
    too_big = {"name": name, "limit": MAX_UPLOAD_BYTES // 2**20}
    if (document.file_size or 0) > MAX_UPLOAD_BYTES:
        await _reply(update, "document_too_big", lang, size=f"{document.file_size / 2**20:.1f}", **too_big)
        return None
    try:
        sent_file = await with_retries(document.get_file)
        data = bytes(await with_retries(sent_file.download_as_bytearray))
    except TelegramError as exc:  # the message names no URL: PTB leaves the token out of it
        log.warning("could not download a document: %s", exc)
        if "too big" in str(exc).lower():  # Telegram's own limit, when the message gave no size
            await _reply(update, "document_too_big", lang, size="> 20", **too_big)
        else:
            await _reply(update, "document_download_failed", lang, name=name)
        return None
    if len(data) > MAX_UPLOAD_BYTES:
        await _reply(update, "document_too_big", lang, size=f"{len(data) / 2**20:.1f}", **too_big)
        return None
    staged = await asyncio.to_thread(folder.stage, name, data)
    found, why = await asyncio.to_thread(folder.read, staged)
    if found is None:
        await asyncio.to_thread(folder.discard, staged)
        await _reply(update, "document_unreadable", lang, name=name, reason=why or "?")
        return None
    return staged, name


async def _add_document(context, status: StatusMessage, lang: str, staged: Path, name: str, meta: dict) -> None:
    """Put a staged document in place, rebuild, and tell how many passages it brought."""
    engine = _services(context)[0]
    folder = _folder(context)
    async with _corpus_lock(context):
        try:
            replaced = await asyncio.to_thread(folder.commit, staged, name, meta)
        except OSError as exc:
            log.warning("could not save %s in the corpus: %s", name, exc)
            await asyncio.to_thread(folder.discard, staged)
            await status.show(t("document_save_failed", lang, name=name, reason=exc.strerror or type(exc).__name__))
            return
        if await _rebuild(context, status, lang) is None:
            return
    indexed = _indexed(engine.index, name)
    if indexed is None:
        await status.show(t("document_not_indexed", lang, name=name))
        return
    meta, passages = indexed
    fields = dict(name=name, title=meta.get("title", name), language=language_name(meta.get("language", ""), lang),
                  passages=passages, documents=len(engine.index.documents))
    await status.show(t("document_replaced", lang, old=_quoted(replaced, lang), **fields) if replaced
                      else t("document_added", lang, **fields))


async def cmd_documents(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: what the corpus holds — title, file, language, passages (``/documents word``
    lists those matching a word)."""
    lang = await _admin_language(update, context)
    if lang is not None:
        await _send(update, _documents_html(_services(context)[0].index, lang, " ".join(context.args or [])))


def _documents_html(index: SearchIndex, lang: str, word: str = "") -> str:
    """The indexed documents, one line each, within one message."""
    rows = []
    for doc_id, entry in sorted(index.manifest.get("documents", {}).items()):
        meta = index.documents.get(doc_id, {})
        file = (PurePosixPath(doc_id).parent / entry.get("file", doc_id)).as_posix()
        title = meta.get("title") or file
        if word and name_key(word) not in name_key(f"{title} {file}"):
            continue
        rows.append(f"<b>{html.escape(title)}</b> — <code>{html.escape(file)}</code> · "
                    f"{html.escape(language_name(meta.get('language', ''), lang))} · "
                    f"{html.escape(t('documents_passages', lang, n=entry.get('passages', 0)))}")
    head = t("documents_matching", lang, word=word, n=len(rows)) if word else t("documents_intro", lang, n=len(rows))
    lines = [html.escape(head)]
    skipped = sorted(index.manifest.get("skipped", {}))
    tail = [html.escape(t("documents_skipped", lang, names=", ".join(skipped)))[:1000]] if skipped and not word else []
    room = TELEGRAM_LIMIT - 200 - sum(len(line) + 1 for line in tail)
    for i, row in enumerate(rows, 1):
        line = f"{i}. {row}"
        if sum(len(x) + 1 for x in lines) + len(line) > room:
            lines.append(html.escape(t("documents_more", lang, n=len(rows) - i + 1)))
            break
        lines.append(line)
    return "\n".join(lines + tail)


async def cmd_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: /remove name — take a document out of the corpus, after a confirmation button."""
    lang = await _admin_language(update, context)
    if lang is None:
        return
    engine, store, settings = _services(context)
    name = " ".join(context.args or []).strip()
    if not name:
        await _reply(update, "remove_usage", lang)
        return
    found = await asyncio.to_thread(_folder(context).find, name)
    names = [p.relative_to(settings.corpus_dir).as_posix() for p in found]
    if len(names) != 1:
        await _reply(update, "remove_ambiguous" if names else "remove_not_found", lang, name=name[:100],
                     names=_quoted(names, lang))
        return
    if len(engine.index.documents) <= 1:
        await _reply(update, "remove_last", lang, name=names[0])
        return
    indexed = _indexed(engine.index, names[0]) if "/" not in names[0] else None
    pending = await asyncio.to_thread(store.save_pending, update.effective_chat.id, "remove", {"name": names[0]})
    await _reply(update, "document_remove_ask", lang, _confirm_keyboard(pending, "btn_remove", lang),
                 name=names[0], title=indexed[0].get("title", "") if indexed else "?")


async def _remove_document(context, status: StatusMessage, lang: str, name: str) -> None:
    """Take a document out, rebuild, and say what the corpus holds now."""
    folder = _folder(context)
    async with _corpus_lock(context):
        found = await asyncio.to_thread(folder.find, name)
        if len(found) != 1:
            await status.show(t("remove_not_found", lang, name=name))
            return
        try:
            await asyncio.to_thread(folder.remove, found[0])
        except OSError as exc:
            await status.show(t("document_save_failed", lang, name=name, reason=exc.strerror or type(exc).__name__))
            return
        summary = await _rebuild(context, status, lang)
    if summary is not None:
        await status.show(t("document_removed", lang, name=name, documents=summary.documents,
                            passages=summary.passages))


async def on_document_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """doc:yes:<id> / doc:no:<id> — carry out or cancel a replacement or removal that waits."""
    _, store, settings = _services(context)
    query = update.callback_query
    lang = await _language(update, store)
    _, answer, pending_id = ((query.data or "") + "::").split(":")[:3]
    if not _is_admin(update, settings):
        await query.answer(t("admins_only", lang))
        return
    taken = await asyncio.to_thread(store.take_pending, int(pending_id), update.effective_chat.id) \
        if pending_id.isdigit() else None
    staged = _folder(context).staged(taken[1].get("staged", "")) if taken and taken[0] == "replace" else None
    if taken is None or (taken[0] == "replace" and staged is None):
        await query.answer(t("expired", lang))
        return
    await query.answer()
    action, data = taken
    status = StatusMessage(update.effective_chat, query.message.message_id)
    if answer != "yes":
        if staged is not None:
            await asyncio.to_thread(_folder(context).discard, staged)
        await status.show(t("document_cancelled", lang))
    elif action == "replace":
        await status.show(t("document_saved", lang, name=data["name"]))
        context.application.create_task(
            _add_document(context, status, lang, staged, data["name"], data.get("meta") or {}), update=update)
    else:
        context.application.create_task(_remove_document(context, status, lang, data["name"]), update=update)


# ---------------------------------------------------------------- liked questions join the question memory


def _memory_state(engine: Engine, settings: Settings) -> tuple[list[KnownQuestion], set[str]]:
    """The question memory as the index serves it (as the corpus's file has it when the index
    holds none), and the keys (:func:`question_key`) of every question it holds or will hold
    after the next build."""
    filed = known_questions.read(settings.corpus_dir)
    held = getattr(engine.index, "questions", None)
    memory = list(held) if held is not None else filed
    return memory, {question_key(q.question) for q in (*memory, *filed)}


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


async def cmd_pending(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: the questions readers liked that await review, each with ✅ / ❌ buttons."""
    lang = await _admin_language(update, context)
    if lang is not None:
        engine, store, settings = _services(context)
        await _send(update, *await asyncio.to_thread(_pending_view, engine, store, settings, lang))


def _pending_view(engine: Engine, store: Store, settings: Settings,
                  lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """/pending's message: each question awaiting review (once, however many liked it), numbered,
    with the answer's highlighted sentence and document, and a row of buttons."""
    waiting = store.pending_questions(_memory_state(engine, settings)[1])
    if not waiting:
        return html.escape(t("pending_none", lang)), None
    lines, rows = [html.escape(t("pending_intro", lang, n=len(waiting)))], []
    for i, c in enumerate(waiting, 1):
        title = engine.index.documents.get(c.doc, {}).get("title") or c.doc
        item = (f"\n<b>{i}.</b> {html.escape(_quoted([_shortened(c.question, 300)], lang))}\n"
                f"→ <b>{html.escape(c.expect)}</b> — <i>{html.escape(_shortened(title, 100))}</i>"
                + (f" · 👍 {c.votes}" if c.votes > 1 else ""))
        if i > PENDING_SHOWN or sum(len(x) + 1 for x in lines) + len(item) > TELEGRAM_LIMIT - 200:
            lines.append("\n" + html.escape(t("pending_more", lang, n=len(waiting) - i + 1)))
            break
        lines.append(item)
        row = f"{c.answer_id}:{c.user_id}"
        rows.append([InlineKeyboardButton(f"✅ {i}", callback_data=f"mem:yes:{row}"),
                     InlineKeyboardButton(f"❌ {i}", callback_data=f"mem:no:{row}")])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def on_memory_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """mem:yes|no:<answer id>:<user id> — confirm a liked question into the question memory (then
    rebuild, one new message showing the progress) or reject it; the list then shows what still waits."""
    engine, store, settings = _services(context)
    query = update.callback_query
    lang = await _language(update, store)
    if not _is_admin(update, settings):
        await query.answer(t("admins_only", lang))
        return
    _, choice, answer_id, user_id = ((query.data or "") + ":::").split(":")[:4]
    if choice not in ("yes", "no") or not answer_id.isdigit() or not user_id.isdigit():
        await query.answer(t("expired", lang))
        return
    confirm = choice == "yes"
    decided = await asyncio.to_thread(store.decide, int(answer_id), int(user_id), CONFIRMED if confirm else REJECTED)
    if decided is None:
        await query.answer(t("memory_decided", lang))
        return
    await query.answer(t("memory_confirmed" if confirm else "memory_rejected", lang))
    text, markup = await asyncio.to_thread(_pending_view, engine, store, settings, lang)
    shown = query.message
    if not (isinstance(shown, Message) and shown.text == html.unescape(re.sub(r"<[^>]+>", "", text))
            and shown.reply_markup == markup):
        try:
            await with_retries(lambda: query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup))
        except BadRequest as exc:  # cosmetic: /pending shows the list again
            log.info("could not update the list of liked questions: %s", exc)
    if confirm:
        status = await StatusMessage.send(update.effective_chat,
                                          t("memory_adding", lang, question=_shortened(decided.question, 300)))
        context.application.create_task(_add_to_memory(context, status, lang, decided), update=update)


async def _add_to_memory(context, status: StatusMessage, lang: str, asked: MemoryCandidate) -> None:
    """Put a confirmed question in the corpus's question memory and rebuild, so it counts at once."""
    engine, store, settings = _services(context)
    question = _shortened(asked.question, 300)
    async with _corpus_lock(context):
        try:
            added = await asyncio.to_thread(_remember, settings.corpus_dir, asked)
        except OSError as exc:
            log.warning("could not add a question to %s: %s", known_questions.QUESTIONS_FILE, exc)
            await asyncio.to_thread(store.decide, asked.answer_id, asked.user_id, PENDING, CONFIRMED)
            await status.show(t("memory_save_failed", lang, question=question,
                                reason=exc.strerror or type(exc).__name__))
            return
        if not added:
            await status.show(t("memory_known", lang, question=question))
            return
        if await _rebuild(context, status, lang) is None:
            return
    memory = (await asyncio.to_thread(_memory_state, engine, settings))[0]
    await status.show(t("memory_added", lang, question=question, n=len(memory)))


def _remember(corpus_dir: Path, asked: MemoryCandidate) -> bool:
    """Append ``asked`` to the corpus's known questions, unless the same question is there already."""
    if question_key(asked.question) in {question_key(q.question) for q in known_questions.read(corpus_dir)}:
        return False
    known_questions.append(corpus_dir, [KnownQuestion(asked.question, (asked.expect,), asked.doc,
                                                      source="feedback", group="feedback")])
    return True


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
    """Register the command menus in English and Lithuanian (administrators' with their commands)."""
    for lang, cmds in COMMANDS.items():
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in cmds], scope=BotCommandScopeDefault(),
                                      language_code=None if lang == "en" else lang)
        for admin in sorted(app.bot_data["settings"].admin_ids):
            try:
                await app.bot.set_my_commands([BotCommand(c, d) for c, d in cmds + ADMIN_COMMANDS[lang]],
                                              scope=BotCommandScopeChat(admin),
                                              language_code=None if lang == "en" else lang)
            except TelegramError as exc:  # e.g. an administrator who never opened a chat with the bot
                log.warning("no command menu for administrator %s: %s", admin, exc)
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
    app.add_handler(CommandHandler("documents", cmd_documents))
    app.add_handler(CommandHandler("remove", cmd_remove))
    app.add_handler(CommandHandler("pending", cmd_pending))
    app.add_handler(MessageHandler(filters.COMMAND & private, cmd_unknown))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_edited))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private & filters.UpdateType.MESSAGE, on_text))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & groups & filters.UpdateType.MESSAGE,
                                   on_group_text))
    app.add_handler(MessageHandler(filters.Document.ALL & private & filters.UpdateType.MESSAGE, on_document))
    app.add_handler(MessageHandler(
        private & filters.UpdateType.MESSAGE & (filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO
                                                | filters.VIDEO | filters.VIDEO_NOTE
                                                | filters.LOCATION | filters.CONTACT | filters.ANIMATION),
        on_non_text))
    app.add_handler(CallbackQueryHandler(on_document_button, pattern=r"^doc:"))
    app.add_handler(CallbackQueryHandler(on_memory_button, pattern=r"^mem:"))
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

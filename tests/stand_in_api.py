"""A stand-in Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real bot.

The bot is started with ``TELEGRAM_API_URL=server.api_url`` and talks to it over HTTP with
PTB's real stack. Tests queue updates (``push_message``, ``push_command``, ``push_callback``,
``push_sticker``), then read what the bot sent (``messages``, ``wait_for_messages``).
Like Telegram, it rejects what Telegram rejects — HTML it cannot parse, text over 4,096
characters, callback_data over 64 bytes, empty text — and records each rejection in
``rejections``. ``inject(method, kind)`` makes the next calls fail with 429 (retry_after),
5xx, a timeout or a dropped connection.
"""
from __future__ import annotations

import html
import itertools
import json
import re
import socket
import threading
import time
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "span", "blockquote", "tg-emoji"}


class _HTMLCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        if tag == "a" and not dict(attrs).get("href"):
            self.error = self.error or "a tag without href"
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f"unmatched end tag \"{tag}\""


def parse_html(text: str) -> tuple[str | None, str]:
    """(error or None, visible text) for Telegram's HTML parse mode."""
    # a bare '<' that does not start a tag, or '&' that is not an entity, is an error
    if re.search(r"<(?![a-zA-Z/])", text):
        return "can't parse entities: unexpected '<'", ""
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        return "can't parse entities: unsupported entity", ""
    p = _HTMLCheck()
    p.feed(text)
    p.close()
    if p.error:
        return f"can't parse entities: {p.error}", ""
    if p.stack:
        return f"can't parse entities: unclosed tag \"{p.stack[-1]}\"", ""
    return None, html.unescape(re.sub(r"<[^>]+>", "", text))


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


class BadRequest(Exception):
    pass


class StandInBotAPI:
    """The server; use as a context manager."""

    def __init__(self, token: str, username: str = "kzlt_test_bot") -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "QA bot",
                         "username": username}
        self._lock = threading.Condition()
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self.sent: list[dict] = []            # every call: {"method", "params", "time"}
        self.bot_messages: dict[int, list[dict]] = {}
        self.rejections: list[dict] = []
        self.commands: dict[str, list] = {}
        self.callback_answers: list[dict] = []
        self.chat_actions: list[dict] = []
        self.webhook: dict | None = None
        self._faults: dict[str, list[tuple[str, int]]] = {}
        self.faults_injected = 0
        self._server: ThreadingHTTPServer | None = None
        self._stopping = False

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "StandInBotAPI":
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                server_self._handle(self)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._stopping = True
        with self._lock:
            self._lock.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ test-facing API

    def _queue(self, update: dict) -> dict:
        with self._lock:
            update["update_id"] = next(self._update_ids)
            self._updates.append(update)
            self._lock.notify_all()
        return update

    @staticmethod
    def _chat(chat_id: int, chat_type: str) -> dict:
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Test"
        else:
            chat["title"] = f"Group {chat_id}"
        return chat

    def _message(self, chat_id, user_id, language_code, chat_type, **fields) -> dict:
        uid = user_id if user_id is not None else abs(chat_id)
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type),
                "from": {"id": uid, "is_bot": False, "first_name": "Test", "language_code": language_code},
                **fields}

    def message_update(self, chat_id: int, text: str, user_id: int | None = None, language_code: str = "en",
                       chat_type: str = "private", reply_to: dict | None = None,
                       entities: list | None = None) -> dict:
        """A message update as Telegram would deliver it (not queued: for webhook tests)."""
        msg = self._message(chat_id, user_id, language_code, chat_type, text=text)
        if entities:
            msg["entities"] = entities
        if reply_to:
            msg["reply_to_message"] = reply_to
        return {"update_id": next(self._update_ids), "message": msg}

    def push_message(self, chat_id: int, text: str, **kw) -> dict:
        update = self.message_update(chat_id, text, **kw)
        del update["update_id"]
        return self._queue(update)

    def push_command(self, chat_id: int, text: str, **kw) -> dict:
        cmd = text.split()[0]
        return self.push_message(chat_id, text, entities=[{"type": "bot_command", "offset": 0,
                                                           "length": utf16_len(cmd)}], **kw)

    def push_edited(self, chat_id: int, text: str, user_id: int | None = None, language_code: str = "en") -> dict:
        msg = self._message(chat_id, user_id, language_code, "private", text=text, edit_date=int(time.time()))
        return self._queue({"edited_message": msg})

    def push_sticker(self, chat_id: int, user_id: int | None = None, language_code: str = "en") -> dict:
        sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        return self._queue({"message": self._message(chat_id, user_id, language_code, "private", sticker=sticker)})

    def push_photo(self, chat_id: int, user_id: int | None = None, language_code: str = "en") -> dict:
        photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
        return self._queue({"message": self._message(chat_id, user_id, language_code, "private", photo=photo)})

    def push_voice(self, chat_id: int, user_id: int | None = None, language_code: str = "en") -> dict:
        voice = {"file_id": "v1", "file_unique_id": "vu1", "duration": 2}
        return self._queue({"message": self._message(chat_id, user_id, language_code, "private", voice=voice)})

    def push_callback(self, chat_id: int, message_id: int, data: str, user_id: int | None = None,
                      language_code: str = "en") -> dict:
        original = next((m for m in self.messages(chat_id) if m["message_id"] == message_id), None)
        message = dict(original or {"message_id": message_id, "date": int(time.time()), "text": "old"})
        message.setdefault("chat", self._chat(chat_id, "private" if chat_id > 0 else "group"))
        message["from"] = self.bot_user
        uid = user_id if user_id is not None else abs(chat_id)
        return self._queue({"callback_query": {
            "id": str(next(self._update_ids) * 7919), "chat_instance": str(chat_id), "data": data,
            "from": {"id": uid, "is_bot": False, "first_name": "Test", "language_code": language_code},
            "message": {k: v for k, v in message.items() if k in
                        ("message_id", "date", "chat", "from", "text", "reply_markup")}}})

    def messages(self, chat_id: int) -> list[dict]:
        with self._lock:
            return list(self.bot_messages.get(chat_id, []))

    def calls(self, method: str) -> list[dict]:
        with self._lock:
            return [c for c in self.sent if c["method"] == method]

    def wait_for(self, predicate, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met in {timeout} s; last calls: "
                                       f"{[c['method'] for c in self.sent[-10:]]}")
                self._lock.wait(min(left, 0.2))

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30.0) -> list[dict]:
        return self.wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.bot_messages.get(chat_id, [])),
                             timeout)

    def inject(self, method: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail: "429", "500", "502", "timeout", "drop"."""
        with self._lock:
            self._faults.setdefault(method, []).extend([(kind, retry_after)] * times)

    # ------------------------------------------------------------ HTTP

    def _params(self, req: BaseHTTPRequestHandler) -> dict:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        ctype = req.headers.get("Content-Type", "")
        if not body:
            return {}
        if "application/json" in ctype:
            return json.loads(body)
        if "multipart/form-data" in ctype:
            boundary = ctype.split("boundary=")[1].strip('"').encode()
            params = {}
            for part in body.split(b"--" + boundary):
                if b"\r\n\r\n" not in part:
                    continue
                head, value = part.split(b"\r\n\r\n", 1)
                m = re.search(rb'name="([^"]+)"', head)
                if m:
                    params[m.group(1).decode()] = value.rstrip(b"\r\n").decode("utf-8")
            raw = params
        else:
            raw = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        out = {}
        for k, v in raw.items():
            try:
                out[k] = json.loads(v)
            except (ValueError, TypeError):
                out[k] = v
        return out

    def _reply(self, req, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        try:
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (it timed out or is shutting down)

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        m = re.match(r"^/bot([^/]+)/(\w+)$", req.path.split("?")[0])
        if not m:
            return self._reply(req, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = m.groups()
        if token != self.token:
            return self._reply(req, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        params = self._params(req)
        with self._lock:
            faults = self._faults.get(method)
            fault = faults.pop(0) if faults else None
            if fault:
                self.faults_injected += 1
        if fault:
            kind, retry_after = fault
            if kind == "429":
                return self._reply(req, 429, {"ok": False, "error_code": 429,
                                              "description": f"Too Many Requests: retry after {retry_after}",
                                              "parameters": {"retry_after": retry_after}})
            if kind in ("500", "502"):
                return self._reply(req, int(kind), {"ok": False, "error_code": int(kind),
                                                    "description": "Internal Server Error"})
            if kind == "timeout":
                time.sleep(retry_after)
                return self._reply(req, 504, {"ok": False, "error_code": 504, "description": "Gateway Timeout"})
            if kind == "drop":
                req.close_connection = True
                try:
                    req.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return None
        try:
            result = self._call(method, params)
        except BadRequest as exc:
            with self._lock:
                self.rejections.append({"method": method, "params": params, "error": str(exc)})
                self._lock.notify_all()
            return self._reply(req, 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
        except KeyError:
            return self._reply(req, 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
        return self._reply(req, 200, {"ok": True, "result": result})

    # ------------------------------------------------------------ methods

    def _record(self, method: str, params: dict) -> None:
        with self._lock:
            self.sent.append({"method": method, "params": params, "time": time.time()})
            self._lock.notify_all()

    def _check_text(self, params: dict) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("message text is empty")
        visible = text
        if str(params.get("parse_mode", "")).upper() == "HTML":
            err, visible = parse_html(text)
            if err:
                raise BadRequest(err)
            if not visible.strip():
                raise BadRequest("message text is empty")
        if utf16_len(visible) > 4096:
            raise BadRequest("message is too long")
        markup = params.get("reply_markup")
        if markup:
            buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
            if len(buttons) > 100:
                raise BadRequest("reply markup is too long")
            for b in buttons:
                data = b.get("callback_data")
                if data is not None and (len(data.encode()) > 64 or not data):
                    raise BadRequest("BUTTON_DATA_INVALID")
                if data is None and not b.get("url"):
                    raise BadRequest("can't find field \"callback_data\"")
                if not b.get("text"):
                    raise BadRequest("BUTTON_TEXT_INVALID")
        return text

    def _call(self, method: str, params: dict):
        if method == "getUpdates":
            return self._get_updates(params)
        self._record(method, params)
        if method == "getMe":
            return self.bot_user
        if method in ("deleteWebhook", "close", "logOut", "deleteMyCommands"):
            return True
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "getWebhookInfo":
            return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": 0}
        if method == "setMyCommands":
            with self._lock:
                self.commands[params.get("language_code") or ""] = params.get("commands")
            return True
        if method == "getMyCommands":
            return self.commands.get(params.get("language_code") or "", [])
        if method == "sendChatAction":
            self.chat_actions.append(params)
            return True
        if method == "answerCallbackQuery":
            text = params.get("text") or ""
            if len(text) > 200:
                raise BadRequest("MESSAGE_TOO_LONG")
            with self._lock:
                self.callback_answers.append(params)
                self._lock.notify_all()
            return True
        if method == "sendMessage":
            text = self._check_text(params)
            chat_id = int(params["chat_id"])
            msg = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": self._chat(chat_id, "private" if chat_id > 0 else "group"), "from": self.bot_user,
                   "text": text, "parse_mode": params.get("parse_mode"), "reply_markup": params.get("reply_markup")}
            with self._lock:
                self.bot_messages.setdefault(chat_id, []).append(msg)
                self._lock.notify_all()
            out = {k: v for k, v in msg.items() if k != "parse_mode" and v is not None}
            out["text"] = parse_html(text)[1] if str(params.get("parse_mode", "")).upper() == "HTML" else text
            return out
        if method in ("editMessageText", "editMessageReplyMarkup"):
            chat_id = int(params["chat_id"])
            msg = next((m for m in self.messages(chat_id) if m["message_id"] == int(params["message_id"])), None)
            if msg is None:
                raise BadRequest("message to edit not found")
            if method == "editMessageText":
                text = self._check_text(params)
                if text == msg["text"] and params.get("reply_markup") == msg.get("reply_markup"):
                    raise BadRequest("message is not modified")
                msg["text"] = text
            msg["reply_markup"] = params.get("reply_markup")
            return {k: v for k, v in msg.items() if k != "parse_mode" and v is not None}
        if method == "deleteMessage":
            return True
        raise KeyError(method)

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._lock:
            self.sent.append({"method": "getUpdates", "params": params, "time": time.time()})
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.5))
            return self._updates[:limit]

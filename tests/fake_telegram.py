"""A stand-in Telegram Bot API server for end-to-end tests of python-telegram-bot bots.

``FakeTelegram`` is a real HTTP server (stdlib ``ThreadingHTTPServer``) on 127.0.0.1 with an
ephemeral port, running in a background thread.  A PTB ``Application`` talks to it exactly as
it would talk to api.telegram.org -- long polling, sending messages, editing them, answering
callback queries -- while the test pushes user updates in and inspects what the bot sent::

    from fake_telegram import FakeTelegram

    with FakeTelegram(token=TOKEN) as tg:
        app = Application.builder().token(TOKEN).base_url(f"{tg.api_url}/bot").build()
        ...  # start the app and polling (see tests/test_fake_telegram.py)
        tg.push_command(chat_id=42, text="/start")
        [reply] = tg.wait_for_messages(42, count=1, timeout=5)
        assert "Welcome" in reply["text"]

What the server does:

* Routes ``{api_url}/bot{token}/{method}``; a wrong token gets 401 "Unauthorized", an unknown
  method 404 "Not Found".  Parameters are accepted the way PTB sends them (urlencoded form or
  multipart form whose non-string values are JSON-encoded), as a JSON body, or as a query string.
* Implements getMe, getUpdates (real long polling honouring offset/limit/timeout/
  allowed_updates; a newer getUpdates terminates an older pending one with 409 like Telegram),
  deleteWebhook, setWebhook, getWebhookInfo, setMyCommands, getMyCommands, deleteMyCommands,
  sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendChatAction,
  deleteMessage, getFile, close, logOut (plus a few no-op setters such as setMyDescription).
  Other methods can be added with :meth:`FakeTelegram.register`.
* Files users send (:meth:`FakeTelegram.push_document`) are served like Telegram serves them:
  getFile answers ``file_path`` ("documents/file_3.pdf"; "Bad Request: file is too big" above
  20 MB, the Bot API's download limit) and ``{api_url}/file/bot{token}/{file_path}`` returns the
  bytes (404 for a wrong token or path).  Downloads are recorded in :attr:`FakeTelegram.downloads`.
* Validates like Telegram and answers 400 "Bad Request: ..." (PTB raises ``BadRequest``):
  empty text, text longer than 4096 UTF-16 code units after entity parsing, malformed HTML
  (``parse_mode="HTML"``), invalid inline keyboards, "message is not modified", unknown message
  ids, unknown callback query ids.  Every rejection is recorded in :attr:`FakeTelegram.rejections`.
* Fault injection (:meth:`FakeTelegram.inject`): 429 with retry_after, 500, 502, a held
  connection ("timeout") or a dropped connection ("drop").

Deliberate differences from the real server (documented so nobody is surprised):

* A bare ``&`` that does not start ``&lt; &gt; &amp; &quot; &#NNN; &#xHH;`` is rejected in HTML
  mode (real Telegram silently keeps it).  Pass ``strict_html=False`` to accept it.
* Markdown / MarkdownV2 are not parsed: the text is taken verbatim (length is measured on it).
* Automatic entity detection for pushed user messages only knows bot commands, @mentions and
  http(s) URLs.

Everything the tests read (``sent``, ``messages()``, ``rejections`` ...) is returned as copies
taken under a lock, so it is safe to call from the test thread while the bot is running.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import itertools
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["ApiError", "FakeTelegram", "HTMLParseError", "parse_html", "utf16_len"]

_LOG = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456789"
MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # what getFile lets a bot download

# Parameters whose form value is a plain string and must never be JSON-decoded (a text of "123"
# must stay the string "123").  Every other form value is JSON-decoded when it parses as JSON.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url",
        "action", "language_code", "secret_token", "ip_address", "description",
        "short_description", "name", "title", "emoji", "query", "question", "explanation",
        "business_connection_id", "message_effect_id", "certificate", "sticker", "photo",
        "voice", "document", "audio", "video", "animation", "video_note", "file_id",
        "custom_emoji_id", "next_offset", "first_name", "last_name", "phone_number", "address",
        "payload", "currency", "provider_token", "start_parameter", "game_short_name",
        "invite_link", "username", "status",
    }
)
# Parameters that hold JSON structures; if a JSON body carries them as strings, decode them.
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
        "reply_parameters", "link_preview_options", "media", "results", "menu_button",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)
_UPDATE_TYPES_DEFAULT_OFF = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_FAULT_KINDS = ("429", "500", "502", "timeout", "drop")


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``.

    Raise it from a handler registered with :meth:`FakeTelegram.register` to reject a call.
    """

    def __init__(self, error_code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for lengths/offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

_TAG_ENTITY_TYPES = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPACES = " \t\r\n\v\f\0"


class HTMLParseError(ValueError):
    """Raised by :func:`parse_html`; the message mimics Telegram's ("Unsupported start tag ...")."""


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity starting at ``text[pos] == '&'``; return (char, next_pos) or None."""
    match = re.match(r"&(?:#[xX]([0-9A-Fa-f]{1,8})|#([0-9]{1,10})|([A-Za-z]+));", text[pos:])
    if not match:
        return None
    hex_code, dec_code, name = match.groups()
    if name is not None:
        char = _NAMED_HTML_ENTITIES.get(name)
        if char is None:
            return None
        return char, pos + match.end()
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), pos + match.end()


def parse_html(text: str, strict: bool = True) -> tuple[str, list[dict]]:
    """Parse Telegram-flavoured HTML into ``(visible_text, entities)``.

    Follows the rules of Telegram's parser (tdlib ``parse_html``): supported tags only, properly
    nested, attribute syntax, entity decoding.  Entity offsets/lengths are in UTF-16 code units.
    Raises :class:`HTMLParseError` with a Telegram-like message on malformed input.  With
    ``strict`` a '&' that does not start a supported entity is an error (Telegram keeps it).
    """

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    out: list[str] = []
    out_len = 0  # UTF-16 length of the visible text produced so far
    stack: list[dict] = []
    entities: list[dict] = []
    n = len(text)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal out_len
        out.append(chunk)
        out_len += utf16_len(chunk)

    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                emit(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise HTMLParseError(
                    f"Unescaped '&' at byte offset {byte_offset(i)}: "
                    "use &amp; (supported entities: &lt; &gt; &amp; &quot; &#NNN; &#xHH;)"
                )
            emit(char)
            i += 1
            continue
        if char != "<":
            emit(char)
            i += 1
            continue

        begin = i
        if i + 1 < n and text[i + 1] == "/":
            # End tag: "</name>" (or "</>", which closes the innermost tag).
            if not stack:
                raise HTMLParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            i += 2
            while i < n and text[i] not in _HTML_SPACES and text[i] != ">":
                i += 1
            end_name = text[begin + 2 : i].lower()
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n or text[i] != ">":
                raise HTMLParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            open_tag = stack.pop()
            if end_name and end_name != open_tag["tag"]:
                raise HTMLParseError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, expected "
                    f"\"</{open_tag['tag']}>\", found \"</{end_name}>\""
                )
            entity = _close_html_entity(open_tag, out_len)
            if entity is not None:
                entities.append(entity)
            continue

        # Start tag: "<name attr="value" attr2=value2 flag>".
        i += 1
        while i < n and text[i] not in _HTML_SPACES and text[i] != ">":
            i += 1
        if i >= n:
            raise HTMLParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        tag = text[begin + 1 : i].lower()
        if tag not in _TAG_ENTITY_TYPES:
            raise HTMLParseError(
                f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
            )
        attributes: dict[str, str | None] = {}
        while True:
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HTMLParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[i] == ">":
                i += 1
                break
            attr_begin = i
            while i < n and text[i] not in _HTML_SPACES and text[i] not in "=>":
                i += 1
            attr_name = text[attr_begin:i].lower()
            if not attr_name:
                raise HTMLParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n or text[i] != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    attributes[attr_name] = None
                    continue
                raise HTMLParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {byte_offset(begin)}'
                )
            i += 1
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HTMLParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[i] in "'\"":
                quote = text[i]
                i += 1
                value_chars: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded = _decode_html_entity(text, i)
                        if decoded is not None:
                            value_chars.append(decoded[0])
                            i = decoded[1]
                            continue
                    value_chars.append(text[i])
                    i += 1
                if i >= n:
                    raise HTMLParseError(
                        f"Unclosed start tag at byte offset {byte_offset(begin)}"
                    )
                i += 1
                value = "".join(value_chars)
            else:
                token_begin = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                if i >= n or (text[i] not in _HTML_SPACES and text[i] != ">"):
                    raise HTMLParseError(
                        f"Unexpected end of name token at byte offset {byte_offset(token_begin)}"
                    )
                value = text[token_begin:i].lower()
            attributes[attr_name] = value

        argument = ""
        if tag == "a":
            argument = attributes.get("href") or ""
        elif tag == "code":
            cls = attributes.get("class") or ""
            argument = cls[len("language-") :] if cls.startswith("language-") else ""
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise HTMLParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
        elif tag == "tg-emoji":
            argument = attributes.get("emoji-id") or ""
            if not argument.isdigit():
                raise HTMLParseError(
                    f"Invalid custom emoji identifier specified at byte offset "
                    f"{byte_offset(begin)}"
                )
        elif tag == "blockquote":
            argument = "expandable" if "expandable" in attributes else ""
        stack.append({"tag": tag, "argument": argument, "offset": out_len})

    if stack:
        raise HTMLParseError(
            f"Can't find end tag corresponding to start tag \"{stack[-1]['tag']}\""
        )
    _merge_pre_code(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_html_entity(open_tag: dict, end_offset: int) -> dict | None:
    length = end_offset - open_tag["offset"]
    if length <= 0:
        return None
    tag, argument = open_tag["tag"], open_tag["argument"]
    entity: dict[str, Any] = {
        "type": _TAG_ENTITY_TYPES[tag],
        "offset": open_tag["offset"],
        "length": length,
    }
    if tag == "a":
        if not argument:
            return None
        if argument.startswith("tg://user?id="):
            user_id = argument.split("=", 1)[1]
            if not user_id.isdigit():
                return None
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(user_id), "is_bot": False, "first_name": "User"}
        else:
            entity["url"] = argument
    elif tag == "code" and argument:
        entity["language"] = argument  # merged into an enclosing <pre> below
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = argument
    elif tag == "blockquote" and argument == "expandable":
        entity["type"] = "expandable_blockquote"
    return entity


def _merge_pre_code(entities: list[dict]) -> None:
    """``<pre><code class="language-x">`` becomes a single pre entity with a language."""
    for pre in [e for e in entities if e["type"] == "pre"]:
        for code in [e for e in entities if e["type"] == "code"]:
            if (code["offset"], code["length"]) == (pre["offset"], pre["length"]):
                if code.get("language"):
                    pre["language"] = code["language"]
                entities.remove(code)
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)


def _strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Trim leading/trailing whitespace like Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    new_len = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_len)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")


def detect_entities(text: str) -> list[dict]:
    """Entities Telegram would auto-detect in a user's message: commands, mentions, URLs."""
    found = []
    for kind, regex in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE), ("url", _URL_RE)):
        for match in regex.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group()),
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found


# --------------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------------


class _DropConnection(Exception):
    """Internal: close the connection without writing any response."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, fake: FakeTelegram):
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def close_all_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTelegram/1.0"
    timeout = 120  # idle keep-alive connections are closed eventually
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body are written separately; without TCP_NODELAY, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        _LOG.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        try:
            body = self._read_body()
            path = unquote(urlsplit(self.path).path)  # PTB percent-encodes the token's ":" in file URLs
            download = re.fullmatch(r"/file/bot([^/]*)/(.+)", path)
            if download and self.command == "GET":
                status, content = fake._serve_file(*download.groups())
                self._respond(status, content, "application/octet-stream" if status == 200
                              else "application/json")
                return
            match = re.fullmatch(r"/bot([^/]*)/([A-Za-z_]+)/?", path)
            if not match:
                status, payload = 404, ApiError(404, "Not Found").payload()
            else:
                token, method = match.groups()
                params = _parse_params(
                    urlsplit(self.path).query, self.headers.get("Content-Type", ""), body
                )
                status, payload = fake._handle_call(token, method, params)
        except ApiError as exc:  # undecodable request body
            status, payload = exc.error_code, exc.payload()
        except _DropConnection:
            self.close_connection = True
            return
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True
            return
        if isinstance(payload, bytes):  # raw body, e.g. nginx-style 502 page
            self._respond(status, payload, "text/html")
        else:
            self._respond(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _respond(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Decode a request the way Telegram does: query string, urlencoded, multipart or JSON."""
    params: dict[str, Any] = {
        key: _decode_form_value(key, value) for key, value in parse_qsl(query, True)
    }
    mime = content_type.split(";")[0].strip().lower()
    if not body:
        return params
    if mime == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise _BodyError("Bad Request: can't parse JSON encoded request body") from exc
        if not isinstance(data, dict):
            raise _BodyError("Bad Request: JSON object expected")
        for key, value in data.items():
            if key in _JSON_PARAMS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
    elif mime == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode("latin-1")
            + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                params[name] = {
                    "file_name": filename,
                    "file_size": len(payload),
                    "mime_type": part.get_content_type(),
                    "content": payload,
                }
            else:
                params[name] = _decode_form_value(name, payload.decode("utf-8"))
    else:  # application/x-www-form-urlencoded (PTB's default) or unspecified
        for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            params[key] = _decode_form_value(key, value)
    return params


class _BodyError(ApiError):
    def __init__(self, description: str):
        super().__init__(400, description)


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """Fake Telegram Bot API server; see the module docstring for an overview.

    Args:
        token: the only bot token the server accepts.
        bot_username / bot_first_name: identity returned by getMe and used as message sender.
        strict_html: reject bare '&' in HTML texts (stricter than Telegram, see module doc).
        strict_chats: answer "chat not found" for chat ids the server has never seen (in
            pushed updates or via :meth:`add_chat`) instead of creating a private chat.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "fake_test_bot",
        bot_first_name: str = "Fake Test Bot",
        strict_html: bool = True,
        strict_chats: bool = False,
    ):
        self.token = token
        self.strict_html = strict_html
        self.strict_chats = strict_chats
        bot_id = token.split(":", 1)[0]
        self.bot_user = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._cond = threading.Condition(threading.RLock())
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._extra_methods: dict[str, Callable[[dict], Any]] = {}
        self.api_url = ""
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeTelegram:
        """Bind to 127.0.0.1 on an ephemeral port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server(self)
        port = self._server.server_address[1]
        self.api_url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeTelegram:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls and held ("timeout") connections end at once."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Value for ``Application.builder().base_url(...)``."""
        return f"{self.api_url}/bot"

    def reset(self) -> None:
        """Forget all chats, messages, updates, recordings and pending faults."""
        with self._cond:
            self._users: dict[int, dict] = {}
            self._chats: dict[int, dict] = {}
            self._blocked: set[int] = set()
            self._messages: dict[tuple[int, int], dict] = {}  # Telegram Message dicts
            self._bot_records: list[dict] = []  # test-facing records of bot messages
            self._record_index: dict[tuple[int, int], dict] = {}
            self._next_message_id: dict[int, int] = {}
            self._updates: list[dict] = []
            self._update_ids = itertools.count(1)
            self._callback_ids = itertools.count(1)
            self._callbacks: dict[str, dict] = {}
            self._poll_generation = 0
            self._allowed_updates: list[str] = []
            self._webhook: dict[str, Any] = {}
            self._commands: dict[tuple[str, str], list[dict]] = {}
            self._faults: list[dict] = []
            self._sent: list[dict] = []
            self._rejections: list[dict] = []
            self._callback_answers: list[dict] = []
            self._chat_actions: list[dict] = []
            self._files: dict[str, dict] = {}  # file_id -> content and its getFile answer
            self._downloads: list[dict] = []
            self.fault_count = 0
            self.injected_faults: list[dict] = []
            self.get_updates_count = 0
            self._active_polls = 0
            self._cond.notify_all()

    # ------------------------------------------------------------------ recordings

    @property
    def sent(self) -> list[dict]:
        """Every call the bot made except getUpdates, oldest first.

        Entries: ``{"method", "params", "timestamp", "ok", "error", "fault"}`` where ``error``
        is the description of an error answer and ``fault`` the injected fault kind, if any.
        """
        with self._cond:
            return copy.deepcopy(self._sent)

    def calls(self, method: str, ok_only: bool = False) -> list[dict]:
        """Recorded calls of one method (case-insensitive), optionally only successful ones."""
        with self._cond:
            return [
                copy.deepcopy(c)
                for c in self._sent
                if c["method"].lower() == method.lower() and (c["ok"] or not ok_only)
            ]

    @property
    def rejections(self) -> list[dict]:
        """400 answers: ``{"method", "params", "error_code", "description", "timestamp"}``."""
        with self._cond:
            return copy.deepcopy(self._rejections)

    @property
    def callback_answers(self) -> list[dict]:
        """answerCallbackQuery calls: params plus ``data``, ``chat_id`` and ``message_id``."""
        with self._cond:
            return copy.deepcopy(self._callback_answers)

    @property
    def chat_actions(self) -> list[dict]:
        """sendChatAction calls: ``{"chat_id", "action", "timestamp"}``."""
        with self._cond:
            return copy.deepcopy(self._chat_actions)

    @property
    def downloads(self) -> list[dict]:
        """File downloads served: ``{"file_path", "file_id", "size", "timestamp"}``."""
        with self._cond:
            return copy.deepcopy(self._downloads)

    @property
    def commands(self) -> dict[str, list[dict]]:
        """setMyCommands for the default scope, keyed by language code ("" = all languages)."""
        with self._cond:
            return {
                lang: copy.deepcopy(cmds)
                for (scope, lang), cmds in self._commands.items()
                if scope == _scope_key(None)
            }

    def commands_for(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """Commands recorded for an exact scope (e.g. ``{"type": "all_private_chats"}``)."""
        with self._cond:
            return copy.deepcopy(self._commands.get((_scope_key(scope), language_code), []))

    @property
    def webhook(self) -> dict:
        """Parameters of the last setWebhook (empty after deleteWebhook)."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    @property
    def pending_updates(self) -> list[dict]:
        """Updates queued and not yet confirmed by the bot via getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def messages(self, chat_id: int | str, include_deleted: bool = True) -> list[dict]:
        """Bot messages in a chat, oldest first, with edits applied.

        Each record: ``message_id, chat_id, text`` (as the bot sent it, e.g. with HTML tags),
        ``visible_text`` (after entity parsing), ``parse_mode, entities, reply_markup`` (dict or
        None), ``date, edit_date, edits`` (list of previous versions), ``deleted``, ``method``,
        ``params`` (raw params of the last send/edit) and ``reply_to_message_id``.
        """
        with self._cond:
            chat = self._resolve_chat_id(chat_id, create=False)
            return [
                copy.deepcopy(r)
                for r in self._bot_records
                if r["chat_id"] == chat and (include_deleted or not r["deleted"])
            ]

    def last_message(self, chat_id: int | str) -> dict | None:
        """The most recent bot message in a chat (or None)."""
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    # ------------------------------------------------------------------ waiting

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, description: str | None = None
    ) -> Any:
        """Block until ``predicate()`` is truthy and return its value.

        The predicate is re-evaluated whenever the server state changes.  Raises
        ``TimeoutError`` describing what was expected and what the bot did recently.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = description or getattr(predicate, "__name__", repr(predicate))
                    raise TimeoutError(
                        f"FakeTelegram: condition not met within {timeout:.1f}s: {what}\n"
                        + self._describe_recent()
                    )
                self._cond.wait(min(remaining, 0.5))

    def wait_for_messages(
        self, chat_id: int | str, count: int = 1, timeout: float = 5.0
    ) -> list[dict]:
        """Wait until the bot has sent at least ``count`` messages to the chat; return them all."""
        return self.wait_for(
            lambda: (lambda m: m if len(m) >= count else None)(self.messages(chat_id)),
            timeout=timeout,
            description=f"{count} bot message(s) in chat {chat_id} "
            f"(have {len(self.messages(chat_id))})",
        )

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """Wait until ``method`` has been called at least ``count`` times; return the calls."""
        return self.wait_for(
            lambda: (lambda c: c if len(c) >= count else None)(self.calls(method)),
            timeout=timeout,
            description=f"{count} call(s) of {method}",
        )

    def wait_for_polling(self, timeout: float = 5.0) -> None:
        """Wait until a getUpdates request is being served, i.e. the bot is polling.

        Useful right after ``updater.start_polling()``: stopping an Application whose first
        getUpdates is still being connected can leave httpx's one-connection pool busy, so that
        PTB's final getUpdates waits for a pool timeout.
        """
        self.wait_for(lambda: self._active_polls > 0, timeout=timeout,
                      description="the bot to call getUpdates (is polling started?)")

    def wait_until_consumed(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched *and confirmed* every queued update."""
        self.wait_for(
            lambda: not self._updates,
            timeout=timeout,
            description=f"all pending updates confirmed (pending: {len(self._updates)})",
        )

    def _describe_recent(self, limit: int = 10) -> str:
        lines = [f"  pending updates: {len(self._updates)}, getUpdates calls: "
                 f"{self.get_updates_count}"]
        for call in self._sent[-limit:]:
            status = "ok" if call["ok"] else f"ERROR {call['error']}"
            if call["fault"]:
                status += f" [injected fault: {call['fault']}]"
            params = {k: v for k, v in call["params"].items() if k != "content"}
            lines.append(f"  {call['method']} {_short(params)} -> {status}")
        if not self._sent:
            lines.append("  (the bot made no calls besides getUpdates)")
        for rej in self._rejections[-3:]:
            lines.append(f"  rejected {rej['method']}: {rej['description']}")
        return "recent activity:\n" + "\n".join(lines)

    # ------------------------------------------------------------------ fault injection

    def inject(
        self,
        method: str,
        kind: str,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 3.0,
        execute: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any method but getUpdates) fail.

        kind:
            "429"     -- 429 Too Many Requests with ``parameters.retry_after`` (PTB: RetryAfter)
            "500"     -- 500 Internal Server Error (PTB: NetworkError)
            "502"     -- 502 with an nginx-style HTML body (PTB: NetworkError)
            "timeout" -- hold the connection ``delay`` seconds (use a client read timeout below
                         that to get TimedOut); afterwards the call is executed and answered
                         if ``execute`` else the connection is closed without a response
            "drop"    -- close the connection without a response (PTB: NetworkError); with
                         ``execute`` the call takes effect first ("lost response")
        The call is recorded in :attr:`sent` with ``fault`` set; :attr:`fault_count` counts
        faults actually served.  stop() interrupts a held connection immediately.
        """
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {_FAULT_KINDS}")
        with self._cond:
            self._faults.append(
                {
                    "method": method.lower(),
                    "kind": kind,
                    "remaining": times,
                    "retry_after": retry_after,
                    "delay": delay,
                    "execute": execute,
                }
            )

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def _take_fault(self, method: str) -> dict | None:
        for fault in self._faults:
            matches = fault["method"] == method.lower() or (
                fault["method"] == "*" and method.lower() != "getupdates"
            )
            if matches and fault["remaining"] > 0:
                fault["remaining"] -= 1
                if fault["remaining"] == 0:
                    self._faults.remove(fault)
                self.fault_count += 1
                self.injected_faults.append(
                    {"method": method, "kind": fault["kind"], "timestamp": time.time()}
                )
                return fault
        return None

    # ------------------------------------------------------------------ chats and users

    def add_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        title: str | None = None,
        username: str | None = None,
        first_name: str = "Test",
    ) -> dict:
        """Register a chat (pushing an update does this implicitly); returns the Chat dict."""
        with self._cond:
            chat = self._ensure_chat(chat_id, chat_type, title, username, first_name)
            return copy.deepcopy(chat)

    def block(self, chat_id: int) -> None:
        """Simulate a user who blocked the bot: sends to the chat get 403 Forbidden."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def _ensure_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        title: str | None = None,
        username: str | None = None,
        first_name: str = "Test",
    ) -> dict:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = first_name
            else:
                chat["title"] = title or f"Test {chat_type} {chat_id}"
            if username:
                chat["username"] = username
            self._chats[chat_id] = chat
        return chat

    def _ensure_user(
        self, user_id: int, language_code: str | None, username: str | None, first_name: str
    ) -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _user_and_chat(
        self,
        chat_id: int,
        user_id: int | None,
        language_code: str | None,
        chat_type: str,
        username: str | None,
        first_name: str,
        chat_title: str | None = None,
    ) -> tuple[dict, dict]:
        if user_id is None:
            user_id = chat_id if chat_type == "private" else 10_001
        user = self._ensure_user(user_id, language_code, username, first_name)
        chat_username = username if chat_type == "private" else None
        chat = self._ensure_chat(chat_id, chat_type, chat_title, chat_username, first_name)
        return user, chat

    def _resolve_chat_id(self, chat_id: Any, create: bool = True) -> int:
        if isinstance(chat_id, str):
            stripped = chat_id.strip()
            if re.fullmatch(r"-?\d+", stripped):
                chat_id = int(stripped)
            elif stripped.startswith("@"):
                for chat in self._chats.values():
                    if chat.get("username", "").lower() == stripped[1:].lower():
                        return chat["id"]
                raise _bad_request("chat not found")
            else:
                raise _bad_request("chat not found")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("chat_id is empty" if not chat_id else "chat not found")
        if create and chat_id not in self._chats:
            if self.strict_chats:
                raise _bad_request("chat not found")
            self._ensure_chat(chat_id, "private" if chat_id > 0 else "group")
        return chat_id

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    # ------------------------------------------------------------------ pushing updates

    def push_update(self, update: dict) -> dict:
        """Queue a raw update dict (``update_id`` is assigned); returns the queued update."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **copy.deepcopy(update)}
            self._updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def push_message(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
        first_name: str = "Test",
        reply_to_message_id: int | None = None,
        entities: list[dict] | None = None,
        chat_title: str | None = None,
    ) -> dict:
        """Queue a text message from a user; returns the update dict.

        With ``entities=None`` the entities Telegram would detect (commands, mentions, URLs)
        are added automatically; pass ``[]`` for none.
        """
        content: dict[str, Any] = {"text": text}
        found = detect_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        return self._push_user_message(
            chat_id, content, user_id, language_code, chat_type, username, first_name,
            reply_to_message_id, chat_title,
        )

    def push_command(self, chat_id: int, text: str, **kwargs: Any) -> dict:
        """Queue a command message ("/start payload"); a leading "/" is added if missing."""
        if not text.startswith("/"):
            text = "/" + text
        command = text.split()[0] if text.split() else text
        entities = [e for e in detect_entities(text) if e["offset"] != 0]
        entities.insert(0, {"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        kwargs.setdefault("entities", entities)
        return self.push_message(chat_id, text, **kwargs)

    def push_edited_message(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        entities: list[dict] | None = None,
    ) -> dict:
        """Queue an ``edited_message`` update for a message previously pushed by a user."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None or message.get("from", {}).get("is_bot"):
                raise ValueError(f"no user message {message_id} in chat {chat_id} to edit")
            message["text"] = text
            found = detect_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
            else:
                message.pop("entities", None)
            message["edit_date"] = int(time.time())
            return self.push_update({"edited_message": copy.deepcopy(message)})

    def push_sticker(
        self, chat_id: int, emoji: str = "\N{THUMBS UP SIGN}", set_name: str | None = None,
        **user_kwargs: Any,
    ) -> dict:
        """Queue a sticker message; ``user_kwargs`` as for :meth:`push_message`."""
        unique = _unique_id()
        sticker = {
            "file_id": f"STICKER-{unique}", "file_unique_id": unique, "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
            "emoji": emoji, "file_size": 12345,
        }
        if set_name:
            sticker["set_name"] = set_name
        return self._push_user_message(chat_id, {"sticker": sticker}, **user_kwargs)

    def push_photo(self, chat_id: int, caption: str | None = None, **user_kwargs: Any) -> dict:
        """Queue a photo message (three PhotoSize variants) with optional caption."""
        unique = _unique_id()
        photo = [
            {"file_id": f"PHOTO-{unique}-{w}", "file_unique_id": f"{unique}{w}", "width": w,
             "height": w * 3 // 4, "file_size": w * 100}
            for w in (90, 320, 1280)
        ]
        return self._push_user_message(chat_id, _with_caption({"photo": photo}, caption), **user_kwargs)

    def push_voice(self, chat_id: int, duration: int = 3, **user_kwargs: Any) -> dict:
        """Queue a voice message."""
        unique = _unique_id()
        voice = {"file_id": f"VOICE-{unique}", "file_unique_id": unique, "duration": duration,
                 "mime_type": "audio/ogg", "file_size": duration * 4000}
        return self._push_user_message(chat_id, {"voice": voice}, **user_kwargs)

    def push_document(
        self,
        chat_id: int,
        content: bytes,
        file_name: str | None = "document.txt",
        mime_type: str | None = None,
        caption: str | None = None,
        **user_kwargs: Any,
    ) -> dict:
        """Queue a message with a file the user sent (``document``, with ``caption`` if given);
        the bot fetches it with getFile and a download, as from Telegram.  ``file_name=None``
        sends a document without a name (Telegram allows that)."""
        with self._cond:
            unique = _unique_id()
            file_id = f"DOCUMENT-{unique}"
            suffix = re.search(r"\.([A-Za-z0-9]{1,10})$", file_name or "")
            self._files[file_id] = {
                "content": bytes(content),
                "file_unique_id": unique,
                "file_path": f"documents/file_{len(self._files)}"
                             + (f".{suffix.group(1).lower()}" if suffix else ""),
            }
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique,
                                    "file_size": len(content)}
        if file_name is not None:
            document["file_name"] = file_name
        if mime_type:
            document["mime_type"] = mime_type
        return self._push_user_message(chat_id, _with_caption({"document": document}, caption), **user_kwargs)

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str = "Test",
    ) -> dict:
        """Queue a callback_query as if the user pressed a button of a bot message.

        The update includes the message in its current state (edits applied).  Raises
        ``ValueError`` if the bot never sent that message.
        """
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None or not message.get("from", {}).get("is_bot"):
                known = [r["message_id"] for r in self._bot_records if r["chat_id"] == chat_id]
                raise ValueError(
                    f"push_callback: the bot sent no message {message_id} to chat {chat_id} "
                    f"(bot messages there: {known})"
                )
            chat = self._chats[chat_id]
            user, _ = self._user_and_chat(
                chat_id, user_id, language_code, chat["type"], username, first_name
            )
            query_id = str(next(self._callback_ids) + 4_000_000_000_000_000_000)
            query = {
                "id": query_id,
                "from": user,
                "message": copy.deepcopy(message),
                "chat_instance": str(abs(chat_id) * 7 + 13),
                "data": data,
            }
            self._callbacks[query_id] = {
                "answered": False, "data": data, "chat_id": chat_id, "message_id": message_id,
            }
            return self.push_update({"callback_query": query})

    def _push_user_message(
        self,
        chat_id: int,
        content: dict,
        user_id: int | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
        first_name: str = "Test",
        reply_to_message_id: int | None = None,
        chat_title: str | None = None,
    ) -> dict:
        with self._cond:
            user, chat = self._user_and_chat(
                chat_id, user_id, language_code, chat_type, username, first_name, chat_title
            )
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
                **content,
            }
            if reply_to_message_id is not None:
                replied = self._messages.get((chat_id, reply_to_message_id))
                if replied is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = _without_reply(replied)
            self._messages[(chat_id, message["message_id"])] = message
            return self.push_update({"message": copy.deepcopy(message)})

    # ------------------------------------------------------------------ extension

    def register(self, method: str, handler: Callable[[dict], Any]) -> None:
        """Implement an extra Bot API method: ``handler(params) -> result``.

        The handler runs under the server lock; raise :class:`ApiError` to answer an error.
        """
        self._extra_methods[method.lower()] = handler

    # ------------------------------------------------------------------ dispatch

    def _handle_call(self, token: str, method: str, params: dict) -> tuple[int, Any]:
        """Called by the HTTP handler thread; returns (status, JSON payload or raw bytes)."""
        if token != self.token:
            return 401, ApiError(401, "Unauthorized").payload()
        impl = self._extra_methods.get(method.lower()) or getattr(
            self, f"_api_{method.lower()}", None
        )
        if impl is None:
            return 404, ApiError(404, "Not Found").payload()
        is_poll = method.lower() == "getupdates"

        with self._cond:
            fault = self._take_fault(method)
            record = None
            if not is_poll:
                record = {
                    "method": method,
                    "params": _public_params(params),
                    "timestamp": time.time(),
                    "ok": None,
                    "error": None,
                    "fault": fault["kind"] if fault else None,
                }
                self._sent.append(record)
                self._cond.notify_all()

        if fault is not None:
            return self._serve_fault(fault, record, impl, params)
        return self._execute(method, impl, params, record)

    def _serve_fault(self, fault: dict, record: dict | None, impl: Callable, params: dict):
        kind = fault["kind"]
        method = record["method"] if record else "getUpdates"

        def fail(status: int, payload: Any, error: str) -> tuple[int, Any]:
            with self._cond:
                if record is not None:
                    record.update(ok=False, error=error)
                self._cond.notify_all()
            return status, payload

        if kind == "429":
            retry = fault["retry_after"]
            return fail(
                429,
                ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                ).payload(),
                f"Too Many Requests: retry after {retry}",
            )
        if kind == "500":
            return fail(500, ApiError(500, "Internal Server Error").payload(),
                        "Internal Server Error")
        if kind == "502":
            page = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"
                    b"\r\n</body>\r\n</html>\r\n")
            return fail(502, page, "Bad Gateway")
        if kind == "drop":
            if fault["execute"]:
                self._execute(method, impl, params, record)
            else:
                fail(0, None, "connection dropped")
            raise _DropConnection
        # "timeout": hold the connection; stop() interrupts the wait.
        self._stop_event.wait(fault["delay"])
        if fault["execute"] and not self._stop_event.is_set():
            return self._execute(method, impl, params, record)
        fail(0, None, "connection held and dropped (timeout fault)")
        raise _DropConnection

    def _execute(
        self, method: str, impl: Callable, params: dict, record: dict | None
    ) -> tuple[int, Any]:
        try:
            if method.lower() == "getupdates":
                result = impl(params)  # long polling manages the lock itself
            else:
                with self._cond:
                    result = impl(params)
        except ApiError as exc:
            with self._cond:
                if record is not None:
                    record.update(ok=False, error=exc.description)
                if exc.error_code == 400:
                    self._rejections.append(
                        {
                            "method": method,
                            "params": _public_params(params),
                            "error_code": exc.error_code,
                            "description": exc.description,
                            "timestamp": time.time(),
                        }
                    )
                self._cond.notify_all()
            return exc.error_code, exc.payload()
        except Exception as exc:  # a bug in the fake itself: report it loudly as 500
            _LOG.exception("FakeTelegram: error in %s", method)
            with self._cond:
                if record is not None:
                    record.update(ok=False, error=f"fake server error: {exc!r}")
            return 500, ApiError(500, f"Internal Server Error (fake): {exc!r}").payload()
        with self._cond:
            if record is not None:
                record.update(ok=True)
            self._cond.notify_all()
        return 200, {"ok": True, "result": result}

    # ------------------------------------------------------------------ Bot API methods
    # Each _api_<lowercase method> takes the decoded params and returns the "result" value or
    # raises ApiError.  All but getUpdates run with self._cond held.

    def _api_getme(self, params: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_getupdates(self, params: dict) -> list[dict]:
        offset = _as_int(params.get("offset"), "offset", 0)
        limit = min(max(_as_int(params.get("limit"), "limit", 100), 1), 100)
        timeout = max(_as_float(params.get("timeout"), "timeout", 0.0), 0.0)
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        with self._cond:
            self.get_updates_count += 1
            if self._webhook.get("url"):
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                    "active; use deleteWebhook to delete the webhook first")
            # A newer getUpdates terminates an older pending one, as on Telegram.
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            self._confirm_updates(offset)
            self._active_polls += 1
            self._cond.notify_all()
            try:
                while True:
                    batch = self._select_updates(limit)
                    if batch or self._stop_event.is_set():
                        return batch
                    if generation != self._poll_generation:
                        raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                            "make sure that only one bot instance is running")
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return []
                    self._cond.wait(remaining)
            finally:
                self._active_polls -= 1
                self._cond.notify_all()

    def _confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _select_updates(self, limit: int) -> list[dict]:
        wanted = set(self._allowed_updates)

        def allowed(update: dict) -> bool:
            kind = next(k for k in update if k != "update_id")
            return kind in wanted if wanted else kind not in _UPDATE_TYPES_DEFAULT_OFF

        # Updates the bot did not subscribe to are dropped, like Telegram does.
        self._updates = [u for u in self._updates if allowed(u)]
        return copy.deepcopy(self._updates[:limit])

    def _api_setwebhook(self, params: dict) -> bool:
        url = params.get("url", "")
        if url and not re.match(r"https://", str(url)):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {k: v for k, v in _public_params(params).items()} if url else {}
        self._poll_generation += 1  # terminate a pending long poll
        self._cond.notify_all()
        return True

    def _api_deletewebhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {}
        return True

    def _api_getwebhookinfo(self, params: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": "certificate" in self._webhook,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("max_connections"):
            info["max_connections"] = self._webhook["max_connections"]
        if self._webhook.get("allowed_updates"):
            info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("parameter \"commands\" is required")
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand: object expected")
            name = command.get("command")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        language = _language_code(params)
        self._commands[(_scope_key(params.get("scope")), language)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _api_getmycommands(self, params: dict) -> list[dict]:
        key = (_scope_key(params.get("scope")), _language_code(params))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deletemycommands(self, params: dict) -> bool:
        self._commands.pop((_scope_key(params.get("scope")), _language_code(params)), None)
        return True

    def _api_sendmessage(self, params: dict) -> dict:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        text, entities = self._parse_text(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)

        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": copy.deepcopy(self._chats[chat_id]),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if reply_to is not None:
            message["reply_to_message"] = _without_reply(reply_to)
        self._messages[(chat_id, message["message_id"])] = message

        record = {
            "message_id": message["message_id"],
            "chat_id": chat_id,
            "text": params.get("text"),
            "visible_text": text,
            "parse_mode": params.get("parse_mode"),
            "entities": entities,
            "reply_markup": markup,
            "reply_to_message_id": reply_to["message_id"] if reply_to else None,
            "date": message["date"],
            "edit_date": None,
            "edits": [],
            "deleted": False,
            "method": "sendMessage",
            "params": _public_params(params),
        }
        self._bot_records.append(record)
        self._record_index[(chat_id, message["message_id"])] = record
        return copy.deepcopy(message)

    def _api_editmessagetext(self, params: dict) -> dict | bool:
        text, entities = self._parse_text(params)
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked
        message, record = self._editable_message(params)
        new_markup = markup or None
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == new_markup
        ):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        _remember_version(record)
        message["text"] = text
        _set_or_pop(message, "entities", entities or None)
        _set_or_pop(message, "reply_markup", new_markup)
        message["edit_date"] = int(time.time())
        record.update(
            text=params.get("text"),
            visible_text=text,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=new_markup,
            edit_date=message["edit_date"],
            method="editMessageText",
            params=_public_params(params),
        )
        return copy.deepcopy(message)

    def _api_editmessagereplymarkup(self, params: dict) -> dict | bool:
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if params.get("inline_message_id"):
            return True
        message, record = self._editable_message(params)
        new_markup = markup or None
        if message.get("reply_markup") == new_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        _remember_version(record)
        _set_or_pop(message, "reply_markup", new_markup)
        message["edit_date"] = int(time.time())
        record.update(
            reply_markup=new_markup,
            edit_date=message["edit_date"],
            method="editMessageReplyMarkup",
            params=_public_params(params),
        )
        return copy.deepcopy(message)

    def _api_deletemessage(self, params: dict) -> bool:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message_id = _as_int(params.get("message_id"), "message_id", None)
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to delete not found")
        del self._messages[(chat_id, message_id)]
        record = self._record_index.get((chat_id, message_id))
        if record is not None:
            record["deleted"] = True
        return True

    def _api_answercallbackquery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        query = self._callbacks.get(query_id)
        if query is None or query["answered"]:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self._callback_answers.append(
            {
                **_public_params(params),
                "data": query["data"],
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "timestamp": time.time(),
            }
        )
        return True

    def _api_sendchataction(self, params: dict) -> bool:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._chat_actions.append({"chat_id": chat_id, "action": action, "timestamp": time.time()})
        return True

    def _api_getfile(self, params: dict) -> dict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored["content"]) > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {"file_id": params["file_id"], "file_unique_id": stored["file_unique_id"],
                "file_size": len(stored["content"]), "file_path": stored["file_path"]}

    def _serve_file(self, token: str, file_path: str) -> tuple[int, bytes]:
        """A file download (HTTP GET ``/file/bot<token>/<file_path>``)."""
        with self._cond:
            found = next(((file_id, f) for file_id, f in self._files.items()
                          if f["file_path"] == file_path), None)
            if token != self.token or found is None:
                return 404, json.dumps(ApiError(404, "Not Found").payload()).encode()
            self._downloads.append({"file_path": file_path, "file_id": found[0],
                                    "size": len(found[1]["content"]), "timestamp": time.time()})
            self._cond.notify_all()
            return 200, found[1]["content"]

    def _api_close(self, params: dict) -> bool:
        return True

    def _api_logout(self, params: dict) -> bool:
        return True

    # Harmless setters bots often call from post_init: accepted and recorded in `sent`.
    def _api_setmydescription(self, params: dict) -> bool:
        return True

    def _api_setmyshortdescription(self, params: dict) -> bool:
        return True

    def _api_setmyname(self, params: dict) -> bool:
        return True

    def _api_setchatmenubutton(self, params: dict) -> bool:
        return True

    # ------------------------------------------------------------------ helpers (lock held)

    def _parse_text(self, params: dict) -> tuple[str, list[dict]]:
        """Validate ``text``/``parse_mode``; return the visible text and its entities."""
        raw = params.get("text")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise _bad_request("message text is empty")
        raw = str(raw)
        parse_mode = params.get("parse_mode")
        if parse_mode and str(parse_mode).lower() not in ("html", "markdown", "markdownv2"):
            raise _bad_request("unsupported parse_mode")
        if parse_mode and str(parse_mode).lower() == "html":
            try:
                text, entities = parse_html(raw, strict=self.strict_html)
            except HTMLParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        else:
            text = raw
            entities = params.get("entities") or []
            if not isinstance(entities, list):
                raise _bad_request("can't parse entities JSON object")
        text, entities = _strip_text(text, entities)
        if not text:
            raise _bad_request("message text is empty")
        if utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        return text, entities

    def _reply_target(self, chat_id: int, params: dict) -> dict | None:
        reply = params.get("reply_parameters")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") is not None:
                chat_id = self._resolve_chat_id(reply["chat_id"])
        else:
            message_id = params.get("reply_to_message_id")
        if message_id in (None, 0):
            return None
        target = self._messages.get((chat_id, _as_int(message_id, "message_id", None)))
        if target is None and not allow_missing:
            raise _bad_request("message to be replied not found")
        return target

    def _editable_message(self, params: dict) -> tuple[dict, dict]:
        if params.get("chat_id") in (None, ""):
            raise _bad_request("chat_id is empty")
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if params.get("message_id") in (None, ""):
            raise _bad_request("message identifier is not specified")
        message_id = _as_int(params.get("message_id"), "message_id", None)
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        record = self._record_index.get((chat_id, message_id))
        if record is None:  # a user's message
            raise _bad_request("message can't be edited")
        return message, record


# --------------------------------------------------------------------------------------------
# module helpers
# --------------------------------------------------------------------------------------------


def _validate_reply_markup(markup: Any, inline_only: bool = False) -> dict | None:
    """Validate reply_markup like Telegram; returns the decoded dict (or None)."""
    if markup in (None, ""):
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise _bad_request("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    text = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(text, str) or not text:
                        raise _bad_request("can't parse keyboard button: Text must be non-empty")
        elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
            raise _bad_request("can't find field \"inline_keyboard\"")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an "
                           "Array of Arrays")
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise _bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _validate_inline_button(button)
    return markup


def _validate_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise _bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise _bad_request(prefix + 'Field "text" must be of type String')
    actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
    if not actions:
        raise _bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _bad_request(prefix + f"exactly one of the fields {actions} must be specified")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise _bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url):
            raise _bad_request(f"inline keyboard button URL '{url}' is invalid")


def _scope_key(scope: Any) -> str:
    if isinstance(scope, str):
        try:
            scope = json.loads(scope)
        except ValueError:
            scope = None
    if not isinstance(scope, dict) or not scope:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True)


def _language_code(params: dict) -> str:
    language = params.get("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", str(language)):
        raise _bad_request("invalid language code specified")
    return str(language)


def _as_int(value: Any, name: str, default: int | None) -> int:
    if value in (None, ""):
        if default is None:
            raise _bad_request(f"{name} is empty")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _as_float(value: Any, name: str, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _public_params(params: dict) -> dict:
    """Params for recordings: uploaded file contents are replaced by their size."""
    result = {}
    for key, value in params.items():
        if isinstance(value, dict) and "content" in value and "file_name" in value:
            value = {k: v for k, v in value.items() if k != "content"}
        result[key] = copy.deepcopy(value)
    return result


def _remember_version(record: dict) -> None:
    keys = ("text", "visible_text", "parse_mode", "entities", "reply_markup", "edit_date")
    record["edits"].append({k: copy.deepcopy(record[k]) for k in keys})


def _set_or_pop(target: dict, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _with_caption(content: dict, caption: str | None) -> dict:
    """A media message's content with its caption and the entities Telegram detects in it."""
    if caption is not None:
        content["caption"] = caption
        found = detect_entities(caption)
        if found:
            content["caption_entities"] = found
    return content


def _without_reply(message: dict) -> dict:
    result = copy.deepcopy(message)
    result.pop("reply_to_message", None)
    return result


_unique_counter = itertools.count(1)


def _unique_id() -> str:
    return f"AgAD{next(_unique_counter):06d}"


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""Durable state for the bot: conversations per chat, answers behind buttons, feedback, stats,
corpus changes awaiting a confirmation button, and the corpus folder as the bot changes it.

A 👍 keeps, besides the question and the answer, what the question memory would learn from it
(:class:`MemoryCandidate`: the question as the engine read it, the highlighted sentence, its
document) until an administrator confirms or rejects it; see :meth:`Store.pending_questions`.

SQLite by default (one file, one machine); PostgreSQL when ``DATABASE_URL`` points at one,
so several bot processes can share conversations. Every query is parameterised. A damaged
SQLite file is moved aside with a warning and the bot starts fresh instead of crashing.

:class:`CorpusFolder` saves the documents administrators send: a sent file name is never a
path (it becomes a plain name inside the folder), a file is written whole or not at all (a
hidden temporary file in the same folder, then ``os.replace``), and its metadata goes into the
sidecar ``<stem>.meta.toml`` that :mod:`bot.corpus` reads.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS conversations (
        chat_id BIGINT PRIMARY KEY, state TEXT NOT NULL, updated REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS answers (
        id {serial}, chat_id BIGINT NOT NULL, question TEXT NOT NULL,
        answer TEXT NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS feedback (
        answer_id BIGINT NOT NULL, chat_id BIGINT NOT NULL, user_id BIGINT NOT NULL,
        vote INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, created REAL NOT NULL,
        asked TEXT, expect TEXT, doc TEXT, review TEXT,
        PRIMARY KEY (answer_id, user_id))""",
    """CREATE TABLE IF NOT EXISTS questions (
        chat_id BIGINT NOT NULL, language TEXT NOT NULL, answered INTEGER NOT NULL,
        latency REAL NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pending (
        id {serial}, chat_id BIGINT NOT NULL, action TEXT NOT NULL, data TEXT NOT NULL,
        created REAL NOT NULL)""",
]
#: a confirmation button older than this has expired (its staged file may be gone too)
PENDING_SECONDS = 24 * 3600
#: columns feedback gained after its first release: added to an older database when it opens
_FEEDBACK_ADDED = ("asked", "expect", "doc", "review")
#: the review of a feedback row's question: awaiting an administrator, decided, or nothing to
#: review (a notice, a refusal); NULL only in rows an older bot wrote, until they are read again
PENDING, CONFIRMED, REJECTED, NOTHING = "pending", "confirmed", "rejected", "none"
#: characters of the highlighted sentence kept as the phrase a confirmed question's answer holds
EXPECT_CHARS = 200


@dataclass(frozen=True)
class MemoryCandidate:
    """A question a reader's 👍 offers to the question memory (:mod:`bot.known_questions`).

    ``question`` is the question as the engine read it (completed from the earlier turns when it
    was a follow-up), ``expect`` the highlighted sentence of the first passage shown (a part of
    the passage text as indexed), ``doc`` that passage's document. ``answer_id`` and ``user_id``
    name the feedback row it came from (the first, when several readers liked it), ``votes`` how
    many 👍 it got."""

    question: str
    expect: str
    doc: str
    answer_id: int = 0
    user_id: int = 0
    votes: int = 1


def question_key(text: str) -> str:
    """What two questions must share to be the same question: case, spacing and the closing
    punctuation do not count."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split()).rstrip("?!.… ")


def answer_phrase(highlight: str, limit: int = EXPECT_CHARS) -> str:
    """The highlighted sentence stripped, cut at a word boundary to ``limit`` characters: still a
    part of the passage text, and distinctive enough to find the passage by."""
    phrase = highlight.strip()
    if len(phrase) <= limit:
        return phrase
    cut = phrase[:limit + 1].rfind(" ")
    return phrase[:cut if cut > limit // 2 else limit].rstrip()


def memory_candidate(answer: dict) -> MemoryCandidate | None:
    """What the question memory would learn from a 👍 on ``answer`` (an :class:`bot.answer.Answer`
    as stored for its buttons), or None: only an answer to a question, with a passage, counts."""
    passages = answer.get("passages") or []
    if answer.get("kind", "answer") != "answer" or not answer.get("answered") or not passages:
        return None
    first = passages[0] if isinstance(passages[0], dict) else {}
    question = answer.get("query") if answer.get("followup") and answer.get("query") else answer.get("question")
    expect = answer_phrase(str(first.get("highlight") or ""))
    if not isinstance(question, str) or not question.strip() or not expect or not first.get("doc_id"):
        return None
    return MemoryCandidate(question.strip(), expect, str(first["doc_id"]))


class Store:
    """Conversation and feedback storage behind a small, backend-neutral API."""

    def __init__(self, conn, placeholder: str, lock: threading.Lock | None = None) -> None:
        self._conn = conn
        self._ph = placeholder
        self._lock = lock or threading.Lock()

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path_or_url: str | Path) -> "Store":
        """A SQLite file path, or a ``postgresql://`` URL."""
        target = str(path_or_url)
        if target.startswith(("postgres://", "postgresql://")):
            return cls._open_postgres(target)
        return cls._open_sqlite(Path(target))

    @classmethod
    def _open_sqlite(cls, path: Path) -> "Store":
        path.parent.mkdir(parents=True, exist_ok=True)
        store = None
        try:
            store = cls._sqlite(path)
            # quick_check reports most damage as result rows rather than raising
            check = store._conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise sqlite3.DatabaseError(str(check[0] if check else "quick_check failed").splitlines()[-1])
            return store
        except sqlite3.DatabaseError as exc:
            if store is not None:
                store._conn.close()
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            log.warning("store: %s is damaged (%s); moved to %s, starting fresh", path.name, exc, aside.name)
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            return cls._sqlite(path)

    @classmethod
    def _sqlite(cls, path: Path) -> "Store":
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        store = cls(conn, "?")
        for sql in _SCHEMA:
            conn.execute(sql.format(serial="INTEGER PRIMARY KEY AUTOINCREMENT"))
        # one process at a time adds the columns an older database lacks
        conn.execute("BEGIN IMMEDIATE")
        try:
            store._upgrade({row[1] for row in conn.execute("PRAGMA table_info(feedback)")})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return store

    @classmethod
    def _open_postgres(cls, url: str) -> "Store":
        import psycopg

        conn = psycopg.connect(url, autocommit=True)
        store = cls(conn, "%s")
        # CREATE TABLE IF NOT EXISTS is not safe against a concurrent one: processes that start
        # together on a fresh database take turns (the lock ends with the transaction)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('kzlt-qa-bot schema'))")
            for sql in _SCHEMA:
                conn.execute(sql.format(serial="BIGSERIAL PRIMARY KEY").replace("REAL", "DOUBLE PRECISION"))
            store._upgrade({row[0] for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'feedback'")})
        return store

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------ helpers

    def _exec(self, sql: str, params: tuple = ()):
        sql = sql.replace("?", self._ph)
        with self._lock:
            cur = self._conn.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def _upgrade(self, feedback_columns: set[str]) -> None:
        """Bring a database an older bot wrote up to date (the caller holds it alone): the columns
        feedback lacks are added, and its rows get their question for the memory, read from the
        answer they keep, so an earlier 👍 awaits review like a new one."""
        for column in _FEEDBACK_ADDED:
            if column not in feedback_columns:
                self._exec(f"ALTER TABLE feedback ADD COLUMN {column} TEXT")
        for answer_id, user_id, answer in self._exec(
                "SELECT answer_id, user_id, answer FROM feedback WHERE review IS NULL") or []:
            try:
                candidate = memory_candidate(json.loads(answer))
            except (ValueError, TypeError, AttributeError):
                candidate = None
            self._exec("UPDATE feedback SET asked = ?, expect = ?, doc = ?, review = ? "
                       "WHERE answer_id = ? AND user_id = ?",
                       (*_candidate_columns(candidate), answer_id, user_id))

    # ------------------------------------------------------------ conversations

    def get_conversation(self, chat_id: int) -> dict | None:
        """The stored conversation state of a chat, or None (also when it is unreadable)."""
        rows = self._exec("SELECT state FROM conversations WHERE chat_id = ?", (chat_id,))
        if not rows:
            return None
        try:
            state = json.loads(rows[0][0])
        except ValueError:
            state = None
        if not isinstance(state, dict):  # not JSON, or JSON that is not an object
            log.warning("store: conversation of chat %s is unreadable; starting it fresh", chat_id)
            return None
        return state

    def put_conversation(self, chat_id: int, state: dict) -> None:
        self._exec(
            "INSERT INTO conversations (chat_id, state, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
            (chat_id, json.dumps(state, ensure_ascii=False), time.time()),
        )

    def delete_conversation(self, chat_id: int) -> None:
        self._exec("DELETE FROM conversations WHERE chat_id = ?", (chat_id,))

    # ------------------------------------------------------------ answers behind buttons

    def save_answer(self, chat_id: int, question: str, answer: dict) -> int:
        """Keep an answer so its buttons work later; returns its id (for callback_data)."""
        rows = self._exec(
            "INSERT INTO answers (chat_id, question, answer, created) VALUES (?, ?, ?, ?) RETURNING id",
            (chat_id, question, json.dumps(answer, ensure_ascii=False), time.time()),
        )
        return int(rows[0][0])

    def get_answer(self, answer_id: int) -> dict | None:
        rows = self._exec("SELECT chat_id, question, answer FROM answers WHERE id = ?", (answer_id,))
        if not rows:
            return None
        chat_id, question, answer = rows[0]
        try:
            return {"chat_id": chat_id, "question": question, "answer": json.loads(answer)}
        except ValueError:
            return None

    def add_feedback(self, answer_id: int, chat_id: int, user_id: int, vote: int) -> bool:
        """Record 👍 (+1) / 👎 (-1) with the question and answer, and what the question memory would
        learn from it (:func:`memory_candidate`); a second vote replaces the first (a review
        already made stays)."""
        saved = self.get_answer(answer_id)
        if saved is None:
            return False
        self._exec(
            "INSERT INTO feedback (answer_id, chat_id, user_id, vote, question, answer, created, "
            "asked, expect, doc, review) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, created = excluded.created, "
            "review = COALESCE(feedback.review, excluded.review)",
            (answer_id, chat_id, user_id, vote, saved["question"],
             json.dumps(saved["answer"], ensure_ascii=False), time.time(),
             *_candidate_columns(memory_candidate(saved["answer"]))),
        )
        return True

    def feedback(self) -> list[tuple]:
        return self._exec("SELECT answer_id, user_id, vote, question FROM feedback ORDER BY created") or []

    # ------------------------------------------------------------ 👍'd questions for the memory

    def pending_questions(self, known: frozenset[str] | set[str] = frozenset()) -> list[MemoryCandidate]:
        """The 👍'd questions awaiting an administrator, oldest first, one per question
        (:func:`question_key`): none already decided, none whose key is in ``known`` (the
        question memory holds it)."""
        rows = self._exec("SELECT answer_id, user_id, asked, expect, doc, review FROM feedback "
                          "WHERE vote > 0 AND asked IS NOT NULL ORDER BY created, answer_id, user_id") or []
        decided = {question_key(r[2]) for r in rows if r[5] in (CONFIRMED, REJECTED)}
        found: dict[str, MemoryCandidate] = {}
        for answer_id, user_id, asked, expect, doc, review in rows:
            key = question_key(asked)
            if review != PENDING or key in decided or key in known:
                continue
            first = found.get(key)
            found[key] = replace(first, votes=first.votes + 1) if first else \
                MemoryCandidate(asked, expect, doc, int(answer_id), int(user_id))
        return list(found.values())

    def decide(self, answer_id: int, user_id: int, review: str, was: str = PENDING) -> MemoryCandidate | None:
        """Set the review of the question behind one feedback row, and of every row asking the
        same question, to ``review`` (:data:`CONFIRMED`, :data:`REJECTED`, or :data:`PENDING` to
        reopen it), where it is ``was``. None when that row's question is not ``was`` (decided
        meanwhile, by a second press or another administrator): the first decision wins."""
        rows = self._exec("UPDATE feedback SET review = ? WHERE answer_id = ? AND user_id = ? AND review = ? "
                          "AND asked IS NOT NULL RETURNING asked, expect, doc", (review, answer_id, user_id, was))
        if not rows:
            return None
        asked, expect, doc = rows[0]
        key = question_key(asked)
        for other_answer, other_user, other_asked in self._exec(
                "SELECT answer_id, user_id, asked FROM feedback WHERE review = ? AND asked IS NOT NULL", (was,)) or []:
            if question_key(other_asked) == key:
                self._exec("UPDATE feedback SET review = ? WHERE answer_id = ? AND user_id = ? AND review = ?",
                           (review, other_answer, other_user, was))
        return MemoryCandidate(asked, expect, doc, answer_id, user_id)

    # ------------------------------------------------------------ changes awaiting a button

    def save_pending(self, chat_id: int, action: str, data: dict) -> int:
        """Keep a change (``action`` with its ``data``) until its confirmation button is pressed;
        returns its id (for callback_data). Changes whose buttons expired are dropped."""
        self._exec("DELETE FROM pending WHERE created < ?", (time.time() - PENDING_SECONDS,))
        rows = self._exec(
            "INSERT INTO pending (chat_id, action, data, created) VALUES (?, ?, ?, ?) RETURNING id",
            (chat_id, action, json.dumps(data, ensure_ascii=False), time.time()),
        )
        return int(rows[0][0])

    def take_pending(self, pending_id: int, chat_id: int) -> tuple[str, dict] | None:
        """The change behind a button of ``chat_id``, removed as it is taken: a second press (or
        a second process) gets None, as does a change older than :data:`PENDING_SECONDS`."""
        rows = self._exec("DELETE FROM pending WHERE id = ? AND chat_id = ? RETURNING action, data, created",
                          (pending_id, chat_id))
        if not rows or time.time() - rows[0][2] > PENDING_SECONDS:
            return None
        try:
            return rows[0][0], json.loads(rows[0][1])
        except ValueError:
            return None

    # ------------------------------------------------------------ stats

    def log_question(self, chat_id: int, language: str, answered: bool, latency: float) -> None:
        self._exec("INSERT INTO questions (chat_id, language, answered, latency, created) VALUES (?, ?, ?, ?, ?)",
                   (chat_id, language, int(answered), latency, time.time()))

    def stats(self) -> dict:
        rows = self._exec("SELECT answered, latency FROM questions") or []
        lat = sorted(r[1] for r in rows)

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0

        chats = self._exec("SELECT COUNT(*) FROM conversations")[0][0]
        votes = self._exec("SELECT vote, COUNT(*) FROM feedback GROUP BY vote") or []
        return {
            "questions": len(rows),
            "not_found_rate": (sum(1 for r in rows if not r[0]) / len(rows)) if rows else 0.0,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
            "chats": chats,
            "up": sum(c for v, c in votes if v > 0), "down": sum(c for v, c in votes if v < 0),
        }


def _candidate_columns(candidate: MemoryCandidate | None) -> tuple:
    """feedback's (asked, expect, doc, review) for a row offering ``candidate`` (or nothing)."""
    if candidate is None:
        return None, None, None, NOTHING
    return candidate.question, candidate.expect, candidate.doc, PENDING


# ---------------------------------------------------------------- the corpus folder

SIDECAR_SUFFIX = ".meta.toml"
#: staged files are hidden, so a build running meanwhile never reads one
STAGED_PREFIX = ".upload-"
#: bytes of a saved file name at most: file systems allow 255, and a staged name adds a prefix
MAX_NAME_BYTES = 180
_UNSAFE = re.compile(r"[^\w.\-()+,]+")
#: what the plain parts of a caption are, in order ("Title | Publisher | Author")
CAPTION_FIELDS = ("title", "publisher", "author")


def _printable(text: str) -> str:
    """Without control, format (bidi overrides, zero-width) and unpaired surrogate characters."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def name_key(name: str) -> str:
    """What two names must share to name the same file: Unicode form (NFC/NFD) and case do not count."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def safe_file_name(sent: str | None) -> str:
    """A plain file name made from a name a user sent, or "" when nothing usable is left.

    A sent name is never a path: only what follows its last ``/`` or ``\\`` counts, in Unicode
    NFC, without control characters (NUL included); anything but letters, digits and
    ``. - _ ( ) + ,`` becomes ``_``; no leading dots (no hidden files, no ``..``); the suffix is
    lower-cased and the stem shortened to fit :data:`MAX_NAME_BYTES`. Whether the suffix is one
    the corpus reads is for the caller to check."""
    name = re.split(r"[/\\]", _printable(unicodedata.normalize("NFC", sent or "")))[-1]
    name = re.sub(r"\.{2,}", ".", _UNSAFE.sub("_", name)).strip("._-")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem, suffix = stem.strip("._-"), f".{suffix.lower()}" if dot else ""
    while stem and len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix if stem else ""


def caption_metadata(caption: str | None) -> dict[str, str]:
    """Sidecar fields from the caption sent with a document: "Title | Publisher | 2024-05-01 |
    https://…" (parts separated by ``|`` or new lines, any of them left out). A web address, a
    date and a language code ("lt", "en") are recognised wherever they stand; the other parts
    are the title, the publisher and the author, in that order. No caption gives no fields."""
    meta: dict[str, str] = {}
    plain = []
    for part in re.split(r"[|\n]", caption or ""):
        part = " ".join(_printable(part.replace("\t", " ")).split())
        if not part:
            continue
        if "url" not in meta and re.fullmatch(r"https?://\S+", part):
            meta["url"] = part
        elif "date" not in meta and re.fullmatch(r"\d{4}(-\d{2}){0,2}", part):
            meta["date"] = part
        elif "language" not in meta and part.lower() in ("lt", "en"):
            meta["language"] = part.lower()
        else:
            plain.append(part)
    meta.update(zip(CAPTION_FIELDS, plain))
    order = (*CAPTION_FIELDS, "date", "language", "url")
    return {key: meta[key] for key in order if key in meta}


def sidecar_text(meta: dict[str, str]) -> str:
    """A sidecar (TOML) holding ``meta``. JSON's string escapes are TOML's, and the values hold
    no control characters (:func:`caption_metadata`), so a JSON-quoted value is a TOML string."""
    lines = ["# from the caption sent with the document in Telegram; edit freely"]
    lines += [f"{key} = {json.dumps(_printable(str(value)), ensure_ascii=False)}" for key, value in meta.items()]
    return "\n".join(lines) + "\n"


def _same_entry(a: Path, b: Path) -> bool:
    """``a`` and ``b`` are one directory entry (a case-insensitive file system, a hard link)."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


class _Complaints(logging.Handler):
    """The warnings one thread logs meanwhile: why the corpus reader skipped a file."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@dataclass(frozen=True)
class CorpusFolder:
    """The corpus folder as the bot changes it: documents administrators send, saved whole or
    not at all with their sidecars, and documents they remove. Only the top of the folder is
    written; links found there are replaced or removed, never followed."""

    root: Path

    @property
    def suffixes(self) -> tuple[str, ...]:
        """The file suffixes the corpus reader reads."""
        from . import corpus

        return corpus.DOCUMENT_SUFFIXES

    @staticmethod
    def sidecar(path: Path) -> Path:
        return path.with_name(path.stem + SIDECAR_SUFFIX)

    # ------------------------------------------------------------ a document sent

    def stage(self, name: str, data: bytes) -> Path:
        """Write ``data`` whole to a new hidden file in the folder whose name ends like ``name``
        (the reader is chosen by the suffix); staged files older than a day are removed."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._prune_staged()
        fd, tmp = tempfile.mkstemp(prefix=STAGED_PREFIX, suffix="-" + name, dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(tmp)

    def staged(self, file_name: str) -> Path | None:
        """A file :meth:`stage` wrote, by its name (kept while a button waits), if it is still there."""
        if not file_name.startswith(STAGED_PREFIX) or "/" in file_name or "\\" in file_name:
            return None
        path = self.root / file_name
        return path if path.is_file() and not path.is_symlink() else None

    def read(self, staged: Path):
        """The staged file as the corpus reader reads it: ``(Document, "")``, or ``(None, why)``."""
        from . import corpus

        complaints = _Complaints()
        logger = logging.getLogger(corpus.__name__)
        logger.addHandler(complaints)
        try:
            doc = corpus.read_document(staged, root=self.root)
        finally:
            logger.removeHandler(complaints)
        why = complaints.messages[-1].split(f"{staged.name}: ", 1)[-1] if complaints.messages else ""
        return doc, why

    def versions(self, name: str) -> list[Path]:
        """What at the top of the folder is the same document as ``name``: a document file (or a
        link) whose stem differs from its stem at most in case or Unicode form, whatever its suffix.
        Such files would share one sidecar (and a plain-text document id)."""
        key = name_key(Path(name).stem)
        if not self.root.is_dir():
            return []
        with os.scandir(self.root) as entries:
            return sorted(Path(e.path) for e in entries
                          if not e.name.startswith(".") and Path(e.name).suffix.lower() in self.suffixes
                          and name_key(Path(e.name).stem) == key and (e.is_symlink() or not e.is_dir()))

    def commit(self, staged: Path, name: str, meta: dict[str, str]) -> list[str]:
        """Put a staged file in place as ``name`` with its sidecar from ``meta`` (with no ``meta``
        the file's own metadata counts, and an older sidecar goes), replacing every other version
        of the same document with its sidecar. Returns the names replaced."""
        target = self.root / name
        sidecar = self.sidecar(target)
        old = self.versions(name)
        staged_meta = self.stage(sidecar.name, sidecar_text(meta).encode("utf-8")) if meta else None
        os.replace(staged, target)
        if staged_meta is not None:
            os.replace(staged_meta, sidecar)
        elif os.path.lexists(sidecar):
            sidecar.unlink()
        for path in old:  # os.replace already replaced the one named ``name``
            if not _same_entry(path, target):
                path.unlink(missing_ok=True)
            if self.sidecar(path).name != sidecar.name and not _same_entry(self.sidecar(path), sidecar):
                self.sidecar(path).unlink(missing_ok=True)
        self._sync()
        return [p.name for p in old]

    def discard(self, staged: Path) -> None:
        staged.unlink(missing_ok=True)

    # ------------------------------------------------------------ a document removed

    def find(self, name: str) -> list[Path]:
        """The documents ``name`` designates: by path in the folder, file name or stem, whatever
        the case and Unicode form. Only documents the corpus holds can be found, so no name
        reaches outside the folder."""
        from . import corpus

        key = name_key(name.strip().replace("\\", "/").strip("/"))
        found = []
        for path in corpus.document_files(self.root):
            rel = path.relative_to(self.root)
            if key in (name_key(rel.as_posix()), name_key(path.name), name_key(rel.with_suffix("").as_posix())):
                found.append(path)
        return found

    def remove(self, path: Path) -> None:
        """Take a document out with its sidecar, unless another document of the same stem uses that."""
        path.unlink()
        if not any(os.path.lexists(path.with_suffix(s)) for s in self.suffixes):
            self.sidecar(path).unlink(missing_ok=True)
        self._sync(path.parent)

    # ------------------------------------------------------------ helpers

    def _prune_staged(self) -> None:
        now = time.time()
        for old in self.root.glob(STAGED_PREFIX + "*"):
            try:
                if now - old.lstat().st_mtime > PENDING_SECONDS:
                    old.unlink()
            except OSError:
                pass

    def _sync(self, folder: Path | None = None) -> None:
        """Make the renames durable (a crash afterwards keeps them)."""
        fd = os.open(folder or self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

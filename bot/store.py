"""Durable state for the bot: conversations per chat, answers behind buttons, feedback, stats.

SQLite by default (one file, one machine); PostgreSQL when ``DATABASE_URL`` points at one,
so several bot processes can share conversations. Every query is parameterised. A damaged
SQLite file is moved aside with a warning and the bot starts fresh instead of crashing.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
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
        PRIMARY KEY (answer_id, user_id))""",
    """CREATE TABLE IF NOT EXISTS questions (
        chat_id BIGINT NOT NULL, language TEXT NOT NULL, answered INTEGER NOT NULL,
        latency REAL NOT NULL, created REAL NOT NULL)""",
]


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
        """Record 👍 (+1) / 👎 (-1) with the question and answer; a second vote replaces the first."""
        saved = self.get_answer(answer_id)
        if saved is None:
            return False
        self._exec(
            "INSERT INTO feedback (answer_id, chat_id, user_id, vote, question, answer, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (answer_id, user_id) DO UPDATE SET "
            "vote = excluded.vote, created = excluded.created",
            (answer_id, chat_id, user_id, vote, saved["question"],
             json.dumps(saved["answer"], ensure_ascii=False), time.time()),
        )
        return True

    def feedback(self) -> list[tuple]:
        return self._exec("SELECT answer_id, user_id, vote, question FROM feedback ORDER BY created") or []

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

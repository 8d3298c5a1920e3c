"""bot.store.Store against real SQLite files and a real (throw-away) PostgreSQL server.

The behaviour tests take a ``target`` (a SQLite file path or a ``postgresql://`` URL) and run
on both backends; the PostgreSQL server is started once per session from the distribution's
binaries (see tests/pg_server.py) and each test gets its own fresh database in it.
"""
from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.dialogue import Conversation, Turn
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("conversations", "answers", "feedback", "questions")
INJECTION = "'); DROP TABLE conversations; --"


# ------------------------------------------------------------------ fixtures


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path) -> str:
    """Where a store lives: a fresh SQLite file, or a fresh database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "bot.db")
    return request.getfixturevalue("pg_server").create_database()


@pytest.fixture
def store(target):
    s = Store.open(target)
    yield s
    s.close()


@pytest.fixture
def sqlite_path(tmp_path) -> Path:
    return tmp_path / "bot.db"


def make_conversation(*questions: str, language: str | None = "lt") -> Conversation:
    conv = Conversation(language=language)
    for i, q in enumerate(questions):
        conv.add(Turn(question=q, query=q, language="lt" if i % 2 == 0 else "en", answered=bool(i % 2 == 0),
                      shown=[f"doc{i}.md#{j}" for j in range(i + 1)], followup=i > 0))
    return conv


def table_counts(store: Store) -> dict[str, int]:
    """Row counts of all four tables (raises if any of them is gone)."""
    return {t: store._exec(f"SELECT COUNT(*) FROM {t}")[0][0] for t in TABLES}


# ------------------------------------------------------------------ conversations


def test_conversation_round_trip(store):
    conv = make_conversation("Kada Lietuvoje lankėsi Nazarbajevas?", "Ką jis įteikė?")
    store.put_conversation(7, conv.to_dict())
    state = store.get_conversation(7)
    assert state == conv.to_dict()
    assert Conversation.from_dict(state) == conv


def test_missing_conversation_is_none(store):
    assert store.get_conversation(12345) is None


def test_conversation_overwrite(store):
    store.put_conversation(7, make_conversation("first question here").to_dict())
    second = make_conversation("What was the trade volume in 2021?", "And at the end of 2022?", language="en")
    store.put_conversation(7, second.to_dict())
    assert Conversation.from_dict(store.get_conversation(7)) == second
    assert store.stats()["chats"] == 1  # replaced, not added


def test_conversations_are_isolated_per_chat(store):
    # Telegram group/supergroup ids are negative and beyond 32 bits
    chat_a, chat_b, chat_c = 1, 2, -1001234567890
    conv_a = make_conversation("Kas yra Kazachstano sostinė?")
    store.put_conversation(chat_a, conv_a.to_dict())
    assert store.get_conversation(chat_b) is None
    assert store.get_conversation(chat_c) is None

    conv_b = make_conversation("Trade between Lithuania and Kazakhstan", "And in 2022?", language="en")
    conv_c = make_conversation("group question", language=None)
    store.put_conversation(chat_b, conv_b.to_dict())
    store.put_conversation(chat_c, conv_c.to_dict())
    assert Conversation.from_dict(store.get_conversation(chat_a)) == conv_a
    assert Conversation.from_dict(store.get_conversation(chat_b)) == conv_b
    assert Conversation.from_dict(store.get_conversation(chat_c)) == conv_c

    store.delete_conversation(chat_a)
    assert store.get_conversation(chat_a) is None
    assert Conversation.from_dict(store.get_conversation(chat_b)) == conv_b
    assert store.stats()["chats"] == 2


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2, 3]", '"a string"', "null", "42"])
def test_unreadable_state_row_returns_none_with_warning(store, caplog, raw):
    store.put_conversation(5, make_conversation("fine").to_dict())
    store._exec("UPDATE conversations SET state = ? WHERE chat_id = ?", (raw, 5))
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        assert store.get_conversation(5) is None
    assert any("unreadable" in r.getMessage() and "5" in r.getMessage() for r in caplog.records)
    # and the chat can start fresh over it
    store.put_conversation(5, make_conversation("again").to_dict())
    assert Conversation.from_dict(store.get_conversation(5)).last.question == "again"


# ------------------------------------------------------------------ answers and feedback


def test_save_and_get_answer(store):
    answer = {"text": "Astana (nuo 2019 m. – Nur Sultanas).", "sources": ["kz.md#3"], "score": 0.81}
    id1 = store.save_answer(10, "Kas yra sostinė?", answer)
    id2 = store.save_answer(11, "What is the capital?", {"text": "Astana"})
    assert isinstance(id1, int) and isinstance(id2, int) and id1 != id2
    assert store.get_answer(id1) == {"chat_id": 10, "question": "Kas yra sostinė?", "answer": answer}
    assert store.get_answer(id2)["chat_id"] == 11
    assert store.get_answer(max(id1, id2) + 1000) is None


def test_feedback_stores_question_and_answer_and_revote_replaces(store):
    answer = {"text": "Prekybos apyvarta 2021 m. – 500 mln. EUR", "sources": ["trade.md#1"]}
    aid = store.save_answer(10, "Kokia prekybos apyvarta 2021?", answer)

    assert store.add_feedback(aid, 10, user_id=100, vote=1) is True
    rows = store._exec("SELECT answer_id, chat_id, user_id, vote, question, answer FROM feedback")
    assert len(rows) == 1
    answer_id, chat_id, user_id, vote, question, stored_answer = rows[0]
    assert (answer_id, chat_id, user_id, vote) == (aid, 10, 100, 1)
    assert question == "Kokia prekybos apyvarta 2021?"
    assert json.loads(stored_answer) == answer
    assert (store.stats()["up"], store.stats()["down"]) == (1, 0)

    # the same user changes their mind: one row, the new vote
    assert store.add_feedback(aid, 10, user_id=100, vote=-1) is True
    assert store.feedback() == [(aid, 100, -1, "Kokia prekybos apyvarta 2021?")]
    assert (store.stats()["up"], store.stats()["down"]) == (0, 1)

    # another user's vote on the same answer is separate
    assert store.add_feedback(aid, 10, user_id=200, vote=1) is True
    assert sorted(store.feedback()) == sorted([(aid, 100, -1, "Kokia prekybos apyvarta 2021?"),
                                               (aid, 200, 1, "Kokia prekybos apyvarta 2021?")])
    assert (store.stats()["up"], store.stats()["down"]) == (1, 1)


def test_feedback_on_unknown_answer_is_refused(store):
    assert store.add_feedback(999_999, 10, user_id=100, vote=1) is False
    assert store.feedback() == []


# ------------------------------------------------------------------ stats


def test_stats_empty(store):
    assert store.stats() == {"questions": 0, "not_found_rate": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0,
                             "chats": 0, "up": 0, "down": 0}


def test_stats(store):
    latencies = [float(i) for i in range(1, 101)]  # 1..100 s
    random.Random(3).shuffle(latencies)
    for i, lat in enumerate(latencies):
        store.log_question(chat_id=i % 7, language="lt" if i % 2 else "en", answered=i % 5 != 0, latency=lat)
    stats = store.stats()
    assert stats["questions"] == 100
    assert stats["not_found_rate"] == pytest.approx(0.20)
    assert 50 <= stats["p50"] <= 51
    assert 95 <= stats["p95"] <= 96
    assert 99 <= stats["p99"] <= 100
    assert stats["p50"] <= stats["p95"] <= stats["p99"]


def test_stats_single_question(store):
    store.log_question(1, "en", answered=False, latency=0.25)
    stats = store.stats()
    assert stats["questions"] == 1 and stats["not_found_rate"] == 1.0
    assert stats["p50"] == stats["p95"] == stats["p99"] == pytest.approx(0.25)


# ------------------------------------------------------------------ parameterised SQL


NASTY = [
    INJECTION,
    "Robert'); DROP TABLE answers;--",
    "x' OR '1'='1",
    '"; DELETE FROM feedback; --',
    "O'Brien's \"quoted\" `tick` \\backslash\\ ; -- comment /* block */",
    "percent %s %(name)s %% and ? question marks ??",
    "Ką jis įteikė? „kabutės“ — ąčęėįšųūž 🇱🇹",
]


def test_sql_injection_text_round_trips_unchanged(store):
    conv = Conversation(language="en")
    for q in NASTY:
        conv.add(Turn(question=q, query=q + " " + INJECTION, language="en", shown=[q]))
    state = conv.to_dict()
    state["note"] = "\x00 nul and \n newline \t tab " + INJECTION  # extra keys survive too
    store.put_conversation(42, state)
    assert store.get_conversation(42) == state

    ids = [store.save_answer(42, q, {"text": q, INJECTION: [q]}) for q in NASTY]
    for q, aid in zip(NASTY, ids):
        assert store.get_answer(aid) == {"chat_id": 42, "question": q, "answer": {"text": q, INJECTION: [q]}}
        assert store.add_feedback(aid, 42, user_id=1, vote=1)
    assert sorted(r[3] for r in store.feedback()) == sorted(NASTY)
    store.log_question(42, INJECTION, answered=True, latency=0.1)

    # every table is still there, with exactly the rows written
    assert table_counts(store) == {"conversations": 1, "answers": len(NASTY), "feedback": len(NASTY),
                                   "questions": 1}
    store.put_conversation(43, {"turns": [], "language": None})
    assert store.get_conversation(42) == state


class RecordingConnection:
    """A database connection that remembers every statement and its parameters."""

    def __init__(self, conn) -> None:
        self.conn, self.calls = conn, []

    def execute(self, sql, params=()):
        self.calls.append((sql, tuple(params)))
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


def test_every_value_reaches_the_database_as_a_parameter_never_in_the_sql_text(sqlite_path, monkeypatch):
    # numbers too: a chat id pasted into the SQL works, so only the statement text can tell
    store = Store.open(sqlite_path)
    store._conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('answers', 777000000)")
    rec = store._conn = RecordingConnection(store._conn)
    monkeypatch.setattr("bot.store.time", SimpleNamespace(time=lambda: 1712345678.25))
    chat, user, unknown_answer = 918273645, 564738291, 987650001
    store.put_conversation(chat, {"state": "STATE-VALUE"})
    assert store.get_conversation(chat) == {"state": "STATE-VALUE"}
    answer_id = store.save_answer(chat, "QUESTION-VALUE", {"text": "ANSWER-VALUE"})
    assert answer_id == 777000001
    assert store.get_answer(answer_id)["question"] == "QUESTION-VALUE"
    assert store.get_answer(unknown_answer) is None
    assert store.add_feedback(answer_id, chat, user, -1)
    store.log_question(chat, "LANGUAGE-VALUE", True, 0.123456789)
    store.stats()
    store.feedback()
    store.delete_conversation(chat)
    assert store.get_conversation(chat) is None
    values = [chat, user, unknown_answer, answer_id, "STATE-VALUE", "QUESTION-VALUE", "ANSWER-VALUE",
              "LANGUAGE-VALUE", 0.123456789, 1712345678.25]
    for sql, params in rec.calls:
        for value in values:
            assert str(value) not in sql, (value, sql)
    sent = {p for _, params in rec.calls for p in params if not isinstance(p, str)}
    sent |= {v for _, params in rec.calls for p in params if isinstance(p, str) for v in values if str(v) in p}
    assert sent >= set(values)  # and each of them did go, as a parameter
    store.close()


# ------------------------------------------------------------------ restarts


def test_state_survives_reopening(target):
    conv = make_conversation("Kada Lietuvoje lankėsi Nazarbajevas?", "Ką jis įteikė?")
    s = Store.open(target)
    s.put_conversation(42, conv.to_dict())
    aid = s.save_answer(42, "Ką jis įteikė?", {"text": "ordiną"})
    s.add_feedback(aid, 42, user_id=7, vote=1)
    s.log_question(42, "lt", answered=True, latency=0.3)
    s.close()

    s = Store.open(target)  # a restart
    try:
        assert Conversation.from_dict(s.get_conversation(42)) == conv
        assert s.get_answer(aid) == {"chat_id": 42, "question": "Ką jis įteikė?", "answer": {"text": "ordiną"}}
        assert s.feedback() == [(aid, 7, 1, "Ką jis įteikė?")]
        stats = s.stats()
        assert (stats["questions"], stats["chats"], stats["up"]) == (1, 1, 1)
        assert s.save_answer(42, "next", {}) > aid  # ids keep counting, no reuse after restart
    finally:
        s.close()


# ------------------------------------------------------------------ damaged SQLite files


def _filled_db(path: Path, n: int = 300) -> None:
    """A real store file with fixed contents (fixed timestamps too), so its page layout is the same
    on every run."""
    s = Store.open(path)
    for i in range(n):
        s._exec("INSERT INTO conversations (chat_id, state, updated) VALUES (?, ?, ?)",
                (i, json.dumps(make_conversation(f"question {i:03d} " + "x" * 100).to_dict()), 1.7e9 + i + 0.5))
        s._exec("INSERT INTO answers (chat_id, question, answer, created) VALUES (?, ?, ?, ?)",
                (i, "q" * 100, json.dumps({"text": "a" * 300}), 1.7e9 + i + 0.25))
    s.close()
    assert not Path(str(path) + "-wal").exists()  # checkpointed on close: the file holds everything


def _assert_moved_aside_and_fresh(path: Path, caplog, store: Store) -> list[Path]:
    aside = sorted(path.parent.glob(path.name + ".corrupt-*"))
    assert len(aside) == 1, list(path.parent.iterdir())
    assert any(r.levelno == logging.WARNING and "damaged" in r.getMessage() for r in caplog.records)
    # fresh and usable
    assert store.stats()["chats"] == 0 and store.stats()["questions"] == 0
    store.put_conversation(1, make_conversation("after the crash").to_dict())
    assert store.get_conversation(1)["turns"][0]["question"] == "after the crash"
    return aside


def test_random_bytes_file_starts_fresh(sqlite_path, caplog):
    garbage = random.Random(1).randbytes(64 * 1024)
    sqlite_path.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        s = Store.open(sqlite_path)
    try:
        aside = _assert_moved_aside_and_fresh(sqlite_path, caplog, s)
        assert aside[0].read_bytes() == garbage  # kept as it was, for inspection
    finally:
        s.close()


@pytest.mark.parametrize("keep", [50, 1000, 5000, "half"])
def test_truncated_db_file_starts_fresh(sqlite_path, caplog, keep):
    _filled_db(sqlite_path)
    data = sqlite_path.read_bytes()
    sqlite_path.write_bytes(data[: len(data) // 2 if keep == "half" else keep])
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        s = Store.open(sqlite_path)
    try:
        _assert_moved_aside_and_fresh(sqlite_path, caplog, s)
    finally:
        s.close()


def _corrupt_a_leaf_page(path: Path, table: str = "answers") -> None:
    """Break the cell pointers of one leaf page of ``table``: the header and schema stay valid, so
    only an integrity check notices (``PRAGMA quick_check`` reports it as rows, it does not raise)."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())

    def header(page: int) -> int:
        return (page - 1) * page_size + (100 if page == 1 else 0)

    h = header(root)
    assert data[h] == 0x05, "expected an interior table page: the table should span several pages"
    first_cell = int.from_bytes(data[h + 12:h + 14], "big")
    cell = (root - 1) * page_size + first_cell
    child = int.from_bytes(data[cell:cell + 4], "big")
    leaf = header(child)
    assert data[leaf] == 0x0D, "expected a leaf table page"
    cells = int.from_bytes(data[leaf + 3:leaf + 5], "big")
    data[leaf + 8:leaf + 8 + 2 * cells] = b"\xff" * (2 * cells)
    path.write_bytes(bytes(data))


def test_damaged_page_found_by_quick_check_starts_fresh(sqlite_path, caplog):
    _filled_db(sqlite_path)
    _corrupt_a_leaf_page(sqlite_path)
    conn = sqlite3.connect(sqlite_path)
    try:  # the damage is real; with this layout SQLite reports it as a row rather than raising
        assert conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError:
        pass  # another SQLite version may raise instead; the store must cope either way
    finally:
        conn.close()
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        s = Store.open(sqlite_path)
    try:
        _assert_moved_aside_and_fresh(sqlite_path, caplog, s)
    finally:
        s.close()


def test_healthy_file_is_not_moved_aside(sqlite_path, caplog):
    _filled_db(sqlite_path, n=20)
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        s = Store.open(sqlite_path)
    try:
        assert s.stats()["chats"] == 20
        assert not list(sqlite_path.parent.glob("*.corrupt-*"))
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        s.close()


def test_empty_file_is_a_fresh_database(sqlite_path, caplog):
    sqlite_path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        s = Store.open(sqlite_path)
    try:
        assert s.stats()["chats"] == 0
        assert s.get_conversation(1) is None
    finally:
        s.close()


# ------------------------------------------------------------------ several processes, one conversation


def test_several_bots_starting_at_once_on_a_fresh_database_all_open_it(pg_server):
    # webhook processes behind a load balancer start together; each sets up the schema
    url = pg_server.create_database()
    start = threading.Barrier(8)
    errors: list[str] = []

    def open_store() -> None:
        start.wait()
        try:
            Store.open(url).close()
        except Exception as exc:  # collected, reported below
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    s = Store.open(url)
    s.put_conversation(1, {"turns": []})
    assert s.get_conversation(1) == {"turns": []}
    s.close()


_WORKER = r"""
import json, os, sys
from bot.dialogue import Conversation, Turn
from bot.store import Store

target, mode = sys.argv[1], sys.argv[2]
store = Store.open(target)
conv = Conversation.from_dict(store.get_conversation(42))
seen = [t.question for t in conv.turns]
if mode == "first":
    conv.add(Turn(question="Kada Lietuvoje lankėsi Nazarbajevas?", query="Kada Lietuvoje lankėsi Nazarbajevas?",
                  language="lt", answered=True, shown=["visits.md#2"]))
elif mode == "follow-up":
    query, followup = conv.resolve("Ką jis įteikė?")
    conv.add(Turn(question="Ką jis įteikė?", query=query, language="lt", answered=True, followup=followup))
if mode != "read":
    store.put_conversation(42, conv.to_dict())
store.close()
print(json.dumps({"pid": os.getpid(), "seen": seen, "turns": Conversation.from_dict(conv.to_dict()).to_dict()["turns"]}))
"""


def _run_worker(target: str, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run([sys.executable, "-c", _WORKER, target, mode], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["postgres", "sqlite"])
def shared_target(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    return request.getfixturevalue("pg_server").url  # the server's default database: .../postgres


def test_two_processes_share_one_conversation(shared_target):
    s = Store.open(shared_target)
    s.delete_conversation(42)
    s.close()

    a = _run_worker(shared_target, "first")  # process A writes the first turn
    assert a["seen"] == []
    b = _run_worker(shared_target, "follow-up")  # process B continues the same chat
    assert b["seen"] == ["Kada Lietuvoje lankėsi Nazarbajevas?"]
    again = _run_worker(shared_target, "read")  # process A again (a new run) sees both turns
    assert again["seen"] == ["Kada Lietuvoje lankėsi Nazarbajevas?", "Ką jis įteikė?"]
    assert len({a["pid"], b["pid"], again["pid"], os.getpid()}) == 4  # really separate processes

    follow = again["turns"][1]
    assert follow["followup"] is True
    assert follow["query"].startswith("Kada Lietuvoje lankėsi Nazarbajevas?")  # B resolved it from A's turn
    s = Store.open(shared_target)
    try:
        assert [t.question for t in Conversation.from_dict(s.get_conversation(42)).turns] == again["seen"]
    finally:
        s.close()

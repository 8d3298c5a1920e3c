"""Load and soak through the stand-in Bot API: many people at once, nothing lost, nothing mixed,
memory levels off. The long soak runs with SOAK=full; CI runs a shorter one."""
from __future__ import annotations

import os
import re
import time
from html import unescape

import psutil
import pytest

from bot_process import TOKEN, bot_with_stand_in

# (first question, its answer, follow-up, its answer): the follow-up only works in its own conversation
TOPICS = [
    ("How many Kazakh citizens lived in Lithuania in 2022?", "833", "And in 2016?", "347"),
    ("Kada Lietuvoje lankėsi Nazarbajevas?", "2001", "Ką jis įteikė?", "archyvinę"),
    ("What was the trade volume between the countries in 2021?", "454", "And at the end of 2022?", "584.3"),
    ("Kas yra Antanas Poška?", "Poška", "Kur jis dirbo?", "muziejuje"),
]


def plain(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text))


def run_people(tg, people: int, rounds: int, first_chat: int):
    """Each person asks topic question, follow-up, and repeats: 2*rounds questions, in parallel."""
    chats = list(range(first_chat, first_chat + people))
    expected: dict[int, list[str]] = {c: [] for c in chats}
    t0 = time.perf_counter()
    for r in range(rounds):
        for i, chat in enumerate(chats):
            q = TOPICS[(i + r // 2) % len(TOPICS)]
            step = r % 2
            tg.push_message(chat, q[0] if step == 0 else q[2], user_id=chat)
            expected[chat].append(q[1] if step == 0 else q[3])
        for chat in chats:
            tg.wait_for_messages(chat, len(expected[chat]), timeout=300)
    elapsed = time.perf_counter() - t0
    return chats, expected, elapsed


@pytest.fixture(scope="module")
def loaded_bot(settings, built_index, tmp_path_factory):
    with bot_with_stand_in(settings, tmp_path_factory.mktemp("load-data"), BOT_USER_RATE_PER_MINUTE="1000") as running:
        yield running
    proc = running[1]
    assert TOKEN not in proc.log()
    assert "Traceback" not in proc.log()


def test_200_people_asking_5_questions_each_get_their_own_answers(loaded_bot):
    tg, proc = loaded_bot
    # rounds alternate topic question / follow-up: 5 questions per person
    chats, expected, elapsed = run_people(tg, people=200, rounds=5, first_chat=10_000)
    wrong = []
    for chat in chats:
        msgs = tg.messages(chat)
        assert len(msgs) == 5, chat
        for msg, want in zip(msgs, expected[chat]):
            if want not in plain(msg["text"]):
                wrong.append((chat, want, plain(msg["text"])[:120]))
    assert tg.rejections == []
    # allow no answer to be lost; allow no conversation leaks (a follow-up answered from another chat's topic)
    assert not wrong, wrong[:5]
    print(f"\n1,000 questions from 200 people in {elapsed:.1f} s ({1000 / elapsed:.1f} answers/s)")


@pytest.mark.soak
def test_memory_levels_off_over_a_long_soak(loaded_bot):
    tg, proc = loaded_bot
    total = 2000 if os.environ.get("SOAK") == "full" else 400
    p = psutil.Process(proc.proc.pid)
    samples = []
    asked = 0
    chat0 = 50_000
    while asked < total:
        run_people(tg, people=20, rounds=2, first_chat=chat0 + asked)
        asked += 40
        samples.append((asked, p.memory_info().rss / 2**20))
    print("\nsoak RSS (questions, MiB):", samples)
    half = len(samples) // 2
    first_half_growth = samples[half][1] - samples[0][1]
    second_half_growth = samples[-1][1] - samples[half][1]
    # levels off: the second half grows far less than the whole budget of a leak would
    assert second_half_growth < max(30.0, 0.5 * max(first_half_growth, 1.0)), samples
    assert tg.rejections == []

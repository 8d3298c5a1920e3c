"""Several bot processes behind one webhook address share conversations through PostgreSQL."""
from __future__ import annotations

import re
import time
from dataclasses import replace
from html import unescape

import httpx
import pytest

from bot_process import TOKEN, BotProcess
from pg_server import free_port
from stand_in_api import StandInBotAPI


def plain(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text))


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise TimeoutError(f"nothing listens on port {port}")


def test_a_conversation_moves_between_two_webhook_processes_sharing_postgres(pg_server, settings, built_index,
                                                                            tmp_path):
    db = pg_server.create_database()
    s = replace(settings, data_dir=tmp_path)
    ports = [free_port(), free_port()]
    with StandInBotAPI(token=TOKEN) as tg:
        procs = [BotProcess(s, tg.api_url, extra_env={"DATABASE_URL": db},
                            args=["--webhook", f"http://127.0.0.1:{port}", "--port", str(port)],
                            log_path=tmp_path / f"bot{port}.log").start() for port in ports]
        try:
            for port in ports:
                wait_port(port)
            tg.wait_for(lambda: tg.webhook, timeout=60)
            path = tg.webhook["url"].rsplit("/", 1)[1]
            secret = tg.webhook.get("secret_token")
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}

            def post(port: int, text: str) -> None:
                update = tg.message_update(4242, text, language_code="lt")
                r = httpx.post(f"http://127.0.0.1:{port}/{path}", json=update, headers=headers, timeout=30)
                assert r.status_code == 200, r.text

            post(ports[0], "Kada Lietuvoje lankėsi Nazarbajevas?")
            [first] = tg.wait_for_messages(4242, 1, timeout=60)
            assert "2001" in plain(first["text"])
            post(ports[1], "Ką jis įteikė?")  # the follow-up lands on the other process
            second = tg.wait_for_messages(4242, 2, timeout=60)[1]
            assert "archyvinę medžiagą" in plain(second["text"])
            # a request without the secret is refused
            r = httpx.post(f"http://127.0.0.1:{ports[0]}/{path}", json=tg.message_update(1, "x"), timeout=10)
            assert r.status_code == 403
        finally:
            for p in procs:
                p.stop()
        for p in procs:
            assert TOKEN not in p.log() and "Traceback" not in p.log()

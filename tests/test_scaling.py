"""Several bot processes behind one webhook address share conversations through PostgreSQL."""
from __future__ import annotations

import re
import time
from dataclasses import replace
from html import unescape

import httpx

from bot_process import STARTUP_TIMEOUT, TOKEN, BotProcess
from pg_server import free_port
from fake_telegram import FakeTelegram


def plain(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text))


_ids = iter(range(1, 10**9))


def message_update(chat_id: int, text: str) -> dict:
    """An update as Telegram posts it to a webhook."""
    n = next(_ids)
    return {"update_id": n, "message": {
        "message_id": n, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "lt"}}}


def wait_port(port: int, proc: BotProcess, timeout: float = STARTUP_TIMEOUT) -> None:
    """Poll until the bot process listens on ``port``; fail at once if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_running(f"port {port}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s")


def test_a_conversation_moves_between_two_webhook_processes_sharing_postgres(pg_server, settings, built_index,
                                                                            tmp_path):
    db = pg_server.create_database()
    s = replace(settings, data_dir=tmp_path)
    ports = [free_port()]
    while len(ports) < 2:  # two calls can hand out the same free port
        port = free_port()
        if port not in ports:
            ports.append(port)
    with FakeTelegram(token=TOKEN) as tg:
        webhooks: list[dict] = []
        # the real Bot API wants an https address; behind a load balancer that is the balancer's,
        # here each process listens on plain http on loopback
        tg.register("setWebhook", lambda params: webhooks.append(params) or True)
        procs = [BotProcess(s, tg.api_url, extra_env={"DATABASE_URL": db},
                            args=["--webhook", f"http://127.0.0.1:{port}", "--port", str(port)],
                            log_path=tmp_path / f"bot{port}.log").start() for port in ports]
        try:
            for port, proc in zip(ports, procs):
                wait_port(port, proc)
            tg.wait_for(lambda: len(webhooks) == 2, timeout=STARTUP_TIMEOUT, description="both setWebhook calls")
            path = webhooks[0]["url"].rsplit("/", 1)[1]
            secret = webhooks[0].get("secret_token")
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}

            def post(port: int, text: str) -> None:
                update = message_update(4242, text)
                r = httpx.post(f"http://127.0.0.1:{port}/{path}", json=update, headers=headers, timeout=30)
                assert r.status_code == 200, r.text

            post(ports[0], "Kada Lietuvoje lankėsi Nazarbajevas?")
            [first] = tg.wait_for_messages(4242, 1, timeout=60)
            assert "2001" in plain(first["text"])
            post(ports[1], "Ką jis įteikė?")  # the follow-up lands on the other process
            second = tg.wait_for_messages(4242, 2, timeout=60)[1]
            assert "archyvinę medžiagą" in plain(second["text"])
            # a request without the secret is refused
            r = httpx.post(f"http://127.0.0.1:{ports[0]}/{path}", json=message_update(1, "x"), timeout=10)
            assert r.status_code == 403
        finally:
            for p in procs:
                p.stop()
        for p in procs:
            assert TOKEN not in p.log() and "Traceback" not in p.log()

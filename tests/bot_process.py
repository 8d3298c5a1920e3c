"""Start the real bot (``python run_bot.py``) as a subprocess talking to a stand-in Bot API server."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-secret-token-never-logged"
#: how long a bot process may take to start (torch, the model, the index) on a busy machine; a
#: process that dies fails the wait at once, so this only bounds a hang
STARTUP_TIMEOUT = 240


class BotProcess:
    """The bot as a user runs it, configured through the environment."""

    def __init__(self, settings, api_url: str, admin_ids: str = "", extra_env: dict | None = None,
                 log_path: Path | None = None, args: list[str] | None = None) -> None:
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api_url, "BOT_ADMIN_IDS": admin_ids,
            "BOT_CORPUS_DIR": str(settings.corpus_dir), "BOT_INDEX_DIR": str(settings.index_dir),
            "BOT_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.log_path = log_path or (Path(settings.data_dir) / f"bot-{time.monotonic_ns()}.log")
        self.args = args or []
        self.proc: subprocess.Popen | None = None

    def start(self) -> "BotProcess":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "run_bot.py", *self.args], cwd=ROOT, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def check_running(self, waiting_for: str = "") -> None:
        """Fail, with the end of the log, if the process has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the bot exited with code {self.proc.returncode}"
                                 f"{' while waiting for ' + waiting_for if waiting_for else ''}; "
                                 f"end of its log:\n{self.log()[-3000:]}")

    def wait_for(self, tg, predicate, what: str, timeout: float = STARTUP_TIMEOUT):
        """Wait on the stand-in server until ``predicate()`` holds; fail at once if the bot exits."""
        value = tg.wait_for(lambda: predicate() or (self.proc.poll() is not None), timeout=timeout,
                            description=what)
        self.check_running(what)
        return value

    def wait_polling(self, tg, calls_before: int = 0, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until this process has called getUpdates (more than ``calls_before`` calls in all)."""
        self.wait_for(tg, lambda: tg.get_updates_count > calls_before, "the bot to poll getUpdates", timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextmanager
def bot_with_stand_in(settings, data_dir: Path, **env: str):
    """The real bot, polling a fresh stand-in Bot API server; yields (server, bot process)."""
    from dataclasses import replace

    from fake_telegram import FakeTelegram

    with FakeTelegram(token=TOKEN) as tg:
        with BotProcess(replace(settings, data_dir=data_dir), tg.api_url, extra_env=env) as proc:
            proc.wait_polling(tg)
            yield tg, proc

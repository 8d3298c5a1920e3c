"""Questions already asked about a corpus, with where their answers are: the question memory's source.

They live with the corpus, in ``questions.jsonl`` beside the documents, one JSON object a line::

    {"question": "Kiek lietuvių ištremta?", "expect": "phrase the answer holds", "doc": "000_ee32...",
     "source": "qa", "group": "dev"}

``expect`` is a phrase of the answering passage (or a list of them), ``doc`` its document.
``source`` says where the question came from ("qa": a QA set; "feedback": a reader's 👍 an
administrator confirmed); ``group`` is the QA set (writer), so evaluation can leave a writer
out. ``index`` embeds them with the documents (only new ones: vectors are kept by question
text) and stores them with the build; the retriever takes them as evidence
(:class:`bot.memory.QuestionMemory`). A corpus without the file works the same, minus that
evidence.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

QUESTIONS_FILE = "questions.jsonl"
#: where a build keeps them: the items, and their vectors in the same order
BUILD_ITEMS, BUILD_VECTORS = "questions.jsonl", "questions.npy"


@dataclass(frozen=True)
class KnownQuestion:
    """One question asked before and the phrase(s) of the passage that answers it."""

    question: str
    expect: tuple[str, ...]
    doc: str
    source: str = "qa"
    group: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["expect"] = list(self.expect) if len(self.expect) != 1 else self.expect[0]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "KnownQuestion":
        expect = d.get("expect")
        phrases = (expect,) if isinstance(expect, str) else tuple(expect or ())
        if not isinstance(d.get("question"), str) or not d["question"].strip() or not phrases \
                or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise ValueError("a known question needs a question and the phrase its answer holds")
        return cls(d["question"].strip(), phrases, str(d.get("doc") or ""), str(d.get("source") or "qa"),
                   str(d.get("group") or ""))


def path_of(corpus_dir: Path) -> Path:
    return Path(corpus_dir) / QUESTIONS_FILE


def read(corpus_dir: Path) -> list[KnownQuestion]:
    """The corpus's known questions; a malformed line is reported and skipped."""
    path = path_of(corpus_dir)
    if not path.is_file():
        return []
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("%s is unreadable (%s): no question memory", path, exc)
        return []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(KnownQuestion.from_dict(json.loads(line)))
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s line %d skipped: %s", path, n, exc)
    return out


def fingerprint(corpus_dir: Path) -> str:
    """A hash of the file ("" when there is none): a change makes ``index`` rebuild."""
    path = path_of(corpus_dir)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def append(corpus_dir: Path, items: list[KnownQuestion]) -> None:
    """Add ``items`` to the corpus's file, written whole (a temporary file renamed over it)."""
    path = path_of(corpus_dir)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    text = old + "".join(json.dumps(q.as_dict(), ensure_ascii=False) + "\n" for q in items)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".questions-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def embed(items: list[KnownQuestion], embedder, previous: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The questions' vectors (as queries), reusing ``previous`` ones by question text."""
    previous = previous or {}
    vectors = np.zeros((len(items), int(embedder.dim)), dtype=np.float32)
    todo = [i for i, q in enumerate(items) if q.question not in previous]
    for i, q in enumerate(items):
        if q.question in previous:
            vectors[i] = previous[q.question]
    for start in range(0, len(todo), 64):
        rows = todo[start:start + 64]
        vectors[rows] = embedder.encode_query([items[i].question for i in rows])
    return vectors


def save(build: Path, items: list[KnownQuestion], vectors: np.ndarray) -> None:
    with open(build / BUILD_ITEMS, "w", encoding="utf-8") as f:
        for q in items:
            f.write(json.dumps(q.as_dict(), ensure_ascii=False) + "\n")
    np.save(build / BUILD_VECTORS, vectors.astype(np.float16))


def load(build: Path) -> tuple[list[KnownQuestion], np.ndarray]:
    """A build's known questions and their vectors (none when it has none)."""
    try:
        items = [KnownQuestion.from_dict(json.loads(line))
                 for line in (build / BUILD_ITEMS).read_text(encoding="utf-8").splitlines() if line.strip()]
        vectors = np.load(build / BUILD_VECTORS).astype(np.float32)
    except (OSError, ValueError):
        return [], np.zeros((0, 0), dtype=np.float32)
    if len(items) != len(vectors):
        log.warning("%s: the known questions and their vectors differ in number; not used", build)
        return [], np.zeros((0, 0), dtype=np.float32)
    return items, vectors


def previous_vectors(build: Path | None) -> dict[str, np.ndarray]:
    """Question text → vector from an earlier build (so only new questions are embedded)."""
    if build is None:
        return {}
    items, vectors = load(build)
    return {q.question: v for q, v in zip(items, vectors)}

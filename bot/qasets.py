"""The evaluation corpora and their QA sets, as laid out in ``eval/corpora/``.

Each corpus is a folder, the way BEIR lays out a dataset::

    eval/corpora/<name>/
        corpus/                 its documents (.txt/.md/... with .meta.toml sidecars)
        questions/<set>.qa.jsonl         questions: {"id", "slice", "question", "expect", "doc"}
        questions/<set>.dialogues.jsonl  dialogues: {"id", "slice", "turns", "expect", "doc"}
        sets.toml               optional: which sets are for training, which is the final test

Adding a corpus is adding a folder. Without ``sets.toml`` every set of a corpus is a
development set except one named ``final`` (written to be measured once). ``eval/README.md``
says which set served as a final test for which design.
"""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .config import ROOT

CORPORA_DIR = ROOT / "eval" / "corpora"
#: the corpus the bot is deployed with (``corpus/``): its sets keep their historical names
SEED = "seed"


def load_items(path: Path, group: str | None = None) -> list[dict]:
    """The items of a QA or dialogue file (none when it does not exist); ``group`` (the set's
    name) is added to each, so fitting can tell which writer asked what."""
    if not path.exists():
        return []
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if group is not None:
        for item in items:
            item["group"] = group
    return items


@dataclass(frozen=True)
class QASet:
    """One writer's questions and dialogues about one corpus."""

    corpus: str
    name: str
    folder: Path

    @property
    def qa_path(self) -> Path:
        return self.folder / f"{self.name}.qa.jsonl"

    @property
    def dialogues_path(self) -> Path:
        return self.folder / f"{self.name}.dialogues.jsonl"

    def load(self, group: str | None = None) -> tuple[list[dict], list[dict]]:
        """(questions, dialogues), each item tagged with ``group`` when given."""
        return load_items(self.qa_path, group), load_items(self.dialogues_path, group)


@dataclass(frozen=True)
class EvalCorpus:
    """A corpus of ``eval/corpora/``: its documents and its QA sets by role."""

    name: str
    folder: Path
    description: str = ""
    training: tuple[str, ...] = ()
    final: str | None = None
    other: tuple[str, ...] = field(default=())

    @property
    def corpus_dir(self) -> Path:
        return self.folder / "corpus"

    def set(self, name: str) -> QASet:
        return QASet(self.name, name, self.folder / "questions")

    @property
    def sets(self) -> list[QASet]:
        """Every set, training ones first."""
        names = [*self.training, *([self.final] if self.final else []), *self.other]
        return [self.set(n) for n in names]


def _set_names(folder: Path) -> list[str]:
    return sorted({p.name.split(".")[0] for p in (folder / "questions").glob("*.qa.jsonl")})


def spec(folder: Path) -> dict:
    """The corpus's ``sets.toml`` ({} when it has none)."""
    path = folder / "sets.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def load_corpus(folder: Path) -> EvalCorpus:
    """One corpus folder, with the roles of its sets from ``sets.toml`` (or the defaults)."""
    names = _set_names(folder)
    spec_ = spec(folder)
    final = spec_.get("final", "final" if "final" in names else None)
    training = tuple(spec_.get("training", [n for n in names if n != final]))
    other = tuple(n for n in names if n not in training and n != final)
    return EvalCorpus(folder.name, folder, spec_.get("description", ""), training, final, other)


def corpora(root: Path = CORPORA_DIR) -> list[EvalCorpus]:
    """Every corpus folder under ``eval/corpora/``, the seed corpus first."""
    folders = sorted((p for p in root.iterdir() if (p / "questions").is_dir()),
                     key=lambda p: (p.name != SEED, p.name)) if root.exists() else []
    return [load_corpus(p) for p in folders]


def corpus(name: str, root: Path = CORPORA_DIR) -> EvalCorpus:
    folder = root / name
    if not (folder / "questions").is_dir():
        raise KeyError(f"no QA corpus {name!r} in {root}")
    return load_corpus(folder)


def seed_set(name: str) -> QASet:
    """A QA set of the seed corpus by its name ("dev", "twentysecond", ...)."""
    return corpus(SEED).set(name)

"""Split cleaned documents into passages: sentence-aware, within one section, sized for the model.

multilingual-e5 truncates at 512 tokens; Lithuanian needs about one token per 3 characters,
so passages are kept under ``max_chars`` (900 by default, about 300 tokens) with room for the
title and section that are prepended for embedding. Short paragraphs of one section are
merged up to ``target_chars``; a long paragraph is cut at sentence boundaries with
``overlap`` sentences repeated, so a fact on the cut is whole in at least one passage.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .corpus import Document

# Words after which a period does not end a sentence (Lithuanian and English abbreviations).
_ABBREVIATIONS = {
    "m", "d", "mln", "mlrd", "tūkst", "proc", "pvz", "kt", "t", "y", "tt", "g", "gim", "mirė",
    "nr", "str", "p", "pr", "kr", "val", "min", "sek", "vnt", "km", "doc", "prof", "dr", "habil",
    "mr", "mrs", "ms", "st", "vs", "etc", "e.g", "i.e", "no", "jr", "sr", "inc", "ltd", "co",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”“»)]*\s+(?=[\"„“«(]?[A-ZĄČĘĖĮŠŲŪŽ0-9•])|\n+")


@dataclass(frozen=True)
class ChunkSettings:
    """How passages are cut; part of the index manifest (a change forces a full rebuild)."""

    target_chars: int = 600
    max_chars: int = 900
    overlap: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Passage:
    """A retrievable piece of a document.

    ``start``/``end`` are offsets into the document's cleaned text (paragraphs joined by a
    blank line); ``sentences`` are (start, end) offsets into ``text``.
    """

    doc_id: str
    section: str
    language: str
    start: int
    end: int
    text: str
    sentences: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["sentences"] = [list(s) for s in self.sentences]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Passage":
        return cls(**{**d, "sentences": [tuple(s) for s in d.get("sentences", [])]})


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``: cut after . ! ? … before a capital or digit, and at newlines.

    A period after a known abbreviation, an initial ("S. D. Asfendijarovo") or a year marker
    ("1991 m. gruodžio") does not end a sentence.
    """
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        cut = m.start()
        if "\n" not in text[cut:m.end()] and text[cut - 1:cut] == ".":
            word = re.search(r"([\w.]+)\.$", text[start:cut])
            if word:
                w = word.group(1).lower()
                # "gruodžio 23 d. Diplomatiniai ..." ends a sentence; "S. D. Asfendijarovo" does not
                date_end = w == "d" and re.search(r"\d\s+d\.$", text[start:cut])
                if not date_end and (w in _ABBREVIATIONS or (len(w) == 1 and w.isalpha())):
                    continue
        piece = text[start:cut]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        start = m.end()
    piece = text[start:]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + len(piece.rstrip())))
    return spans


def _split_long(start: int, end: int, text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than ``max_chars`` at commas or semicolons (enumerations)."""
    pieces = []
    while end - start > max_chars:
        window = text[start:start + max_chars]
        cut = max(window.rfind("; "), window.rfind(", "), window.rfind(" "))
        if cut <= 0:
            cut = max_chars - 1
        piece_end = start + cut + 1
        while piece_end > start and text[piece_end - 1] == " ":
            piece_end -= 1
        pieces.append((start, piece_end))
        start = start + cut + 1
        while start < end and text[start] == " ":
            start += 1
    pieces.append((start, end))
    return pieces


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    """Cut one document into passages; see the module docstring for the rules."""
    full = ""
    # (section, paragraph index, sentence start, sentence end) in `full` coordinates
    units: list[tuple[str, int, int, int]] = []
    for i, para in enumerate(doc.paragraphs):
        if full:
            full += "\n\n"
        offset = len(full)
        full += para.text
        for s, e in split_sentences(para.text):
            for ps, pe in _split_long(offset + s, offset + e, full, settings.max_chars):
                units.append((para.section, i, ps, pe))

    passages: list[Passage] = []
    group: list[tuple[str, int, int, int]] = []

    def emit() -> None:
        start, end = group[0][2], group[-1][3]
        passages.append(Passage(
            doc_id=doc.doc_id, section=group[0][0], language=doc.language, start=start, end=end,
            text=full[start:end],
            sentences=[(u[2] - start, u[3] - start) for u in group],
        ))

    for unit in units:
        if group:
            size = unit[3] - group[0][2]
            same_section = unit[0] == group[-1][0]
            new_paragraph = unit[1] != group[-1][1]
            current = group[-1][3] - group[0][2]
            if not same_section or size > settings.max_chars or (new_paragraph and current >= settings.target_chars):
                emit()
                # overlap only inside a paragraph that is being cut
                keep = settings.overlap if (same_section and not new_paragraph) else 0
                group = group[-keep:] if keep else []
                while group and unit[3] - group[0][2] > settings.max_chars:
                    group.pop(0)
        group.append(unit)
    if group:
        emit()
    return passages


def clean_text(doc: Document) -> str:
    """The document's cleaned text, the coordinates passage spans refer to."""
    return "\n\n".join(p.text for p in doc.paragraphs)

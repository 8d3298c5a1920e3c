"""Read the documents in ``corpus/`` and clean them into sections and paragraphs.

Each document is a ``.txt`` or ``.md`` file with an optional sidecar ``<name>.meta.toml``
(title, publisher, date, language, url) that an operator can edit. Scraped leftovers
(Wikipedia edit links, reference markers, image file names, boilerplate lines, empty
sections, reference lists) are removed here, in code, so a document dropped in later gets
the same treatment. Headings become the section a paragraph belongs to.

A file that is empty, binary, unreadable or not UTF-8 is skipped with a warning naming it;
the rest of the corpus is still read.
"""
from __future__ import annotations

import hashlib
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".txt", ".md")
#: files bigger than this are skipped: the corpus holds articles, not dumps
MAX_DOCUMENT_BYTES = 5_000_000

_WIKI_EDIT = re.compile(r"\s*\[\s*(?:redaguoti|edit)(?:\s*\|[^\]]*)?\]\s*$", re.I)
_WIKI_EDIT_ANY = re.compile(r"\[\s*(?:redaguoti|edit)(?:\s*\|[^\]]*)?\]", re.I)
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_REF_MARK = re.compile(
    r"\[(?:\d+|[a-z]|neveikianti nuoroda|reikalingas šaltinis|citation needed|dead link)\]", re.I
)
_IMAGE_LINE = re.compile(r"^\S.{0,150}\.(?:svg|png|jpe?g|gif|webp|tiff?)$", re.I)
_BOILERPLATE = [
    re.compile(p, re.I)
    for p in (
        r"^Straipsnis iš Vikipedijos, laisvosios enciklopedijos\.?$",
        r"^From Wikipedia, the free encyclopedia\.?$",
        r"^Tell a friend$",
        r"^Share( this)?( article)?$",
        r"^Images \| .*$",
        r"^Photo: .*$",
        r"^Source: \S+$",
        r"^date \d{4}-\d{2}-\d{2}\b.*$",  # scraper header line
        r"^\d{1,2} [A-Z][a-z]+ \d{4},? \d{1,2}:\d{2}$",  # "15 June 2022, 20:35"
    )
]
_DATELINE = re.compile(r"^[A-ZĄČĘĖĮŠŲŪŽ][A-ZĄČĘĖĮŠŲŪŽ\-]+\.\s+KAZINFORM\b\s*[-–—]?\s*")
#: sections that list references or links, not content
_REFERENCE_SECTIONS = {
    "šaltiniai", "nuorodos", "išnašos", "literatūra", "taip pat skaitykite",
    "references", "sources", "external links", "see also", "notes", "further reading",
}
_YEARS_ROW = re.compile(r"^(Metai|Year|Years)((?:\s+\d{4})+)$", re.I)
_VALUES_ROW = re.compile(r"^(.*?\D)((?:\s+[\d.,]+)+)$")


@dataclass(frozen=True)
class Paragraph:
    """A cleaned paragraph and the section (heading path) it sits under."""

    section: str
    text: str


@dataclass
class Document:
    """One corpus file with its metadata and cleaned paragraphs."""

    doc_id: str
    path: Path
    title: str
    publisher: str = ""
    date: str = ""
    language: str = ""
    url: str = ""
    content_hash: str = ""
    paragraphs: list[Paragraph] = field(default_factory=list)

    @property
    def meta(self) -> dict:
        return {
            "doc_id": self.doc_id, "title": self.title, "publisher": self.publisher,
            "date": self.date, "language": self.language, "url": self.url,
            "file": self.path.name,
        }


def normalize(text: str) -> str:
    """Unicode NFC, no-break spaces and odd whitespace to plain spaces, Unix newlines, no NULs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\u00a0\u2007\u202f\t\f\v]", " ", text)
    return re.sub(r"[\x00-\x08\x0e-\x1f\x7f]", "", text)


def _flatten_table(lines: list[str]) -> list[str]:
    """Turn a flattened "Metai 2016 2020 / label 347 488" table into readable sentences."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _YEARS_ROW.match(lines[i].strip())
        if m and i + 1 < len(lines):
            years = m.group(2).split()
            v = _VALUES_ROW.match(lines[i + 1].strip())
            if v and len(v.group(2).split()) == len(years):
                label = v.group(1).strip()
                pairs = "; ".join(f"{y} m. – {n}" if m.group(1).lower() == "metai" else f"{y}: {n}"
                                  for y, n in zip(years, v.group(2).split()))
                out.append(f"{label}: {pairs}.")
                i += 2
                continue
        out.append(lines[i])
        i += 1
    return out


def clean(raw: str, title: str = "", author: str = "") -> list[Paragraph]:
    """Clean scraped text into paragraphs, each labelled with its section.

    Parameters
    ----------
    raw:
        The file's text as read.
    title, author:
        Lines equal to these are the document's own header and are dropped (they are in
        the metadata, shown in citations).
    """
    text = normalize(raw)
    drop_lines = {s.strip().lower() for s in (title, author) if s and s.strip()}
    section = ""
    skipping_refs = False
    after_image = False
    kept_section = ""
    paragraphs: list[Paragraph] = []
    for block in re.split(r"\n\s*\n", text):
        kept: list[str] = []
        for line in block.split("\n"):
            line = line.strip()
            if not line:
                continue
            heading = None
            if _WIKI_EDIT.search(line):
                heading = _WIKI_EDIT.sub("", line).strip()
            elif m := _MD_HEADING.match(line):
                heading = m.group(1)
            if heading is not None:
                heading = _REF_MARK.sub("", heading).strip()
                skipping_refs = heading.lower() in _REFERENCE_SECTIONS
                section = heading
                if kept:
                    paragraphs.append(Paragraph(kept_section, "\n".join(_flatten_table(kept))))
                    kept = []
                after_image = False
                continue
            if skipping_refs:
                continue
            if _IMAGE_LINE.match(line):
                after_image = True
                continue
            if line.lower() in drop_lines or any(p.match(line) for p in _BOILERPLATE):
                continue
            if after_image and not re.search(r"[.!?:;]$", line) and len(line) < 120:
                after_image = False  # an image caption
                continue
            after_image = False
            line = _DATELINE.sub("", line)
            line = _WIKI_EDIT_ANY.sub("", _REF_MARK.sub("", line))
            line = re.sub(r"[ ]{2,}", " ", line)
            line = re.sub(r" +([.,;:!?])", r"\1", line).strip()
            if line:
                if not kept:
                    kept_section = section
                kept.append(line)
        if kept:
            paragraphs.append(Paragraph(kept_section, "\n".join(_flatten_table(kept))))
    return paragraphs


def _read_meta(path: Path) -> dict:
    """The sidecar's metadata; a sidecar that is a link out of the document's folder is ignored."""
    meta_path = path.with_name(path.stem + ".meta.toml")
    if not meta_path.exists():
        return {}
    if not meta_path.resolve().is_relative_to(path.parent.resolve()):
        log.warning("corpus: ignoring metadata %s: it points outside the corpus folder", meta_path.name)
        return {}
    try:
        return tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("corpus: ignoring unreadable metadata %s (%s)", meta_path.name, exc)
        return {}


def _guess_language(text: str) -> str:
    from .language import detect

    return detect(text[:2000]) or "en"


def read_document(path: Path, root: Path | None = None) -> Document | None:
    """Read and clean one document; return None (with a warning) when it cannot be used."""
    name = path.name
    if root is not None:
        try:
            path.resolve().relative_to(root.resolve())
        except ValueError:
            log.warning("corpus: skipping %s: it points outside the corpus folder", name)
            return None
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            log.warning("corpus: skipping %s: %d bytes is over the %d-byte limit", name, size, MAX_DOCUMENT_BYTES)
            return None
        data = path.read_bytes()
    except OSError as exc:
        log.warning("corpus: skipping %s: unreadable (%s)", name, exc.strerror or exc)
        return None
    if not data.strip():
        log.warning("corpus: skipping %s: the file is empty", name)
        return None
    if b"\x00" in data[:8192]:
        log.warning("corpus: skipping %s: it looks binary, not text", name)
        return None
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.warning("corpus: skipping %s: not UTF-8 text (byte %d)", name, exc.start)
        return None
    meta = _read_meta(path)
    title = str(meta.get("title") or "")
    paragraphs = clean(raw, title=title, author=str(meta.get("author") or ""))
    if not paragraphs:
        log.warning("corpus: skipping %s: no text left after cleaning", name)
        return None
    if not title:
        title = paragraphs[0].text.split("\n")[0][:120]
    language = str(meta.get("language") or "") or _guess_language(" ".join(p.text for p in paragraphs))
    return Document(
        doc_id=path.stem,
        path=path,
        title=title,
        publisher=str(meta.get("publisher") or ""),
        date=str(meta.get("date") or ""),
        language=language,
        url=str(meta.get("url") or ""),
        content_hash=_hash(data, meta),
        paragraphs=paragraphs,
    )


def document_files(corpus_dir: Path) -> list[Path]:
    """The document files in the corpus folder (not metadata, not hidden files), sorted."""
    if not corpus_dir.is_dir():
        return []
    return sorted(
        p for p in corpus_dir.iterdir()
        if p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def _hash(data: bytes, meta: dict) -> str:
    return hashlib.sha256(data + repr(sorted(meta.items())).encode()).hexdigest()


def fingerprint(path: Path) -> str:
    """Content hash of a document file and its metadata, without cleaning it (cheap)."""
    try:
        return _hash(path.read_bytes(), _read_meta(path))
    except OSError:
        return ""


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Read every usable document in ``corpus_dir``; unusable ones are skipped with a warning."""
    docs = []
    for path in document_files(corpus_dir):
        doc = read_document(path, root=corpus_dir)
        if doc is not None:
            docs.append(doc)
    return docs

"""Read the documents in ``corpus/`` and clean them into sections and paragraphs.

Each document is a ``.txt``, ``.md``, ``.html``/``.htm``, ``.pdf`` or ``.docx`` file anywhere
under the corpus folder (subfolders included), with an optional sidecar ``<name>.meta.toml``
(title, publisher, author, date, language, url) that an operator can edit. Where there is no
sidecar, or it leaves a field out, the file's own metadata fills in: a web page's ``<title>``,
``lang`` and ``<meta>`` tags, a PDF's document information, a Word file's core properties.

Each format has its reader in :mod:`bot.formats`, which finds headings and text (and, in a
PDF, pages) and the file's own metadata. This module finds the files, reads their sidecars and
cleans the text of every format the same way: scraped leftovers (Wikipedia edit links,
reference markers, image file names, boilerplate lines, empty sections, reference lists) are
removed here, in code, so a document dropped in later gets the same treatment. Headings
become the section a paragraph belongs to; in a PDF the section also names the page ("Trade,
p. 12"), so a citation says where to look.

A file that is empty, binary, damaged, encrypted, unreadable or not UTF-8 is skipped with a
warning naming it; the rest of the corpus is still read.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

# DOCUMENT_SUFFIXES stays importable from here: the index, the store and the tests use it
from .formats import DOCUMENT_SUFFIXES, PACKED_SUFFIXES, PLAIN_SUFFIXES, RawDocument, Unreadable, reader_for

log = logging.getLogger(__name__)

#: files bigger than this are skipped: the corpus holds articles, not dumps
MAX_DOCUMENT_BYTES = 5_000_000
#: PDF and Word files carry their images and fonts: most of their bytes are not text
MAX_PACKED_DOCUMENT_BYTES = 50_000_000

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
#: a news agency's dateline opening a story: "VILNIUS. BNS – ", a place and an agency in capitals
_DATELINE = re.compile(r"^[A-ZĄČĘĖĮŠŲŪŽ][A-ZĄČĘĖĮŠŲŪŽ\-]+\.\s+[A-ZĄČĘĖĮŠŲŪŽ]{2,}\b\s*[-–—]?\s*")
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
    author: str = ""

    @property
    def meta(self) -> dict:
        return {
            "doc_id": self.doc_id, "title": self.title, "publisher": self.publisher,
            "date": self.date, "language": self.language, "url": self.url,
            "file": self.path.name, "author": self.author,
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


class _Cleaner:
    """Turns a document's text into labelled paragraphs, piece by piece.

    The state a document carries from one piece to the next (its current section, whether that
    section is a reference list, whether an image line was just dropped) lives here, so text
    from every format gets the same cleaning: plain text is one piece, a web page or a PDF many.
    """

    def __init__(self, title: str = "", author: str = "") -> None:
        #: lines equal to these are the document's own header: they are in the metadata
        self.drop_lines = {s.strip().lower() for s in (title, author) if s and s.strip()}
        self.section = ""
        self.skipping_refs = False
        self.after_image = False

    def heading(self, heading: str) -> None:
        """Start a section; a reference list's section is dropped with everything in it."""
        heading = _REF_MARK.sub("", _WIKI_EDIT_ANY.sub("", heading)).strip()
        self.skipping_refs = heading.lower() in _REFERENCE_SECTIONS
        self.section = heading
        self.after_image = False

    def text(self, raw: str, markup: bool = True) -> list[Paragraph]:
        """The paragraphs of ``raw`` (blank lines between them). With ``markup``, a Markdown
        heading line or a Wikipedia "Heading[edit]" line starts a section; text from a format
        that marks its headings itself is read without that guess."""
        kept_section = ""
        paragraphs: list[Paragraph] = []
        for block in re.split(r"\n\s*\n", normalize(raw)):
            kept: list[str] = []
            for line in block.split("\n"):
                line = line.strip()
                if not line:
                    continue
                heading = None
                if markup and _WIKI_EDIT.search(line):
                    heading = _WIKI_EDIT.sub("", line)
                elif markup and (m := _MD_HEADING.match(line)):
                    heading = m.group(1)
                if heading is not None:
                    if kept:
                        paragraphs.append(Paragraph(kept_section, "\n".join(_flatten_table(kept))))
                        kept = []
                    self.heading(heading)
                    continue
                line = self._line(line)
                if line:
                    if not kept:
                        kept_section = self.section
                    kept.append(line)
            if kept:
                paragraphs.append(Paragraph(kept_section, "\n".join(_flatten_table(kept))))
        return paragraphs

    def _line(self, line: str) -> str:
        """The cleaned line, or "" when it is a leftover (reference entry, image, boilerplate)."""
        if self.skipping_refs:
            return ""
        if _IMAGE_LINE.match(line):
            self.after_image = True
            return ""
        if line.lower() in self.drop_lines or any(p.match(line) for p in _BOILERPLATE):
            return ""
        if self.after_image and not re.search(r"[.!?:;]$", line) and len(line) < 120:
            self.after_image = False  # an image caption
            return ""
        self.after_image = False
        line = _DATELINE.sub("", line)
        line = _WIKI_EDIT_ANY.sub("", _REF_MARK.sub("", line))
        line = re.sub(r"[ ]{2,}", " ", line)
        return re.sub(r" +([.,;:!?])", r"\1", line).strip()


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
    return _Cleaner(title, author).text(raw)


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


# ---------------------------------------------------------------- documents


def _paragraphs(found: RawDocument, title: str, author: str) -> list[Paragraph]:
    """Every piece cleaned by one cleaner, a PDF paragraph's section naming its page."""
    cleaner = _Cleaner(title, author)
    paragraphs: list[Paragraph] = []
    for piece in found.pieces:
        if piece.heading:
            cleaner.heading(normalize(piece.text))
            continue
        for para in cleaner.text(piece.text, markup=found.markup):
            if piece.page:
                page = f"p. {piece.page}"
                para = replace(para, section=f"{para.section}, {page}" if para.section else page)
            paragraphs.append(para)
    return paragraphs


def _language_code(value: str) -> str:
    """"lt-LT", "en_US", "LT" -> "lt"."""
    return re.split(r"[-_]", str(value or "").strip().lower())[0]


def _guess_language(text: str, declared: str = "") -> str:
    """The language of the text. A language the file declares is used only when there are too
    few words to tell: page templates and Word's settings often declare a language the text is
    not in (an untranslated page of a translated manual)."""
    from .language import detect

    if declared and len(text.split()) < 30:
        return declared
    return detect(text[:2000]) or declared or "en"


def document_id(path: Path, root: Path | None = None) -> str:
    """A document's id: its path in the corpus folder, without the suffix for plain text (the
    ids those had before other formats were read), with it for the others, so that report.pdf
    and report.docx are two documents."""
    rel = path.relative_to(root) if root is not None else Path(path.name)
    return (rel.with_suffix("") if path.suffix.lower() in PLAIN_SUFFIXES else rel).as_posix()


def read_document(path: Path, root: Path | None = None) -> Document | None:
    """Read and clean one document; return None (with a warning) when it cannot be used."""
    name = path.relative_to(root).as_posix() if root is not None else path.name
    if root is not None:
        try:
            path.resolve().relative_to(root.resolve())
        except ValueError:
            log.warning("corpus: skipping %s: it points outside the corpus folder", name)
            return None
    suffix = path.suffix.lower()
    limit = MAX_PACKED_DOCUMENT_BYTES if suffix in PACKED_SUFFIXES else MAX_DOCUMENT_BYTES
    try:
        size = path.stat().st_size
        if size > limit:
            log.warning("corpus: skipping %s: %d bytes is over the %d-byte limit", name, size, limit)
            return None
        data = path.read_bytes()
    except OSError as exc:
        log.warning("corpus: skipping %s: unreadable (%s)", name, exc.strerror or exc)
        return None
    if not data.strip():
        log.warning("corpus: skipping %s: the file is empty", name)
        return None
    try:
        found = reader_for(suffix)(data)
    except Unreadable as exc:
        log.warning("corpus: skipping %s: %s", name, exc)
        return None
    except Exception as exc:  # parsers raise many kinds of error on a damaged file; one bad file must not stop a build
        log.warning("corpus: skipping %s: damaged or unreadable (%s: %s)", name, type(exc).__name__,
                    " ".join(str(exc).split())[:200])
        return None
    sidecar = _read_meta(path)
    meta = {**{k: v for k, v in found.meta.items() if v}, **sidecar}  # a sidecar wins
    title = str(meta.get("title") or "")
    author = str(meta.get("author") or "")
    paragraphs = _paragraphs(found, title, author)
    if not paragraphs:
        log.warning("corpus: skipping %s: no text left after cleaning", name)
        return None
    if not title:
        title = paragraphs[0].text.split("\n")[0][:120]
    language = str(sidecar.get("language") or "") or _guess_language(
        " ".join(p.text for p in paragraphs), _language_code(found.meta.get("language", "")))
    return Document(
        doc_id=document_id(path, root),
        path=path,
        title=title,
        publisher=str(meta.get("publisher") or ""),
        date=str(meta.get("date") or ""),
        language=language,
        url=str(meta.get("url") or ""),
        content_hash=_hash(data, sidecar),
        paragraphs=paragraphs,
        author=author,
    )


def document_paths(corpus_dir: Path) -> dict[str, Path]:
    """The document files under the corpus folder by document id, sorted (not metadata, not
    hidden files or folders; links to folders are not followed)."""
    if not corpus_dir.is_dir():
        return {}
    found = []
    for folder, dirs, files in os.walk(corpus_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(folder, f) for f in files
                     if Path(f).suffix.lower() in DOCUMENT_SUFFIXES and not f.startswith("."))
    paths: dict[str, Path] = {}
    for path in sorted(found, key=lambda p: p.relative_to(corpus_dir).parts):
        if not path.is_file():
            continue
        doc_id = document_id(path, corpus_dir)
        if doc_id in paths:
            log.warning("corpus: skipping %s: %s has the same id (%s); rename one",
                        path.relative_to(corpus_dir), paths[doc_id].relative_to(corpus_dir), doc_id)
            continue
        paths[doc_id] = path
    return paths


def document_files(corpus_dir: Path) -> list[Path]:
    """The document files under the corpus folder, sorted (see :func:`document_paths`)."""
    return list(document_paths(corpus_dir).values())


def _hash(data: bytes, meta: dict) -> str:
    return hashlib.sha256(data + repr(sorted(meta.items())).encode()).hexdigest()


def fingerprint(path: Path) -> str:
    """Content hash of a document file and its metadata, without cleaning it (cheap)."""
    try:
        return _hash(path.read_bytes(), _read_meta(path))
    except OSError:
        return ""


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Read every usable document under ``corpus_dir``; unusable ones are skipped with a warning."""
    docs = []
    for path in document_paths(corpus_dir).values():
        doc = read_document(path, root=corpus_dir)
        if doc is not None:
            docs.append(doc)
    return docs

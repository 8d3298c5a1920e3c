"""Read the documents in ``corpus/`` and clean them into sections and paragraphs.

Each document is a ``.txt``, ``.md``, ``.html``/``.htm``, ``.pdf`` or ``.docx`` file anywhere
under the corpus folder (subfolders included), with an optional sidecar ``<name>.meta.toml``
(title, publisher, author, date, language, url) that an operator can edit. Where there is no
sidecar, or it leaves a field out, the file's own metadata fills in: a web page's ``<title>``,
``lang`` and ``<meta>`` tags, a PDF's document information, a Word file's core properties.

Each format has its reader, which finds headings and text (and, in a PDF, pages); then the
same cleaning applies to all: scraped leftovers (Wikipedia edit links, reference markers,
image file names, boilerplate lines, empty sections, reference lists) are removed here, in
code, so a document dropped in later gets the same treatment. Headings become the section a
paragraph belongs to; in a PDF the section also names the page ("Trade, p. 12"), so a
citation says where to look.

A file that is empty, binary, damaged, encrypted, unreadable or not UTF-8 is skipped with a
warning naming it; the rest of the corpus is still read.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

#: plain text: the headings are written in the text (Markdown, Wikipedia's "[edit]")
PLAIN_SUFFIXES = (".txt", ".md")
DOCUMENT_SUFFIXES = PLAIN_SUFFIXES + (".html", ".htm", ".pdf", ".docx")
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


# ---------------------------------------------------------------- formats


class Unreadable(Exception):
    """A file its reader cannot use (damaged, encrypted, binary), the reason in a few words."""


@dataclass(frozen=True)
class _Piece:
    """A stretch of a document as its reader found it: a heading, or text (paragraphs separated
    by blank lines), and the page it is on in a paginated format."""

    text: str
    heading: bool = False
    page: str = ""


@dataclass
class _Found:
    """What a reader found in a file: its pieces in order and the file's own metadata."""

    pieces: list[_Piece]
    meta: dict = field(default_factory=dict)
    #: the headings are written in the text (Markdown, Wikipedia) rather than marked by the format
    markup: bool = False


def _squash(text: str) -> str:
    return " ".join(text.split())


def _iso_date(value) -> str:
    """A date as YYYY-MM-DD (a datetime, or a string that starts with one), else the string."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = _squash(str(value or ""))
    m = re.match(r"\d{4}-\d{2}-\d{2}", text)
    return m.group(0) if m else text[:40]


def _table_row(cells: list[str]) -> str:
    """One table row as a line. A row of a label and figures keeps plain spaces, so a years
    table reads as the sentences that scraped text tables become (:func:`_flatten_table`)."""
    cells = [c for c in (_squash(c) for c in cells) if c]
    if len(cells) > 1 and all(re.fullmatch(r"[\d.,]+", c) for c in cells[1:]):
        return " ".join(cells)
    return " | ".join(cells)


def _read_plain(data: bytes) -> _Found:
    if b"\x00" in data[:8192]:
        raise Unreadable("it looks binary, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (byte {exc.start})") from None
    return _Found([_Piece(raw)], markup=True)


# Web pages: lxml's HTML parser (libxml2), which reads any real-world page.

#: elements that hold no document text: code, forms, and the page's navigation and frame
_HTML_DROPPED_TAGS = {
    "head", "script", "style", "noscript", "template", "iframe", "object", "svg", "canvas",
    "form", "button", "select", "nav", "header", "footer", "aside", "menu",
}
_HTML_DROPPED_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
#: class or id words of navigation in generated sites (DocBook's navheader, breadcrumbs, menus)
_HTML_DROPPED_NAMES = re.compile(
    r"nav|navbar|navigation|navheader|navfooter|breadcrumbs?|sidebar|menu|skip-?links?|toc|"
    r"site-?header|site-?footer|page-?header|page-?footer|footer|header|cookie-?(?:banner|notice)", re.I)
#: elements that start a paragraph, and elements that start a line
_HTML_BLOCKS = {
    "p", "div", "section", "article", "main", "ul", "ol", "dl", "table", "pre", "blockquote",
    "figure", "address", "details", "center", "body", "fieldset",
}
_HTML_LINES = {"li", "dt", "dd", "br", "caption", "figcaption", "summary", "hr", "thead", "tbody"}
_HTML_HEADING = re.compile(r"h[1-6]")


def _html_dropped(el, tag: str) -> bool:
    if tag in ("header", "footer") and any(a.tag in ("article", "main") for a in el.iterancestors()):
        return False  # an article's own header holds its title and date
    if tag in _HTML_DROPPED_TAGS or (el.get("role") or "").lower() in _HTML_DROPPED_ROLES:
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}".split()
    return el.get("hidden") is not None or any(_HTML_DROPPED_NAMES.fullmatch(n) for n in names)


class _HtmlText:
    """Walks a page's body, collecting headings and the text between them as pieces."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        text = "".join(self.buf)
        if text.strip():
            self.pieces.append(_Piece(text))
        self.buf.clear()

    def add(self, text: str | None, pre: bool) -> None:
        if text and (pre or text.strip()):
            self.buf.append(text if pre else re.sub(r"\s+", " ", text))
        elif text and self.buf and self.buf[-1] not in ("\n", "\n\n"):
            self.buf.append(" ")  # the space between two inline elements

    def brk(self, brk: str) -> None:
        """Start a line ("\n") or a paragraph ("\n\n"); two breaks in a row are the larger one."""
        if self.buf and self.buf[-1] in ("\n", "\n\n"):
            self.buf[-1] = max(self.buf[-1], brk)
        else:
            self.buf.append(brk)

    def walk(self, el, pre: bool = False) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag and not _html_dropped(el, tag):
            if _HTML_HEADING.fullmatch(tag):
                self.flush()
                self.pieces.append(_Piece(_squash(el.text_content()), heading=True))
            elif tag == "tr":
                cells = [c.text_content() for c in el if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
                self.brk("\n")
                self.buf.append(_table_row(cells))
                self.brk("\n")
            else:
                brk = "\n\n" if tag in _HTML_BLOCKS else "\n" if tag in _HTML_LINES else ""
                pre = pre or tag == "pre"
                if brk:
                    self.brk(brk)
                self.add(el.text, pre)
                for child in el:
                    self.walk(child, pre)
                if brk:
                    self.brk(brk)
        self.add(el.tail, pre)


def _html_meta(root) -> dict:
    """Title, language, author, date, publisher and address a page states about itself."""
    meta = {"title": _squash(root.findtext(".//title") or ""),
            "language": root.get("lang") or root.get("xml:lang") or ""}
    names = {
        "author": ("author", "dc.creator", "dcterms.creator"),
        "date": ("dcterms.date", "dcterms.created", "dc.date", "date", "article:published_time",
                 "citation_publication_date"),
        "publisher": ("og:site_name", "dcterms.publisher", "dc.publisher", "publisher"),
        "url": ("og:url",),
    }
    tags = {(m.get("name") or m.get("property") or "").lower(): m.get("content") or ""
            for m in root.iter("meta")}
    for key, candidates in names.items():
        meta[key] = next((tags[n] for n in candidates if tags.get(n)), "")
    meta["date"] = _iso_date(meta["date"])
    canonical = root.find(".//link[@rel='canonical']")
    if canonical is not None and canonical.get("href"):
        meta["url"] = canonical.get("href")
    return meta


def _read_html(data: bytes) -> _Found:
    import lxml.html

    if b"\x00" in data[:8192]:
        raise Unreadable("it looks binary, not a web page")
    try:
        data.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = None  # the page's own <meta charset> says
    parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)
    root = lxml.html.document_fromstring(data, parser=parser)
    text = _HtmlText()
    text.walk(root.find("body") if root.find("body") is not None else root)
    text.flush()
    return _Found(text.pieces, _html_meta(root))


# PDF: pypdf, pure Python. A PDF has no paragraphs or headings, only positioned lines of text:
# a heading is a line set larger than the body text, a paragraph ends at a wider gap or a short
# line ending a sentence, and a line repeated at the top or bottom of pages is a running header
# or footer.

@dataclass
class _PdfLine:
    text: str
    size: float
    y: float


_PAGE_NUMBER = re.compile(r"(?:page|puslapis|psl\.?|p\.)?\s*[-–—]?\s*\d+\s*(?:(?:/|of|iš)\s*\d+)?\s*[-–—]?", re.I)
_LIST_ITEM = re.compile(r"(?:[•▪◦●‣∙*–-]|\d{1,2}[.)]|[a-z][.)])\s")


def _pdf_lines(page) -> list[_PdfLine]:
    """The page's lines of text with their font size and height on the page."""
    lines: list[_PdfLine] = []
    parts: list[str] = []
    size, y = 0.0, None

    def end_line() -> None:
        nonlocal size, y
        text = _squash("".join(parts).replace("\u00ad", ""))
        if text and y is not None:
            lines.append(_PdfLine(text, size, y))
        parts.clear()
        size, y = 0.0, None

    def visit(text, cm, tm, font_dict, font_size) -> None:
        nonlocal size, y
        for i, part in enumerate(text.split("\n")):
            if i:
                end_line()
            if part.strip():
                scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
                size = max(size, round(float(font_size) * scale, 1))
                if y is None:
                    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            parts.append(part)

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def _running_lines(pages: list[list[_PdfLine]]) -> set[str]:
    """Lines (digits folded) at the top or bottom of two or more pages: running headers, footers."""
    def key(text: str) -> str:
        return re.sub(r"\d+", "#", text.lower())

    seen = Counter(k for lines in pages for k in {key(line.text) for line in lines[:2] + lines[-2:]})
    return {k for k, n in seen.items() if n >= 2}


def _pdf_page_pieces(lines: list[_PdfLine], label: str, body: float, gap: float, running: set[str]) -> list[_Piece]:
    """A page's headings and paragraphs, wrapped lines joined, its header and footer left out."""
    edges = {id(line) for line in lines[:2] + lines[-2:]}
    width = max((len(line.text) for line in lines), default=0)
    pieces: list[_Piece] = []
    paragraphs: list[str] = []
    prev: _PdfLine | None = None
    for line in lines:
        if id(line) in edges and (re.sub(r"\d+", "#", line.text.lower()) in running
                                  or _PAGE_NUMBER.fullmatch(line.text)):
            continue
        if line.size >= body * 1.15 and len(line.text) <= 150 and re.search(r"[^\W\d_]", line.text):
            if pieces and pieces[-1].heading and prev is not None and prev.size == line.size:
                pieces[-1] = _Piece(f"{pieces[-1].text} {line.text}", heading=True, page=label)
            else:
                if paragraphs:
                    pieces.append(_Piece("\n\n".join(paragraphs), page=label))
                    paragraphs = []
                pieces.append(_Piece(line.text, heading=True, page=label))
            prev = line
            continue
        new_paragraph = (
            prev is None or prev.size >= body * 1.15 or not paragraphs
            or not 0 < prev.y - line.y <= gap * 1.4  # a wider gap, or a new column
            or bool(_LIST_ITEM.match(line.text))
            or (re.search(r"[.!?:]$", paragraphs[-1]) and len(prev.text) < 0.7 * width))
        if new_paragraph:
            paragraphs.append(line.text)
        elif re.search(r"[^\W\d_]-$", paragraphs[-1]) and line.text[:1].islower():
            paragraphs[-1] = paragraphs[-1][:-1] + line.text  # a word hyphenated at the line end
        else:
            paragraphs[-1] += " " + line.text
        prev = line
    if paragraphs:
        pieces.append(_Piece("\n\n".join(paragraphs), page=label))
    return pieces


def _pdf_meta(reader) -> dict:
    def field_of(name: str):
        try:
            return getattr(reader.metadata, name) if reader.metadata else None
        except Exception:  # a malformed date or string in the information dictionary
            return None

    return {"title": _squash(str(field_of("title") or "")), "author": _squash(str(field_of("author") or "")),
            "date": _iso_date(field_of("creation_date"))}


def _read_pdf(data: bytes) -> _Found:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs are encrypted only against editing
        except Exception:
            opened = 0
        if not opened:
            raise Unreadable("the PDF is encrypted (it needs a password)")
    pages = [_pdf_lines(page) for page in reader.pages]
    try:
        labels = list(reader.page_labels)  # the numbers printed on the pages ("iv", "12")
    except Exception:
        labels = []
    if len(labels) != len(pages):
        labels = [str(i + 1) for i in range(len(pages))]
    sizes = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line.text)
    if not sizes:
        raise Unreadable("the PDF has no text layer (a scan?)")
    body = sizes.most_common(1)[0][0]
    # the line spacing: the commonest gap between two lines of body text (the smaller on a tie)
    gaps = Counter(round(a.y - b.y, 1) for lines in pages for a, b in zip(lines, lines[1:])
                   if a.size == b.size == body and a.y > b.y)
    gap = min(gaps, key=lambda g: (-gaps[g], g)) if gaps else body * 1.2
    running = _running_lines(pages)
    pieces = [p for lines, label in zip(pages, labels) for p in _pdf_page_pieces(lines, label, body, gap, running)]
    return _Found(pieces, _pdf_meta(reader))


# Word: python-docx. Headings are paragraphs in a Heading style (or with an outline level);
# page headers and footers are not in the body, so they are never read.

def _docx_is_heading(paragraph) -> bool:
    from docx.oxml.ns import qn

    ppr = paragraph._p.pPr
    if ppr is not None and ppr.find(qn("w:outlineLvl")) is not None:
        return True
    style = paragraph.style
    while style is not None:
        if re.fullmatch(r"(?:heading \d|title)", (style.name or "").lower()):
            return True
        style = style.base_style
    return False


def _read_docx(data: bytes) -> _Found:
    import docx
    from docx.table import Table

    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise Unreadable("an encrypted Word file, or an old .doc (save it as .docx)")
    document = docx.Document(io.BytesIO(data))
    pieces = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = list({id(c._tc): c.text for c in row.cells}.values())  # a merged cell once
                rows.append(_table_row(cells))
            pieces.append(_Piece("\n".join(rows)))
        elif _docx_is_heading(item):
            pieces.append(_Piece(_squash(item.text), heading=True))
        else:
            pieces.append(_Piece(item.text))
    props = document.core_properties
    meta = {"title": props.title, "author": props.author, "date": _iso_date(props.created),
            "language": props.language}
    return _Found(pieces, meta)


_READERS = {".txt": _read_plain, ".md": _read_plain, ".html": _read_html, ".htm": _read_html,
            ".pdf": _read_pdf, ".docx": _read_docx}


# ---------------------------------------------------------------- documents


def _paragraphs(found: _Found, title: str, author: str) -> list[Paragraph]:
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
    limit = MAX_PACKED_DOCUMENT_BYTES if suffix in (".pdf", ".docx") else MAX_DOCUMENT_BYTES
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
        found = _READERS.get(suffix, _read_plain)(data)
    except Unreadable as exc:
        log.warning("corpus: skipping %s: %s", name, exc)
        return None
    except Exception as exc:  # parsers raise many kinds of error on a damaged file; one bad file must not stop a build
        log.warning("corpus: skipping %s: damaged or unreadable (%s: %s)", name, type(exc).__name__,
                    _squash(str(exc))[:200])
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

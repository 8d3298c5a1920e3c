"""Read each document format's headings, text and own metadata, before any cleaning.

One reader per format, each taking the file's bytes and giving a :class:`RawDocument`: its
pieces in order (each a :class:`Piece`: a heading, or text with paragraphs separated by blank
lines, and the page it is on in a PDF) and the metadata the file states about itself (title,
author, date, language, publisher, url). :func:`reader_for` picks the reader by suffix.

- plain text (``.txt``, ``.md``): the whole text as one piece; its headings are written in the
  text (Markdown, Wikipedia's "[edit]"), so the cleaner finds them (``RawDocument.markup``);
- web pages (``.html``, ``.htm``): lxml, without scripts, forms, navigation, page headers and
  footers; metadata from ``<title>``, ``lang`` and ``<meta>`` tags;
- PDF (``.pdf``): pypdf; headings from the font size, paragraphs from the line gaps, running
  headers, footers and page numbers left out; metadata from the document information;
- Word (``.docx``): python-docx; headings from the paragraph styles, tables row by row;
  metadata from the core properties.

The readers live apart from :mod:`bot.corpus` (which does not import back) so that it keeps
one job, cleaning every format the same way; a new format is one function and one entry in
:data:`READERS`. A file a reader cannot use raises :class:`Unreadable` with the reason; a
parser's own error on a damaged file is left to the caller, which skips the file.
"""
from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

#: plain text: the headings are written in the text (Markdown, Wikipedia's "[edit]")
PLAIN_SUFFIXES = (".txt", ".md")
#: formats that carry their images and fonts: most of their bytes are not text
PACKED_SUFFIXES = (".pdf", ".docx")


class Unreadable(Exception):
    """A file its reader cannot use (damaged, encrypted, binary), the reason in a few words."""


@dataclass(frozen=True)
class Piece:
    """A stretch of a document as its reader found it: a heading, or text (paragraphs separated
    by blank lines), and the page it is on in a paginated format."""

    text: str
    heading: bool = False
    page: str = ""


@dataclass
class RawDocument:
    """What a reader found in a file: its pieces in order and the file's own metadata."""

    pieces: list[Piece]
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
    """One table row as a line. A row of a label and figures keeps plain spaces, so the cleaning
    in :mod:`bot.corpus` turns a years table into the same sentences as a scraped text table."""
    cells = [c for c in (_squash(c) for c in cells) if c]
    if len(cells) > 1 and all(re.fullmatch(r"[\d.,]+", c) for c in cells[1:]):
        return " ".join(cells)
    return " | ".join(cells)


def read_plain(data: bytes) -> RawDocument:
    """UTF-8 text (a byte-order mark allowed) as one piece whose headings the cleaner finds."""
    if b"\x00" in data[:8192]:
        raise Unreadable("it looks binary, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (byte {exc.start})") from None
    return RawDocument([Piece(raw)], markup=True)


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
        self.pieces: list[Piece] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        text = "".join(self.buf)
        if text.strip():
            self.pieces.append(Piece(text))
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
                self.pieces.append(Piece(_squash(el.text_content()), heading=True))
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


def read_html(data: bytes) -> RawDocument:
    """A web page's headings and text, without its navigation and frame, and its own metadata."""
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
    return RawDocument(text.pieces, _html_meta(root))


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


def _pdf_page_pieces(lines: list[_PdfLine], label: str, body: float, gap: float, running: set[str]) -> list[Piece]:
    """A page's headings and paragraphs, wrapped lines joined, its header and footer left out."""
    edges = {id(line) for line in lines[:2] + lines[-2:]}
    width = max((len(line.text) for line in lines), default=0)
    pieces: list[Piece] = []
    paragraphs: list[str] = []
    prev: _PdfLine | None = None
    for line in lines:
        if id(line) in edges and (re.sub(r"\d+", "#", line.text.lower()) in running
                                  or _PAGE_NUMBER.fullmatch(line.text)):
            continue
        if line.size >= body * 1.15 and len(line.text) <= 150 and re.search(r"[^\W\d_]", line.text):
            if pieces and pieces[-1].heading and prev is not None and prev.size == line.size:
                pieces[-1] = Piece(f"{pieces[-1].text} {line.text}", heading=True, page=label)
            else:
                if paragraphs:
                    pieces.append(Piece("\n\n".join(paragraphs), page=label))
                    paragraphs = []
                pieces.append(Piece(line.text, heading=True, page=label))
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
        pieces.append(Piece("\n\n".join(paragraphs), page=label))
    return pieces


def _pdf_meta(reader) -> dict:
    def field_of(name: str):
        try:
            return getattr(reader.metadata, name) if reader.metadata else None
        except Exception:  # a malformed date or string in the information dictionary
            return None

    return {"title": _squash(str(field_of("title") or "")), "author": _squash(str(field_of("author") or "")),
            "date": _iso_date(field_of("creation_date"))}


def read_pdf(data: bytes) -> RawDocument:
    """A PDF's headings and paragraphs page by page (each piece naming its printed page number)
    and its document information."""
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
    return RawDocument(pieces, _pdf_meta(reader))


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


def read_docx(data: bytes) -> RawDocument:
    """A Word file's headings, paragraphs and tables (one row a line), and its core properties."""
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
            pieces.append(Piece("\n".join(rows)))
        elif _docx_is_heading(item):
            pieces.append(Piece(_squash(item.text), heading=True))
        else:
            pieces.append(Piece(item.text))
    props = document.core_properties
    meta = {"title": props.title, "author": props.author, "date": _iso_date(props.created),
            "language": props.language}
    return RawDocument(pieces, meta)


Reader = Callable[[bytes], RawDocument]

#: the reader of each suffix (lower case) the corpus reads
READERS: dict[str, Reader] = {".txt": read_plain, ".md": read_plain, ".html": read_html, ".htm": read_html,
                              ".pdf": read_pdf, ".docx": read_docx}
#: the suffixes of document files: ".txt", ".md", ".html", ".htm", ".pdf", ".docx"
DOCUMENT_SUFFIXES = tuple(READERS)


def reader_for(suffix: str) -> Reader:
    """The reader for a file suffix (any case); a suffix without one is read as plain text."""
    return READERS.get(suffix.lower(), read_plain)

"""Web pages, PDFs and Word files in the corpus: each made here, at run time, and read back."""
from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path

import pytest

from bot.corpus import read_corpus, read_document

# ---------------------------------------------------------------- the files


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[tuple[float, float, str]]], metadata: dict | None = None,
             password: str | None = None) -> bytes:
    """A PDF written by hand: each page a list of (font size, height on the page, text) lines in
    Helvetica; pypdf adds the document information and the encryption."""
    from pypdf import PdfReader, PdfWriter

    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    for i, lines in enumerate(pages):
        stream = "".join(f"BT /F1 {size} Tf 72 {y} Td ({_pdf_escape(text)}) Tj ET\n"
                         for size, y, text in lines).encode("cp1252")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(out)))
    if metadata:
        writer.add_metadata(metadata)
    if password:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


TRADE_PDF = [
    [(20, 780, "Trade with Kazakhstan"),
     (11, 750, "Lithuania and Kazakhstan signed a trade agreement in 1994. The agree-"),
     (11, 736, "ment covers grain and fertilisers shipped through the port of Klaipeda."),
     (11, 710, "Exports grew every year after that, fertilisers most of all."),
     (9, 40, "Annual trade report 2023 - page 1")],
    [(11, 780, "The trade council met in Almaty in 2022 to discuss grain prices."),
     (20, 740, "Transport"),
     (11, 710, "A direct flight links Vilnius and Astana twice a week since 2023."),
     (9, 40, "Annual trade report 2023 - page 2")],
]
TRADE_PDF_INFO = {"/Title": "Trade report", "/Author": "Ministry of Economy",
                  "/CreationDate": "D:20240115093000+02'00'"}


def make_docx(title: str = "E-bike manual", language: str = "lt-LT") -> bytes:
    """A Word file with two headings, a table, a page header and footer, and core properties."""
    import docx

    d = docx.Document()
    section = d.sections[0]
    section.header.paragraphs[0].text = "Confidential draft header"
    section.footer.paragraphs[0].text = "Printed copy footer"
    d.add_heading("Baterijos įkrovimas", level=1)
    d.add_paragraph("Bateriją įkraukite tik originaliu krovikliu kambario temperatūroje. "
                    "Pilnas įkrovimas trunka apie penkias valandas, o krovikliui reikia sauso oro.")
    table = d.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [("Modelis", "Nuotolis", "Kaina"),
                                       ("City 300", "60 km", "1 200 eurų"),
                                       ("Trail 500", "90 km", "1 900 eurų")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    d.add_heading("Garantija", level=2)
    d.add_paragraph("Garantija galioja dvejus metus nuo pirkimo dienos, jei dviratis prižiūrėtas pagal instrukciją.")
    props = d.core_properties
    props.title, props.author, props.language = title, "Jonas Jonaitis", language
    props.created = datetime(2024, 3, 1, 12, 0)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


TRAVEL_HTML = """<!DOCTYPE html>
<html lang="lt">
<head>
  <meta charset="utf-8">
  <title>Kelionės į Kazachstaną</title>
  <meta name="author" content="Vardenis Pavardenis">
  <meta property="article:published_time" content="2023-05-04T10:00:00+03:00">
  <meta property="og:site_name" content="Kelionių portalas">
  <link rel="canonical" href="https://example.lt/keliones">
  <style>.menu { color: red }</style>
  <script>var tracker = "SCRIPT TEXT";</script>
</head>
<body>
  <header><a href="/">Pradžia</a> <a href="/kontaktai">Kontaktai</a></header>
  <nav><ul><li>Meniu: naujienos</li><li>Meniu: renginiai</li></ul></nav>
  <div class="breadcrumb">Pradžia › Kelionės</div>
  <main>
    <article>
      <h1>Kelionės į Kazachstaną</h1>
      <p>Tiesioginis skrydis iš Vilniaus į Astaną trunka apie penkias valandas.
         Bilietus verta pirkti iš anksto.</p>
      <h2>Keleivių skaičius</h2>
      <table>
        <tr><th>Metai</th><th>2016</th><th>2020</th></tr>
        <tr><td>Keleiviai</td><td>347</td><td>488</td></tr>
      </table>
      <h2>Vizos</h2>
      <p>Lietuvos piliečiams viza nereikalinga, jei kelionė trunka iki trisdešimties dienų.</p>
    </article>
  </main>
  <aside>Reklama: pigūs viešbučiai</aside>
  <footer>© 2024 Kelionių portalas. Visos teisės saugomos.</footer>
</body>
</html>
"""


def _all_text(doc) -> str:
    return "\n".join(f"{p.section}\n{p.text}" for p in doc.paragraphs)


# ---------------------------------------------------------------- each format


def test_a_pdf_keeps_its_headings_as_sections_and_its_page_numbers(tmp_path):
    path = tmp_path / "trade.pdf"
    path.write_bytes(make_pdf(TRADE_PDF, TRADE_PDF_INFO))
    doc = read_document(path, root=tmp_path)
    assert doc.doc_id == "trade.pdf"
    assert [(p.section, p.text) for p in doc.paragraphs] == [
        # a word hyphenated at a line end is whole again, wrapped lines are one paragraph
        ("Trade with Kazakhstan, p. 1", "Lithuania and Kazakhstan signed a trade agreement in 1994. "
                                        "The agreement covers grain and fertilisers shipped through the port of Klaipeda."),
        ("Trade with Kazakhstan, p. 1", "Exports grew every year after that, fertilisers most of all."),
        ("Trade with Kazakhstan, p. 2", "The trade council met in Almaty in 2022 to discuss grain prices."),
        ("Transport, p. 2", "A direct flight links Vilnius and Astana twice a week since 2023."),
    ]
    assert "Annual trade report" not in _all_text(doc)  # the running footer
    assert (doc.title, doc.author, doc.date, doc.language) == ("Trade report", "Ministry of Economy", "2024-01-15", "en")


def test_the_page_reaches_the_citation(tmp_path):
    from bot.answer import AnswerPassage, citation

    path = tmp_path / "trade.pdf"
    path.write_bytes(make_pdf(TRADE_PDF, TRADE_PDF_INFO))
    para = read_document(path).paragraphs[-1]
    shown = AnswerPassage(text=para.text, highlight=para.text, doc_id="trade.pdf", title="Trade report",
                          publisher="", date="2024-01-15", url="", section=para.section, language="en", score=1.0)
    assert citation(shown, "en").endswith("Transport, p. 2")


def test_a_word_file_keeps_headings_reads_tables_as_rows_and_leaves_out_page_headers(tmp_path):
    path = tmp_path / "manual.docx"
    path.write_bytes(make_docx())
    doc = read_document(path, root=tmp_path)
    assert doc.doc_id == "manual.docx"
    sections = [p.section for p in doc.paragraphs]
    assert sections == ["Baterijos įkrovimas", "Baterijos įkrovimas", "Garantija"]
    table = doc.paragraphs[1].text
    assert table.split("\n") == ["Modelis | Nuotolis | Kaina", "City 300 | 60 km | 1 200 eurų",
                                 "Trail 500 | 90 km | 1 900 eurų"]
    text = _all_text(doc)
    assert "Confidential draft header" not in text and "Printed copy footer" not in text
    assert (doc.title, doc.author, doc.date, doc.language) == ("E-bike manual", "Jonas Jonaitis", "2024-03-01", "lt")


def test_a_web_page_keeps_its_headings_and_loses_navigation_headers_footers_and_scripts(tmp_path):
    path = tmp_path / "keliones.html"
    path.write_text(TRAVEL_HTML, encoding="utf-8")
    doc = read_document(path, root=tmp_path)
    assert [p.section for p in doc.paragraphs] == ["Kelionės į Kazachstaną", "Keleivių skaičius", "Vizos"]
    assert doc.paragraphs[0].text == ("Tiesioginis skrydis iš Vilniaus į Astaną trunka apie penkias valandas. "
                                      "Bilietus verta pirkti iš anksto.")
    # a table of a label and figures reads as the scraped text tables do
    assert doc.paragraphs[1].text == "Keleiviai: 2016 m. – 347; 2020 m. – 488."
    text = _all_text(doc)
    for gone in ("Pradžia", "Kontaktai", "Meniu", "Reklama", "Visos teisės", "SCRIPT TEXT", "color: red"):
        assert gone not in text, gone
    assert (doc.title, doc.author, doc.date, doc.publisher, doc.url, doc.language) == (
        "Kelionės į Kazachstaną", "Vardenis Pavardenis", "2023-05-04", "Kelionių portalas",
        "https://example.lt/keliones", "lt")


def test_a_sidecar_wins_over_the_files_own_metadata(tmp_path):
    (tmp_path / "keliones.html").write_text(TRAVEL_HTML, encoding="utf-8")
    (tmp_path / "keliones.meta.toml").write_text('title = "Kelionių gidas"\ndate = "2024-01-01"\n', encoding="utf-8")
    [doc] = read_corpus(tmp_path)
    assert (doc.title, doc.date, doc.author) == ("Kelionių gidas", "2024-01-01", "Vardenis Pavardenis")


def test_a_declared_language_the_text_is_not_in_gives_way_to_the_text(tmp_path):
    # an untranslated page of a translated manual: lang="lt", English text
    english = " ".join(["The layer dialog shows every layer of the image with its name and thumbnail."] * 4)
    (tmp_path / "layers.html").write_text(f'<html lang="lt"><body><h1>Layers</h1><p>{english}</p></body></html>',
                                          encoding="utf-8")
    (tmp_path / "short.html").write_text('<html lang="lt"><body><p>GIMP 2.10</p></body></html>', encoding="utf-8")
    docs = {d.doc_id: d for d in read_corpus(tmp_path)}
    assert docs["layers.html"].language == "en"
    assert docs["short.html"].language == "lt"  # too few words to tell: the declared language stands


def test_the_usual_cleaning_applies_to_every_format(tmp_path):
    (tmp_path / "wiki.html").write_text(
        "<html><body><h2>Istorija<span>[redaguoti]</span></h2><p>Santykiai užmegzti 1992 m.[3]</p>"
        "<h2>Šaltiniai</h2><ol><li>Migracijos metraštis, 2021</li></ol></body></html>", encoding="utf-8")
    [doc] = read_corpus(tmp_path)
    assert [(p.section, p.text) for p in doc.paragraphs] == [("Istorija", "Santykiai užmegzti 1992 m.")]


# ---------------------------------------------------------------- damaged files and folders


def test_damaged_and_encrypted_files_are_skipped_with_a_warning_and_the_rest_still_loads(tmp_path, caplog):
    (tmp_path / "good.pdf").write_bytes(make_pdf(TRADE_PDF, TRADE_PDF_INFO))
    (tmp_path / "good.docx").write_bytes(make_docx())
    (tmp_path / "good.html").write_text(TRAVEL_HTML, encoding="utf-8")
    (tmp_path / "good.txt").write_text("Vilnius is the capital of Lithuania.\n", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"\x13\x37 not a pdf body " * 40)
    (tmp_path / "locked.pdf").write_bytes(make_pdf(TRADE_PDF, password="secret"))
    (tmp_path / "broken.docx").write_bytes(make_docx()[:2000])  # a zip cut short
    (tmp_path / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    (tmp_path / "broken.html").write_bytes(b"\x00\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with caplog.at_level(logging.WARNING):
        docs = read_corpus(tmp_path)
    assert sorted(d.doc_id for d in docs) == ["good", "good.docx", "good.html", "good.pdf"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for bad in ("broken.pdf", "locked.pdf", "broken.docx", "locked.docx", "broken.html"):
        assert any(bad in w for w in warnings), bad
    assert any("locked.pdf" in w and "encrypted" in w for w in warnings)


def test_an_encrypted_pdf_that_opens_without_a_password_is_read(tmp_path):
    (tmp_path / "open.pdf").write_bytes(make_pdf(TRADE_PDF, password=""))
    [doc] = read_corpus(tmp_path)
    assert doc.paragraphs[-1].section == "Transport, p. 2"


def test_folders_are_read_recursively_with_ids_from_the_path(tmp_path):
    (tmp_path / "manuals" / "ebike").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "top.txt").write_text("Kaunas is on the Neris.\n", encoding="utf-8")
    (tmp_path / "manuals" / "ebike" / "manual.docx").write_bytes(make_docx())
    (tmp_path / "manuals" / "report.pdf").write_bytes(make_pdf(TRADE_PDF, TRADE_PDF_INFO))
    (tmp_path / "manuals" / "report.html").write_text(TRAVEL_HTML, encoding="utf-8")
    (tmp_path / "manuals" / "notes.md").write_text("# Ports\n\nKlaipėda is a seaport.\n", encoding="utf-8")
    (tmp_path / ".hidden" / "secret.txt").write_text("Not a document.\n", encoding="utf-8")
    ids = [d.doc_id for d in read_corpus(tmp_path)]
    assert ids == ["manuals/ebike/manual.docx", "manuals/notes", "manuals/report.html", "manuals/report.pdf", "top"]
    assert ids == [d.doc_id for d in read_corpus(tmp_path)]  # stable from one read to the next


# ---------------------------------------------------------------- end to end


def test_an_index_over_one_file_of_each_format_holds_them_all(tmp_path, embedder):
    from bot.index import build_index, load_index

    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "trade.pdf").write_bytes(make_pdf(TRADE_PDF, TRADE_PDF_INFO))
    (corpus / "sub" / "manual.docx").write_bytes(make_docx())
    (corpus / "keliones.htm").write_text(TRAVEL_HTML, encoding="utf-8")
    (corpus / "notes.md").write_text("# Ports\n\nKlaipėda is a seaport on the Baltic Sea.\n", encoding="utf-8")
    (corpus / "plain.txt").write_text("Vilnius is the capital of Lithuania.\n", encoding="utf-8")
    summary = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert summary.documents == 5 and not summary.skipped
    idx = load_index(tmp_path / "index", embedder.id)
    assert {p.doc_id for p in idx.passages} == {"trade.pdf", "sub/manual.docx", "keliones.htm", "notes", "plain"}
    assert {p.section for p in idx.passages if p.doc_id == "trade.pdf"} == {
        "Trade with Kazakhstan, p. 1", "Trade with Kazakhstan, p. 2", "Transport, p. 2"}
    assert idx.documents["trade.pdf"]["title"] == "Trade report"
    assert idx.documents["sub/manual.docx"]["author"] == "Jonas Jonaitis"
    # and nothing changed means nothing to do, whatever the format
    assert build_index(corpus, tmp_path / "index", embedder=embedder).unchanged

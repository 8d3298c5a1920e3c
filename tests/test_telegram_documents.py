"""Documents from Telegram: administrators add, replace and remove corpus documents by sending
files to the bot; the real bot process and PTB's HTTP stack against the stand-in Bot API server.

The bot here serves a tiny corpus of its own (two short documents, indexed once for the module),
so the rebuilds each upload starts take seconds. The corpus folder sits two levels below the
module's temporary folder, so a name like "../../x" would land in a folder the tests watch.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import tomllib
import unicodedata
from dataclasses import replace
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.corpus import DOCUMENT_SUFFIXES
from bot.store import CorpusFolder, caption_metadata, safe_file_name, sidecar_text
from bot_process import ROOT, TOKEN, BotProcess
from fake_telegram import FakeTelegram

ADMIN = 777
OTHER = 5005
TIMEOUT = 60
BUILD_TIMEOUT = 180
SEED = ("003_7c12f87683c6921f", "004_87742de3ba7b5e5a")
FINAL = ("Added", "Replaced", "Removed", "finished", "failed", "could not", "Pridėjau", "pakeičiau")

GALVE = b"""Lake Galve

Lake Galve is a lake in Trakai, Lithuania, about 28 kilometres west of Vilnius. Its greatest depth
is 46.7 metres, which makes it one of the deepest lakes in the country.

The lake has 21 islands. Trakai Island Castle, built in the 14th century by Grand Duke Kestutis,
stands on one of them and is reached by a wooden footbridge.

Every summer the lake hosts a regatta of wooden sailing boats, and in winter ice fishers come for
smelt and vendace.
"""
GALVE_NEW = b"""Lake Galve, revised

Lake Galve near Trakai has 21 islands. In 2024 the old wooden footbridge to Trakai Island Castle
was replaced by a new oak footbridge, 320 metres long, opened by the mayor of Trakai in May 2024.

The lake hosts a regatta of wooden sailing boats every summer.
"""


def plain(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text))


def tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, object]:
    """Every entry under ``root`` (hidden ones too): file bytes, or where a link points."""
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        if any(path == s or s in path.parents for s in skip):
            continue
        rel = path.relative_to(root).as_posix()
        out[rel] = f"-> {path.readlink()}" if path.is_symlink() else path.read_bytes() if path.is_file() else "dir"
    return out


# ------------------------------------------------------------------ the bot and its corpus


@pytest.fixture(scope="module")
def space(tmp_path_factory, settings, embedder):
    """A tiny corpus (two seed documents and two links out of it), indexed, and its settings."""
    from bot.index import build_index

    root = tmp_path_factory.mktemp("documents")
    corpus = root / "a" / "b" / "corpus"
    corpus.mkdir(parents=True)
    for stem in SEED:
        for suffix in (".txt", ".meta.toml"):
            shutil.copy(ROOT / "corpus" / f"{stem}{suffix}", corpus)
    (root / "outside.txt").write_text("Not part of the corpus.\n")
    (root / "outside.toml").write_text('title = "outside"\n')
    (corpus / "linked.txt").symlink_to(root / "outside.txt")
    (corpus / "linked.meta.toml").symlink_to(root / "outside.toml")
    build_index(corpus, root / "index", embedder=embedder)
    (root / "data").mkdir()
    return replace(settings, corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data")


@pytest.fixture(scope="module")
def tg():
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def bot(tg, space):
    with BotProcess(space, tg.api_url, admin_ids=str(ADMIN)) as proc:
        proc.wait_polling(tg)
        yield proc
    assert TOKEN not in proc.log(), "the token leaked into the log"


def ask(tg, chat, text, user=None, lang="en"):
    before = len(tg.messages(chat))
    (tg.push_command if text.startswith("/") else tg.push_message)(chat, text, user_id=user or chat,
                                                                   language_code=lang)
    return tg.wait_for_messages(chat, before + 1, timeout=TIMEOUT)[before]


def send_file(tg, name, content, user=ADMIN, caption=None, lang="en", mime=None):
    """Send a file as ``user``; the bot's first reply to it."""
    before = len(tg.messages(user))
    tg.push_document(user, content, file_name=name, caption=caption, mime_type=mime, user_id=user,
                     language_code=lang)
    return tg.wait_for_messages(user, before + 1, timeout=TIMEOUT)[before]


def settled(tg, chat, message_id) -> dict:
    """The bot message once it says how its work ended (edited in place until then)."""
    def final():
        msg = next(m for m in tg.messages(chat) if m["message_id"] == message_id)
        return msg if any(w in msg["visible_text"] for w in FINAL) else None
    return tg.wait_for(final, timeout=BUILD_TIMEOUT, description=f"message {message_id} to settle")


def press(tg, chat, msg, label) -> dict:
    """Press the button ``label`` under ``msg``; the message as it ends up."""
    [data] = [b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row
              if b["text"] == label]
    tg.push_callback(chat, msg["message_id"], data, user_id=chat)
    if label == "Cancel":
        return tg.wait_for(lambda: (lambda m: m if "Cancelled" in m["visible_text"] else None)(
            next(m for m in tg.messages(chat) if m["message_id"] == msg["message_id"])), timeout=TIMEOUT)
    return settled(tg, chat, msg["message_id"])


def versions(corpus: Path, stem: str) -> list[str]:
    key = unicodedata.normalize("NFC", stem).casefold()
    return sorted(p.name for p in corpus.iterdir()
                  if unicodedata.normalize("NFC", p.name.rsplit(".", 1)[0]).casefold() == key)


# ------------------------------------------------------------------ the stand-in server


def test_the_stand_in_serves_sent_files_as_telegram_does():
    import httpx
    from telegram import Bot
    from telegram.error import BadRequest

    async def scenario(tg):
        bot = Bot(TOKEN, base_url=f"{tg.api_url}/bot", base_file_url=f"{tg.api_url}/file/bot")
        async with bot:
            small = tg.push_document(9001, b"hello", file_name="Hello.TXT", mime_type="text/plain",
                                     caption="A title")["message"]
            f = await bot.get_file(small["document"]["file_id"])
            assert f.file_path.endswith(".txt") and f.file_size == 5 and TOKEN in f.file_path
            assert bytes(await f.download_as_bytearray()) == b"hello"
            big = tg.push_document(9001, b"x" * (20 * 2**20 + 1), file_name="big.pdf")["message"]
            with pytest.raises(BadRequest, match="(?i)file is too big"):
                await bot.get_file(big["document"]["file_id"])
            with pytest.raises(BadRequest, match="(?i)invalid file_id"):
                await bot.get_file("no-such-file")
            return small

    with FakeTelegram(token=TOKEN) as tg:
        small = asyncio.run(scenario(tg))
        assert small["document"]["file_name"] == "Hello.TXT" and small["caption"] == "A title"
        [download] = tg.downloads
        assert download["size"] == 5
        url = f"{tg.api_url}/file/bot{TOKEN}/{download['file_path']}"
        assert httpx.get(url).content == b"hello"
        assert httpx.get(url.replace(TOKEN, "123:wrong")).status_code == 404
        assert httpx.get(f"{tg.api_url}/file/bot{TOKEN}/documents/nothing.txt").status_code == 404
        assert "file_name" not in tg.push_document(9001, b"x", file_name=None)["message"]["document"]


# ------------------------------------------------------------------ names, captions, sidecars


@pytest.mark.parametrize("sent, saved", [
    ("../../.env", "env"),
    ("../../escape.txt", "escape.txt"),
    ("/etc/cron.d/job.txt", "job.txt"),
    ("C:\\Users\\me\\report.PDF", "report.pdf"),
    ("nul\x00byte.txt", "nulbyte.txt"),
    ("sub/dir/slash.md", "slash.md"),
    ("..\\..\\back.txt", "back.txt"),
    ("evil\u202etxt.docx", "eviltxt.docx"),
    (".hidden.txt", "hidden.txt"),
    ("Ataskaita 2024 (galutinė).pdf", "Ataskaita_2024_(galutinė).pdf"),
    (unicodedata.normalize("NFD", "Šiauliai.txt"), "Šiauliai.txt"),
    ("....", ""),
    ("a..b...txt", "a.b.txt"),
])
def test_a_sent_name_becomes_a_plain_name_never_a_path(sent, saved):
    assert safe_file_name(sent) == saved


def test_a_long_name_is_shortened_keeping_its_suffix():
    name = safe_file_name("ž" * 300 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) <= 180


def test_a_caption_becomes_sidecar_metadata():
    meta = caption_metadata("Lake Galvė | Trakai museum | 2024-05-01 | https://example.org/galve?a=1")
    assert meta == {"title": "Lake Galvė", "publisher": "Trakai museum", "date": "2024-05-01",
                    "url": "https://example.org/galve?a=1"}
    assert caption_metadata("Just a title") == {"title": "Just a title"}
    assert caption_metadata(None) == {} and caption_metadata("  |  ") == {}
    assert caption_metadata("https://x.org\nlt\nTitle") == {"title": "Title", "language": "lt", "url": "https://x.org"}
    hostile = {"title": 'He said "hi" \\ \x07\u202e\n[table]\ntitle = "x"'}
    assert tomllib.loads(sidecar_text(hostile)) == {"title": 'He said "hi" \\ [table]title = "x"'}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_change_waiting_for_its_button_is_taken_once_by_its_own_chat(backend, tmp_path, request, monkeypatch):
    from bot.store import PENDING_SECONDS, Store

    target = tmp_path / "bot.db" if backend == "sqlite" else request.getfixturevalue("pg_server").create_database()
    store = Store.open(target)
    try:
        data = {"staged": ".upload-x-galvė.txt", "meta": {"title": "'); DROP TABLE pending; --"}}
        first = store.save_pending(ADMIN, "replace", data)
        assert store.take_pending(first, OTHER) is None  # another chat's button cannot take it
        assert store.take_pending(first, ADMIN) == ("replace", data)
        assert store.take_pending(first, ADMIN) is None  # a second press
        old = store.save_pending(ADMIN, "remove", {"name": "a.txt"})
        import bot.store

        now = bot.store.time.time()
        monkeypatch.setattr(bot.store, "time", SimpleNamespace(time=lambda: now + PENDING_SECONDS + 1))
        assert store.take_pending(old, ADMIN) is None  # expired
    finally:
        store.close()


def test_replacing_keeps_the_folder_whole(tmp_path):
    folder = CorpusFolder(tmp_path)
    (tmp_path / "Report.TXT").write_text("old")
    (tmp_path / "Report.meta.toml").write_text('title = "old"\n')
    staged = folder.stage("report.txt", b"new")
    assert staged.name.startswith(".") and staged.parent == tmp_path
    assert folder.versions("REPORT.md") == [tmp_path / "Report.TXT"]
    assert folder.commit(staged, "report.txt", {"title": "New"}) == ["Report.TXT"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.meta.toml", "report.txt"]
    assert tomllib.loads((tmp_path / "report.meta.toml").read_text())["title"] == "New"
    # a version without metadata leaves the file's own: the older sidecar goes
    assert folder.commit(folder.stage("report.txt", b"newer"), "report.txt", {}) == ["report.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]
    assert folder.staged("../report.txt") is None and folder.staged(staged.name) is None


def test_a_large_corpus_is_listed_within_one_message():
    import bot.telegram_bot as tb
    from fake_telegram import parse_html

    documents = {f"manual/page-{i:04d}.html": {"file": f"page-{i:04d}.html", "passages": i % 7}
                 for i in range(1370)}
    index = SimpleNamespace(manifest={"documents": documents, "skipped": {"broken": "x"}},
                            documents={d: {"title": f"Page <{i}> & more", "language": "lt"}
                                       for i, d in enumerate(documents)})
    text = tb._documents_html(index, "en")
    visible, _ = parse_html(text)
    assert len(visible) <= 4096 and "The corpus holds 1370 documents:" in visible
    assert re.search(r"… and \d+ more; /documents word", visible) and "Not used (unreadable): broken" in visible
    assert "1. Page <0> & more — manual/page-0000.html · Lithuanian · passages: 0" in visible
    narrowed = parse_html(tb._documents_html(index, "lt", "PAGE-1369"))[0]
    assert narrowed.startswith("Dokumentų, atitinkančių „PAGE-1369“: 1.") and "lietuvių k. · ištraukų: 4" in narrowed


# ------------------------------------------------------------------ progress


def test_a_rebuild_edits_one_message_with_the_builds_progress(monkeypatch):
    """_rebuild passes build_index a progress callback when it takes one and shows what it reports."""
    import bot.telegram_bot as tb

    shown = []

    class Status:
        async def show(self, text):
            shown.append(text)

    def build(corpus_dir, index_dir, spec, *, progress=None, **_):
        import time

        for done in range(0, 101, 25):
            progress(done, 100)
            time.sleep(0.12)
        return tb.BuildSummary(documents=1, passages=100)

    monkeypatch.setattr(tb, "build_index", build)
    monkeypatch.setattr(tb, "load_index", lambda *a: "new index")
    monkeypatch.setattr(tb, "PROGRESS_EVERY", 0.05)
    engine = SimpleNamespace(embedder=SimpleNamespace(id="e"), swap_index=lambda index: swapped.append(index))
    swapped = []
    settings = SimpleNamespace(corpus_dir="c", index_dir="i", embedder="e", faiss_index="auto", ann_threshold=1)
    context = SimpleNamespace(application=SimpleNamespace(bot_data={"engine": engine, "store": None,
                                                                    "settings": settings}))
    summary = asyncio.run(tb._rebuild(context, Status(), "en"))
    assert summary.passages == 100 and swapped == ["new index"]
    assert any("of 100" in s for s in shown) and all("Rebuilding the index" in s for s in shown)
    # an index module whose build_index takes no callback builds silently; the time is shown
    monkeypatch.setattr(tb, "build_index", lambda *a, **kw: tb.BuildSummary())
    assert tb._progress_option(tb.BuildProgress()) == {}
    progress = tb.BuildProgress()
    assert "… 7 s" in progress.text("en", 7.2) and "s" in progress.text("lt", 1)
    progress(SimpleNamespace(done=3, total=4))
    assert "3 iš 4 (75 %)" in progress.text("lt", 1)


# ------------------------------------------------------------------ end to end


def test_administrators_have_the_document_commands_in_their_menu(tg, bot):
    scope = {"type": "chat", "chat_id": ADMIN}
    tg.wait_for(lambda: tg.commands_for(scope, "lt"), timeout=TIMEOUT)
    for lang in ("", "lt"):
        names = {c["command"] for c in tg.commands_for(scope, lang)}
        assert {"documents", "remove", "reindex", "help"} <= names
    assert "documents" not in {c["command"] for c in tg.commands[""]}
    assert "/documents" in plain(ask(tg, ADMIN, "/help")["text"])
    assert "/documents" not in plain(ask(tg, OTHER, "/help")["text"])


def test_an_administrator_adds_a_text_document_and_the_bot_answers_from_it(tg, bot, space):
    first = send_file(tg, "galvė.txt", GALVE,
                      caption="Lake Galvė | Trakai History Museum | 2024-05-01 | https://example.org/galve")
    msg = settled(tg, ADMIN, first["message_id"])
    assert msg["method"] == "editMessageText" and msg["edits"], "the first reply is edited, not followed"
    assert re.search(r"Added “galvė.txt” \(Lake Galvė, English\); passages it added: [1-9]", msg["visible_text"])
    assert tg.messages(ADMIN)[-1]["message_id"] == first["message_id"], "one message tells the whole story"
    meta = tomllib.loads((space.corpus_dir / "galvė.meta.toml").read_text())
    assert meta == {"title": "Lake Galvė", "publisher": "Trakai History Museum", "date": "2024-05-01",
                    "url": "https://example.org/galve"}
    assert (space.corpus_dir / "galvė.txt").read_bytes() == GALVE
    answer = ask(tg, 6001, "How many islands does Lake Galve have?")
    assert "21 islands" in plain(answer["text"]) and "Lake Galvė" in plain(answer["text"])
    listing = plain(ask(tg, ADMIN, "/documents")["text"])
    assert "Lake Galvė — galvė.txt · English · passages: " in listing and "3 documents" in listing
    assert "25th anniversary" in listing


@pytest.mark.skipif(".html" not in DOCUMENT_SUFFIXES, reason="the corpus reads no HTML yet")
def test_a_web_page_without_a_caption_keeps_its_own_title(tg, bot, space):
    page = b"""<!doctype html><html lang="en"><head><title>Trakai Castle opening hours</title></head>
    <body><nav><a href="/">Home</a> <a href="/visit">Visit us</a></nav>
    <main><h1>Opening hours</h1><p>Trakai Island Castle museum is open every day from 10:00 to 19:00
    from May to September. A ticket for an adult costs 12 euros, and children under seven enter free.</p></main>
    <footer>Copyright 2024 Trakai History Museum. All rights reserved.</footer></body></html>"""
    first = send_file(tg, "hours.html", page, mime="text/html")
    msg = settled(tg, ADMIN, first["message_id"])
    assert "Added “hours.html” (Trakai Castle opening hours, English)" in msg["visible_text"]
    assert not (space.corpus_dir / "hours.meta.toml").exists()
    listing = plain(ask(tg, ADMIN, "/documents hours")["text"])
    assert "Trakai Castle opening hours — hours.html" in listing and "matching" in listing


def test_the_same_name_in_another_case_or_unicode_form_replaces_only_after_confirmation(tg, bot, space):
    corpus = space.corpus_dir
    before = tree(corpus)
    ask_msg = send_file(tg, "GALVĖ.TXT", GALVE_NEW)
    assert "already has “galvė.txt”" in ask_msg["visible_text"]
    assert [b["text"] for b in ask_msg["reply_markup"]["inline_keyboard"][0]] == ["Replace", "Cancel"]
    press(tg, ADMIN, ask_msg, "Cancel")
    assert tree(corpus) == before, "a cancelled replacement left the folder as it was"
    # the same name in NFD (as macOS writes it) is the same document
    ask_msg = send_file(tg, unicodedata.normalize("NFD", "galvė.txt"), GALVE_NEW)
    assert "already has “galvė.txt”" in ask_msg["visible_text"]
    done = press(tg, ADMIN, ask_msg, "Replace")
    assert re.search(r"Replaced “galvė.txt” by the file you sent, “galvė.txt” .*passages now: [1-9]", done["visible_text"])
    assert versions(corpus, "galvė") == ["galvė.txt"]  # the caption-less version has no sidecar
    assert (corpus / "galvė.txt").read_bytes() == GALVE_NEW
    answer = ask(tg, 6002, "How long is the new oak footbridge to Trakai Island Castle?")
    assert "320 metres" in plain(answer["text"])
    # a second press of a used button does nothing
    n = len(tg.callback_answers)
    tg.push_callback(ADMIN, ask_msg["message_id"], ask_msg["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
                     user_id=ADMIN)
    tg.wait_for(lambda: len(tg.callback_answers) > n, timeout=TIMEOUT)
    assert "expired" in tg.callback_answers[-1]["text"]
    assert (corpus / "galvė.txt").read_bytes() == GALVE_NEW


def test_a_document_is_removed_only_after_confirmation(tg, bot, space):
    corpus = space.corpus_dir
    assert "/remove" in plain(ask(tg, ADMIN, "/remove")["text"])
    assert "no document called" in plain(ask(tg, ADMIN, "/remove ../../.env")["text"])
    assert "no document called" in plain(ask(tg, ADMIN, "/remove /etc/passwd")["text"])
    confirm = ask(tg, ADMIN, "/remove GALVĖ")
    assert "Remove “galvė.txt”" in confirm["visible_text"]
    done = press(tg, ADMIN, confirm, "Remove")
    assert "Removed “galvė.txt”" in done["visible_text"]
    assert versions(corpus, "galvė") == []
    assert "galvė.txt" not in plain(ask(tg, ADMIN, "/documents")["text"])


def test_non_administrators_can_neither_add_list_nor_remove(tg, bot, space):
    before = tree(space.corpus_dir)
    downloads = len(tg.downloads)
    reply = send_file(tg, "mine.txt", b"Some text of my own.", user=OTHER)
    assert "only the bot's administrators can add documents" in reply["visible_text"]
    reply = send_file(tg, "mano.txt", b"Mano tekstas.", user=OTHER + 1, lang="lt")
    assert "tik boto administratoriai" in reply["visible_text"]
    assert "administrators" in plain(ask(tg, OTHER, "/documents")["text"])
    assert "administrators" in plain(ask(tg, OTHER, "/remove 003_7c12f87683c6921f.txt")["text"])
    assert len(tg.downloads) == downloads and tree(space.corpus_dir) == before


def test_an_oversized_file_is_refused_without_a_download(tg, bot, space):
    before = tree(space.corpus_dir)
    downloads = len(tg.downloads)
    reply = send_file(tg, "huge.txt", b"a" * (21 * 2**20))
    assert "too big (21.0 MB; the limit is 20 MB). Nothing was changed." in reply["visible_text"]
    reply = send_file(tg, "didelis.txt", b"a" * (25 * 2**20), lang="lt", user=OTHER + 2)
    assert "tik boto administratoriai" in reply["visible_text"], "a non-administrator's is refused as such"
    assert len(tg.downloads) == downloads and tree(space.corpus_dir) == before


@pytest.mark.parametrize("name, content", [
    ("damaged.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage \x00\x01\x02"),
    ("damaged.docx", b"PK\x03\x04 this is no zip archive"),
    ("binary.txt", bytes(range(256)) * 8),
    ("latin1.txt", "Sėkmės visiems – ačiū".encode("cp1257")),
    ("empty.md", b"   \n"),
])
def test_an_unreadable_file_is_refused_and_changes_nothing(tg, bot, space, name, content):
    if Path(name).suffix not in DOCUMENT_SUFFIXES:
        pytest.skip(f"the corpus reads no {Path(name).suffix} yet")
    before = tree(space.corpus_dir)
    reply = send_file(tg, name, content)
    assert f"I could not read “{name}” (" in reply["visible_text"] and "Nothing was changed" in reply["visible_text"]
    assert tree(space.corpus_dir) == before, "no staged file is left behind either"


def test_an_unknown_format_is_refused_with_the_formats_read(tg, bot, space):
    before = tree(space.corpus_dir)
    reply = send_file(tg, "photo.jpg", b"\xff\xd8\xff\xe0 not really")
    assert "I can't add “photo.jpg”: I read only these kinds of files: .txt, .md" in reply["visible_text"]
    reply = send_file(tg, "skriptas.exe", b"MZ", lang="lt")
    assert "Negaliu pridėti „skriptas.exe“" in reply["visible_text"]
    reply = send_file(tg, None, b"\x00\x01", mime="application/octet-stream")
    assert "I can't add “?”" in reply["visible_text"]
    assert tree(space.corpus_dir) == before


def test_hostile_file_names_never_write_outside_the_corpus_folder(tg, bot, space):
    corpus = space.corpus_dir
    root = corpus.parent.parent.parent
    keep_out = (corpus, space.index_dir, space.data_dir)
    outside = tree(root, skip=keep_out)
    absolute = Path(f"/tmp/kzlt-upload-test-{ADMIN}-{root.name}.txt")
    reply = send_file(tg, "../../.env", b"TELEGRAM_BOT_TOKEN=stolen\n")
    assert "I can't add “../../.env”" in reply["visible_text"]
    sent = {"../../escape.txt": "escape.txt", str(absolute): absolute.name, "C:\\Windows\\win.txt": "win.txt",
            "nul\x00byte.txt": "nulbyte.txt", "sub/dir/slash.txt": "slash.txt"}
    for i, (name, saved) in enumerate(sent.items()):
        first = send_file(tg, name, f"Hostile name test number {i}: the river Neris flows through Vilnius.".encode())
        msg = settled(tg, ADMIN, first["message_id"])
        assert f"Added “{saved}”" in msg["visible_text"], msg["visible_text"]
        assert (corpus / saved).is_file()
    assert not absolute.exists()
    # a file sent without a name gets one, from its type
    first = send_file(tg, None, b"A nameless note about the river Nemunas.", mime="text/plain")
    assert re.search(r"Added “document-\w+\.txt”", settled(tg, ADMIN, first["message_id"])["visible_text"])
    # a document that is a link out of the folder (and its sidecar, too) is replaced, not written through
    ask_msg = send_file(tg, "linked.txt", b"The linked document, now a file of its own.", caption="Linked")
    assert "already has “linked.txt”" in ask_msg["visible_text"]
    done = press(tg, ADMIN, ask_msg, "Replace")
    assert "“linked.txt”" in done["visible_text"] and "passages" in done["visible_text"]
    assert not (corpus / "linked.txt").is_symlink() and not (corpus / "linked.meta.toml").is_symlink()
    assert tomllib.loads((corpus / "linked.meta.toml").read_text()) == {"title": "Linked"}
    assert tree(root, skip=keep_out) == outside, "nothing outside the corpus folder changed"
    assert not [p for p in corpus.iterdir() if p.name.startswith(".upload-")]


def test_reindex_edits_one_message_with_its_progress(tg, bot):
    first = ask(tg, ADMIN, "/reindex --full")
    assert "background" in first["visible_text"]
    msg = settled(tg, ADMIN, first["message_id"])
    assert "Rebuild finished" in msg["visible_text"] and msg["method"] == "editMessageText"
    assert not [m for m in tg.messages(ADMIN) if m["message_id"] > first["message_id"]]
    assert tg.rejections == []

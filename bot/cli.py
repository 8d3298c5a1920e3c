"""Command line: ``python run_bot.py [index|ask|chat|eval|bench]``; no arguments starts the Telegram bot.

    python run_bot.py index [--full]         bring the index in line with corpus/
    python run_bot.py ask "QUESTION" [--json]
    python run_bot.py chat [--json]          a conversation in the terminal (or JSON lines)
    python run_bot.py eval [--set tenth]     hit@1 / hit@3 / MRR per slice, refusal rates (--cv)
    python run_bot.py                        the Telegram bot (needs TELEGRAM_BOT_TOKEN)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import ROOT, Settings
from .index import IndexProblem

log = logging.getLogger("bot")

from . import qasets

#: the seed corpus's QA sets the ranker and the refusal model are fitted on (eval/corpora/seed/sets.toml)
TRAINING_SETS = qasets.corpus(qasets.SEED).training
#: the final test, measured only once a design is fixed
FINAL_SET = qasets.corpus(qasets.SEED).final


def setup_logging(verbose: bool = False) -> None:
    """Logging configured once, here; chatty libraries (and URLs carrying the token) kept quiet."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "faiss", "faiss.loader", "bm25s", "sentence_transformers",
                  "telegram.ext.Updater", "apscheduler", "matplotlib", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _engine(settings: Settings):
    from .engine import Engine

    return Engine.load(settings)


def cmd_index(args, settings: Settings) -> int:
    from .index import build_index

    summary = build_index(settings.corpus_dir, settings.index_dir, settings.embedder, full=args.full,
                          faiss_type=settings.faiss_index, ann_threshold=settings.ann_threshold,
                          show_progress=not args.quiet)
    print(summary.line())
    for doc in summary.skipped:
        print(f"  skipped (see warnings above): {doc}")
    for label, docs in (("added", summary.added), ("changed", summary.changed), ("removed", summary.removed)):
        if docs:
            print(f"  {label}: {', '.join(docs)}")
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from .answer import render_text
    from .engine import clean_input

    question = " ".join(args.question)
    if not clean_input(question):
        msg = "Please give a question, e.g.: python run_bot.py ask \"When were diplomatic relations established?\""
        if args.json:
            print(json.dumps({"question": question, "language": "en", "answered": False, "passages": [],
                              "kind": "empty", "message": msg}, ensure_ascii=False))
        else:
            print(msg, file=sys.stderr)
        return 2
    answer = _engine(settings).ask(question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(render_text(answer, color=sys.stdout.isatty()))
    return 0


def cmd_chat(args, settings: Settings) -> int:
    from .answer import render_text
    from .dialogue import Conversation
    from .messages import help_text, t

    engine = _engine(settings)
    conv = Conversation()
    if args.json:
        # exactly one JSON line out per line in, whatever the line holds
        for line in sys.stdin:
            line = line.rstrip("\n")
            try:
                out = _chat_json_line(engine, conv, line)
            except Exception as exc:  # never break the one-line-per-line contract
                log.exception("chat --json: failed on a line")
                out = {"question": line, "language": "en", "answered": False, "passages": [],
                       "kind": "error", "message": f"{t('error', 'en')} ({type(exc).__name__})"}
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    print(help_text("en", len(engine.index.documents), engine.index.about).split("\n\n")[0])
    print("Type a question (Lithuanian or English); /help, /more, /reset, /sources, /lang; Ctrl-D to quit.\n")
    while True:
        try:
            line = input("? ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        cmd = line.strip().lower()
        if cmd in ("/quit", "/exit"):
            return 0
        command = _chat_command(engine, conv, line)
        if command is not None:
            print(command["message"] + "\n")
            continue
        print(render_text(engine.reply(line, conv), color=sys.stdout.isatty()) + "\n")


def _chat_command(engine, conv, line: str) -> dict | None:
    """The terminal's answer to a command (/help, /start, /sources, /lang, an unknown one) as a
    JSON-able dict with its "message"; None for a question (and for /more, /reset, which the
    engine answers)."""
    from .answer import document_list
    from .messages import help_text, t

    words = line.strip().split()
    if not words or not words[0].startswith("/") or words[0].lower() in ("/more", "/reset", "/daugiau"):
        return None
    name = words[0][1:].lower()
    lang = conv.language or conv.last_language or "en"
    out = {"command": name, "question": line, "language": lang, "answered": False, "passages": []}
    if name in ("help", "start"):
        out["message"] = help_text(lang, len(engine.index.documents), engine.index.about)
    elif name == "sources":
        docs = document_list(engine.index.documents)
        out["message"] = "\n".join([t("sources_intro", lang)] + [f"{i}. {label}" + (f" <{url}>" if url else "")
                                                                 for i, (label, url) in enumerate(docs, 1)])
    elif name == "lang":
        conv.choose_language(words[1] if len(words) > 1 else "", lang)
        out["language"] = lang = conv.language or lang
        out["message"] = t("lang_set", lang) if conv.language else t("lang_auto", lang)
    else:
        out["kind"] = "unknown_command"
        out["message"] = t("unknown_command", lang, command=words[0])
    return out


def _chat_json_line(engine, conv, line: str) -> dict:
    return _chat_command(engine, conv, line) or engine.reply(line, conv).to_json()


def cmd_eval(args, settings: Settings) -> int:
    """Score QA sets (the seed corpus's by default), or cross-validate (--cv), or fit (--fit)."""
    from .embedding import load_embedder

    if args.fit:
        from .fitting import fit_deployed

        print(fit_deployed(load_embedder(settings.embedder)))
        if not (args.cv or args.corpus or args.all_sets):
            return 0
    if args.cv:
        return _eval_cv(args, settings)
    if args.corpus and args.corpus != qasets.SEED:
        return _eval_corpus(args, settings)
    return _eval_seed(args, settings)


def _eval_cv(args, settings: Settings) -> int:
    """Leave one corpus out: each development corpus scored by models fitted on the others."""
    from .embedding import load_embedder
    from .fitting import development_corpora, leave_one_corpus_out, misses, table

    names = args.corpora.split(",") if args.corpora else None
    runs = development_corpora(load_embedder(settings.embedder), names)
    rows = leave_one_corpus_out(runs)
    print(f"leave-one-corpus-out over {len(runs)} corpora ({', '.join(runs)}): each row scored by models fitted "
          "on the other corpora only, with no question memory; hit@3 as answered counts a refusal as a miss")
    print(table(rows))
    if args.verbose:
        print(misses(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({r.name: {k: v.as_dict() for k, v in r.scores.items()} | {
            "baselines": r.baselines, "auroc": r.auroc} for r in rows}, indent=1))
    return 0


def _eval_corpus(args, settings: Settings) -> int:
    """One set of an evaluation corpus, scored with the models the bot uses (no refit), over the
    corpus's own index; a final set is measured once, after the design is fixed."""
    from .embedding import load_embedder
    from .fitting import misses, open_corpus, score, table

    corpus = qasets.corpus(args.corpus)
    name = args.set if args.set != FINAL_SET else (corpus.final or corpus.training[0])
    run = open_corpus(corpus, load_embedder(settings.embedder), [name], memory=True)
    row = score(run)
    row.name = f"{corpus.name}/{name}"
    print(f"{corpus.name}, set {name!r}: {len(run.qa)} questions, {len(run.dialogues)} dialogues, "
          "the deployed models (no refit)")
    print(table([row]))
    if args.verbose:
        print(misses([row]))
    return 0


def _eval_seed(args, settings: Settings) -> int:
    """The seed corpus's sets over the deployed index, with its question memory (each training
    writer's own questions left out when its set is scored)."""
    from .evaluation import evaluate, report

    engine = _engine(settings)
    sets = {s: qasets.seed_set(s).load(group=s) for s in TRAINING_SETS}
    names = list(qasets.corpus(qasets.SEED).sets) if args.all_sets else [qasets.seed_set(args.set)]
    figures = {}
    memory, leave_out = engine.retriever.memory
    for qaset in names:
        qa, dialogues = qaset.load()
        own = qaset.name in sets and memory is not None
        # a training set's own questions are in the question memory: score it without them
        engine.retriever.use_memory(memory, leave_out | {qaset.name} if own else leave_out)
        scores = evaluate(engine, qa, dialogues)
        print(f"QA set: {qaset.qa_path.relative_to(ROOT)} ({len(qa)} questions), "
              f"{qaset.dialogues_path.name} ({len(dialogues)} dialogues)"
              + (f"; its {qaset.name!r} questions left out of the question memory" if own else ""))
        print(report(scores, verbose=args.verbose))
        if args.baselines:
            from .evaluation import baselines

            print("\nsimpler retrievers on the same index:")
            print(baselines(engine, qa))
        figures[f"{qaset.corpus}/{qaset.name}"] = {k: v.as_dict() for k, v in scores.items()}
        if args.all_sets:
            print()
    engine.retriever.use_memory(memory, leave_out)
    if args.json:
        Path(args.json).write_text(json.dumps(figures if args.all_sets else next(iter(figures.values())), indent=1))
    return 0


def cmd_bench(args, settings: Settings) -> int:
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench import main as bench_main

    return bench_main(args, settings)


def cmd_serve(args, settings: Settings) -> int:
    from .telegram_bot import run

    return run(settings, webhook_url=args.webhook, port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_bot.py", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--webhook", metavar="URL", help="serve a webhook at URL instead of long polling")
    parser.add_argument("--port", type=int, default=8443, help="port for --webhook (default 8443)")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("index", help="build or update the index from corpus/")
    p.add_argument("--full", action="store_true", help="rebuild everything from scratch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="*")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = sub.add_parser("chat", help="chat in the terminal")
    p.add_argument("--json", action="store_true", help="JSON lines: one question per input line")
    p = sub.add_parser("eval", help="measure retrieval on the QA set")
    p.add_argument("--set", default=FINAL_SET, help=f"the QA set (default: the seed corpus's final test, {FINAL_SET})")
    p.add_argument("--all-sets", action="store_true",
                   help="score every QA set of the seed corpus in turn (its own questions left out of the memory)")
    p.add_argument("--verbose", action="store_true", help="list the misses")
    p.add_argument("--fit", action="store_true",
                   help="first fit the ranker and the answer/refuse model on every development corpus in "
                        "eval/corpora (for the embedder in use; writes bot/ranker.json, bot/calibration.json)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--cv", action="store_true",
                   help="leave-one-corpus-out: score each development corpus in eval/corpora with models "
                        "fitted on the other corpora only (never on a question about it), one row per corpus "
                        "with plain and z-scored dense baselines")
    p.add_argument("--corpora", metavar="A,B", help="with --cv: only these corpora")
    p.add_argument("--corpus", metavar="NAME", help="score a set of another evaluation corpus (eval/corpora/NAME) "
                                                    "with the deployed models over its own index")
    p.add_argument("--baselines", action="store_true", help="also score plain dense, per-language dense and BM25")
    p = sub.add_parser("bench", help="run the benchmarks and write BENCHMARKS.md")
    p.add_argument("--quick", action="store_true", help="smaller sizes (for CI)")
    p.add_argument("--scale", default="10000,100000,1000000", help="synthetic corpus sizes")
    args = parser.parse_args(argv)
    if args.command is None:
        # The bundled encoder and FAISS run on OpenMP, whose idle threads spin by default. In
        # the bot, questions from several chats and a background /reindex share the cores, and
        # spinning threads starve the ones with work: with one core busy elsewhere a question's
        # encoding has a p95 of ~150-180 ms instead of ~30 ms with passive waiting. On an idle
        # machine passive waiting costs ~10 ms per question (p50 ~21 vs ~12 ms), so the one-user
        # commands (ask, chat, index, eval) keep the default. Figures: `run_bot.py bench`,
        # "OpenMP waiting". Set here, before OpenMP is loaded; an operator's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    setup_logging(args.verbose)
    settings = Settings.from_env()
    handlers = {"index": cmd_index, "ask": cmd_ask, "chat": cmd_chat, "eval": cmd_eval,
                "bench": cmd_bench, None: cmd_serve}
    try:
        return handlers[args.command](args, settings)
    except IndexProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

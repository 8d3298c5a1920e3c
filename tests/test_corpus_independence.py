"""Nothing about one corpus belongs in bot/'s code: what a corpus needs of its own is data that
``index`` builds from the documents (its about.toml, its questions, its names and vocabulary)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

#: subjects of the corpora in eval/corpora (the seed's countries, cities, people and sources among
#: them), folded to lower case; none may appear in a string the code uses
SUBJECTS = ("kazak", "kazach", "qazaq", "astana", "almat", "nur-sultan", "nursultan", "karagand", "vasiul",
            "nazarba", "tokayev", "tokajev", "kazinform", "nursaul", "golden horde", "aukso orda", "vilni",
            "kaun", "klaip", "curonian", "kuršių", "neringa", "nida", "erk", "tick", "lyme", "scooter",
            "paspirt", "migris", "residence permit", "vėjas", "ebike", "e-bike", "energy", "lng", "gimp")


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


@pytest.mark.parametrize("path", sorted(BOT.glob("*.py")), ids=lambda p: p.name)
def test_no_string_in_the_code_names_a_subject_of_one_corpus(path):
    found = [(line, s) for line, s in _code_strings(path)
             for subject in SUBJECTS if subject in s.lower() and not _is_word_part(s.lower(), subject)]
    assert not found, f"{path.name}: corpus subjects in code strings: {found[:5]}"


def _is_word_part(text: str, subject: str) -> bool:
    """A short stem found only inside other words ("erk" in "kerkite") is no subject."""
    import re

    return len(subject) <= 4 and not re.search(rf"(?<![a-ząčęėįšųūž]){re.escape(subject)}", text)


def test_the_seed_corpus_says_what_it_is_about_in_its_own_files():
    """The seed corpus's topic and examples live beside its documents, not in the code."""
    root = BOT.parent / "corpus"
    assert (root / "about.toml").is_file()
    from bot.about import About

    about = About.read(root)
    assert about.topic_in("en") and about.topic_in("lt") and about.examples_in("lt")

"""Language detection on questions written for this test (not taken from the eval sets)."""
import pytest

from bot.language import detect, function_words


@pytest.mark.parametrize("text, lang", [
    # English questions about Lithuanian people and places: the names must not decide
    ("Who was Algirdas Brazauskas?", "en"),
    ("What did Dalia Grybauskaitė sign in Astana?", "en"),
    ("Is Kaunas twinned with Almaty?", "en"),
    ("When was the Lietuvos bankas office opened?", "en"),
    ("Who is Lithuania's ambassador?", "en"),  # the possessive is English; lingua said Polish
    ("who is lithuanias ambassador?", "en"),
    # Lithuanian, with and without diacritics, including bare follow-ups
    ("Kiek lietuvių gyvena Kazachstane?", "lt"),
    ("kiek lietuviu gyvena kazachstane", "lt"),
    ("kas yra nursultanas nazarbajevas", "lt"),
    ("O 2019 m.?", "lt"),
    ("o eksportas?", "lt"),
    ("Ar Lietuva turi ambasadą Astanoje?", "lt"),
    ("kodel tremtiniai buvo isvezti", "lt"),
    # one word, no function words: the letters decide (lingua alone said Latvian)
    ("kultūra", "lt"),
    ("Užsienio reikalų ministerija", "lt"),
    ("Mockuvienė", "lt"),
])
def test_the_language_people_write_in(text, lang):
    assert detect(text) == lang


@pytest.mark.parametrize("text, lang", [
    ("Wie viele Litauer leben in Kasachstan?", "de"),
    ("Wann wurde die Botschaft eröffnet?", "de"),
    ("Ile Litwinów mieszka w Kazachstanie?", "pl"),
    ("Kiedy otwarto ambasadę?", "pl"),
    ("Cik lietuviešu dzīvo Kazahstānā?", "lv"),
    ("Сколько литовцев живёт в Казахстане?", "ru"),
    ("Қазақстанда қанша литвалық тұрады?", "kk"),
    ("ما هي العلاقات بين ليتوانيا وكازاخستان؟", "ar"),   # right to left
    ("מה היחסים בין ליטא לקזחסטן?", "he"),
    ("立陶宛和哈萨克斯坦的关系如何？", "zh"),
])
def test_other_languages_are_recognised(text, lang):
    assert detect(text) == lang


def test_words_both_languages_share_count_for_neither():
    assert function_words("i to is be") == (0, 0, 4)
    assert function_words("Who is Rimantas Benetis?") == (1, 0, 4)
    assert function_words("Kas yra Bolashak programa?") == (0, 2, 4)


def test_no_words_gives_the_default():
    assert detect("2021 ?!", default="lt") == "lt" and detect("", default=None) is None

"""How a letter addresses a client: "Шановна Оксано Петрівно," in Ukrainian, "Dear Oksana," in English.

The Ukrainian vocative comes from shevchenko (a port of shevchenko-js, the maintained declension
library), not from endings written here. A client has one full-name field, written in either order
("Оксана Петрівна Коваленко", "Коваленко Оксана Петрівна", "Андрій Мельник"): the given name is
the word before a patronymic, else the first word shevchenko knows as a given name, else the first.
"""

import json
import re
from functools import lru_cache
from importlib import resources

import shevchenko

# Ukrainian patronymics: -ович/-евич/-йович, -ич as in Ілліч (he); -івна/-ївна/-овна, -ічна (she).
_PATRONYMIC = {
    "male": re.compile(r"(ович|евич|євич|йович|ич)$", re.IGNORECASE),
    "female": re.compile(r"(івна|ївна|овна|ічна|инична)$", re.IGNORECASE),
}


@lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    # shevchenko's own dictionary of Ukrainian given names (lower case), shipped as package data.
    data = resources.files("shevchenko").joinpath("data/given-names.json").read_text(encoding="utf-8")
    return frozenset(json.loads(data))


def _is_given(word: str) -> bool:
    return word.lower() in _given_names()


def given_and_patronymic(full_name: str, *, sex: str = "") -> tuple[str, str | None]:
    """("Оксана", "Петрівна") from "Коваленко Оксана Петрівна"; ("Andrew", None) from "Andrew Smith"."""
    words = full_name.split()
    if not words:
        return "", None
    patterns = [_PATRONYMIC[sex]] if sex in _PATRONYMIC else list(_PATRONYMIC.values())
    for index in range(1, len(words)):
        word = words[index]
        # A surname may end like a patronymic (Ірина Ковалевич): it counts as one only in the client's
        # sex and after a given name, or as the middle of three words.
        looks_like = any(pattern.search(word) for pattern in patterns)
        if looks_like and (_is_given(words[index - 1]) or len(words) >= 3):
            return words[index - 1], word
    for word in words:
        if _is_given(word):
            return word, None
    return words[0], None


def vocative(full_name: str, *, sex: str) -> str:
    """The given name (and patronymic, when there is one) in the Ukrainian vocative: "Оксано Петрівно"."""
    given, patronymic = given_and_patronymic(full_name, sex=sex)
    if not given:
        return full_name
    gender = shevchenko.MASCULINE if sex == "male" else shevchenko.FEMININE
    parts = {"given_name": given}
    if patronymic:
        parts["patronymic_name"] = patronymic
    try:
        inflected = shevchenko.in_vocative(gender=gender, **parts)
    except shevchenko.InputValidationError:
        inflected = parts
    return " ".join(inflected[key] for key in ("given_name", "patronymic_name") if key in inflected)


def addressed_as(full_name: str, *, sex: str, language: str) -> str:
    """The name a letter's greeting uses: the Ukrainian vocative, or the English given name."""
    if language.startswith("en"):
        return given_and_patronymic(full_name, sex=sex)[0] or full_name
    return vocative(full_name, sex=sex)

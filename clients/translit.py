"""Ukrainian to Latin by the national transliteration table (resolution of the
Cabinet of Ministers of Ukraine No. 55 of 27 January 2010), the spelling used
in Ukrainian passports: a receptionist who types "Shevchenko" or "Oleksandr"
finds "Шевченко" or "Олександр"."""

_LETTERS = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
    "ю": "iu",
    "я": "ia",
    # Not Ukrainian, but clients' names sometimes come spelt the Russian way;
    # the closest Ukrainian reading keeps them searchable.
    "ё": "io",
    "ы": "y",
    "э": "e",
    "ъ": "",
}
# At the start of a word these letters are written differently: Yevhen, Yurii, Yana, Yosyp, Yizhakevych.
_WORD_START = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
# The apostrophe is dropped, and is part of the word: "Мар'яна" is "Mariana".
APOSTROPHES = "'ʼ’`‘"


def transliterate(text: str) -> str:
    """The text with each Ukrainian letter replaced by its Latin spelling; other characters kept."""
    out: list[str] = []
    previous = ""
    for char in text:
        lower = char.lower()
        if char in APOSTROPHES:
            previous = char
            continue
        if lower not in _LETTERS:
            out.append(char)
            previous = char
            continue
        at_word_start = not previous or not (previous.isalpha() or previous in APOSTROPHES)
        if at_word_start and lower in _WORD_START:
            latin = _WORD_START[lower]
        elif lower == "г" and previous.lower() == "з":
            # "зг" is "zgh", so that it is not read as "ж" (Zghurskyi, Rozghon).
            latin = "gh"
        else:
            latin = _LETTERS[lower]
        if char != lower and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
        previous = char
    return "".join(out)

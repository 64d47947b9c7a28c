"""The text that client search matches against, and the normalised query.

Pure functions: the services store `search_text_for()` on every write, bulk
loaders (demo data, the performance test) call the very same function, and
the selector normalises a query with `normalise_query()` the same way."""

import re
import unicodedata

import phonenumbers
from phonenumber_field.phonenumber import PhoneNumber, to_python

from clients.translit import APOSTROPHES, transliterate

_APOSTROPHE_RE = re.compile(f"[{re.escape(APOSTROPHES)}]")
_SPACES_RE = re.compile(r"\s+")
# Only digits and the punctuation people put inside phone numbers.
_PHONE_LIKE_RE = re.compile(r"[\d\s()+\-./]+")
_NOT_DIGIT_RE = re.compile(r"\D")


# Latin letters that Unicode does not decompose into a base letter and an accent.
_LATIN_EXTRA = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})


def _without_accents(latin: str) -> str:
    # Only ever applied to transliterated text: decomposing Cyrillic would turn "й" into "и".
    decomposed = unicodedata.normalize("NFKD", latin.translate(_LATIN_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _clean(text: str) -> str:
    # One apostrophe for all of ' ʼ ’ and single spaces, so typing either finds both.
    return _SPACES_RE.sub(" ", _APOSTROPHE_RE.sub("'", text)).strip().lower()


def phone_digits(phone) -> list[str]:
    """The phone's E.164 digits and its national form: 380671234567 and 0671234567."""
    if not phone:
        return []
    # A model's phone is already parsed; parsing again is most of the cost of a bulk load.
    number = phone if isinstance(phone, PhoneNumber) else to_python(str(phone))
    if not isinstance(number, PhoneNumber) or not number.is_valid():
        digits = _NOT_DIGIT_RE.sub("", str(phone))
        return [digits] if digits else []
    e164 = _NOT_DIGIT_RE.sub("", number.as_e164)
    national = _NOT_DIGIT_RE.sub("", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return [e164] if national == e164 else [e164, national]


def search_text_for(*, full_name: str, phone, email: str) -> str:
    """Lower-cased name, its Latin transliteration, phone digits and lower-cased email."""
    name = _clean(full_name)
    parts = [name]
    # Latin spelling without accents, so "muller" finds "Müller" and "shevchenko" finds "Шевченко".
    latin = _without_accents(transliterate(name))
    if latin != name:
        parts.append(latin)
    parts.extend(phone_digits(phone))
    if email:
        parts.append(email.strip().lower())
    return " ".join(parts)


def looks_like_phone(query: str) -> bool:
    """Only digits and phone punctuation, at least three digits: "067 123-45-67", "+38 (067) 1234567"."""
    text = _clean(query)
    return bool(_PHONE_LIKE_RE.fullmatch(text)) and sum(c.isdigit() for c in text) >= 3


def phone_query_digits(query: str) -> str:
    """The digits of a phone as typed in any usual way, as search_text holds them: an international "00"
    dropped ("00380..." -> "380..."), and the old trunk "8" before a national number ("8 067..." -> "067...")."""
    digits = _NOT_DIGIT_RE.sub("", query)
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("80"):
        digits = digits[1:]
    return digits


def normalise_query(query: str) -> str:
    """The query as search_text spells things: lower case, and digits only when it looks like a phone."""
    text = _clean(query)
    if looks_like_phone(text):
        return phone_query_digits(text)
    return text

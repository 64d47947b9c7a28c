import pytest

from clients.search import normalise_query, phone_digits, search_text_for


def test_search_text_for_holds_name_transliteration_phones_and_email():
    text = search_text_for(full_name="  Оксана  Шевченко ", phone="+380671234567", email="Oksana.S@Example.com")
    assert text == "оксана шевченко oksana shevchenko 380671234567 0671234567 oksana.s@example.com"


def test_search_text_for_latin_name_strips_accents_once():
    assert search_text_for(full_name="Anna Müller", phone="", email="") == "anna müller anna muller"
    assert search_text_for(full_name="Paweł Nowak", phone="", email="") == "paweł nowak pawel nowak"
    assert search_text_for(full_name="Emily Clarke", phone="", email="") == "emily clarke"


def test_search_text_for_unifies_apostrophes():
    assert search_text_for(full_name="Мар\u02bcяна", phone="", email="") == "мар'яна mariana"


def test_phone_digits_of_a_foreign_number_give_its_national_form():
    assert phone_digits("+447911123456") == ["447911123456", "07911123456"]


def test_phone_digits_of_an_empty_phone_are_none():
    assert phone_digits("") == []


@pytest.mark.parametrize(
    ("query", "normalised"),
    [
        ("067 123", "067123"),
        ("+38 (067) 123-45", "3806712345"),
        ("  Шевченко   Тарас ", "шевченко тарас"),
        ("Мар’яна", "мар'яна"),
        ("12", "12"),
        ("client7@EXAMPLE", "client7@example"),
    ],
)
def test_normalise_query(query, normalised):
    assert normalise_query(query) == normalised


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("067 123 45 67", "0671234567"),
        ("(067) 123-45-67", "0671234567"),
        ("+38 067 123 4567", "380671234567"),
        ("+380 (67) 123-45-67", "380671234567"),
        ("00380671234567", "380671234567"),
        ("8 067 123 45 67", "0671234567"),
        ("67 123 45 67", "671234567"),
    ],
)
def test_a_phone_typed_in_any_usual_way_becomes_digits_the_search_text_holds(typed, digits):
    assert normalise_query(typed) == digits
    assert digits in search_text_for(full_name="x", phone="+380671234567", email="")

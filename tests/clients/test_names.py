"""How letters address clients: the given name (and patronymic) found in one full-name field."""

import pytest

from clients.names import addressed_as, given_and_patronymic, vocative


@pytest.mark.parametrize(
    ("full_name", "sex", "expected"),
    [
        ("Оксана Петрівна Коваленко", "female", ("Оксана", "Петрівна")),
        ("Коваленко Оксана Петрівна", "female", ("Оксана", "Петрівна")),
        ("Андрій Мельник", "male", ("Андрій", None)),
        ("Мельник Андрій", "male", ("Андрій", None)),
        # A surname ending like a masculine patronymic is no patronymic of a woman.
        ("Ірина Ковалевич", "female", ("Ірина", None)),
        ("Andrew Smith", "male", ("Andrew", None)),
        ("", "female", ("", None)),
    ],
)
def test_given_and_patronymic_whatever_the_order(full_name, sex, expected):
    assert given_and_patronymic(full_name, sex=sex) == expected


@pytest.mark.parametrize(
    ("full_name", "sex", "expected"),
    [
        ("Оксана Петрівна Коваленко", "female", "Оксано Петрівно"),
        ("Андрій Мельник", "male", "Андрію"),
        ("Микола Іванович Петренко", "male", "Миколо Івановичу"),
        ("Олег Ткаченко", "male", "Олегу"),
        ("Наталія Литвиненко", "female", "Наталіє"),
        # A name shevchenko cannot decline stays as it is.
        ("John Smith", "male", "John"),
    ],
)
def test_vocative_declines_the_given_name_and_patronymic(full_name, sex, expected):
    assert vocative(full_name, sex=sex) == expected


def test_addressed_as_in_english_is_the_given_name_in_the_nominative():
    assert addressed_as("Оксана Петрівна Коваленко", sex="female", language="en") == "Оксана"
    assert addressed_as("Oksana Kovalenko", sex="female", language="en") == "Oksana"
    assert addressed_as("Оксана Коваленко", sex="female", language="uk") == "Оксано"

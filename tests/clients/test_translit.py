import pytest

from clients.translit import transliterate


@pytest.mark.parametrize(
    ("ukrainian", "latin"),
    [
        # Examples from the KMU 2010 table itself.
        ("Алушта", "Alushta"),
        ("Борщагівка", "Borshchahivka"),
        ("Вишгород", "Vyshhorod"),
        ("Гадяч", "Hadiach"),
        ("Згорани", "Zghorany"),
        ("Ґалаґан", "Galagan"),
        ("Єнакієве", "Yenakiieve"),
        ("Наєнко", "Naienko"),
        ("Житомир", "Zhytomyr"),
        ("Іванків", "Ivankiv"),
        ("Їжакевич", "Yizhakevych"),
        ("Кадиївка", "Kadyivka"),
        ("Йосипівка", "Yosypivka"),
        ("Стрий", "Stryi"),
        ("Олексій", "Oleksii"),
        ("Харків", "Kharkiv"),
        ("Біла Церква", "Bila Tserkva"),
        ("Щербухи", "Shcherbukhy"),
        ("Юрій", "Yurii"),
        ("Корюківка", "Koriukivka"),
        ("Яготин", "Yahotyn"),
        ("Ічня", "Ichnia"),
        ("Знам'янка", "Znamianka"),
        ("Мар\u02bcяна", "Mariana"),
        ("Шевченко Тарас", "Shevchenko Taras"),
    ],
)
def test_transliterate_follows_the_national_table(ukrainian, latin):
    assert transliterate(ukrainian) == latin


def test_transliterate_keeps_latin_digits_and_punctuation():
    assert transliterate("Emily Clarke-Smith, 42") == "Emily Clarke-Smith, 42"


def test_transliterate_lower_case_word_start_after_hyphen():
    assert transliterate("юрчук-яценко") == "yurchuk-yatsenko"

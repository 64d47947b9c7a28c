"""parlor.widgets.QuickSelect draws exactly what Django's select template draws, escaped."""

import pytest
from django import forms

from parlor.widgets import QuickSelect

CHOICES = [
    ("", "---------"),
    ("1", "Олена"),
    ("2", '<b>O\'Neil & "Co"</b>'),
    ("Rooms", [("r1", "Room A"), ("r2", "Room <B>")]),
    (3, "A number"),
]


@pytest.mark.parametrize("value", [None, "", "1", "2", "r2", 3, ["1"]])
@pytest.mark.parametrize(
    "attrs",
    [None, {"class": "form-select form-select-sm is-invalid", "required": True, "disabled": False, "data-x": 'a"b'}],
)
def test_quick_select_draws_what_djangos_select_draws(value, attrs):
    django_markup = forms.Select(choices=CHOICES, attrs=attrs).render("masseur-0", value, attrs={"id": "id_m"})
    quick_markup = QuickSelect(choices=CHOICES, attrs=attrs).render("masseur-0", value, attrs={"id": "id_m"})

    assert quick_markup == django_markup


def test_quick_select_escapes_names_labels_and_values():
    markup = QuickSelect(choices=[('"><script>', "<script>alert(1)</script>")]).render('a"b', None)

    assert "<script>" not in markup
    assert 'value="&quot;&gt;&lt;script&gt;"' in markup
    assert 'name="a&quot;b"' in markup

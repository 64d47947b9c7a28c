"""Allergens by name: stored under the parlor's codes ("rose"), shown in the reader's language ("троянда").

Staff type an allergen in either language; the common ones become their code, so a Ukrainian
"Троянда" and an English "Rose" are the same allergen to the session log's check. Anything else is
kept as typed (lower case): it is the client's own word, shown as it is.
"""

from functools import lru_cache

from django.conf import settings
from django.utils import translation

from clients.models import COMMON_ALLERGENS


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, str]:
    """Every language's name of each common allergen (and the code itself) -> the code."""
    names = {}
    for language, _label in settings.LANGUAGES:
        with translation.override(language):
            for code, label in COMMON_ALLERGENS.items():
                names[str(label).lower()] = code
    names.update({code: code for code in COMMON_ALLERGENS})
    return names


def allergen_code(name: str) -> str:
    """ "Троянда" or "Rose" -> "rose"; an allergen the parlor has no code for stays as typed, lower-cased."""
    name = " ".join(str(name).split()).lower()
    return _codes_by_name().get(name, name)


def allergen_label(code: str) -> str:
    """The allergen's name in the active language: "rose" -> "троянда"; an uncoded one as stored."""
    label = COMMON_ALLERGENS.get(str(code).strip().lower())
    return str(label) if label is not None else str(code)


def allergen_names(codes) -> list[str]:
    """Every language's name of each allergen (the code included), to find it in free text."""
    wanted = {allergen_code(code) for code in codes}
    return sorted({name for name, code in _codes_by_name().items() if code in wanted} | wanted)

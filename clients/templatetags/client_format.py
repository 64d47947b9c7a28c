"""Template filters of the clients app: {% load client_format %}."""

from django import template

from clients.allergens import allergen_label

register = template.Library()


@register.filter
def allergen(code) -> str:
    """An allergen in the page's language: "rose" -> "троянда"."""
    return allergen_label(code)


@register.filter
def allergens(codes) -> str:
    """A list of allergens in the page's language, comma-separated."""
    return ", ".join(allergen_label(code) for code in codes or ())

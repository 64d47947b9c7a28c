"""The signed-in online client for the public pages' header (settings.TEMPLATES); lazy, so a page
that never shows it (every staff page) costs nothing."""

from django.utils.functional import SimpleLazyObject

from sessions.online import visitor


def online(request) -> dict:
    return {"online_visitor": SimpleLazyObject(lambda: visitor.visitor(request))}

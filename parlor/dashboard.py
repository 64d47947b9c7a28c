"""Panels on the landing page. parlor cannot import the apps built on it, so
they register their panels here (from AppConfig.ready) and the dashboard
shows each one that answers for the user."""

from collections.abc import Callable

# (request, today) -> (template name, context) or None when not for this user.
Panel = Callable[..., tuple[str, dict] | None]

_panels: list[Panel] = []


def register(panel: Panel) -> Panel:
    if panel not in _panels:
        _panels.append(panel)
    return panel


def render_panels(request, today) -> list[tuple[str, dict]]:
    return [result for panel in _panels if (result := panel(request, today)) is not None]

"""Panels other apps add to the client detail page.

A panel is a callable `(request, client) -> (template name, context) | None`;
None hides it from this user. Apps register theirs from AppConfig.ready(), e.g.
screening's verdict, history and clearances, so clients never imports them.
The page calls panels in registration order; each one owns its queries.

The new-client form likewise offers the next steps other apps register (register_next_step).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from clients.models import Client

Panel = Callable[[HttpRequest, Client], tuple[str, dict] | None]

_panels: list[Panel] = []


def register(panel: Panel) -> Panel:
    """Add a panel once (ready() may run twice in tests); usable as a decorator."""
    if panel not in _panels:
        _panels.append(panel)
    return panel


def registered() -> list[Panel]:
    return list(_panels)


def render_panels(request: HttpRequest, client: Client) -> list[SafeString]:
    """The HTML of each panel this user may see, in registration order."""
    rendered = []
    for panel in _panels:
        result = panel(request, client)
        if result is None:
            continue
        template_name, context = result
        # render_to_string escapes as any page does and returns safe HTML.
        rendered.append(render_to_string(template_name, {"client": client, **context}, request=request))
    return rendered


# --- what may follow registering a client -------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """A button on the new-client form that registers the client and goes on to another app's page with
    the client chosen (sessions: "Register and book a course"), for users with `permission`."""

    key: str
    label: str
    permission: str
    url: Callable[[Client], str]


_next_steps: list[NextStep] = []


def register_next_step(step: NextStep) -> NextStep:
    """Add a next step once (ready() may run twice in tests)."""
    if all(existing.key != step.key for existing in _next_steps):
        _next_steps.append(step)
    return step


def next_steps_for(user) -> list[NextStep]:
    """The next steps this user may take, in registration order."""
    return [step for step in _next_steps if user.has_perm(step.permission)]

"""Whether a user may see a client's health data, for the clients app's own pages (the allergens
and notes on the client page and form, the access trail's reason to record).

The rule is screening's (screening/access.py: the manager sees every client, a masseur the
clients booked with them, nobody else). clients may not import screening, so screening
registers its rule here from its AppConfig.ready(). With none registered nobody sees health
data: the safe side."""

from collections.abc import Callable

HealthRule = Callable[..., bool]

_rule: HealthRule | None = None


def register(rule: HealthRule) -> HealthRule:
    """Set the rule `(user, client) -> bool`; the last one registered wins (ready() may run twice)."""
    global _rule
    _rule = rule
    return rule


def can_view_health(user, client) -> bool:
    """True when the user may see this client's health data, not just their name and schedule."""
    return _rule is not None and bool(_rule(user, client))

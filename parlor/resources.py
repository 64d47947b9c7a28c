"""The manager's screens for the parlor's resources share one list and one
form page; this table says, per resource, what they show and who may edit."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from parlor import forms
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours


@dataclass(frozen=True)
class Resource:
    slug: str
    model: type[models.Model]
    form: type
    title: str
    columns: tuple[tuple[str, str], ...]  # (attribute, heading)
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    @property
    def app_label(self) -> str:
        return self.model._meta.app_label

    def perm(self, action: str) -> str:
        return f"{self.app_label}.{action}_{self.model._meta.model_name}"

    def queryset(self):
        return self.model.objects.select_related(*self.select_related).prefetch_related(*self.prefetch_related).all()


RESOURCES = {
    r.slug: r
    for r in (
        Resource(
            "massage-types",
            MassageType,
            forms.MassageTypeForm,
            _("Massage types"),
            (
                ("name", _("Name")),
                ("duration_minutes", _("Minutes")),
                ("buffer_minutes", _("Rest after")),
                ("price_uah", _("Price, UAH")),
                ("requires_referral", _("Referral")),
                ("min_age", _("Min. age")),
                ("is_active", _("Offered")),
            ),
        ),
        Resource(
            "rooms",
            Room,
            forms.RoomForm,
            _("Rooms"),
            (("name", _("Name")), ("notes", _("Notes")), ("is_active", _("In use"))),
        ),
        Resource(
            "masseurs",
            Masseur,
            forms.MasseurForm,
            _("Masseurs"),
            (
                ("display_name", _("Name")),
                ("user", _("Login")),
                ("qualifications", _("Qualified for")),
                ("is_active", _("Works here")),
            ),
            select_related=("user",),
            prefetch_related=("qualifications",),
        ),
        Resource(
            "working-hours",
            WorkingHours,
            forms.WorkingHoursForm,
            _("Working hours"),
            (
                ("masseur", _("Masseur")),
                ("get_weekday_display", _("Weekday")),
                ("starts", _("From")),
                ("ends", _("Until")),
            ),
            select_related=("masseur",),
        ),
        Resource(
            "time-off",
            TimeOff,
            forms.TimeOffForm,
            _("Time off"),
            (("masseur", _("Masseur")), ("starts_at", _("From")), ("ends_at", _("Until")), ("reason", _("Reason"))),
            select_related=("masseur",),
        ),
    )
}


# What follows a saved row, registered by the apps built on parlor (which parlor cannot import):
# sessions sends a new time off that clashes with bookings to its reassignment page.
# A hook is `(request, instance) -> URL or None`; the first URL wins, else the list page.
AfterSave = Callable[..., str | None]
_after_save: dict[str, list[AfterSave]] = {}


def on_saved(slug: str, hook: AfterSave) -> AfterSave:
    """Register a hook for rows of the resource `slug`, once (ready() may run twice in tests)."""
    hooks = _after_save.setdefault(slug, [])
    if hook not in hooks:
        hooks.append(hook)
    return hook


def after_save_url(slug: str, request, instance) -> str | None:
    """Where to go after saving `instance`: the first hook's URL, or None for the resource's list."""
    for hook in _after_save.get(slug, []):
        url = hook(request, instance)
        if url:
            return url
    return None

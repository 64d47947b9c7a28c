"""A manager's overrides of blocking contraindications, and holds: why an appointment stopped, who
stopped it and when, and how it was released. Both are history: never edited, released holds stay."""

import uuid

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions.models.booking import Appointment


# The change history (django-pghistory) keeps who wrote or released it, and what it said.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Override(models.Model):
    """A manager's written permission to go ahead despite the contraindications that blocked when it was
    written, and only those: a later, different block stops the appointment again."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("appointment")
    )
    # The verdict's blocker codes ("oncology", "pregnancy", "min-age") it covers.
    covers = ArrayField(models.CharField(max_length=60), verbose_name=_("covers"), default=list, blank=True)
    # Their names as shown then: health details, for those who may see the record.
    covers_names = ArrayField(models.CharField(max_length=200), verbose_name=_("names"), default=list, blank=True)
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="treatments_override_has_reason"),
        ]
        # The foreign key's index serves "overrides of appointment A" (the gate, the page).

    def __str__(self):
        return f"{self.appointment_id} · {', '.join(self.covers)}"

    def get_absolute_url(self):
        return self.appointment.get_absolute_url()


# The change history (django-pghistory) keeps who wrote or released it, and what it said.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Hold(models.Model):
    """An appointment stopped because the screening no longer allows it or the day-of answers do not.
    Released by an action (the verdict allows it again, or a manager's written override), never by
    editing the status; the row stays as the hold's history."""

    class Cause(models.TextChoices):
        HEALTH = "health", _("the screening no longer allows it")
        DAY_OF = "day_of", _("the answers at check-in")

    class Advice(models.TextChoices):
        # What the front desk does: no health detail, reception sees only this.
        CLEARANCE = "clearance", _("Ask the client for a doctor's permission.")
        OVERRIDE = "override", _("No massage for now: the manager decides (a written override) or the client rebooks.")
        SCREENING = "screening", _("Record a fresh screening with the client.")
        REBOOK = "rebook", _("Call the client to move the session to another day.")

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="holds", verbose_name=_("appointment")
    )
    cause = models.CharField(_("cause"), max_length=10, choices=Cause.choices)
    advice = models.CharField(_("what to do"), max_length=10, choices=Advice.choices)
    # [{"code": ..., "name": ...}]: the findings behind it, for those who may see the health record.
    concerns = models.JSONField(_("concerns"), default=list, blank=True)
    # What noticed it: "screening", "clearance", "scan", "check-in", "confirmation", "review".
    source = models.CharField(_("noticed by"), max_length=20)
    held_at = models.DateTimeField(_("held at"), default=timezone.now)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("held by"),
    )
    # Holds made by one check (the sessions of a course) share it: one notice to the front desk.
    batch = models.UUIDField(_("batch"), default=uuid.uuid4)
    notified_at = models.DateTimeField(_("front desk told at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_note = models.CharField(_("how it was released"), max_length=300, blank=True)

    class Meta:
        ordering = ["held_at", "pk"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            # At most one open hold per appointment: two checks at once hold it once.
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(released_at__isnull=True), name="treatments_hold_one_open"
            ),
        ]
        indexes = [
            # The notice: "holds of batch B not yet told to the front desk".
            models.Index(fields=["batch"], name="treatments_hold_batch"),
        ]

    def __str__(self):
        return f"{self.appointment_id} · {self.get_cause_display()} · {self.held_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return self.appointment.get_absolute_url()

    @property
    def is_open(self) -> bool:
        return self.released_at is None

    @property
    def concern_names(self) -> list[str]:
        return [str(c.get("name") or c.get("code")) for c in self.concerns or []]

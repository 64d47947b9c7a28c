"""The waiting list: clients waiting for a time that suits them, the freed times offered to them, the
offers (first to accept wins) and their emails as outbox rows."""

import datetime

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlor.formats import when
from parlor.models import WorkingHours
from sessions.models.booking import Appointment, Course


# Wishes, priorities, what became of them and who wrote them: kept by triggers in WaitlistEntryEvent.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WaitlistEntry(models.Model):
    """A client waiting for a massage type, optionally with one masseur, on some weekdays and at some
    times of day, until a date."""

    class Window(models.TextChoices):
        # By the session's local start time: [from, to).
        MORNING = "morning", _("morning (until 12:00)")
        AFTERNOON = "afternoon", _("afternoon (12:00-17:00)")
        EVENING = "evening", _("evening (from 17:00)")

    # The start times each window takes, local wall-clock.
    WINDOW_HOURS = {
        Window.MORNING: (datetime.time(0, 0), datetime.time(12, 0)),
        Window.AFTERNOON: (datetime.time(12, 0), datetime.time(17, 0)),
        Window.EVENING: (datetime.time(17, 0), datetime.time.max),
    }

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting")
        FILLED = "filled", _("got a time")
        CANCELLED = "cancelled", _("taken off the list")
        EXPIRED = "expired", _("past its date")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("client")
    )
    massage_type = models.ForeignKey(
        "parlor.MassageType", on_delete=models.PROTECT, related_name="+", verbose_name=_("massage type")
    )
    masseur = models.ForeignKey(
        "parlor.Masseur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("masseur"),
        help_text=_("Empty: any masseur."),
    )
    # A session of this course: booked into it when the client accepts (a course client comes first).
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("course")
    )
    # 0 = Monday, like parlor.WorkingHours; empty: any day.
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(choices=WorkingHours.Weekday.choices),
        verbose_name=_("days"),
        default=list,
        blank=True,
    )
    windows = ArrayField(
        models.CharField(max_length=10, choices=Window.choices),
        verbose_name=_("times of day"),
        default=list,
        blank=True,
    )
    until = models.DateField(_("until"))
    priority = models.BooleanField(_("priority (manager)"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(_("waiting since"), default=timezone.now)
    # None: the client added themselves online.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-priority", "created_at", "pk"]
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting-list entries")
        permissions = [("prioritise_waitlistentry", _("Can put a waiting client first"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=[0, 1, 2, 3, 4, 5, 6]), name="treatments_waitlistentry_weekdays"
            ),
            models.CheckConstraint(
                condition=Q(windows__contained_by=["morning", "afternoon", "evening"]),
                name="treatments_waitlistentry_windows",
            ),
        ]
        indexes = [
            # The scan: "waiting entries" in the order they are offered.
            models.Index(
                F("priority").desc(), "created_at", name="treatments_waitlist_waiting", condition=Q(state="waiting")
            ),
            # The client card: "entries of client C".
            models.Index(fields=["client", "-created_at"], name="treatments_waitlist_client"),
        ]

    def __str__(self):
        return f"{self.client} · {self.massage_type} · {self.until:%Y-%m-%d}"

    def get_absolute_url(self):
        return self.client.get_absolute_url()

    def fits_time(self, local: datetime.datetime) -> bool:
        """Does a session starting at this local wall-clock time suit the entry's days and windows?"""
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        if not self.windows:
            return True
        start = local.time()
        bounds = [self.WINDOW_HOURS[w] for w in self.windows if w in self.WINDOW_HOURS]
        return any(lo <= start < hi for lo, hi in bounds)


class WaitlistSlot(models.Model):
    """A free time offered to waiting clients: one massage type with one masseur in one room. Its row is
    what the accepters lock, so of those who accept at once exactly one gets it."""

    class State(models.TextChoices):
        OPEN = "open", _("offered")
        FILLED = "filled", _("filled from the waiting list")
        CLOSED = "closed", _("closed")

    massage_type = models.ForeignKey("parlor.MassageType", on_delete=models.PROTECT, related_name="+")
    masseur = models.ForeignKey("parlor.Masseur", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey("parlor.Room", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    blocks_until = models.DateTimeField()
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("offered time")
        verbose_name_plural = _("offered times")
        constraints = [
            # One open offer round per masseur and start: two scans at once make one.
            models.UniqueConstraint(
                fields=["masseur", "starts_at"], condition=Q(state="open"), name="treatments_waitlistslot_one_open"
            ),
        ]
        indexes = [
            # The dashboard's "filled this week".
            models.Index(fields=["closed_at"], condition=Q(state="filled"), name="treatments_wlslot_filled"),
        ]

    def __str__(self):
        return f"{self.masseur} · {when(self.starts_at)} · {self.get_state_display()}"


# Who was offered what and what they did with it: kept by triggers in WaitlistOfferEvent.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WaitlistOffer(models.Model):
    """One waiting client offered one freed time, by email, until expires_at."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        ACCEPTED = "accepted", _("accepted")
        TAKEN = "taken", _("taken by another client")
        EXPIRED = "expired", _("expired")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    slot = models.ForeignKey(WaitlistSlot, on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    offered_at = models.DateTimeField(_("offered at"), default=timezone.now)
    expires_at = models.DateTimeField(_("open until"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("booked")
    )

    class Meta:
        ordering = ["offered_at", "pk"]
        verbose_name = _("waiting-list offer")
        verbose_name_plural = _("waiting-list offers")
        constraints = [
            models.UniqueConstraint(fields=["entry", "slot"], name="treatments_waitlistoffer_once_per_slot"),
            models.UniqueConstraint(
                fields=["slot"], condition=Q(state="accepted"), name="treatments_waitlistoffer_one_winner"
            ),
        ]
        indexes = [
            # The scan's expiry and the dashboard: "open offers ending before T".
            models.Index(fields=["expires_at"], condition=Q(state="open"), name="treatments_wloffer_open"),
        ]

    def __str__(self):
        return f"{self.entry_id} · {self.slot_id} · {self.get_state_display()}"


class WaitlistMessage(models.Model):
    """An email about an offer, as an outbox row: claimed by a conditional UPDATE, sent once."""

    class Kind(models.TextChoices):
        OFFER = "offer", _("a time is free")
        TAKEN = "taken", _("the time was taken")

    class State(models.TextChoices):
        DUE = "due", _("due")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    offer = models.ForeignKey(WaitlistOffer, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # "waitlist:<offer>:<kind>": a retried or duplicated scan never makes a second one.
    key = models.CharField(max_length=100, unique=True)
    due_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DUE)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("waiting-list email")
        verbose_name_plural = _("waiting-list emails")
        indexes = [
            # The dispatcher: "state = due AND due_at <= now", oldest first.
            models.Index(fields=["due_at"], condition=Q(state="due"), name="treatments_wlmessage_due"),
            # The reaper: "state = sending AND claimed_at < now - limit".
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="treatments_wlmessage_claimed"),
        ]

    def __str__(self):
        return self.key

"""Course plans and appointments: what is booked, for whom, with whom, where."""

import datetime

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from parlor.db import TsTzRange
from parlor.formats import when
from parlor.models import WorkingHours

MIN_COURSE_SESSIONS = 1
MAX_COURSE_SESSIONS = 30


class Course(models.Model):
    """A planned series of sessions of one massage type for one client."""

    class Indication(models.TextChoices):
        BACK_PAIN = "back_pain", _("back pain")
        SCOLIOSIS = "scoliosis", _("scoliosis")
        OSTEOCHONDROSIS = "osteochondrosis", _("osteochondrosis")
        SEDENTARY_WORK = "sedentary_work", _("sedentary work")
        FATIGUE = "fatigue", _("chronic fatigue or poor sleep")
        HEADACHES = "headaches", _("headaches")
        INJURY_REHAB = "injury_rehab", _("rehabilitation after a back injury")
        STIFFNESS = "stiffness", _("morning or evening stiffness")
        OTHER = "other", _("other")

    class Cadence(models.TextChoices):
        DAILY = "daily", _("daily")
        EVERY_OTHER_DAY = "every_other_day", _("every other day")
        WEEKDAYS = "weekdays", _("chosen weekdays")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        ACTIVE = "active", _("active")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="courses", verbose_name=_("client")
    )
    massage_type = models.ForeignKey(
        "parlor.MassageType", on_delete=models.PROTECT, related_name="courses", verbose_name=_("massage type")
    )
    indication = models.CharField(_("indication"), max_length=20, choices=Indication.choices)
    planned_sessions = models.PositiveSmallIntegerField(
        _("planned sessions"),
        default=10,
        validators=[MinValueValidator(MIN_COURSE_SESSIONS), MaxValueValidator(MAX_COURSE_SESSIONS)],
    )
    cadence = models.CharField(_("cadence"), max_length=20, choices=Cadence.choices, default=Cadence.DAILY)
    # Only for the "chosen weekdays" cadence: 0 = Monday, like parlor.WorkingHours.
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(choices=WorkingHours.Weekday.choices),
        verbose_name=_("weekdays"),
        default=list,
        blank=True,
    )
    preferred_masseur = models.ForeignKey(
        "parlor.Masseur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("preferred masseur"),
    )
    preferred_time = models.TimeField(_("preferred time"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The booking form's hidden key: submitting it twice returns the first course.
    request_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=MIN_COURSE_SESSIONS, planned_sessions__lte=MAX_COURSE_SESSIONS),
                name="treatments_course_planned_sessions_range",
            ),
            models.CheckConstraint(
                condition=~Q(cadence="weekdays") | Q(weekdays__len__gt=0),
                name="treatments_course_weekdays_when_chosen",
                violation_error_message=_("Choose at least one weekday."),
            ),
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=[0, 1, 2, 3, 4, 5, 6]),
                name="treatments_course_weekdays_valid",
            ),
        ]
        indexes = [
            # The client page: "courses of client C, newest first".
            models.Index(fields=["client", "-created_at"], name="treatments_course_client"),
        ]

    def __str__(self):
        return f"{self.client} · {self.massage_type} × {self.planned_sessions}"

    def get_absolute_url(self):
        return reverse("sessions:course-detail", args=[self.pk])


# Bookings, moves, cancellations and overrides (with their reasons) are kept by triggers in AppointmentEvent.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Appointment(models.Model):
    """One session booked for a client with a masseur in a room."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        CONFIRMED = "confirmed", _("confirmed")
        CHECKED_IN = "checked_in", _("checked in")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        NO_SHOW = "no_show", _("no-show")
        ON_HOLD = "on_hold", _("on hold")
        # Pencilled in while the client brings a doctor's note or answers the screening (a new caller, by
        # the emailed link): the slot is kept, the session cannot start; it becomes booked by itself when
        # a clearance or a screening makes it bookable.
        AWAITING_CLEARANCE = "awaiting_clearance", _("awaiting screening or clearance")
        # Held for a client booking online while they sign in, answer the questionnaire and confirm:
        # live (it keeps the masseur and the room under the exclusion constraints) until
        # reserved_until; a periodic task frees the ones left unconfirmed (sessions.online).
        RESERVED = "reserved", _("reserved online")

    class Channel(models.TextChoices):
        """Who made the booking: the front desk, the client online, or the client taking a waitlist offer."""

        DESK = "desk", _("at the front desk")
        ONLINE = "online", _("online")
        WAITLIST = "waitlist", _("from the waiting list")

    # These free the masseur and the room; every other status holds them.
    NOT_LIVE = (Status.CANCELLED, Status.NO_SHOW)
    # What may still be moved, cancelled or marked a no-show.
    UPCOMING = (Status.BOOKED, Status.CONFIRMED, Status.ON_HOLD, Status.AWAITING_CLEARANCE)
    # What the screening allows as booked: the client may confirm it, the masseur may start it.
    BOOKABLE = (Status.BOOKED, Status.CONFIRMED)

    # Reasons the system records rather than a person types: stored as a code, shown in the reader's
    # language (cancellation_reason_text). Anything else in cancellation_reason is a person's own words.
    CANCELLED_BY_CLIENT_LINK = "client_link"
    CANCELLED_ONLINE = "client_online"
    CANCELLATION_REASONS = {
        CANCELLED_BY_CLIENT_LINK: _("Cancelled by the client by the email link."),
        CANCELLED_ONLINE: _("Cancelled by the client online."),
    }

    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("course"),
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("client")
    )
    massage_type = models.ForeignKey(
        "parlor.MassageType", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("massage type")
    )
    masseur = models.ForeignKey(
        "parlor.Masseur", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("masseur")
    )
    room = models.ForeignKey(
        "parlor.Room", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("room")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # ends_at plus the massage type's rest buffer: the client rests under a
    # blanket, so the room and the masseur are busy until then.
    blocks_until = models.DateTimeField(_("room and masseur busy until"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    booked_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    # The SEQUENCE of its event in the client's calendar files: raised by every move and by the
    # cancellation, so a calendar program replaces the event it has rather than keeping an old one.
    calendar_sequence = models.PositiveIntegerField(_("calendar revision"), default=0, editable=False)
    # The booking form's hidden key: submitting it twice returns the first appointment.
    request_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Only while RESERVED: when the online hold ends unless the client confirms.
    reserved_until = models.DateTimeField(_("reserved until"), null=True, blank=True, editable=False)
    # db_default too: rows written by code older than the column still insert (see MassageType).
    channel = models.CharField(
        _("booked"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.DESK,
        db_default=Channel.DESK,
        editable=False,
    )

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        permissions = [("override_block", _("Can book despite a blocking contraindication, with a written reason"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="treatments_appointment_ends_after_starts"
            ),
            models.CheckConstraint(
                condition=Q(blocks_until__gte=F("ends_at")), name="treatments_appointment_blocks_after_ends"
            ),
            # An online hold always ends; nothing else carries an end of hold.
            models.CheckConstraint(
                condition=Q(status="reserved", reserved_until__isnull=False)
                | (~Q(status="reserved") & Q(reserved_until__isnull=True)),
                name="treatments_appointment_reserved_until_when_reserved",
            ),
            # The guarantees behind the services' friendly checks: no two live
            # appointments of one masseur, or of one room, overlap, rest buffer
            # included. Half-open ranges: the next one may start at blocks_until.
            ExclusionConstraint(
                name="treatments_appointment_masseur_no_overlap",
                expressions=[
                    ("masseur", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "blocks_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status__in=["cancelled", "no_show"]),
            ),
            ExclusionConstraint(
                name="treatments_appointment_room_no_overlap",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "blocks_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status__in=["cancelled", "no_show"]),
            ),
            # A client is in one place at a time; the rest after a session is theirs too.
            ExclusionConstraint(
                name="treatments_appointment_client_no_overlap",
                expressions=[
                    ("client", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "blocks_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status__in=["cancelled", "no_show"]),
            ),
        ]
        indexes = [
            # Day view and availability: "appointments with starts_at in [day start, day end)".
            models.Index(fields=["starts_at"], name="treatments_appt_starts"),
            # Client page: "appointments of client C ordered by starts_at".
            models.Index(fields=["client", "starts_at"], name="treatments_appt_client_starts"),
            # Course page and gap warnings: "sessions of course K ordered by starts_at".
            models.Index(fields=["course", "starts_at"], name="treatments_appt_course_starts"),
            # The hold reaper: "reserved AND reserved_until <= now".
            models.Index(
                fields=["reserved_until"], condition=Q(status="reserved"), name="treatments_appt_reserved_until"
            ),
        ]

    def __str__(self):
        return f"{self.client} · {self.massage_type} · {when(self.starts_at)}"

    def get_absolute_url(self):
        return reverse("sessions:appointment-detail", args=[self.pk])

    @property
    def cancellation_reason_text(self) -> str:
        """The reason as a person reads it: a system code translated, a person's words as written."""
        return str(self.CANCELLATION_REASONS.get(self.cancellation_reason, self.cancellation_reason))

    @property
    def is_live(self) -> bool:
        return self.status not in self.NOT_LIVE

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at

"""Course plans and appointments: what is booked, for whom, with whom, where."""

import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlor.db import TsTzRange
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

    # These free the masseur and the room; every other status holds them.
    NOT_LIVE = (Status.CANCELLED, Status.NO_SHOW)
    # What may still be moved, cancelled or marked a no-show.
    UPCOMING = (Status.BOOKED, Status.CONFIRMED, Status.ON_HOLD)

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
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    booked_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    # A manager's written reason for booking despite a blocking contraindication.
    override_reason = models.TextField(_("override reason"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overridden by"),
    )
    # The booking form's hidden key: submitting it twice returns the first appointment.
    request_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

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
            models.CheckConstraint(
                condition=Q(override_reason="") | Q(override_by__isnull=False),
                name="treatments_appointment_override_signed",
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
        ]

    def __str__(self):
        return f"{self.client} · {self.massage_type} · {self.starts_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("sessions:appointment-detail", args=[self.pk])

    @property
    def is_live(self) -> bool:
        return self.status not in self.NOT_LIVE

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at


# --- the masseur's side: flags, the day-of check, session logs ----------------------------------
#
# Area codes the session log records. The first five are the screening
# catalogue's local areas (screening.rules.AREAS), so a verdict's avoid_areas
# can be pre-marked as they are; the rest are the regions of the back a
# session works.
AREA_CHOICES = [
    ("neck", _("neck")),
    ("collar-zone", _("collar zone")),
    ("shoulders", _("shoulders")),
    ("upper-back", _("upper back")),
    ("mid-back", _("mid back")),
    ("lower-back", _("lower back (lumbar)")),
    ("sacrum-coccyx", _("sacrum and coccyx")),
    ("spine", _("the spine itself")),
    ("kidney-area", _("kidney area")),
    ("heart-area", _("heart area")),
    ("lymph-nodes", _("lymph nodes")),
]


class Flag(models.Model):
    """Something that changed for the client since the appointment was booked; the masseur
    acknowledges it before the session can start."""

    class Kind(models.TextChoices):
        ADDED = "added", _("contraindication added")
        REMOVED = "removed", _("contraindication removed")
        CHANGED = "changed", _("finding changed")
        KIND_WORSENED = "kind_worsened", _("contraindication kind worsened")
        CLEARANCE_EXPIRED = "clearance_expired", _("clearance expired")
        CLEARANCE_EXPIRING = "clearance_expiring", _("clearance expiring")
        SCREENING_STALE = "screening_stale", _("screening stale")

    class Severity(models.TextChoices):
        INFO = "info", _("info")
        WARNING = "warning", _("warning")
        CRITICAL = "critical", _("critical")

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="flags", verbose_name=_("appointment")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    # Written out when raised, so a list needs no joins; it holds health
    # details and is shown only to health-record viewers.
    what_changed = models.TextField(_("what changed"))
    # Which change this is ("added:fever@<screening id>"): a retried task or a
    # reloaded page raises each change once.
    change_key = models.CharField(_("change key"), max_length=200)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.UniqueConstraint(fields=["appointment", "change_key"], name="treatments_flag_once_per_change"),
        ]
        # The unique constraint's index serves "flags of appointment A" too.

    def __str__(self):
        return f"{self.get_kind_display()} · {self.appointment_id}"

    def get_absolute_url(self):
        return reverse("sessions:appointment-review", args=[self.appointment_id])

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class DayOfCheck(models.Model):
    """The day-of questions asked when the session starts, and what they decided."""

    class Outcome(models.TextChoices):
        OK = "ok", _("may start")
        ON_HOLD = "on_hold", _("on hold")

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="day_of_check", verbose_name=_("appointment")
    )
    # {"fever": bool, "intoxication": bool, "menstruation": bool | None (not asked), "acute_pain": bool}
    answers = models.JSONField(_("answers"), default=dict)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("checked by")
    )
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    hold_reason = models.CharField(_("reason for the hold"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("day-of check")
        verbose_name_plural = _("day-of checks")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="ok") | ~Q(hold_reason=""), name="treatments_dayofcheck_hold_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.appointment_id} · {self.get_outcome_display()}"

    def get_absolute_url(self):
        return reverse("sessions:appointment-review", args=[self.appointment_id])


def standard_techniques() -> list[str]:
    return ["stroking", "rubbing", "kneading", "percussion-vibration", "stroking"]


PAIN_MIN, PAIN_MAX = 0, 10
DURATION_MIN, DURATION_MAX = 1, 180


class SessionLog(models.Model):
    """What was done in one session. Signed, it is a permanent record: never updated in place
    (the trigger of migration 0004 is the guarantee); corrections are addenda."""

    class Technique(models.TextChoices):
        STROKING = "stroking", _("stroking")
        RUBBING = "rubbing", _("rubbing")
        KNEADING = "kneading", _("kneading")
        PERCUSSION_VIBRATION = "percussion-vibration", _("percussion / vibration")

    class Direction(models.TextChoices):
        BOTTOM_UP = "bottom-up", _("bottom-up (sacrum to shoulders)")
        NECK_DOWN = "neck-down", _("from the neck down")

    class Pressure(models.TextChoices):
        LIGHT = "light", _("light")
        MEDIUM = "medium", _("medium")
        DEEP = "deep", _("deep")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SIGNED = "signed", _("signed")

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="session_log", verbose_name=_("appointment")
    )
    techniques = ArrayField(
        models.CharField(max_length=30, choices=Technique.choices),
        verbose_name=_("techniques, in order"),
        default=standard_techniques,
    )
    areas_worked = ArrayField(
        models.CharField(max_length=30, choices=AREA_CHOICES), verbose_name=_("areas worked"), default=list, blank=True
    )
    areas_avoided = ArrayField(
        models.CharField(max_length=30, choices=AREA_CHOICES),
        verbose_name=_("areas avoided"),
        default=list,
        blank=True,
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.BOTTOM_UP)
    pressure = models.CharField(_("pressure"), max_length=6, choices=Pressure.choices, default=Pressure.MEDIUM)
    # Empty in a draft until asked; signing needs both.
    pain_before = models.PositiveSmallIntegerField(
        _("pain before (0-10)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(PAIN_MIN), MaxValueValidator(PAIN_MAX)],
    )
    pain_after = models.PositiveSmallIntegerField(
        _("pain after (0-10)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(PAIN_MIN), MaxValueValidator(PAIN_MAX)],
    )
    products = ArrayField(models.CharField(max_length=80), verbose_name=_("products used"), default=list, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("actual duration, minutes"),
        null=True,
        blank=True,
        validators=[MinValueValidator(DURATION_MIN), MaxValueValidator(DURATION_MAX)],
    )
    subjective = models.TextField(_("subjective"), blank=True)
    objective = models.TextField(_("objective"), blank=True)
    assessment = models.TextField(_("assessment"), blank=True)
    plan = models.TextField(_("plan"), blank=True)
    status = models.CharField(_("status"), max_length=6, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("session log")
        verbose_name_plural = _("session logs")
        permissions = [("review_any", _("Can review any masseur's appointments and session logs"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_before__isnull=True) | Q(pain_before__gte=PAIN_MIN, pain_before__lte=PAIN_MAX),
                name="treatments_sessionlog_pain_before_range",
            ),
            models.CheckConstraint(
                condition=Q(pain_after__isnull=True) | Q(pain_after__gte=PAIN_MIN, pain_after__lte=PAIN_MAX),
                name="treatments_sessionlog_pain_after_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | Q(duration_minutes__gte=DURATION_MIN, duration_minutes__lte=DURATION_MAX),
                name="treatments_sessionlog_duration_range",
            ),
            # A signed log is complete and says who signed it and when.
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(
                    signed_at__isnull=False,
                    pain_before__isnull=False,
                    pain_after__isnull=False,
                    duration_minutes__isnull=False,
                ),
                name="treatments_sessionlog_signed_complete",
            ),
        ]

    def __str__(self):
        return f"{self.appointment_id} · {self.get_status_display()}"

    def save(self, *args, **kwargs):
        # The trigger refuses it anyway; this fails earlier with a clear message.
        if getattr(self, "_loaded_status", None) == self.Status.SIGNED:
            raise ValidationError(_("A signed session log cannot be changed; add an addendum instead."))
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    def get_absolute_url(self):
        return reverse("sessions:sessionlog-edit", args=[self.appointment_id])

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.status
        return instance

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def technique_labels(self) -> list[str]:
        labels = dict(self.Technique.choices)
        return [str(labels.get(t, t)) for t in self.techniques]

    @property
    def areas_worked_labels(self) -> list[str]:
        labels = dict(AREA_CHOICES)
        return [str(labels.get(a, a)) for a in self.areas_worked]

    @property
    def areas_avoided_labels(self) -> list[str]:
        labels = dict(AREA_CHOICES)
        return [str(labels.get(a, a)) for a in self.areas_avoided]


class SessionLogAddendum(models.Model):
    """A correction or note added to a signed log; the log itself stays as signed."""

    log = models.ForeignKey(SessionLog, on_delete=models.PROTECT, related_name="addenda", verbose_name=_("log"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="treatments_sessionlogaddendum_text_not_empty"),
        ]

    def __str__(self):
        return f"{self.log_id} · {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("sessions:sessionlog-edit", args=[self.log.appointment_id])

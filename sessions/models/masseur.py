"""The masseur's side: flags, the day-of check, session logs and their addenda."""

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlor.limits import NOTE_MAX
from sessions.models.booking import Appointment

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
        # For the front desk: the first session awaiting a doctor's clearance is near.
        CLEARANCE_AWAITED = "clearance_awaited", _("clearance still awaited")

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
    # The self-reported screening the masseur went through with the client at check-in (who and when:
    # checked_by, checked_at). Screenings are immutable, so the confirmation is recorded here.
    confirmed_screening = models.ForeignKey(
        "screening.Screening",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("self-reported screening confirmed"),
    )

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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
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
    subjective = models.TextField(_("subjective"), max_length=NOTE_MAX, blank=True)
    objective = models.TextField(_("objective"), max_length=NOTE_MAX, blank=True)
    assessment = models.TextField(_("assessment"), max_length=NOTE_MAX, blank=True)
    plan = models.TextField(_("plan"), max_length=NOTE_MAX, blank=True)
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


# The addendum form has always allowed this much.
ADDENDUM_MAX = 4000


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SessionLogAddendum(models.Model):
    """A correction or note added to a signed log; the log itself stays as signed."""

    log = models.ForeignKey(SessionLog, on_delete=models.PROTECT, related_name="addenda", verbose_name=_("log"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)
    text = models.TextField(_("text"), max_length=ADDENDUM_MAX)

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

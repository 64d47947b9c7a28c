"""The parlor's own resources: massage types, masseurs, rooms, working hours
and time off; and the security events of staff accounts."""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from parlor.db import TsTzRange
from parlor.formats import when
from parlor.limits import NOTE_MAX


class MassageTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class MassageType(models.Model):
    """A service the parlor sells; the catalogue is seeded from domain.md."""

    class CourseCadence(models.TextChoices):
        # The same codes as sessions.Course.Cadence (parlor cannot import sessions).
        DAILY = "daily", _("daily")
        EVERY_OTHER_DAY = "every_other_day", _("every other day")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_uk = models.CharField(_("name (Ukrainian)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration, minutes"), validators=[MinValueValidator(10), MaxValueValidator(180)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("rest after, minutes"),
        default=15,
        validators=[MaxValueValidator(60)],
        help_text=_("The client rests under a blanket; the room is not free until this passes."),
    )
    price_uah = models.DecimalField(_("price, UAH"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    requires_referral = models.BooleanField(_("needs a doctor's referral"), default=False)
    min_age = models.PositiveSmallIntegerField(_("minimum age, years"), default=0, validators=[MaxValueValidator(100)])
    notes = models.TextField(_("notes"), max_length=NOTE_MAX, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    # What a course of this type usually is: online booking offers a course of exactly this (0: clients
    # book it online as single visits only).
    # db_default too: rows written by code older than these columns (a deployment mid-update, the
    # migration tests' historical models) still insert.
    course_sessions = models.PositiveSmallIntegerField(
        _("sessions in a course booked online"),
        default=0,
        db_default=0,
        validators=[MaxValueValidator(30)],
        help_text=_("0: not offered online as a course."),
    )
    course_cadence = models.CharField(
        _("how often in a course"),
        max_length=20,
        choices=CourseCadence.choices,
        default=CourseCadence.DAILY,
        db_default=CourseCadence.DAILY,
    )

    objects = MassageTypeQuerySet.as_manager()

    class Meta:
        ordering = ["name_uk"]
        verbose_name = _("massage type")
        verbose_name_plural = _("massage types")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=10, duration_minutes__lte=180),
                name="parlor_massagetype_duration_sane",
            ),
            models.CheckConstraint(condition=Q(price_uah__gte=0), name="parlor_massagetype_price_not_negative"),
            models.CheckConstraint(
                condition=Q(course_sessions__lte=30), name="parlor_massagetype_course_sessions_at_most_30"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("parlor:resource-edit", args=["massage-types", self.pk])

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "uk").startswith("en") else self.name_uk


class Room(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("parlor:resource-edit", args=["rooms", self.pk])


class Masseur(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="masseur", verbose_name=_("user")
    )
    display_name = models.CharField(_("name shown to clients"), max_length=120)
    qualifications = models.ManyToManyField(
        MassageType, related_name="masseurs", blank=True, verbose_name=_("qualified for")
    )
    is_active = models.BooleanField(_("works here"), default=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("masseur")
        verbose_name_plural = _("masseurs")

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("parlor:resource-edit", args=["masseurs", self.pk])


class WorkingHours(models.Model):
    """One working interval of a masseur on a weekday; a split shift is two rows."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    masseur = models.ForeignKey(
        Masseur, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("masseur")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        ordering = ["masseur", "weekday", "starts"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="parlor_workinghours_ends_after_starts"),
        ]
        indexes = [
            # Availability: "who works on weekday W" for all masseurs at once.
            models.Index(fields=["weekday", "masseur"], name="parlor_wh_weekday_masseur"),
        ]

    def __str__(self):
        return f"{self.masseur}: {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"

    def get_absolute_url(self):
        return reverse("parlor:resource-edit", args=["working-hours", self.pk])


class TimeOff(models.Model):
    masseur = models.ForeignKey(Masseur, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("masseur"))
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="parlor_timeoff_ends_after_starts"),
            # The guarantee behind the form's friendly overlap check; the GiST
            # index it builds also serves availability's "time off in range".
            ExclusionConstraint(
                name="parlor_timeoff_no_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("masseur", RangeOperators.EQUAL),
                ],
            ),
        ]

    def __str__(self):
        return f"{self.masseur}: {when(self.starts_at)} – {when(self.ends_at)}"

    def get_absolute_url(self):
        return reverse("parlor:resource-edit", args=["time-off", self.pk])


class SecurityEvent(models.Model):
    """A log-in, log-out, failed log-in, lock-out or other account event. Append-only: a trigger
    (migration parlor 0005) refuses every UPDATE and DELETE, whoever sends it."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("logged in")
        LOGOUT = "logout", _("logged out")
        LOGIN_FAILED = "login-failed", _("failed log-in")
        LOCKED_OUT = "locked-out", _("locked out")
        OTP_VERIFIED = "otp-verified", _("passed two-factor check")
        OTP_FAILED = "otp-failed", _("wrong two-factor code")
        OTP_DEVICE_ADDED = "otp-device-added", _("two-factor set up")
        OTP_DEVICE_REMOVED = "otp-device-removed", _("two-factor removed")
        RECOVERY_CODES_ISSUED = "recovery-codes", _("recovery codes issued")
        PASSWORD_CHANGED = "password-changed", _("password changed")
        PASSWORD_RESET_SENT = "password-reset-sent", _("password-reset link sent")

    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=24, choices=Kind.choices)
    # No database constraint and nothing done on delete: a user's events outlive the account,
    # and deleting the user must not try to update or delete them (the trigger would refuse).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("user"),
    )
    # As typed at the log-in form: a failed log-in may name no existing user.
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            # The manager's page: newest first, a page at a time, optionally one kind.
            models.Index(fields=["-at"], name="parlor_secevent_at"),
            models.Index(fields=["kind", "-at"], name="parlor_secevent_kind_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"

    def get_absolute_url(self):
        return reverse("parlor:security-events")


class ClosedDay(models.Model):
    """A day the parlor does not work, as the manager decided: availability and course proposals never
    offer it, and only a manager may book on it. Public holidays are not closed by themselves: under
    martial law they are working days in Ukraine, so the manager closes the ones the parlor keeps."""

    day = models.DateField(_("day"), unique=True)
    # The manager's own words; empty for a public holiday, whose name the calendar shows translated.
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        permissions = [("book_on_closed_day", _("Can book on a day the parlor is closed"))]
        # The unique index on day serves "closed days between two dates".

    def __str__(self):
        return f"{self.day:%d.%m.%Y}" + (f" · {self.reason}" if self.reason else "")

    def get_absolute_url(self):
        return reverse("parlor:closed-days")

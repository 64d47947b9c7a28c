"""Emails to clients as an outbox: one row per message, claimed and sent by
the dispatcher, so the database (not the broker) knows what is due."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlor.formats import when
from sessions.models.booking import Appointment, Course


class Reminder(models.Model):
    class Kind(models.TextChoices):
        COURSE_BOOKED = "course_booked", _("course booked")
        APPOINTMENT = "appointment", _("appointment reminder")
        MOVED = "moved", _("appointment moved")
        CANCELLED = "cancelled", _("appointment cancelled")
        COURSE_ENDING = "course_ending", _("course ending")
        FRESH_SCREENING = "fresh_screening", _("fresh screening needed")
        COURSE_CHANGED = "course_changed", _("course changed")
        # Instead of reminders while an appointment is on hold: please call us, no health detail.
        ON_HOLD = "on_hold", _("please call (on hold)")
        # The questionnaire's link, sent from the client's page when the front desk is asked for it.
        SCREENING_LINK = "screening_link", _("questionnaire link")
        # A booking the client made themselves (online, or taking a waiting-list offer): when, what, the
        # calendar file, and for a session awaiting a clearance the request to bring the doctor's note.
        BOOKED = "booked", _("appointment booked")

    class Reason(models.TextChoices):
        """Why a reminder was skipped or voided, stored as a code and shown in the reader's language.
        A failed send keeps the mail server's own answer instead (or "gave_up:" and that answer)."""

        APPOINTMENT_MOVED = "appointment_moved", _("the appointment moved")
        APPOINTMENT_CANCELLED = "appointment_cancelled", _("the appointment was cancelled")
        APPOINTMENT_CHECKED_IN = "appointment_checked_in", _("the client has checked in")
        APPOINTMENT_COMPLETED = "appointment_completed", _("the appointment took place")
        APPOINTMENT_NO_SHOW = "appointment_no_show", _("the client did not come")
        ALREADY_STARTED = "already_started", _("the appointment had already started")
        NOT_LAST_SESSION = "not_last_session", _("no longer the last session of the course")
        COURSE_CANCELLED = "course_cancelled", _("the course was cancelled")
        SCREENING_UP_TO_DATE = "screening_up_to_date", _("the screening is up to date")
        NO_CONSENT = "no_consent", _("no consent to email reminders")
        NO_EMAIL = "no_email", _("no email address")
        BOOKED_LATE = "booked_late", _("booked after the reminder time")
        ON_HOLD = "on_hold", _("the appointment is on hold")
        AWAITING_CLEARANCE = "awaiting_clearance", _("the appointment awaits a screening or a doctor's clearance")
        HOLD_RELEASED = "hold_released", _("the hold was released")

    # A failure after the last retry: "gave_up:" and the last error.
    GAVE_UP = "gave_up:"

    class State(models.TextChoices):
        DUE = "due", _("due")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")
        VOID = "void", _("void")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="reminders", verbose_name=_("client")
    )
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("appointment"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders", verbose_name=_("course")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Which message this is, e.g. "appointment:12:appointment:2027-03-27T08:00:00+00:00":
    # the appointment's time is part of it, so a moved appointment gets a new
    # reminder while a retried or duplicated scan can never make a second one.
    key = models.CharField(_("key"), max_length=200)
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DUE)
    # Set by the conditional UPDATE that claims the row; a claim older than the
    # reaper's limit means the worker died and the row is due again.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Transient SMTP failures wait here (capped exponential backoff).
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Why it was skipped, failed or voided, for the reception's list.
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-due_at", "-pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["key"], name="treatments_reminder_once_per_key"),
            # About an appointment or a course; only the questionnaire's link is about the client alone.
            models.CheckConstraint(
                condition=Q(appointment__isnull=False) | Q(course__isnull=False) | Q(kind="screening_link"),
                name="treatments_reminder_about_something",
            ),
        ]
        indexes = [
            # Dispatcher: "state = due AND due_at <= now" (and retry_at), oldest first.
            models.Index(fields=["due_at"], condition=Q(state="due"), name="treatments_reminder_due"),
            # Reaper: "state = sending AND claimed_at < now - limit".
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="treatments_reminder_claimed"),
            # Reception's list, newest first, filtered by state.
            models.Index(fields=["state", "-due_at"], name="treatments_reminder_state_due"),
            # Reception's list, nearest send time first: "due_at >= now ORDER BY due_at" and
            # "due_at < now ORDER BY due_at DESC", either one narrowed by kind or state.
            models.Index(fields=["due_at"], name="treatments_reminder_due_at"),
            # The client's page: "reminders of client C, newest first".
            models.Index(fields=["client", "-due_at"], name="treatments_reminder_client_due"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.client_id} · {when(self.due_at)}"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language; a mail server's answer stays as the server wrote it."""
        if self.reason in self.Reason.values:
            return str(self.Reason(self.reason).label)
        if self.reason.startswith(self.GAVE_UP):
            return _("gave up after %(attempts)s attempts: %(error)s") % {
                "attempts": self.attempts,
                "error": self.reason.removeprefix(self.GAVE_UP),
            }
        return self.reason


class ReminderPolicy(models.Model):
    """The manager's settings for reminders; one row (pk=1), created with the defaults when missing."""

    appointment_offset_hours = models.PositiveSmallIntegerField(
        _("appointment reminder, hours before"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text=_("24 sends it the day before at the same local time."),
    )
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        _("clients may cancel by link until, hours before"),
        default=12,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    fresh_screening_days_ahead = models.PositiveSmallIntegerField(
        _("ask for a fresh screening, days before"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="treatments_reminderpolicy_single_row")]

    def __str__(self):
        return str(_("Reminder settings"))

    @classmethod
    def current(cls) -> "ReminderPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

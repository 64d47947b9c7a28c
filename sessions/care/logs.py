"""Session logs: the rules a log must follow, and the writes (draft, sign, addendum).

A signed log is immutable: `sessionlog_save` refuses it here, SessionLog.save()
refuses it again, and the trigger of migration 0004 is the guarantee.
Signing completes the appointment and advances its course.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.allergens import allergen_label, allergen_names
from sessions.booking import gate
from sessions.flags.services import require_no_open_flags
from sessions.models import (
    AREA_CHOICES,
    DURATION_MAX,
    DURATION_MIN,
    PAIN_MAX,
    PAIN_MIN,
    Appointment,
    Course,
    SessionLog,
    SessionLogAddendum,
    standard_techniques,
)

AREA_NAMES = dict(AREA_CHOICES)


@dataclass
class LogInput:
    """What the masseur wrote; the form builds it, the services and rules read it."""

    techniques: list[str] = field(default_factory=standard_techniques)
    areas_worked: list[str] = field(default_factory=list)
    areas_avoided: list[str] = field(default_factory=list)
    direction: str = SessionLog.Direction.BOTTOM_UP
    pressure: str = SessionLog.Pressure.MEDIUM
    pain_before: int | None = None
    pain_after: int | None = None
    products: list[str] = field(default_factory=list)
    duration_minutes: int | None = None
    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan: str = ""


def verdict_for_appointment(appointment: Appointment):
    """The gate's verdict for the appointment: the screening's for its client, type, day and course, with the
    blocks a manager's override covers lifted (five queries at most)."""
    return gate.appointment_gate(appointment)


def must_avoid(verdict) -> list[str]:
    """Area codes never worked on this client today: the universal ones, local findings, adaptations."""
    return [area.code for area in verdict.avoid_areas if area.code in AREA_NAMES]


# Words that name an area in a note typed beside a finding ("lower back, left, 3 cm"), longest first so
# "shoulder blade" is the upper back and not the shoulders. Ukrainian stems cover the cases.
_AREA_WORDS = [
    ("shoulder blade", "upper-back"),
    ("лопат", "upper-back"),
    ("upper back", "upper-back"),
    ("верх спини", "upper-back"),
    ("верхня частина спини", "upper-back"),
    ("middle of the back", "mid-back"),
    ("mid back", "mid-back"),
    ("mid-back", "mid-back"),
    ("середина спини", "mid-back"),
    ("lower back", "lower-back"),
    ("lumbar", "lower-back"),
    ("поперек", "lower-back"),
    ("попереку", "lower-back"),
    ("collar", "collar-zone"),
    ("комірц", "collar-zone"),
    ("neck", "neck"),
    ("шия", "neck"),
    ("шиї", "neck"),
    ("шию", "neck"),
    ("shoulder", "shoulders"),
    ("плеч", "shoulders"),
    ("sacrum", "sacrum-coccyx"),
    ("coccyx", "sacrum-coccyx"),
    ("tailbone", "sacrum-coccyx"),
    ("криж", "sacrum-coccyx"),
    ("куприк", "sacrum-coccyx"),
    ("spine", "spine"),
    ("vertebra", "spine"),
    ("хребт", "spine"),
    ("хребет", "spine"),
    ("хребц", "spine"),
    ("kidney", "kidney-area"),
    ("нирк", "kidney-area"),
    ("heart", "heart-area"),
    ("серц", "heart-area"),
    ("lymph", "lymph-nodes"),
    ("лімф", "lymph-nodes"),
]


def areas_named_in(text: str) -> list[str]:
    """The area codes a note names, in the order of AREA_CHOICES. Pure."""
    rest = f" {text.lower()} "
    found = set()
    for words, area in _AREA_WORDS:
        if words in rest:
            found.add(area)
            rest = rest.replace(words, " ")
    return [code for code in AREA_NAMES if code in found]


def noted_areas(verdict) -> list[str]:
    """The areas the notes beside the client's findings name: pre-marked as avoided on the session log."""
    found = {area for note in getattr(verdict, "finding_notes", ()) for area in areas_named_in(note.note)}
    return [code for code in AREA_NAMES if code in found]


def allergen_in(product: str, allergens) -> str | None:
    """The allergen a product contains, case-insensitively ("Rose oil" contains "rose"), or None."""
    name = product.strip().lower()
    # By any of its names in either language: "Rose oil", "масло Троянда".
    return next(
        (a for a in allergens if a and any(alias.strip().lower() in name for alias in allergen_names([a]))), None
    )


def log_problems(data: LogInput, *, verdict, signing: bool) -> dict[str, list[str]]:
    """Why the log cannot be saved (or signed), by field; empty when it can. Pure."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, value in (("pain_before", data.pain_before), ("pain_after", data.pain_after)):
        if value is not None and not PAIN_MIN <= value <= PAIN_MAX:
            add(name, _("Pain is a number from 0 to 10."))
        elif value is None and signing:
            add(name, _("Ask the client about pain (0-10) before signing."))
    if data.duration_minutes is not None and not DURATION_MIN <= data.duration_minutes <= DURATION_MAX:
        add(
            "duration_minutes",
            _("A session lasts from %(min)s to %(max)s minutes.") % {"min": DURATION_MIN, "max": DURATION_MAX},
        )
    elif data.duration_minutes is None and signing:
        add("duration_minutes", _("Enter how long the session actually lasted."))
    if not data.techniques:
        add("techniques", _("List the techniques in the order they were done."))
    elif any(t not in SessionLog.Technique.values for t in data.techniques):
        add("techniques", _("Unknown technique."))
    if any(a not in AREA_NAMES for a in [*data.areas_worked, *data.areas_avoided]):
        add("areas_worked", _("Unknown area."))
    forbidden = [a for a in must_avoid(verdict) if a in data.areas_worked]
    if forbidden:
        add(
            "areas_worked",
            _("Never worked on this client: %(areas)s.") % {"areas": ", ".join(str(AREA_NAMES[a]) for a in forbidden)},
        )
    both = [a for a in data.areas_worked if a in data.areas_avoided]
    if both:
        add("areas_avoided", _("An area cannot be both worked and avoided."))
    for product in data.products:
        allergen = allergen_in(product, verdict.allergens)
        if allergen:
            add(
                "products",
                _("%(product)s: the client is allergic to %(allergen)s.")
                % {"product": product, "allergen": allergen_label(allergen)},
            )
    if data.direction not in SessionLog.Direction.values:
        add("direction", _("Choose the direction of work."))
    elif verdict.direction == SessionLog.Direction.NECK_DOWN and data.direction != SessionLog.Direction.NECK_DOWN:
        add("direction", _("High blood pressure: work from the neck down."))
    if data.pressure not in SessionLog.Pressure.values:
        add("pressure", _("Choose the pressure."))
    return errors


def _writable(appointment: Appointment) -> None:
    if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW):
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _("The appointment is %(status)s: no session log can be written for it.")
                % {"status": appointment.get_status_display()}
            }
        )
    if appointment.status != Appointment.Status.CHECKED_IN:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _("The appointment is %(status)s: check the client in before writing the log.")
                % {"status": appointment.get_status_display()}
            }
        )


def _signed_refusal() -> ValidationError:
    return ValidationError(
        {NON_FIELD_ERRORS: _("This session log is signed and cannot be changed; add an addendum instead.")}
    )


def _second_log_refusal() -> ValidationError:
    return ValidationError(
        {
            NON_FIELD_ERRORS: _(
                "A session log for this appointment already exists (perhaps from another tab); "
                "reload the page to edit it. What you typed is still below."
            )
        }
    )


def sessionlog_save(
    *,
    appointment: Appointment,
    data: LogInput,
    by,
    log_id: int | None,
    sign: bool = False,
    verdict=None,
    at: datetime.datetime | None = None,
) -> SessionLog:
    """Save the appointment's log as a draft, or sign it: signing completes the appointment and advances its
    course. `log_id` is the draft the form was opened on (None: a new log); a signed log is never changed."""
    verdict = verdict or verdict_for_appointment(appointment)
    problems = log_problems(data, verdict=verdict, signing=sign)
    if problems:
        raise ValidationError(problems)
    at = at or timezone.now()
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            existing = SessionLog.objects.select_for_update().filter(appointment=locked).first()
            if existing is not None and existing.is_signed:
                raise _signed_refusal()
            if existing is not None and existing.pk != log_id:
                raise _second_log_refusal()
            if existing is None and log_id is not None:
                raise ValidationError({NON_FIELD_ERRORS: _("This draft no longer exists; reload the page.")})
            _writable(locked)
            if sign:
                # A flag raised since the check-in is read before the record is signed.
                require_no_open_flags(appointment=locked)
            log = existing or SessionLog(appointment=locked, created_by=by)
            for name, value in vars(data).items():
                setattr(log, name, value)
            if sign:
                log.status = SessionLog.Status.SIGNED
                log.signed_by = by
                log.signed_at = at
            log.full_clean(exclude=["appointment"], validate_constraints=False)
            log.save()
            if sign:
                _complete(locked)
    except IntegrityError as exc:
        # Two tabs creating the first log at once: the other one won the one-to-one.
        if "appointment_id" in str(exc) and "unique" in str(exc).lower():
            raise _second_log_refusal() from exc
        raise
    return log


def _complete(appointment: Appointment) -> None:
    """The appointment is done; the course is active, or completed with its last planned session."""
    appointment.status = Appointment.Status.COMPLETED
    appointment.save(update_fields=["status"])
    if appointment.course_id is None:
        return
    course = Course.objects.select_for_update().get(pk=appointment.course_id)
    done = course.appointments.aggregate(n=Count("pk", filter=Q(status=Appointment.Status.COMPLETED)))["n"]
    status = Course.Status.COMPLETED if done >= course.planned_sessions else Course.Status.ACTIVE
    if course.status in (Course.Status.PLANNED, Course.Status.ACTIVE) and course.status != status:
        course.status = status
        course.save(update_fields=["status"])


def sessionlog_add_addendum(*, log: SessionLog, text: str, by) -> SessionLogAddendum:
    """Add a correction to a signed log, with its author and time; the log stays as signed."""
    if not log.is_signed:
        raise ValidationError({"text": _("The log is still a draft: change it directly.")})
    if not text.strip():
        raise ValidationError({"text": _("Write the correction.")})
    addendum = SessionLogAddendum(log=log, author=by, text=text.strip())
    addendum.full_clean()
    addendum.save()
    return addendum


def signed_logs_of_client(*, client_id: int, before: datetime.datetime | None = None, limit: int = 3):
    """The client's latest signed logs (before an instant), newest first. One query."""
    queryset = SessionLog.objects.filter(appointment__client_id=client_id, status=SessionLog.Status.SIGNED)
    if before is not None:
        queryset = queryset.filter(appointment__starts_at__lt=before)
    return list(
        queryset.select_related("appointment", "appointment__massage_type", "signed_by").order_by(
            "-appointment__starts_at"
        )[:limit]
    )

"""Sessions' part of a client's rights (clients.export, clients.erasure): courses, appointments,
day-of checks, flags, session logs with their addenda, and the reminder emails. Registered from
TreatmentsConfig.ready()."""

from django.apps import apps
from django.utils.translation import gettext as _

from clients.erasure import ERASED, ErasureRun, scrub_rows, text_fields
from clients.export import Section, plain
from sessions.models import (
    Appointment,
    Course,
    DayOfCheck,
    Flag,
    Hold,
    Override,
    Reminder,
    SessionLog,
    SessionLogAddendum,
)

LOG_NOTES = ["subjective", "objective", "assessment", "plan"]


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def export_sections(client) -> list[Section]:
    """Everything sessions holds about the client, read by the client's id only."""
    courses = [
        {
            "created_at": plain(c.created_at),
            "massage_type": str(c.massage_type),
            "indication": c.get_indication_display(),
            "planned_sessions": c.planned_sessions,
            "cadence": c.get_cadence_display(),
            "status": c.get_status_display(),
        }
        for c in Course.objects.filter(client=client).select_related("massage_type").order_by("created_at", "pk")
    ]
    appointments = []
    logs = []
    for a in (
        Appointment.objects.filter(client=client)
        .select_related("massage_type", "masseur", "room", "day_of_check", "session_log__signed_by")
        .prefetch_related("flags", "overrides__by", "holds", "session_log__addenda__author")
        .order_by("starts_at", "pk")
    ):
        check = getattr(a, "day_of_check", None)
        appointments.append(
            {
                "starts_at": plain(a.starts_at),
                "ends_at": plain(a.ends_at),
                "massage_type": str(a.massage_type),
                "masseur": a.masseur.display_name,
                "room": a.room.name,
                "status": a.get_status_display(),
                "cancellation_reason": a.cancellation_reason,
                "overrides": [
                    f"{plain(o.at)} {_who(o.by)}: {', '.join(o.covers_names)} - {o.reason}" for o in a.overrides.all()
                ],
                "holds": [
                    f"{plain(h.held_at)} {h.get_cause_display()}"
                    + (f"; {plain(h.released_at)} {h.release_note}" if h.released_at else "")
                    for h in a.holds.all()
                ],
                "day_of_check": {"outcome": check.get_outcome_display(), "reason": check.hold_reason, **check.answers}
                if check
                else "",
                "flags": [f.what_changed for f in a.flags.all()],
            }
        )
        log = getattr(a, "session_log", None)
        if log is not None:
            logs.append(
                {
                    "session": plain(a.starts_at),
                    "status": log.get_status_display(),
                    "techniques": log.technique_labels,
                    "areas_worked": log.areas_worked_labels,
                    "areas_avoided": log.areas_avoided_labels,
                    "direction": log.get_direction_display(),
                    "pressure": log.get_pressure_display(),
                    "pain": f"{plain(log.pain_before)} → {plain(log.pain_after)}",
                    "products": list(log.products),
                    **{name: getattr(log, name) for name in LOG_NOTES},
                    "signed": f"{_who(log.signed_by)} {plain(log.signed_at)}".strip(),
                    "addenda": [
                        f"{plain(x.created_at)} {_who(x.author)}: {x.text}"
                        for x in sorted(log.addenda.all(), key=lambda x: x.created_at)
                    ],
                }
            )
    reminders = [
        {
            "kind": r.get_kind_display(),
            "due_at": plain(r.due_at),
            "state": r.get_state_display(),
            "sent_at": plain(r.sent_at),
        }
        for r in Reminder.objects.filter(client=client).order_by("due_at", "pk")
    ]
    return [
        Section(
            "courses",
            _("Courses"),
            [
                ("created_at", _("Created")),
                ("massage_type", _("Massage type")),
                ("indication", _("Indication")),
                ("planned_sessions", _("Planned sessions")),
                ("cadence", _("How often")),
                ("status", _("Status")),
            ],
            courses,
        ),
        Section(
            "appointments",
            _("Appointments"),
            [
                ("starts_at", _("Starts")),
                ("ends_at", _("Ends")),
                ("massage_type", _("Massage type")),
                ("masseur", _("Masseur")),
                ("room", _("Room")),
                ("status", _("Status")),
                ("cancellation_reason", _("Cancellation reason")),
                ("overrides", _("Manager's overrides")),
                ("holds", _("Holds")),
                ("day_of_check", _("Day-of check")),
                ("flags", _("Flags")),
            ],
            appointments,
        ),
        Section(
            "session_logs",
            _("Session logs"),
            [
                ("session", _("Session")),
                ("status", _("Status")),
                ("techniques", _("Techniques")),
                ("areas_worked", _("Areas worked")),
                ("areas_avoided", _("Areas avoided")),
                ("direction", _("Direction")),
                ("pressure", _("Pressure")),
                ("pain", _("Pain")),
                ("products", _("Products used")),
                ("subjective", _("Subjective")),
                ("objective", _("Objective")),
                ("assessment", _("Assessment")),
                ("plan", _("Plan")),
                ("signed", _("Signed")),
                ("addenda", _("Addenda")),
            ],
            logs,
        ),
        Section(
            "reminders",
            _("Reminder emails"),
            [("kind", _("Kind")), ("due_at", _("Due at")), ("state", _("State")), ("sent_at", _("Sent at"))],
            reminders,
        ),
    ]


def _event_rows(model, **lookup):
    return apps.get_model("treatments", f"{model.__name__}Event").objects.filter(**lookup)


def _event_fields(model) -> list[str]:
    return [f for f in text_fields(apps.get_model("treatments", f"{model.__name__}Event")) if not f.startswith("pgh_")]


def erase(run: ErasureRun) -> None:
    """Appointments and courses stay (a session took place); every free text loses the client's name,
    phone and email; without the clinical notes, the notes, day-of answers, flags' texts and override
    reasons are emptied as well. Signed logs pass their trigger inside the erasure only."""
    appointment_ids = list(Appointment.objects.filter(client=run.client).values_list("pk", flat=True))
    logs = SessionLog.objects.filter(appointment_id__in=appointment_ids)
    log_ids = list(logs.values_list("pk", flat=True))
    addenda = SessionLogAddendum.objects.filter(log_id__in=log_ids)
    checks = DayOfCheck.objects.filter(appointment_id__in=appointment_ids)
    flags = Flag.objects.filter(appointment_id__in=appointment_ids)
    overrides = Override.objects.filter(appointment_id__in=appointment_ids)
    holds = Hold.objects.filter(appointment_id__in=appointment_ids)
    tracked = [
        (Appointment, Appointment.objects.filter(pk__in=appointment_ids), {"pgh_obj_id__in": appointment_ids}),
        (Override, overrides, {"appointment_id__in": appointment_ids}),
        (Hold, holds, {"appointment_id__in": appointment_ids}),
        (SessionLog, logs, {"pgh_obj_id__in": log_ids}),
        (SessionLogAddendum, addenda, {"log_id__in": log_ids}),
    ]
    if not run.keep_clinical_notes:
        blank = dict.fromkeys(LOG_NOTES, "")
        logs.update(**blank)
        _event_rows(SessionLog, pgh_obj_id__in=log_ids).update(**blank)
        addenda.update(text=ERASED)
        _event_rows(SessionLogAddendum, log_id__in=log_ids).update(text=ERASED)
        overrides.update(reason=ERASED, covers_names=[])
        _event_rows(Override, appointment_id__in=appointment_ids).update(reason=ERASED, covers_names=[])
        holds.update(concerns=[])
        holds.exclude(release_note="").update(release_note=ERASED)
        _event_rows(Hold, appointment_id__in=appointment_ids).update(concerns=[])
        _event_rows(Hold, appointment_id__in=appointment_ids).exclude(release_note="").update(release_note=ERASED)
        # The self-reported screening it confirmed is erased with the screenings (PROTECT would refuse).
        checks.update(answers={}, confirmed_screening=None)
        checks.exclude(hold_reason="").update(hold_reason=ERASED)
        flags.update(what_changed=ERASED)
    for model, rows, event_lookup in tracked:
        scrub_rows(rows, run.scrub)
        scrub_rows(_event_rows(model, **event_lookup), run.scrub, fields=_event_fields(model))
    scrub_rows(checks, run.scrub)
    scrub_rows(flags, run.scrub)
    scrub_rows(Course.objects.filter(client=run.client), run.scrub)
    # The outbox's rows are the record of the emails sent; a failure's text may hold the address.
    scrub_rows(Reminder.objects.filter(client=run.client), run.scrub)

"""Who may see a client's health record: findings, answers, screening history,
diffs and clearance scans. Every view and the client panel ask here, so the
rule lives in one place.

- The manager (screening.view_all_health_records) sees every client's record.
- A masseur (screening.view_health_record alone) sees the record of a client
  booked with them at least once, past or future, in any status but
  cancelled. A no-show counts: the booking stood until its hour, the masseur
  reviewed the history to prepare for it, and it is the same relation as a
  completed session (the client is usually booked again). A cancelled one
  was withdrawn before it took place and gives the masseur nothing to
  prepare for; nor does a time a client only holds online for a few minutes
  (reserved: no booking yet). An appointment moved to another masseur moves the access
  with it (appointment_move changes the masseur in place).
- Anyone else, including a user with view_health_record but no masseur
  profile, sees the verdict at most, never the details.

A page that shows the details asks open_health_record, which also writes the
access trail (clients.trail); list pages (search, calendar, dashboard) show
statuses only, so they neither ask nor record.

screening must not import sessions at import time (sessions depends on
screening), so the appointment model is looked up when the rule runs."""

from django.apps import apps

from clients.trail import record_access

HEALTH_RECORD_PERMISSION = "screening.view_health_record"
ALL_HEALTH_RECORDS_PERMISSION = "screening.view_all_health_records"


def can_view_health_record(user, client) -> bool:
    """True when the user may see this client's health details, not just the verdict's status.

    At most one query beyond the user's (cached) permissions."""
    if not (user and user.is_authenticated):
        return False
    # The wider permission alone is enough: a manager who grants it in the admin means it.
    if user.has_perm(ALL_HEALTH_RECORDS_PERMISSION):
        return True
    return user.has_perm(HEALTH_RECORD_PERMISSION) and is_booked_with(user, client)


def _no_access(appointment) -> list[str]:
    # Statuses that give the masseur no access: withdrawn, or only held online (sessions.online).
    return [appointment.Status.CANCELLED, appointment.Status.RESERVED]


def is_booked_with(user, client) -> bool:
    """True when the client has an appointment, not cancelled, with the masseur who is this user.

    One query; a user without a masseur profile matches no appointment."""
    appointment = apps.get_model("treatments", "Appointment")
    return (
        appointment.objects.filter(client=client, masseur__user_id=user.pk)
        .exclude(status__in=_no_access(appointment))
        .exists()
    )


def open_health_record(request, client, *, obj=None) -> bool:
    """can_view_health_record for the request's user; when True, the page is about to show the
    client's health data, so it also writes an entry in the access trail (clients.trail)."""
    if not can_view_health_record(request.user, client):
        return False
    record_access(request, client=client, obj=obj)
    return True


def can_write_health_record(user, client) -> bool:
    """True when the user may record a screening or a clearance for this client, given the add permission:
    write rights follow the read rights for masseurs (only clients booked with them); the manager writes for
    everyone, and the front desk, which takes intake screenings and files doctors' notes without reading the
    record, as before. At most one query beyond the user's (cached) permissions."""
    if not (user and user.is_authenticated):
        return False
    if user.has_perm(ALL_HEALTH_RECORDS_PERMISSION):
        return True
    if user.has_perm(HEALTH_RECORD_PERMISSION):
        return is_booked_with(user, client)
    return True


def health_record_clients(user, client_ids) -> set[int]:
    """The clients among `client_ids` whose health record the user may see (can_view_health_record for
    many, e.g. a calendar's entries). One query at most."""
    ids = set(client_ids)
    if not ids or not (user and user.is_authenticated):
        return set()
    if user.has_perm(ALL_HEALTH_RECORDS_PERMISSION):
        return ids
    if not user.has_perm(HEALTH_RECORD_PERMISSION):
        return set()
    appointment = apps.get_model("treatments", "Appointment")
    return set(
        appointment.objects.filter(client_id__in=ids, masseur__user_id=user.pk)
        .exclude(status__in=_no_access(appointment))
        .values_list("client_id", flat=True)
        .distinct()
    )

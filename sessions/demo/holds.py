"""Demo holds: each kind of hold with its reason, made the way the product makes them, on a few clients of
their own (so the other demo data may change freely):

- a new absolute finding recorded by staff (reception: "the manager decides"; the masseur sees thrombosis);
- a self-reported first-trimester pregnancy holding two sessions of a course (one notice for both);
- a skin disease the client reported without a doctor's permission ("ask for a doctor's permission");
- fever answered at today's check-in (a day-of hold: "move the session to another day");
- a hold released after the clearance was recorded (its history on the appointment page);
- a course pencilled in awaiting a doctor's clearance.

Deterministic (fixed people and screening keys, the first free slots) and idempotent: when the first demo
client of this module exists, it does nothing. A hold whose slot cannot be found (no masseur works then)
is left out rather than faked.
"""

import datetime
import logging
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from parlor.models import MassageType
from screening import services as screening_services
from screening.models import Clearance, Contraindication, Screening
from sessions.booking import holds, services
from sessions.care.checkin import DayOfAnswers, appointment_check_in
from sessions.flags import scan as flag_scan
from sessions.models import Appointment, Course

logger = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("0f4a7c2e-3b9d-4e61-8a57-c1d2e3f4a5b6")
MASSAGE_TYPE = "classic-back"
# full name, sex, age, phone: people for whom these findings are plausible.
PEOPLE = {
    "absolute": ("Богдан Захарчук", Client.Sex.MALE, 58, "+380671230101"),
    "pregnancy": ("Дарина Лисенко", Client.Sex.FEMALE, 29, "+380671230102"),
    "skin": ("Юлія Гончаренко", Client.Sex.FEMALE, 36, "+380671230103"),
    "day-of": ("Тарас Білик", Client.Sex.MALE, 44, "+380671230104"),
    "released": ("Світлана Дячук", Client.Sex.FEMALE, 47, "+380671230105"),
    "awaiting": ("Степан Костенко", Client.Sex.MALE, 63, "+380671230106"),
}


def _key(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)


def _client(name: str, registrar, today: datetime.date) -> Client:
    full_name, sex, age, phone = PEOPLE[name]
    return client_services.client_create(
        full_name=full_name,
        birth_date=today.replace(year=today.year - age) - datetime.timedelta(days=40),
        sex=sex,
        phone=phone,
        email=f"hold.demo.{name}@example.org",
        data_consent=True,
        reminder_consent=True,
        created_by=registrar,
    )


def _screen(client: Client, name: str, *codes, by, source=Screening.Source.STAFF, taken_at, details=None):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    details = details or {}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[
            screening_services.FindingInput(contraindication=catalogue[code], details=details.get(code, {}))
            for code in codes
        ],
        taken_by=by if source == Screening.Source.STAFF else None,
        source=source,
        submission_key=_key(f"screening-{name}-{len(codes)}-{source}"),
        taken_at=taken_at,
    )


def _slots(client: Client, massage_type: MassageType, start: datetime.date, count: int, cadence=Course.Cadence.DAILY):
    """The first free slots from `start`, as course_propose finds them; [] when there are not enough."""
    try:
        proposals = services.course_propose(
            client=client, massage_type=massage_type, start_date=start, planned_sessions=count, cadence=cadence
        )
    except ValidationError:
        return []
    if not all(p.is_bookable for p in proposals):
        return []
    return [services.SessionChoice(p.starts_at, p.masseur, p.room) for p in proposals]


def _book(client: Client, massage_type, slot, booker, name: str) -> Appointment | None:
    try:
        return services.appointment_book(
            client=client,
            massage_type=massage_type,
            masseur=slot.masseur,
            room=slot.room,
            starts_at=slot.starts_at,
            booked_by=booker,
            request_key=_key(f"appointment-{name}"),
        )
    except ValidationError as exc:
        logger.info("demo hold %s left out: %s", name, exc.messages)
        return None


def _check(appointment: Appointment | None, source: str) -> None:
    if appointment is not None:
        flag_scan.client_flags_check(client_id=appointment.client_id, source=source)


@transaction.atomic
def seed() -> None:
    """Each kind of hold with its reason; a second run adds nothing."""
    phone = PEOPLE["absolute"][3]
    if Client.objects.filter(phone=phone).exists():
        return
    users = get_user_model().objects
    booker = users.filter(username="reception").first()
    manager = users.filter(username="manager").first()
    massage_type = MassageType.objects.filter(code=MASSAGE_TYPE, is_active=True).first()
    if booker is None or manager is None or massage_type is None:
        return
    now = timezone.now()
    today = timezone.localdate()
    earlier = now - datetime.timedelta(days=12)
    clients = {name: _client(name, booker, today) for name in PEOPLE}
    for name, client in clients.items():
        # Everybody starts with a clean staff screening, so each booking goes through.
        _screen(client, name, by=booker, taken_at=earlier)

    # A new absolute finding recorded by staff.
    client = clients["absolute"]
    slots = _slots(client, massage_type, today + datetime.timedelta(days=2), 1)
    if slots and (appointment := _book(client, massage_type, slots[0], booker, "absolute")):
        _screen(client, "absolute", "thrombosis", by=manager, taken_at=now - datetime.timedelta(hours=2))
        _check(appointment, "screening")

    # A self-reported first-trimester pregnancy holds two sessions of a course: one notice.
    client = clients["pregnancy"]
    slots = _slots(client, massage_type, today + datetime.timedelta(days=3), 2, Course.Cadence.EVERY_OTHER_DAY)
    if slots:
        try:
            services.course_book(
                client=client,
                massage_type=massage_type,
                indication=Course.Indication.BACK_PAIN,
                planned_sessions=2,
                cadence=Course.Cadence.EVERY_OTHER_DAY,
                sessions=slots,
                booked_by=booker,
                request_key=_key("course-pregnancy"),
            )
        except ValidationError as exc:
            logger.info("demo hold pregnancy left out: %s", exc.messages)
        else:
            _screen(
                client,
                "pregnancy",
                "pregnancy",
                by=None,
                source=Screening.Source.SELF_REPORTED,
                taken_at=now - datetime.timedelta(hours=3),
                details={"pregnancy": {"pregnancy_weeks": 7}},
            )
            flag_scan.client_flags_check(client_id=client.pk, source="self-report")

    # A skin disease the client reported: a doctor's permission is needed.
    client = clients["skin"]
    slots = _slots(client, massage_type, today + datetime.timedelta(days=4), 1)
    if slots and (appointment := _book(client, massage_type, slots[0], booker, "skin")):
        _screen(
            client,
            "skin",
            "skin-disease",
            by=None,
            source=Screening.Source.SELF_REPORTED,
            taken_at=now - datetime.timedelta(hours=1),
        )
        _check(appointment, "self-report")

    # Fever at today's check-in.
    client = clients["day-of"]
    slots = _slots(client, massage_type, today, 1)
    if slots and (appointment := _book(client, massage_type, slots[0], booker, "day-of")):
        try:
            appointment_check_in(appointment=appointment, answers=DayOfAnswers(fever=True), by=slots[0].masseur.user)
        except ValidationError as exc:
            logger.info("demo day-of hold left out: %s", exc.messages)

    # Held for a skin disease, released once the clearance was recorded: the history stays.
    client = clients["released"]
    slots = _slots(client, massage_type, today + datetime.timedelta(days=5), 1)
    if slots and (appointment := _book(client, massage_type, slots[0], booker, "released")):
        _screen(client, "released", "skin-disease", by=booker, taken_at=now - datetime.timedelta(hours=4))
        _check(appointment, "screening")
        screening_services.clearance_add(
            client=client,
            kind=Clearance.Kind.PERMISSION,
            doctor_name="Д-р Гнатюк Т. В.",
            issued_on=today,
            valid_until=today + datetime.timedelta(days=90),
            covers_contraindication=Contraindication.objects.get(code="skin-disease"),
            created_by=booker,
        )
        appointment.refresh_from_db()
        if appointment.status == Appointment.Status.ON_HOLD:
            holds.appointment_release(appointment=appointment, by=booker)

    # A course pencilled in while the client brings a doctor's note.
    client = clients["awaiting"]
    _screen(client, "awaiting", "skin-disease", by=booker, taken_at=now - datetime.timedelta(hours=5))
    slots = _slots(client, massage_type, today + datetime.timedelta(days=1), 3, Course.Cadence.EVERY_OTHER_DAY)
    if slots:
        try:
            services.course_book(
                client=client,
                massage_type=massage_type,
                indication=Course.Indication.BACK_PAIN,
                planned_sessions=3,
                cadence=Course.Cadence.EVERY_OTHER_DAY,
                sessions=slots,
                booked_by=booker,
                request_key=_key("course-awaiting"),
                await_clearance=True,
            )
        except ValidationError as exc:
            logger.info("demo awaiting course left out: %s", exc.messages)

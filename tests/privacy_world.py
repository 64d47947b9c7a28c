"""A small parlor with health records for the privacy tests (the role-by-URL walk, the trail, export
and erasure): two clients who share a masseur and a course day, every kind of record each of them
can have, and clinical texts that are unique markers, so a page or file that shows one is caught."""

import datetime
import uuid
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from parlor import roles
from screening import services as screening_services
from screening.models import Clearance, Contraindication, Screening
from sessions.models import Appointment, Course, DayOfCheck, Flag, Override, Reminder, SessionLog, SessionLogAddendum
from tests.factories import MassageTypeFactory, MasseurFactory, RoomFactory, UserFactory

# A valid (tiny) PDF whose text names the client, as a doctor's paper would.
SCAN_PDF = b"%PDF-1.4\n% scan of a doctor's paper for {name}\n%%EOF\n"


@dataclass
class Person:
    """One client with everything held about them, and the texts that only their health record holds."""

    client: Client
    screening: Screening
    clearance: Clearance
    course: Course
    done: Appointment  # completed, with a signed log, an addendum, a day-of check and a flag
    upcoming: Appointment  # booked, overridden by the manager
    log: SessionLog
    addendum: SessionLogAddendum
    flag: Flag
    reminder: Reminder
    # Texts unique to this client's health record: none may show where health data must not.
    markers: list[str] = field(default_factory=list)
    # The adaptations the client's findings give: the same text for every client with the finding.
    adaptations: list[str] = field(default_factory=list)
    # Catalogue names of this client's findings and the condition their clearance covers: the
    # catalogue and questionnaire pages show every name to everyone, so those pages are exempt.
    condition_names: list[str] = field(default_factory=list)


@dataclass
class World:
    manager: object
    receptionist: object
    masseur_booked: object  # the user of the masseur both clients are booked with
    masseur_other: object  # a masseur with no booking of client `a`
    masseur: object  # parlor.Masseur of masseur_booked
    other_masseur: object
    a: Person
    b: Person


def _person(*, tag: str, name: str, phone: str, email: str, masseur, room, massage_type, by, day) -> Person:
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=["kidney-disease", "skin-disease"])}
    client = client_services.client_create(
        full_name=name,
        phone=phone,
        email=email,
        birth_date=datetime.date(1984, 6, 9),
        sex=Client.Sex.FEMALE,
        data_consent=True,
        reminder_consent=True,
        allergens=[f"zz-oil-{tag.lower()}"],
        notes=f"CLINICAL-CLIENT-NOTE-{tag} ({name}, {phone})",
        created_by=by,
    )
    screening = screening_services.screening_record(
        client=client,
        answers={"questions": {"kidney-disease": {"answer": True, "note": f"CLINICAL-ANSWER-{tag}"}}},
        findings=[
            screening_services.FindingInput(
                contraindication=catalogue["kidney-disease"], note=f"CLINICAL-FINDING-NOTE-{tag}", details={}
            )
        ],
        taken_by=by,
        submission_key=uuid.uuid4(),
        notes=f"CLINICAL-SCREENING-NOTE-{tag}: {name} says it started in May",
        taken_at=timezone.now() - datetime.timedelta(days=3),
    )
    clearance = Clearance.objects.create(
        client=client,
        kind=Clearance.Kind.PERMISSION,
        doctor_name="Д-р Савченко",
        issued_on=timezone.localdate() - datetime.timedelta(days=5),
        valid_until=timezone.localdate() + datetime.timedelta(days=60),
        covers_contraindication=Contraindication.objects.get(code="skin-disease"),
        notes=f"CLINICAL-CLEARANCE-NOTE-{tag}",
        scan=SimpleUploadedFile("paper.pdf", SCAN_PDF.replace(b"{name}", name.encode()), "application/pdf"),
        created_by=by,
    )
    course = Course.objects.create(
        client=client,
        massage_type=massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=10,
        cadence=Course.Cadence.DAILY,
        created_by=by,
    )
    minutes = datetime.timedelta(minutes=massage_type.duration_minutes)
    buffer = datetime.timedelta(minutes=massage_type.buffer_minutes)
    # The two clients share the masseur and the day, an hour and a half apart.
    offset = datetime.timedelta(hours=0 if tag == "A" else 2)
    past = datetime.datetime.combine(
        day - datetime.timedelta(days=2), datetime.time(10), tzinfo=timezone.get_current_timezone()
    )
    future = datetime.datetime.combine(day, datetime.time(10), tzinfo=timezone.get_current_timezone())

    def appointment(starts_at, **values):
        return Appointment.objects.create(
            course=course,
            client=client,
            massage_type=massage_type,
            masseur=masseur,
            room=room,
            starts_at=starts_at + offset,
            ends_at=starts_at + offset + minutes,
            blocks_until=starts_at + offset + minutes + buffer,
            booked_by=by,
            **values,
        )

    done = appointment(past, status=Appointment.Status.COMPLETED)
    upcoming = appointment(future)
    Override.objects.create(
        appointment=upcoming, covers=["oncology"], covers_names=["Oncology"], reason=f"CLINICAL-OVERRIDE-{tag}", by=by
    )
    DayOfCheck.objects.create(
        appointment=done,
        answers={"fever": False, "note": f"CLINICAL-DAYOF-{tag}"},
        checked_by=masseur.user,
        outcome=DayOfCheck.Outcome.OK,
    )
    flag = Flag.objects.create(
        appointment=done,
        kind=Flag.Kind.ADDED,
        severity=Flag.Severity.WARNING,
        what_changed=f"CLINICAL-FLAG-{tag}",
        change_key=f"added:test-{tag}",
    )
    log = SessionLog.objects.create(
        appointment=done,
        techniques=["stroking", "kneading", "stroking"],
        pressure=SessionLog.Pressure.MEDIUM,
        pain_before=6,
        pain_after=3,
        duration_minutes=40,
        products=["almond oil"],
        subjective=f"CLINICAL-LOG-NOTE-{tag}: {name} slept badly",
        status=SessionLog.Status.SIGNED,
        created_by=masseur.user,
        signed_by=masseur.user,
        signed_at=past + offset + minutes,
    )
    addendum = SessionLogAddendum.objects.create(log=log, author=masseur.user, text=f"CLINICAL-ADDENDUM-{tag}")
    reminder = Reminder.objects.create(
        client=client,
        appointment=upcoming,
        kind=Reminder.Kind.APPOINTMENT,
        key=f"test:{tag}:{uuid.uuid4()}",
        due_at=future - datetime.timedelta(days=1),
        state=Reminder.State.FAILED,
        reason=f"SMTPRecipientsRefused: {email} refused",
    )
    markers = [
        f"zz-oil-{tag.lower()}",
        f"CLINICAL-CLIENT-NOTE-{tag}",
        f"CLINICAL-ANSWER-{tag}",
        f"CLINICAL-FINDING-NOTE-{tag}",
        f"CLINICAL-SCREENING-NOTE-{tag}",
        f"CLINICAL-CLEARANCE-NOTE-{tag}",
        f"CLINICAL-OVERRIDE-{tag}",
        f"CLINICAL-DAYOF-{tag}",
        f"CLINICAL-FLAG-{tag}",
        f"CLINICAL-LOG-NOTE-{tag}",
        f"CLINICAL-ADDENDUM-{tag}",
    ]
    return Person(
        client=client,
        screening=screening,
        clearance=clearance,
        course=course,
        done=done,
        upcoming=upcoming,
        log=log,
        addendum=addendum,
        flag=flag,
        reminder=reminder,
        markers=markers,
        # The adaptation the kidney finding gives (screening/rules.py), in either language.
        adaptations=["no percussion over the kidneys", "без ударних прийомів над нирками"],
        condition_names=["Kidney disease", "Захворювання нирок", "Skin disease", "Захворювання шкіри"],
    )


def build_world() -> World:
    """The two clients, their records, and one user of each role; call inside a test with the db."""
    manager = UserFactory(username="privacy-manager", role=roles.MANAGER)
    manager.is_staff = True
    manager.save()
    receptionist = UserFactory(username="privacy-desk", role=roles.RECEPTIONIST)
    masseur = MasseurFactory(user=UserFactory(username="privacy-hands", role=roles.MASSEUR), display_name="Андрій")
    other_masseur = MasseurFactory(
        user=UserFactory(username="privacy-other-hands", role=roles.MASSEUR), display_name="Віктор"
    )
    massage_type = MassageTypeFactory(code="privacy-back", name_en="Back (privacy)", name_uk="Спина (приватність)")
    masseur.qualifications.add(massage_type)
    room = RoomFactory(name="Кабінет приватності")
    day = timezone.localdate() + datetime.timedelta(days=2)
    common = {"masseur": masseur, "room": room, "massage_type": massage_type, "by": manager, "day": day}
    a = _person(
        tag="A", name="Ярослава Приватна", phone="+380501112233", email="yaroslava.private@example.com", **common
    )
    b = _person(tag="B", name="Богдана Сусідка", phone="+380631234567", email="bohdana.neighbour@example.com", **common)
    # The other masseur is booked with client B only: a relation, but not to A.
    Appointment.objects.create(
        client=b.client,
        massage_type=massage_type,
        masseur=other_masseur,
        room=RoomFactory(name="Інший кабінет"),
        starts_at=b.upcoming.starts_at + datetime.timedelta(days=1),
        ends_at=b.upcoming.ends_at + datetime.timedelta(days=1),
        blocks_until=b.upcoming.blocks_until + datetime.timedelta(days=1),
        booked_by=manager,
    )
    return World(
        manager=manager,
        receptionist=receptionist,
        masseur_booked=masseur.user,
        masseur_other=other_masseur.user,
        masseur=masseur,
        other_masseur=other_masseur,
        a=a,
        b=b,
    )

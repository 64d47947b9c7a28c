"""Demo screenings and clearances for the demo clients, so that every verdict
status shows up somewhere. Deterministic (random.Random(7)) and idempotent:
each screening has a fixed submission key, each clearance is looked up first."""

import datetime
import random
import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from parlor.models import MassageType
from screening import services
from screening.models import Clearance, Contraindication, Screening

_NAMESPACE = uuid.UUID("8c1f0b8e-5a43-4b8e-9a53-0d6f3b1c7e21")
DOCTORS = ["Д-р Савченко О. І.", "Д-р Литвиненко М. П.", "Д-р Гнатюк Т. В.", "Dr. Anna Weber"]
ALLERGENS = ["sandalwood", "jasmine", "orange", "rose", "patchouli", "palmarosa"]

# What each client's latest screening says, in turn, so that the statuses spread:
# (findings of the latest screening, how many days ago it was taken, clearances).
SCENARIOS = [
    ("clean", 10),
    ("high-pressure", 20),
    ("stale", 150),
    ("absolute", 5),
    ("skin", 15),
    ("skin-cleared", 15),
    ("therapeutic-referral", 12),
    ("therapeutic-expired", 30),
    ("pregnant", 8),
    ("allergy", 40),
    ("kidney-heart", 25),
    ("clean", 60),
]
_FINDINGS = {
    "clean": [],
    "high-pressure": [("high-blood-pressure", {})],
    "stale": [("low-blood-pressure", {})],
    "absolute": [("thrombosis", {})],
    "skin": [("skin-disease", {})],
    "skin-cleared": [("skin-disease", {})],
    "therapeutic-referral": [],
    "therapeutic-expired": [("acute-back-pain", {})],
    "pregnant": [("pregnancy", {"pregnancy_weeks": 22})],
    "allergy": [("product-allergy", {"allergens": ["rose"]})],
    "kidney-heart": [("kidney-disease", {}), ("heart-disease", {})],
}
# Earlier screenings draw from these, so the history shows changes.
_EARLIER = ["high-blood-pressure", "low-blood-pressure", "kidney-disease", "allergic-reactions", "liver-disease"]


PREGNANCY_AGES = range(20, 43)


def _may_be_pregnant(client: Client, today: datetime.date) -> bool:
    return client.sex == Client.Sex.FEMALE and client.age_on(today) in PREGNANCY_AGES


def _key(client: Client, index: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"demo-screening-{client.pk}-{index}")


@transaction.atomic
def seed() -> None:
    """Screenings (1-3 over the last year) and clearances for every demo client; reruns add nothing."""
    rng = random.Random(7)
    now = timezone.now()
    today = timezone.localdate()
    catalogue = {c.code: c for c in Contraindication.objects.all()}
    therapeutic = MassageType.objects.filter(code="therapeutic-back").first()
    users = get_user_model().objects.filter(username__in=["reception", "masseur1", "masseur2"])
    staff = list(users.order_by("username")) or [None]

    owed_pregnancies = 0
    for position, client in enumerate(Client.objects.active().order_by("pk")):
        scenario, latest_days = SCENARIOS[position % len(SCENARIOS)]
        # Clinically coherent: a pregnancy only for a woman of an age to carry one. One that falls to
        # someone else is owed to the next such woman who would have had a clean record.
        if scenario == "pregnant" and not _may_be_pregnant(client, today):
            scenario, owed_pregnancies = "clean", owed_pregnancies + 1
        elif scenario == "clean" and owed_pregnancies and _may_be_pregnant(client, today):
            scenario, owed_pregnancies = "pregnant", owed_pregnancies - 1
        earlier_count = rng.randint(0, 2)
        earlier_days = sorted((rng.randint(latest_days + 20, 365) for _ in range(earlier_count)), reverse=True)
        taker = rng.choice(staff)
        plans = [([(code, {}) for code in rng.sample(_EARLIER, rng.randint(0, 2))], days) for days in earlier_days]
        plans.append((_FINDINGS[scenario], latest_days))
        for index, (findings, days_ago) in enumerate(plans):
            services.screening_record(
                client=client,
                answers={"demo": True, "questions": {code: {"answer": True} for code, _details in findings}},
                findings=[
                    services.FindingInput(contraindication=catalogue[code], details=details)
                    for code, details in findings
                    if code in catalogue
                ],
                taken_by=taker,
                source=Screening.Source.STAFF,
                submission_key=_key(client, index),
                taken_at=now - datetime.timedelta(days=days_ago, hours=rng.randint(0, 6)),
            )
        doctor = rng.choice(DOCTORS)
        if scenario == "skin-cleared":
            _clearance(
                client,
                Clearance.Kind.PERMISSION,
                doctor,
                today - datetime.timedelta(days=14),
                90,
                contraindication=catalogue.get("skin-disease"),
            )
        if therapeutic and scenario == "therapeutic-referral":
            _clearance(
                client,
                Clearance.Kind.REFERRAL,
                doctor,
                today - datetime.timedelta(days=12),
                60,
                massage_type=therapeutic,
            )
        if therapeutic and scenario == "therapeutic-expired":
            _clearance(
                client,
                Clearance.Kind.REFERRAL,
                doctor,
                today - datetime.timedelta(days=120),
                30,
                massage_type=therapeutic,
            )


def _clearance(client, kind, doctor, issued_on, valid_days, contraindication=None, massage_type=None) -> None:
    if contraindication is None and massage_type is None:
        return
    # Dates are relative to today, so a rerun on another day looks for any demo one.
    if Clearance.objects.filter(client=client, kind=kind, doctor_name__in=DOCTORS).exists():
        return
    services.clearance_add(
        client=client,
        kind=kind,
        doctor_name=doctor,
        issued_on=issued_on,
        valid_until=issued_on + datetime.timedelta(days=valid_days),
        covers_contraindication=contraindication,
        covers_massage_type=massage_type,
        created_by=None,
    )

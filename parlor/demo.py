"""Demo data for the parlor's resources: staff logins, masseurs, rooms and a
working week. Idempotent: running it again changes nothing."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor import roles
from parlor.models import MassageType, Masseur, Room, WorkingHours

DEMO_PASSWORD = "parlor-demo"
# Managers must pass two-factor log-in, so the demo manager has an authenticator with this
# published key: add it to any authenticator app (DEMO_TOTP_BASE32), or print the current code
# with `manage.py demo_code`. Like the password, it is for a demo database only; demo_code
# refuses any other key.
DEMO_TOTP_KEY = b"parlor-demo-totp-key".hex()
DEMO_TOTP_BASE32 = "OBQX E3DP OIWW IZLN N4WX I33U OAWW WZLZ"

# username, first, last, role
STAFF = [
    ("manager", "Олена", "Коваль", roles.MANAGER),
    ("reception", "Ірина", "Мельник", roles.RECEPTIONIST),
    ("masseur1", "Андрій", "Шевченко", roles.MASSEUR),
    ("masseur2", "Наталія", "Бондаренко", roles.MASSEUR),
    ("masseur3", "Олег", "Ткаченко", roles.MASSEUR),
    ("masseur4", "Marta", "Novak", roles.MASSEUR),
]
ROOMS = ["Кабінет 1", "Кабінет 2", "Кабінет 3"]
# Morning and evening shifts so that both halves of the day have someone.
SHIFTS = {
    "masseur1": [(d, "08:00", "16:00") for d in range(0, 5)],
    "masseur2": [(d, "12:00", "20:00") for d in range(0, 5)],
    "masseur3": [(d, "09:00", "13:00") for d in range(0, 6)] + [(d, "14:00", "18:00") for d in range(0, 6)],
    "masseur4": [(d, "10:00", "19:00") for d in (1, 3, 5, 6)],
}
# Masseur 4 is newer and not yet qualified for therapeutic or children's massage.
NOT_QUALIFIED = {"masseur4": {"therapeutic-back", "children-back"}}


@transaction.atomic
def seed() -> None:
    """Create what is missing and leave the rest as it is."""
    user_model = get_user_model()
    # One Argon2 hash for every demo login: hashing is deliberately slow, and the password is the same.
    password = make_password(DEMO_PASSWORD)
    for username, first, last, role in STAFF:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@parlor.localhost"},
        )
        if created:
            user.password = password
        # The manager uses the Django admin too.
        user.is_staff = role == roles.MANAGER
        user.save()
        user.groups.add(Group.objects.get(name=role))
        if role == roles.MANAGER and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(user=user, name="demo authenticator", key=DEMO_TOTP_KEY, confirmed=True)

    for name in ROOMS:
        Room.objects.get_or_create(name=name)

    all_types = list(MassageType.objects.all())
    for username, _first, _last, role in STAFF:
        if role != roles.MASSEUR:
            continue
        user = user_model.objects.get(username=username)
        masseur, created = Masseur.objects.get_or_create(user=user, defaults={"display_name": user.get_full_name()})
        if created:
            skip = NOT_QUALIFIED.get(username, set())
            masseur.qualifications.set([t for t in all_types if t.code not in skip])
        if not masseur.working_hours.exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    masseur=masseur,
                    weekday=weekday,
                    starts=datetime.time.fromisoformat(starts),
                    ends=datetime.time.fromisoformat(ends),
                )
                for weekday, starts, ends in SHIFTS[username]
            )

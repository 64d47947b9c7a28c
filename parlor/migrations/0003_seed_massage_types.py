from decimal import Decimal

from django.db import migrations

# The catalogue from the parlor's own materials (shared/domain.md): usual
# lengths, the 15 minutes of rest after each session, Kyiv prices in UAH.
CATALOGUE = [
    # code, Ukrainian, English, minutes, price, referral, min age, notes
    (
        "general",
        "Загальний масаж (перший візит)",
        "General massage (first visit)",
        60,
        "900",
        False,
        0,
        "A new client's first procedure; afterwards the masseur decides the course.",
    ),
    (
        "classic-back",
        "Класичний масаж спини",
        "Classic back massage",
        40,
        "600",
        False,
        0,
        "Starts and ends with stroking.",
    ),
    (
        "therapeutic-back",
        "Лікувальний масаж спини",
        "Therapeutic back massage",
        60,
        "800",
        True,
        0,
        "Only on a doctor's referral; never in the acute period of a back disease; on a hard couch.",
    ),
    ("relaxing", "Розслаблювальний масаж", "Relaxing massage", 30, "500", False, 0, ""),
    (
        "neck-collar",
        "Масаж шиї та комірцевої зони",
        "Neck and collar zone massage",
        20,
        "400",
        False,
        0,
        "Neuralgic complaints, salt deposits, prevention of osteochondrosis.",
    ),
    (
        "lumbar",
        "Масаж поперекової зони",
        "Lumbar massage",
        35,
        "500",
        False,
        0,
        "To relieve lumbar pain at least 4-5 sessions in a row, same technique each time.",
    ),
    ("scoliosis", "Масаж при сколіозі", "Scoliosis massage", 35, "650", False, 0, ""),
    (
        "children-back",
        "Дитячий масаж спини",
        "Children's back massage",
        25,
        "450",
        False,
        1,
        "A guardian must consent; gentle technique.",
    ),
]


def seed(apps, schema_editor):
    MassageType = apps.get_model("parlor", "MassageType")
    for code, name_uk, name_en, minutes, price, referral, min_age, notes in CATALOGUE:
        MassageType.objects.update_or_create(
            code=code,
            defaults={
                "name_uk": name_uk,
                "name_en": name_en,
                "duration_minutes": minutes,
                "buffer_minutes": 15,
                "price_uah": Decimal(price),
                "requires_referral": referral,
                "min_age": min_age,
                "notes": notes,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("parlor", "MassageType").objects.filter(code__in=[row[0] for row in CATALOGUE]).delete()


class Migration(migrations.Migration):
    dependencies = [("parlor", "0002_resources")]

    operations = [migrations.RunPython(seed, unseed)]

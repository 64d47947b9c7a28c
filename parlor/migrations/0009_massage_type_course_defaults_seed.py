from django.db import migrations

# What a course of each seeded type usually is (shared/domain.md): 8-10 sessions daily or every other
# day, lumbar at least 4-5 in a row; the first visit and a relaxing massage are not booked as a course.
COURSES = {
    "classic-back": (10, "daily"),
    "therapeutic-back": (10, "every_other_day"),
    "neck-collar": (10, "daily"),
    "lumbar": (5, "daily"),
    "scoliosis": (10, "every_other_day"),
    "children-back": (10, "every_other_day"),
}


def seed(apps, schema_editor):
    # Idempotent, and never over a manager's own choice: only types still without a course.
    MassageType = apps.get_model("parlor", "MassageType")
    for code, (sessions, cadence) in COURSES.items():
        MassageType.objects.filter(code=code, course_sessions=0).update(
            course_sessions=sessions, course_cadence=cadence
        )


class Migration(migrations.Migration):
    dependencies = [("parlor", "0008_massage_type_course_defaults")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

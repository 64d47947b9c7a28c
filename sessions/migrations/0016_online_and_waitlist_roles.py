from django.db import migrations

from parlor.roles import grant_permissions

RECEPTION = [
    "treatments.view_waitlistentry",
    "treatments.add_waitlistentry",
    "treatments.change_waitlistentry",
    "treatments.view_callrequest",
    "treatments.change_callrequest",
]
MANAGER = [
    *RECEPTION,
    "treatments.prioritise_waitlistentry",
    "treatments.view_onlinepolicy",
    "treatments.change_onlinepolicy",
]


def grant(apps, schema_editor):
    # Idempotent (get_or_create, add): seeded_db runs it again after flushes. The front desk keeps the
    # waiting list and makes the calls; the manager also puts a client first and sets online booking.
    grant_permissions(apps, {"Receptionist": RECEPTION, "Manager": MANAGER})


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    ours = permission_model.objects.filter(
        content_type__app_label="treatments", codename__in=[name.split(".")[1] for name in MANAGER]
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Receptionist", "Manager"]):
        group.permissions.remove(*ours)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0015_online_booking_and_waitlist"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

"""The security events, append-only in the database itself: a trigger refuses every UPDATE and
DELETE of a row, whatever the application (or anyone with its database role) sends.
TRUNCATE is left to the owner: the test suite empties tables with it between tests."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("parlor", "0004_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION parlor_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '% of % refused: its rows are append-only', TG_OP, TG_TABLE_NAME
                        USING ERRCODE = 'insufficient_privilege';
                END
                $$;
            """,
            reverse_sql="DROP FUNCTION IF EXISTS parlor_append_only();",
        ),
        migrations.CreateModel(
            name="SecurityEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="when")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("login", "logged in"),
                            ("logout", "logged out"),
                            ("login-failed", "failed log-in"),
                            ("locked-out", "locked out"),
                            ("otp-verified", "passed two-factor check"),
                            ("otp-failed", "wrong two-factor code"),
                            ("otp-device-added", "two-factor set up"),
                            ("otp-device-removed", "two-factor removed"),
                            ("recovery-codes", "recovery codes issued"),
                            ("password-changed", "password changed"),
                            ("password-reset-sent", "password-reset link sent"),
                        ],
                        max_length=24,
                        verbose_name="event",
                    ),
                ),
                ("username", models.CharField(blank=True, max_length=150, verbose_name="username")),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True, verbose_name="address")),
                ("detail", models.CharField(blank=True, max_length=200, verbose_name="detail")),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "security event",
                "verbose_name_plural": "security events",
                "ordering": ["-at", "-pk"],
                "indexes": [
                    models.Index(fields=["-at"], name="parlor_secevent_at"),
                    models.Index(fields=["kind", "-at"], name="parlor_secevent_kind_at"),
                ],
            },
        ),
        migrations.RunSQL(
            sql="""
                CREATE TRIGGER parlor_securityevent_append_only
                BEFORE UPDATE OR DELETE ON parlor_securityevent
                FOR EACH ROW EXECUTE FUNCTION parlor_append_only();
            """,
            reverse_sql="DROP TRIGGER IF EXISTS parlor_securityevent_append_only ON parlor_securityevent;",
        ),
    ]

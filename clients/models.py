"""Client records: who the parlor's clients are and what they agreed to."""

import datetime
import zoneinfo

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from parlor.limits import NOTE_MAX

ADULT_AGE = 18
# Older birth dates are typing mistakes (a year of 1092 for 1992), not clients.
MAX_AGE = 120
# Ages count on the parlor's calendar, whatever zone a request runs in.
PARLOR_TZ = zoneinfo.ZoneInfo("Europe/Kyiv")

# The aroma and oil allergies the parlor meets most (domain.md); stored under
# these lower-case English names so that session logs can compare products.
COMMON_ALLERGENS = {
    "sandalwood": _("sandalwood"),
    "jasmine": _("jasmine"),
    "orange": _("orange"),
    "rose": _("rose"),
    "patchouli": _("patchouli"),
    "palmarosa": _("palmarosa"),
}


def parlor_today() -> datetime.date:
    return datetime.datetime.now(tz=PARLOR_TZ).date()


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


class ClientQuerySet(models.QuerySet):
    def active(self):
        """Clients not merged into another record and not erased."""
        return self.filter(merged_into__isnull=True, erased_at__isnull=True)


# The change history (who changed the profile, before and after) is kept by PostgreSQL triggers
# into ClientEvent; search_text is derived from fields that are kept anyway.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["search_text"])
class Client(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("female")
        MALE = "male", _("male")

    class Language(models.TextChoices):
        UKRAINIAN = "uk", _("Ukrainian")
        ENGLISH = "en", _("English")

    class Pressure(models.TextChoices):
        LIGHT = "light", _("light")
        MEDIUM = "medium", _("medium")
        DEEP = "deep", _("deep")

    full_name = models.CharField(_("full name"), max_length=200)
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.UKRAINIAN)
    preferred_pressure = models.CharField(_("preferred pressure"), max_length=6, choices=Pressure.choices, blank=True)
    # Lower-case names of oils, creams or aromas; a session log may not list any of them.
    allergens = ArrayField(models.CharField(max_length=60), verbose_name=_("allergens"), default=list, blank=True)
    data_consent_at = models.DateTimeField(_("consented to data processing at"))
    reminder_consent = models.BooleanField(_("agrees to email reminders"), default=False)
    guardian_name = models.CharField(_("guardian's name"), max_length=200, blank=True)
    guardian_phone = PhoneNumberField(_("guardian's phone"), blank=True)
    guardian_consent_at = models.DateTimeField(_("guardian consented at"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=NOTE_MAX, blank=True)
    # Lower-cased name, transliteration, phone digits and email, kept by the
    # services so that one trigram index serves search in either script.
    search_text = models.TextField(editable=False, default="")
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The client withdrew consent to data processing: reminders stop and the record awaits erasure.
    data_consent_withdrawn_at = models.DateTimeField(
        _("withdrew consent to data processing at"), null=True, blank=True, editable=False
    )
    # Identity and contact data are gone (clients.erasure); the row stays so that sessions keep a client.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            # The duplicate guard's guarantee: one live record per phone and per email.
            models.UniqueConstraint(
                fields=["phone"],
                condition=~Q(phone="") & Q(merged_into__isnull=True),
                name="clients_client_phone_unique",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email="") & Q(merged_into__isnull=True),
                name="clients_client_email_unique",
            ),
        ]
        permissions = [
            ("merge_client", _("Can merge duplicate client records")),
            ("export_client", _("Can export everything held about a client")),
            ("erase_client", _("Can erase a client's personal data")),
        ]
        indexes = [
            # Client list without a query: the 50 most recently updated live clients.
            models.Index(F("updated_at").desc(), name="clients_client_recent", condition=Q(merged_into__isnull=True)),
            # Client search: `search_text %> query` and ILIKE '%query%'.
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="clients_client_search_trgm"),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("clients:client-detail", args=[self.pk])

    def age_on(self, day: datetime.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def is_minor_on(self, day: datetime.date) -> bool:
        return self.age_on(day) < ADULT_AGE

    @property
    def age(self) -> int:
        """Full years today in Kyiv."""
        return self.age_on(parlor_today())

    @property
    def is_minor(self) -> bool:
        return self.is_minor_on(parlor_today())

    def clean(self):
        """Rules on the client's own fields; services and forms both run them via full_clean()."""
        if self.birth_date is None:
            return
        today = parlor_today()
        errors = {}
        if self.birth_date > today:
            errors["birth_date"] = _("The date of birth cannot be in the future.")
        elif self.birth_date < years_before(today, MAX_AGE):
            errors["birth_date"] = _("The date of birth is more than %(years)s years ago; please check the year.") % {
                "years": MAX_AGE
            }
        elif self.is_minor_on(today):
            if not self.guardian_name.strip():
                errors["guardian_name"] = _("A client under %(age)s needs a guardian: enter the guardian's name.") % {
                    "age": ADULT_AGE
                }
            if not self.guardian_phone:
                errors["guardian_phone"] = _("A client under %(age)s needs a guardian: enter the guardian's phone.") % {
                    "age": ADULT_AGE
                }
        if errors:
            raise ValidationError(errors)


class AccessEntry(models.Model):
    """One opening of a page, download or export that showed a client's health data: who, when,
    which client, what (the page's URL name and the object) and from which address.

    Written once: a trigger (migration 0005) refuses every UPDATE and DELETE, so not even the
    application can rewrite the trail. The object is named by type and id, never by its text,
    so that the trail holds no personal data of its own."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    # PROTECT: a user or client who is in the trail is deactivated or erased, never deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="access_entries", verbose_name=_("client")
    )
    page = models.CharField(_("page"), max_length=100)  # the URL name, e.g. "screening:screening-detail"
    object_type = models.CharField(_("object type"), max_length=100, blank=True)  # "screening.screening"
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access entry")
        verbose_name_plural = _("access entries")
        indexes = [
            # A client's trail ("who opened this record"): WHERE client_id = %s [AND at range] ORDER BY at DESC.
            models.Index(F("client"), F("at").desc(), name="clients_access_client_at"),
            # A user's trail ("what did this user open"): WHERE user_id = %s [AND at range] ORDER BY at DESC.
            models.Index(F("user"), F("at").desc(), name="clients_access_user_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} · {self.user_id} · {self.page} · {self.client_id}"


class Erasure(models.Model):
    """A client's personal data erased, by whom, when and why; the row keeps no identity of the client."""

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="erasure", verbose_name=_("client"))
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("erased by")
    )
    reason = models.TextField(_("reason"))
    kept_clinical_notes = models.BooleanField(_("anonymised clinical notes kept"), default=False)

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self):
        return f"{self.client_id} · {self.erased_at:%Y-%m-%d}"

"""The contraindication catalogue, screenings (an append-only history of what
each client answered) and doctors' clearances."""

import uuid

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clients.models import parlor_today
from parlor.formats import day_long, when
from parlor.limits import NOTE_MAX
from screening.validators import validate_scan


def _english() -> bool:
    return (get_language() or "uk").startswith("en")


class ContraindicationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Contraindication(models.Model):
    """One entry of the catalogue seeded from domain.md; its kind decides the rule."""

    class Kind(models.TextChoices):
        ABSOLUTE = "absolute", _("absolute")
        RELATIVE = "relative", _("relative")
        LOCAL = "local", _("local (area never worked)")
        PRODUCT = "product", _("product allergy")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name_uk = models.CharField(_("name (Ukrainian)"), max_length=160)
    name_en = models.CharField(_("name (English)"), max_length=160)
    question_uk = models.CharField(_("question (Ukrainian)"), max_length=300, blank=True)
    question_en = models.CharField(_("question (English)"), max_length=300, blank=True)
    guidance_uk = models.TextField(_("guidance (Ukrainian)"), blank=True)
    guidance_en = models.TextField(_("guidance (English)"), blank=True)
    is_day_of = models.BooleanField(
        _("asked on the day"), default=False, help_text=_("The answer is about the day of the visit only.")
    )
    is_active = models.BooleanField(_("in the questionnaire"), default=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ContraindicationQuerySet.as_manager()

    class Meta:
        ordering = ["ordering", "code"]
        verbose_name = _("contraindication")
        verbose_name_plural = _("contraindications")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("screening:contraindication-edit", args=[self.pk])

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_uk

    @property
    def question(self) -> str:
        return (self.question_en if _english() else self.question_uk) or self.name

    @property
    def guidance(self) -> str:
        return self.guidance_en if _english() else self.guidance_uk


class AppendOnlyModel(models.Model):
    """A row written once. The database trigger (migration 0002) is the
    guarantee; this only fails earlier and with a clearer message."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("Screenings are never changed; record a new one instead."))
        super().save(*args, **kwargs)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Screening(AppendOnlyModel):
    """What a client answered at one time. A newer screening supersedes it."""

    class Source(models.TextChoices):
        STAFF = "staff", _("taken by staff")
        SELF_REPORTED = "self_reported", _("filled in by the client")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="screenings", verbose_name=_("client")
    )
    taken_at = models.DateTimeField(_("taken at"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.STAFF)
    # The questionnaire as it was asked and answered, question texts included,
    # so a later edit of the catalogue does not rewrite history.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # Generated when the form is shown: a double click or a resubmitted form
    # carries the same key and so yields the same screening.
    submission_key = models.UUIDField(_("submission key"), default=uuid.uuid4, editable=False)
    notes = models.TextField(_("notes"), max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["-taken_at", "-pk"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        permissions = [
            # Masseurs: only their own clients' records (screening.access); managers: every client's.
            ("view_health_record", _("Can see clients' health records")),
            ("view_all_health_records", _("Can see every client's health record")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["submission_key"], name="screening_screening_submission_key_unique"),
        ]
        indexes = [
            # The latest screening per client (verdicts, history):
            # WHERE client_id = %s [AND taken_at < %s] ORDER BY taken_at DESC,
            # and DISTINCT ON (client_id) for many clients at once. The columns a calendar's verdicts read
            # (selectors._screening_rows) are included, so those pages read the index only.
            models.Index(fields=["client", "-taken_at"], include=["source", "id"], name="screening_scr_client_taken"),
            # The staff screening in force per client (selectors._in_force_between's subquery, once a row):
            # WHERE client_id = %s AND source = 'staff' AND taken_at < %s ORDER BY taken_at DESC, id DESC
            # LIMIT 1, read off the index without a sort.
            models.Index(
                F("client"),
                F("taken_at").desc(),
                F("id").desc(),
                condition=Q(source="staff"),
                name="screening_staff_client_taken",
            ),
        ]

    def __str__(self):
        return f"{self.client} · {when(self.taken_at)}"

    def get_absolute_url(self):
        return reverse("screening:screening-detail", args=[self.pk])


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Finding(AppendOnlyModel):
    """One contraindication a screening found, with what was said about it."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="findings")
    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.PROTECT, related_name="findings", verbose_name=_("contraindication")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Structured facts the rules read: {"pregnancy_weeks": 20}, {"allergens": ["rose"]}.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["contraindication__ordering", "contraindication__code"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "contraindication"], name="screening_finding_one_per_contraindication"
            ),
        ]

    def __str__(self):
        return str(self.contraindication)


# A doctor signs a clearance on a day that has come: a later date is a typing mistake.
ISSUED_IN_FUTURE = _("A clearance cannot be issued in the future: check the date on the paper.")


def _scan_path(instance, filename: str) -> str:
    # A random name: the client's name or the doctor's never ends up in a path.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"clearances/{uuid.uuid4().hex}.{extension}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Clearance(models.Model):
    """A doctor's referral (for a massage type) or permission (despite a contraindication)."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", _("referral")
        PERMISSION = "permission", _("permission")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="clearances", verbose_name=_("client")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    doctor_name = models.CharField(_("doctor"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), help_text=_("The last day it is valid, inclusive."))
    covers_contraindication = models.ForeignKey(
        Contraindication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clearances",
        verbose_name=_("covers the contraindication"),
    )
    covers_massage_type = models.ForeignKey(
        "parlor.MassageType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clearances",
        verbose_name=_("covers the massage type"),
    )
    scan = models.FileField(_("scan"), upload_to=_scan_path, blank=True, validators=[validate_scan])
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["-valid_until", "-pk"]
        verbose_name = _("clearance")
        verbose_name_plural = _("clearances")
        constraints = [
            models.CheckConstraint(
                condition=Q(covers_contraindication__isnull=False) | Q(covers_massage_type__isnull=False),
                name="screening_clearance_covers_something",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("issued_on")), name="screening_clearance_valid_after_issued"
            ),
        ]
        indexes = [
            # Clearances of a client valid on a day (verdicts):
            # WHERE client_id = %s AND valid_until >= %s [AND issued_on <= %s].
            models.Index(fields=["client", "valid_until"], name="screening_clr_client_valid"),
        ]

    def __str__(self):
        period = f"{day_long(self.issued_on)} – {day_long(self.valid_until)}"
        return f"{self.get_kind_display()} · {self.doctor_name} · {period}"

    def get_absolute_url(self):
        return reverse("screening:clearance-list", args=[self.client_id])

    def clean(self):
        errors = {}
        if not self.covers_contraindication_id and not self.covers_massage_type_id:
            errors["covers_contraindication"] = _("Say what it covers: a contraindication, a massage type or both.")
        if self.issued_on and self.valid_until and self.valid_until < self.issued_on:
            errors["valid_until"] = _("It cannot end before it was issued.")
        if self.issued_on and self.issued_on > parlor_today():
            errors["issued_on"] = ISSUED_IN_FUTURE
        if errors:
            raise ValidationError(errors)

    def is_valid_on(self, day) -> bool:
        return self.issued_on <= day <= self.valid_until


DEFAULT_FEMALE_QUESTIONS_UNTIL_AGE = 55


class QuestionnaireSettings(models.Model):
    """The manager's settings of the questionnaires; one row (pk=1), created with the defaults when missing."""

    female_questions_until_age = models.PositiveSmallIntegerField(
        _("ask about pregnancy and menstruation until the age of"),
        default=DEFAULT_FEMALE_QUESTIONS_UNTIL_AGE,
        validators=[MinValueValidator(30), MaxValueValidator(80)],
        help_text=_("Female clients are asked about pregnancy and menstruation until this age, not from it on."),
    )

    class Meta:
        verbose_name = _("questionnaire settings")
        verbose_name_plural = _("questionnaire settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="screening_questionnairesettings_single_row")]

    def __str__(self):
        return str(_("Questionnaire settings"))

    def get_absolute_url(self):
        return reverse("screening:questionnaire-settings")

    @classmethod
    def current(cls) -> "QuestionnaireSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row

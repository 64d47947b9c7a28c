"""Screening's part of a client's rights (clients.export, clients.erasure): screenings with their
findings, and clearances with their scans. Registered from ScreeningConfig.ready()."""

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _

from clients.erasure import ErasureRun, scrub_rows, text_fields
from clients.export import Section, plain
from screening.models import Clearance, Finding, Screening


def _details(details) -> str:
    """A finding's details (pregnancy weeks, allergens...) as one readable line."""
    return "; ".join(f"{key}: {plain(value)}" for key, value in (details or {}).items())


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def export_sections(client) -> list[Section]:
    """The client's screenings (answers, findings, notes) and clearances, with the scans as files."""
    screenings = (
        Screening.objects.filter(client=client)
        .select_related("taken_by")
        .prefetch_related("findings__contraindication")
        .order_by("taken_at", "pk")
    )
    screening_rows = [
        {
            "taken_at": plain(s.taken_at),
            "taken_by": _who(s.taken_by),
            "source": s.get_source_display(),
            "findings": [
                " ".join(filter(None, [f.contraindication.name, f.note and f"({f.note})", _details(f.details)]))
                for f in s.findings.all()
            ],
            "answers": plain(s.answers),
            "notes": s.notes,
        }
        for s in screenings
    ]
    files: dict[str, bytes] = {}
    clearance_rows = []
    for c in (
        Clearance.objects.filter(client=client)
        .select_related("covers_contraindication", "covers_massage_type")
        .order_by("issued_on", "pk")
    ):
        scan = ""
        if c.scan:
            scan = f"scans/clearance-{c.pk}-{c.scan.name.rsplit('/', 1)[-1]}"
            try:
                with c.scan.open("rb") as handle:
                    files[scan] = handle.read()
            except FileNotFoundError:
                scan = ""
        clearance_rows.append(
            {
                "kind": c.get_kind_display(),
                "doctor": c.doctor_name,
                "issued_on": plain(c.issued_on),
                "valid_until": plain(c.valid_until),
                "covers": ", ".join(str(x) for x in (c.covers_massage_type, c.covers_contraindication) if x),
                "notes": c.notes,
                "scan": scan,
            }
        )
    return [
        Section(
            "screenings",
            _("Screenings"),
            [
                ("taken_at", _("Taken at")),
                ("taken_by", _("Taken by")),
                ("source", _("Source")),
                ("findings", _("Findings")),
                ("answers", _("Answers")),
                ("notes", _("Notes")),
            ],
            screening_rows,
        ),
        Section(
            "clearances",
            _("Clearances"),
            [
                ("kind", _("Kind")),
                ("doctor", _("Doctor")),
                ("issued_on", _("Issued on")),
                ("valid_until", _("Valid until")),
                ("covers", _("Covers")),
                ("notes", _("Notes")),
                ("scan", _("Scan")),
            ],
            clearance_rows,
            files,
        ),
    ]


def erase(run: ErasureRun) -> None:
    """Scans always go (they show the client's name); the screenings and clearances go too unless the
    manager keeps the clinical notes, which then lose the client's name, phone and email."""
    screenings = Screening.objects.filter(client=run.client)
    clearances = Clearance.objects.filter(client=run.client)
    screening_ids = list(screenings.values_list("pk", flat=True))
    clearance_ids = list(clearances.values_list("pk", flat=True))
    for clearance in clearances.exclude(scan=""):
        name, storage = clearance.scan.name, clearance.scan.storage
        # After the commit: a rolled-back erasure must not have lost the file.
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
    clearances.update(scan="")
    if run.keep_clinical_notes:
        scrub_rows(screenings, run.scrub)
        scrub_rows(Finding.objects.filter(screening_id__in=screening_ids), run.scrub)
        scrub_rows(clearances, run.scrub, fields=["notes"])
    else:
        Finding.objects.filter(screening_id__in=screening_ids).delete()
        screenings.delete()
        clearances.delete()
    # The change history holds every version, the deleted ones included: it follows what stays.
    for model, ids in ((Screening, screening_ids), (Finding, None), (Clearance, clearance_ids)):
        events = apps.get_model("screening", f"{model.__name__}Event").objects
        rows = events.filter(screening_id__in=screening_ids) if ids is None else events.filter(pgh_obj_id__in=ids)
        if run.keep_clinical_notes:
            scrub_rows(rows, run.scrub, fields=[f for f in _event_text_fields(model) if f != "scan"])
            if model is Clearance:
                rows.update(scan="")
        else:
            rows.delete()


def _event_text_fields(model) -> list[str]:
    return [f for f in text_fields(apps.get_model("screening", f"{model.__name__}Event")) if not f.startswith("pgh_")]

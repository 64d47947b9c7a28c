"""The waiting list's part of a client's rights (clients.export, clients.erasure): the entries and the
offers made to them. An erasure deletes them with their change history: wishes for a time are no
record of a treatment. Registered from TreatmentsConfig.ready()."""

from django.apps import apps
from django.utils.translation import gettext as _

from clients.erasure import ErasureRun
from clients.export import Section, plain
from parlor.models import WorkingHours
from sessions.models import WaitlistEntry, WaitlistOffer


def export_sections(client) -> list[Section]:
    """The client's waiting-list entries and offers, read by the client's id only."""
    weekdays = dict(WorkingHours.Weekday.choices)
    windows = dict(WaitlistEntry.Window.choices)
    entries = [
        {
            "created_at": plain(e.created_at),
            "massage_type": str(e.massage_type),
            "masseur": e.masseur.display_name if e.masseur else "",
            "weekdays": [str(weekdays.get(d, d)) for d in e.weekdays],
            "windows": [str(windows.get(w, w)) for w in e.windows],
            "until": plain(e.until),
            "state": e.get_state_display(),
        }
        for e in WaitlistEntry.objects.filter(client=client).select_related("massage_type", "masseur").order_by("pk")
    ]
    offers = [
        {
            "offered_at": plain(o.offered_at),
            "starts_at": plain(o.slot.starts_at),
            "massage_type": str(o.slot.massage_type),
            "masseur": o.slot.masseur.display_name,
            "state": o.get_state_display(),
            "answered_at": plain(o.answered_at),
        }
        for o in WaitlistOffer.objects.filter(entry__client=client)
        .select_related("slot__massage_type", "slot__masseur")
        .order_by("pk")
    ]
    return [
        Section(
            "waitlist",
            _("Waiting list"),
            [
                ("created_at", _("Since")),
                ("massage_type", _("Massage type")),
                ("masseur", _("Masseur")),
                ("weekdays", _("Days")),
                ("windows", _("Times of day")),
                ("until", _("Until")),
                ("state", _("State")),
            ],
            entries,
        ),
        Section(
            "waitlist_offers",
            _("Waiting-list offers"),
            [
                ("offered_at", _("Offered")),
                ("starts_at", _("Time offered")),
                ("massage_type", _("Massage type")),
                ("masseur", _("Masseur")),
                ("state", _("State")),
                ("answered_at", _("Answered")),
            ],
            offers,
        ),
    ]


def erase(run: ErasureRun) -> None:
    """The entries go, with their offers, emails and change history."""
    entry_ids = list(WaitlistEntry.objects.filter(client=run.client).values_list("pk", flat=True))
    offer_ids = list(WaitlistOffer.objects.filter(entry_id__in=entry_ids).values_list("pk", flat=True))
    WaitlistEntry.objects.filter(pk__in=entry_ids).delete()
    apps.get_model("treatments", "WaitlistOfferEvent").objects.filter(pgh_obj_id__in=offer_ids).delete()
    apps.get_model("treatments", "WaitlistEntryEvent").objects.filter(pgh_obj_id__in=entry_ids).delete()

"""Online booking's part of a client's rights (clients.export, clients.erasure): the calls the front
desk was asked to make. An erasure deletes them with their change history. Registered from
TreatmentsConfig.ready(). Sign-in rows hold no address in clear (keyed digests): nothing to export
or erase."""

from django.apps import apps
from django.utils.translation import gettext as _

from clients.erasure import ErasureRun
from clients.export import Section, plain
from sessions.models import CallRequest


def export_sections(client) -> list[Section]:
    calls = [
        {
            "created_at": plain(c.created_at),
            "reason": c.get_reason_display(),
            "massage_type": str(c.massage_type),
            "wanted_at": plain(c.wanted_at),
            "done_at": plain(c.done_at),
        }
        for c in CallRequest.objects.filter(client=client).select_related("massage_type").order_by("pk")
    ]
    return [
        Section(
            "call_requests",
            _("Calls to make"),
            [
                ("created_at", _("Asked")),
                ("reason", _("Why")),
                ("massage_type", _("Massage type")),
                ("wanted_at", _("Time wanted")),
                ("done_at", _("Called")),
            ],
            calls,
        )
    ]


def erase(run: ErasureRun) -> None:
    ids = list(CallRequest.objects.filter(client=run.client).values_list("pk", flat=True))
    CallRequest.objects.filter(pk__in=ids).delete()
    apps.get_model("treatments", "CallRequestEvent").objects.filter(pgh_obj_id__in=ids).delete()

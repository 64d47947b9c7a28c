"""The access trail: every page, download or export that shows a client's health data writes one
entry. Pages of every app call record_access (screening and sessions through
screening.access.open_health_record); the manager reads the trail by client and by user."""

import datetime

from django.apps import apps
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clients.models import AccessEntry, Client


def client_address(request: HttpRequest) -> str | None:
    """The address the request came from, as the web server hands it over (gunicorn behind the
    compose proxy; see README's deployment section)."""
    return request.META.get("REMOTE_ADDR") or None


def page_name(request: HttpRequest) -> str:
    """The URL name of the page being served ("screening:screening-detail"), else its path."""
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match and match.view_name else request.path)[:100]


def record_access(request: HttpRequest, *, client: Client, obj=None, page: str = "") -> AccessEntry:
    """One entry: this user opened this client's health data on this page (about `obj`, the client by default)."""
    obj = client if obj is None else obj
    return AccessEntry.objects.create(
        user=request.user,
        client=client,
        page=page or page_name(request),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        address=client_address(request),
    )


def record_access_many(request: HttpRequest, *, pairs) -> int:
    """One entry per (client, object) a page shows the health data of (a masseur's printed day sheet):
    one query however many."""
    page, address = page_name(request), client_address(request)
    entries = [
        AccessEntry(
            user=request.user,
            client=client,
            page=page,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            address=address,
        )
        for client, obj in pairs
    ]
    AccessEntry.objects.bulk_create(entries)
    return len(entries)


# --- reads for the manager's trail pages ------------------------------------------------------


def within(queryset: QuerySet, since: datetime.date | None, until: datetime.date | None) -> QuerySet:
    """Entries from the start of `since` to the end of `until` (local days), either one optional."""
    tz = timezone.get_current_timezone()
    if since:
        queryset = queryset.filter(at__gte=datetime.datetime.combine(since, datetime.time.min, tzinfo=tz))
    if until:
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        queryset = queryset.filter(at__lt=end)
    return queryset


def trail_of_client(*, client: Client) -> QuerySet[AccessEntry]:
    """Who opened this client's record, newest first, users loaded (served by clients_access_client_at)."""
    return AccessEntry.objects.filter(client=client).select_related("user").order_by("-at", "-pk")


def trail_of_user(*, user) -> QuerySet[AccessEntry]:
    """What this user opened, newest first, clients loaded (served by clients_access_user_at)."""
    return AccessEntry.objects.filter(user=user).select_related("client").order_by("-at", "-pk")


def object_label(entry: AccessEntry) -> str:
    """The kind of object an entry names ("screening"), from the model's verbose name; no query."""
    try:
        return str(apps.get_model(entry.object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return entry.object_type

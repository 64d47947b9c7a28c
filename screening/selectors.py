"""Reads of screening data, and the loaders that feed the pure rules."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from clients.models import Client
from parlor.models import MassageType
from screening import rules
from screening.models import Clearance, Contraindication, Finding, Screening

DEFAULT_VALID_DAYS = 90


def stale_after_days() -> int:
    return getattr(settings, "SCREENING_VALID_DAYS", DEFAULT_VALID_DAYS)


def _end_of(day: datetime.date) -> datetime.datetime:
    """The first instant after `day` in the parlor's time zone (DST-safe: midnight exists in Kyiv)."""
    tz = timezone.get_current_timezone()
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def _with_findings(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("taken_by").prefetch_related(
        Prefetch("findings", queryset=Finding.objects.select_related("contraindication"))
    )


# --- Facts for the rules --------------------------------------------------------


def client_facts(client: Client) -> rules.ClientFacts:
    return rules.ClientFacts(
        birth_date=client.birth_date,
        guardian_consent=client.guardian_consent_at is not None,
        allergens=tuple(client.allergens or ()),
    )


def type_facts(massage_type: MassageType | None) -> rules.TypeFacts | None:
    if massage_type is None:
        return None
    return rules.TypeFacts(
        code=massage_type.code,
        name=massage_type.name,
        requires_referral=massage_type.requires_referral,
        min_age=massage_type.min_age,
    )


def finding_facts(finding: Finding) -> rules.FindingFacts:
    c = finding.contraindication
    return rules.FindingFacts(
        code=c.code, kind=c.kind, name=c.name, is_day_of=c.is_day_of, note=finding.note, details=finding.details or {}
    )


def screening_facts(screening: Screening | None) -> rules.ScreeningFacts | None:
    """Facts of a screening whose findings were prefetched with their contraindications."""
    if screening is None:
        return None
    return rules.ScreeningFacts(
        taken_on=timezone.localdate(screening.taken_at),
        findings=tuple(finding_facts(f) for f in screening.findings.all()),
        pk=screening.pk,
    )


def clearance_facts(clearance: Clearance) -> rules.ClearanceFacts:
    return rules.ClearanceFacts(
        kind=clearance.kind,
        issued_on=clearance.issued_on,
        valid_until=clearance.valid_until,
        covers_contraindication=clearance.covers_contraindication.code if clearance.covers_contraindication else None,
        covers_massage_type=clearance.covers_massage_type.code if clearance.covers_massage_type else None,
        doctor_name=clearance.doctor_name,
    )


# --- Verdicts -------------------------------------------------------------------


def latest_screening(*, client: Client, day: datetime.date | None = None) -> Screening | None:
    """The client's newest screening taken by the end of `day` (any day when None), findings prefetched."""
    queryset = Screening.objects.filter(client=client)
    if day is not None:
        queryset = queryset.filter(taken_at__lt=_end_of(day))
    return _with_findings(queryset.order_by("-taken_at", "-pk")[:1]).first()


def _valid_clearances(day: datetime.date) -> QuerySet:
    return Clearance.objects.valid_on(day).select_related("covers_contraindication", "covers_massage_type")


def verdict_for(*, client: Client, massage_type: MassageType | None, day: datetime.date) -> rules.Verdict:
    """May this client have this massage type (None: any) on this day? Three queries at most."""
    screening = latest_screening(client=client, day=day)
    clearances = _valid_clearances(day).filter(client=client)
    return rules.evaluate(
        facts=client_facts(client),
        massage_type=type_facts(massage_type),
        day=day,
        screening=screening_facts(screening),
        clearances=[clearance_facts(c) for c in clearances],
        stale_after_days=stale_after_days(),
    )


def verdicts_for_many(
    clients: Iterable[Client], massage_type: MassageType | None, day: datetime.date
) -> dict[int, rules.Verdict]:
    """Verdicts keyed by client id for a list page; three queries whatever the number of clients."""
    clients = list(clients)
    ids = [c.pk for c in clients]
    if not ids:
        return {}
    # DISTINCT ON (client_id) with the newest first: one latest screening per client.
    latest = _with_findings(
        Screening.objects.filter(client_id__in=ids, taken_at__lt=_end_of(day))
        .order_by("client_id", "-taken_at", "-pk")
        .distinct("client_id")
    )
    screening_by_client = {s.client_id: s for s in latest}
    clearances_by_client: dict[int, list[rules.ClearanceFacts]] = {}
    for clearance in _valid_clearances(day).filter(client_id__in=ids):
        clearances_by_client.setdefault(clearance.client_id, []).append(clearance_facts(clearance))
    kind = type_facts(massage_type)
    days = stale_after_days()
    return {
        client.pk: rules.evaluate(
            facts=client_facts(client),
            massage_type=kind,
            day=day,
            screening=screening_facts(screening_by_client.get(client.pk)),
            clearances=clearances_by_client.get(client.pk, []),
            stale_after_days=days,
        )
        for client in clients
    }


# --- Pages ----------------------------------------------------------------------


def screenings_of(*, client: Client, limit: int | None = None) -> list[Screening]:
    """The client's screenings, newest first, findings and who took them loaded (two queries)."""
    queryset = _with_findings(Screening.objects.filter(client=client).order_by("-taken_at", "-pk"))
    return list(queryset[:limit] if limit else queryset)


def screening_count(*, client: Client) -> int:
    return Screening.objects.filter(client=client).count()


def screening_detail(*, pk: int) -> Screening | None:
    return _with_findings(Screening.objects.select_related("client").filter(pk=pk)).first()


def screening_before(*, screening: Screening) -> Screening | None:
    """The same client's screening just before this one, findings prefetched."""
    earlier = Q(taken_at__lt=screening.taken_at) | Q(taken_at=screening.taken_at, pk__lt=screening.pk)
    return _with_findings(
        Screening.objects.filter(earlier, client_id=screening.client_id).order_by("-taken_at", "-pk")[:1]
    ).first()


def clearances_of(*, client: Client) -> list[Clearance]:
    return list(
        Clearance.objects.filter(client=client).select_related(
            "covers_contraindication", "covers_massage_type", "created_by"
        )
    )


def questionnaire() -> list[Contraindication]:
    """The active catalogue entries a client is asked about (local areas are not questions)."""
    return list(Contraindication.objects.active().exclude(kind=Contraindication.Kind.LOCAL))


def local_areas() -> list[Contraindication]:
    return list(Contraindication.objects.active().filter(kind=Contraindication.Kind.LOCAL))

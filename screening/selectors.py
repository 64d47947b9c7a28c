"""Reads of screening data, and the loaders that feed the pure rules."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
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


def facts_in_force(screenings: Iterable[Screening]) -> rules.ScreeningFacts | None:
    """The facts the rules judge from one client's screenings (findings prefetched): the newest staff
    screening with the self-reports taken after it on top (rules.combine). Any order in, pure."""
    ordered = sorted(screenings, key=lambda s: (s.taken_at, s.pk), reverse=True)
    staff = next((s for s in ordered if s.source == Screening.Source.STAFF), None)
    reports = [
        s
        for s in ordered
        if s.source != Screening.Source.STAFF and (staff is None or (s.taken_at, s.pk) > (staff.taken_at, staff.pk))
    ]
    return rules.combine(screening_facts(staff), [screening_facts(r) for r in reports])


def _in_force(queryset: QuerySet, end: datetime.datetime) -> QuerySet:
    """The screenings still in force by `end`: each client's newest staff screening and whatever was
    taken after it (self-reports); all of them for a client staff never screened. One query (and the
    findings' prefetch), whatever the number of clients."""
    newest_staff = (
        Screening.objects.filter(client=OuterRef("client"), source=Screening.Source.STAFF, taken_at__lt=end)
        .order_by("-taken_at", "-pk")
        .values("taken_at")[:1]
    )
    return _with_findings(
        queryset.filter(taken_at__lt=end)
        .annotate(staff_at=Subquery(newest_staff))
        .filter(Q(staff_at__isnull=True) | Q(taken_at__gte=F("staff_at")))
        .order_by("client_id", "-taken_at", "-pk")
    )


def screening_in_force(*, client: Client, day: datetime.date) -> rules.ScreeningFacts | None:
    """What the rules judge on `day`: the newest staff screening with later self-reports on top. Two queries."""
    return facts_in_force(_in_force(Screening.objects.filter(client=client), _end_of(day)))


def screening_in_force_before(*, client_id: int, instant: datetime.datetime) -> rules.ScreeningFacts | None:
    """screening_in_force as it stood just before an instant (a booking, a previous session). Two queries."""
    return facts_in_force(_in_force(Screening.objects.filter(client_id=client_id), instant))


# --- Verdicts -------------------------------------------------------------------


def latest_screening(*, client: Client, day: datetime.date | None = None) -> Screening | None:
    """The client's newest screening taken by the end of `day` (any day when None), findings prefetched."""
    queryset = Screening.objects.filter(client=client)
    if day is not None:
        queryset = queryset.filter(taken_at__lt=_end_of(day))
    return _with_findings(queryset.order_by("-taken_at", "-pk")[:1]).first()


def _valid_clearances(day: datetime.date) -> QuerySet:
    return Clearance.objects.valid_on(day).select_related("covers_contraindication", "covers_massage_type")


def verdict_for(
    *,
    client: Client,
    massage_type: MassageType | None,
    day: datetime.date,
    course: rules.CourseFacts | None = None,
    day_of: list[rules.FindingFacts] | None = None,
) -> rules.Verdict:
    """May this client have this massage type (None: any) on this day, as a session of `course` when
    given, with the day's check-in answers `day_of` when given? Three queries at most."""
    screening = screening_in_force(client=client, day=day)
    if day_of:
        screening = rules.with_day_of(screening, day_of, day)
    clearances = _valid_clearances(day).filter(client=client)
    return rules.evaluate(
        facts=client_facts(client),
        massage_type=type_facts(massage_type),
        day=day,
        screening=screening,
        clearances=[clearance_facts(c) for c in clearances],
        stale_after_days=stale_after_days(),
        course=course,
    )


def screenings_in_force_for_many(client_ids: Iterable[int], day: datetime.date) -> dict[int, rules.ScreeningFacts]:
    """The facts in force on `day` per client id (clients never screened left out). Two queries."""
    by_client: dict[int, list[Screening]] = {}
    for screening in _in_force(Screening.objects.filter(client_id__in=list(client_ids)), _end_of(day)):
        by_client.setdefault(screening.client_id, []).append(screening)
    return {client_id: facts_in_force(screenings) for client_id, screenings in by_client.items()}


def clearances_for_many(client_ids: Iterable[int], day: datetime.date) -> dict[int, list[rules.ClearanceFacts]]:
    """Clearances valid on `day` per client id. One query."""
    by_client: dict[int, list[rules.ClearanceFacts]] = {}
    for clearance in _valid_clearances(day).filter(client_id__in=list(client_ids)):
        by_client.setdefault(clearance.client_id, []).append(clearance_facts(clearance))
    return by_client


def verdicts_for_many(
    clients: Iterable[Client],
    massage_type: MassageType | None,
    day: datetime.date,
    courses: dict[int, rules.CourseFacts] | None = None,
) -> dict[int, rules.Verdict]:
    """Verdicts keyed by client id for a list page (`courses`: the course of each client's session that
    day, by client id); three queries whatever the number of clients."""
    clients = list(clients)
    ids = [c.pk for c in clients]
    if not ids:
        return {}
    screening_by_client = screenings_in_force_for_many(ids, day)
    clearances_by_client = clearances_for_many(ids, day)
    kind = type_facts(massage_type)
    days = stale_after_days()
    courses = courses or {}
    return {
        client.pk: rules.evaluate(
            facts=client_facts(client),
            massage_type=kind,
            day=day,
            screening=screening_by_client.get(client.pk),
            clearances=clearances_by_client.get(client.pk, []),
            stale_after_days=days,
            course=courses.get(client.pk),
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

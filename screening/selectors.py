"""Reads of screening data, and the loaders that feed the pure rules."""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Client
from parlor.models import MassageType
from screening import rules
from screening.models import Clearance, Contraindication, Finding, Screening, _english

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


def _staff_and_reports(screenings: Iterable) -> tuple:
    """Of one client's screenings (anything with taken_at, pk and source), the newest staff one and the
    self-reports taken after it, newest first; every self-report when staff never screened."""
    ordered = sorted(screenings, key=lambda s: (s.taken_at, s.pk), reverse=True)
    staff = next((s for s in ordered if s.source == Screening.Source.STAFF), None)
    reports = [
        s
        for s in ordered
        if s.source != Screening.Source.STAFF and (staff is None or (s.taken_at, s.pk) > (staff.taken_at, staff.pk))
    ]
    return staff, reports


def facts_in_force(screenings: Iterable[Screening]) -> rules.ScreeningFacts | None:
    """The facts the rules judge from one client's screenings (findings prefetched): the newest staff
    screening with the self-reports taken after it on top (rules.combine). Any order in, pure."""
    staff, reports = _staff_and_reports(screenings)
    return rules.combine(screening_facts(staff), [screening_facts(r) for r in reports])


# Earlier than any screening: "no staff screening yet" in the comparison below.
_BEFORE_ALL = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _in_force_between(queryset: QuerySet, *, first: datetime.datetime, last: datetime.datetime) -> QuerySet:
    """The screenings taken before `last` from each client's newest staff screening before `first` on (all of
    them for a client staff had not screened by then): with first == last, those still in force by then (the
    newest staff screening and the self-reports after it). One query, whatever the number of clients."""
    staff_then = (
        Screening.objects.filter(client=OuterRef("client"), source=Screening.Source.STAFF, taken_at__lt=first)
        .order_by("-taken_at", "-pk")
        .values("taken_at")[:1]
    )
    # Coalesce: the subquery runs once a row (staff_at IS NULL OR taken_at >= staff_at ran it twice).
    return (
        queryset.filter(taken_at__lt=last)
        .annotate(staff_at=Coalesce(Subquery(staff_then), Value(_BEFORE_ALL)))
        .filter(taken_at__gte=F("staff_at"))
        .order_by("client_id", "-taken_at", "-pk")
    )


def _in_force(queryset: QuerySet, end: datetime.datetime) -> QuerySet:
    """The screenings still in force by `end`, findings prefetched (two queries)."""
    return _with_findings(_in_force_between(queryset, first=end, last=end))


def screening_in_force(*, client: Client, day: datetime.date) -> rules.ScreeningFacts | None:
    """What the rules judge on `day`: the newest staff screening with later self-reports on top. Two queries,
    no model loaded (the booking asks this on every write)."""
    return screenings_in_force_for_days({day: [client.pk]}).get((day, client.pk))


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
    clearances = clearances_for_days([client.pk], first=day, last=day).get(client.pk, [])
    return rules.evaluate(
        facts=client_facts(client),
        massage_type=type_facts(massage_type),
        day=day,
        screening=screening,
        clearances=clearances,
        stale_after_days=stale_after_days(),
        course=course,
    )


# --- Verdicts for list pages: only the columns the rules read --------------------
# A page judging hundreds of clients loads no Screening, Finding or Clearance model: not the
# questionnaire's answers JSON (a few KB a screening), not a queryset cloned per screening for a
# prefetch. The facts are the same as the model-based path above builds (tested side by side).


@dataclass(frozen=True)
class _ScreeningRow:
    pk: int
    client_id: int
    taken_at: datetime.datetime
    source: str


def _screening_rows(queryset: QuerySet) -> list[_ScreeningRow]:
    return [_ScreeningRow(*row) for row in queryset.values_list("pk", "client_id", "taken_at", "source")]


def finding_facts_by_screening(screening_ids: Iterable[int]) -> dict[int, tuple[rules.FindingFacts, ...]]:
    """Each screening's findings with their catalogue entry, in the catalogue's order (Finding's ordering):
    one query joined on the catalogue, whatever the number of screenings."""
    ids = list(screening_ids)
    if not ids:
        return {}
    english = _english()
    found: dict[int, list[rules.FindingFacts]] = defaultdict(list)
    for screening_id, note, details, code, kind, name_uk, name_en, is_day_of in (
        Finding.objects.filter(screening_id__in=ids)
        .order_by("contraindication__ordering", "contraindication__code")
        .values_list(
            "screening_id",
            "note",
            "details",
            "contraindication__code",
            "contraindication__kind",
            "contraindication__name_uk",
            "contraindication__name_en",
            "contraindication__is_day_of",
        )
    ):
        found[screening_id].append(
            rules.FindingFacts(
                code=code,
                kind=kind,
                name=name_en if english else name_uk,
                is_day_of=is_day_of,
                note=note,
                details=details or {},
            )
        )
    return {screening_id: tuple(facts) for screening_id, facts in found.items()}


def _row_facts(row: _ScreeningRow | None, findings: Mapping[int, tuple]) -> rules.ScreeningFacts | None:
    if row is None:
        return None
    return rules.ScreeningFacts(taken_on=timezone.localdate(row.taken_at), findings=findings.get(row.pk, ()), pk=row.pk)


def _rows_in_force(rows: Iterable[_ScreeningRow], findings: Mapping[int, tuple]) -> rules.ScreeningFacts | None:
    """facts_in_force for one client's screening rows."""
    staff, reports = _staff_and_reports(rows)
    return rules.combine(_row_facts(staff, findings), [_row_facts(r, findings) for r in reports])


def screenings_in_force_for_many(client_ids: Iterable[int], day: datetime.date) -> dict[int, rules.ScreeningFacts]:
    """The facts in force on `day` per client id (clients never screened left out). Two queries."""
    facts = screenings_in_force_for_days({day: client_ids})
    return {client_id: value for (_day, client_id), value in facts.items()}


def screenings_in_force_for_days(
    client_ids_by_day: Mapping[datetime.date, Iterable[int]],
) -> dict[tuple[datetime.date, int], rules.ScreeningFacts]:
    """The facts in force per (day, client id) for the given clients of each day (never screened: left out).
    Two queries whatever the number of days and clients: every screening a client had by the end of the
    last day from the staff screening in force on the first day on (an earlier one is in force on no day
    asked), then their findings."""
    wanted = {day: set(ids) for day, ids in client_ids_by_day.items()}
    wanted = {day: ids for day, ids in wanted.items() if ids}
    if not wanted:
        return {}
    first, last = min(wanted), max(wanted)
    client_ids = set().union(*wanted.values())
    rows = _screening_rows(
        _in_force_between(Screening.objects.filter(client_id__in=client_ids), first=_end_of(first), last=_end_of(last))
    )
    findings = finding_facts_by_screening(row.pk for row in rows)
    by_client: dict[int, list[_ScreeningRow]] = defaultdict(list)
    for row in rows:
        by_client[row.client_id].append(row)
    result: dict[tuple[datetime.date, int], rules.ScreeningFacts] = {}
    for day, ids in wanted.items():
        end = _end_of(day)
        for client_id in ids:
            taken = [row for row in by_client.get(client_id, ()) if row.taken_at < end]
            if taken:
                result[(day, client_id)] = _rows_in_force(taken, findings)
    return result


def clearances_for_many(client_ids: Iterable[int], day: datetime.date) -> dict[int, list[rules.ClearanceFacts]]:
    """Clearances valid on `day` per client id. One query."""
    return clearances_for_days(client_ids, first=day, last=day)


def clearances_for_days(
    client_ids: Iterable[int], *, first: datetime.date, last: datetime.date
) -> dict[int, list[rules.ClearanceFacts]]:
    """Clearances valid on some day from `first` to `last` per client id, in Clearance's order (the caller
    keeps those valid on its day: ClearanceFacts.is_valid_on). One query."""
    by_client: dict[int, list[rules.ClearanceFacts]] = defaultdict(list)
    for client_id, kind, issued_on, valid_until, contraindication, massage_type, doctor_name in (
        Clearance.objects.filter(client_id__in=list(client_ids), issued_on__lte=last, valid_until__gte=first)
        .order_by(*Clearance._meta.ordering)
        .values_list(
            "client_id",
            "kind",
            "issued_on",
            "valid_until",
            "covers_contraindication__code",
            "covers_massage_type__code",
            "doctor_name",
        )
    ):
        by_client[client_id].append(
            rules.ClearanceFacts(
                kind=kind,
                issued_on=issued_on,
                valid_until=valid_until,
                covers_contraindication=contraindication,
                covers_massage_type=massage_type,
                doctor_name=doctor_name,
            )
        )
    return dict(by_client)


def verdicts_for_many(
    clients: Iterable[Client],
    massage_type: MassageType | None,
    day: datetime.date,
    courses: dict[int, rules.CourseFacts] | None = None,
) -> dict[int, rules.Verdict]:
    """Verdicts keyed by client id for a list page (`courses`: the course of each client's session that
    day, by client id); three queries whatever the number of clients."""
    verdicts = verdicts_for_days({day: clients}, massage_type, courses={day: courses or {}})
    return {client_id: verdict for (_day, client_id), verdict in verdicts.items()}


def verdicts_for_days(
    clients_by_day: Mapping[datetime.date, Iterable[Client]],
    massage_type: MassageType | None = None,
    courses: Mapping[datetime.date, Mapping[int, rules.CourseFacts]] | None = None,
) -> dict[tuple[datetime.date, int], rules.Verdict]:
    """Verdicts keyed by (day, client id), each as verdict_for gives it for that client on that day (`courses`:
    per day, the course of each client's session by client id): three queries whatever the number of days
    and clients (a week's calendar). The clients need only birth_date, guardian_consent_at and allergens."""
    wanted = {day: {c.pk: c for c in clients} for day, clients in clients_by_day.items()}
    wanted = {day: clients for day, clients in wanted.items() if clients}
    if not wanted:
        return {}
    in_force = screenings_in_force_for_days({day: clients.keys() for day, clients in wanted.items()})
    clearances = clearances_for_days(
        set().union(*(clients.keys() for clients in wanted.values())), first=min(wanted), last=max(wanted)
    )
    kind = type_facts(massage_type)
    stale = stale_after_days()
    courses = courses or {}
    verdicts = {}
    for day, clients in wanted.items():
        day_courses = courses.get(day, {})
        for client_id, client in clients.items():
            verdicts[(day, client_id)] = rules.evaluate(
                facts=client_facts(client),
                massage_type=kind,
                day=day,
                screening=in_force.get((day, client_id)),
                clearances=[c for c in clearances.get(client_id, ()) if c.is_valid_on(day)],
                stale_after_days=stale,
                course=day_courses.get(client_id),
            )
    return verdicts


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

"""Reads of the waiting list for the front desk: who waits, the offers in flight, what the list filled
this week, and one client's entries."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from clients.models import Client
from sessions.localtime import kyiv
from sessions.models import WaitlistEntry, WaitlistOffer, WaitlistSlot

SHOWN = 15


@dataclass(frozen=True)
class Board:
    waiting: list[WaitlistEntry]
    waiting_count: int
    in_flight: list[WaitlistOffer]
    offered_this_week: int
    filled_this_week: int


def week_start(now: datetime.datetime) -> datetime.datetime:
    """Monday 00:00 of this week in Kyiv, as an instant."""
    local = now.astimezone(kyiv())
    monday = local.date() - datetime.timedelta(days=local.weekday())
    return datetime.datetime.combine(monday, datetime.time.min, tzinfo=kyiv())


def board(*, now: datetime.datetime | None = None) -> Board:
    """The dashboard's waiting list: the first SHOWN in line, how many wait, the open offers, and of the
    times offered since Monday how many the list filled. Four queries, whatever the sizes."""
    now = now or timezone.now()
    waiting = WaitlistEntry.objects.filter(state=WaitlistEntry.State.WAITING)
    since = week_start(now)
    week = WaitlistSlot.objects.filter(created_at__gte=since).aggregate(
        offered=Count("pk"), filled=Count("pk", filter=Q(state=WaitlistSlot.State.FILLED))
    )
    return Board(
        waiting=list(
            waiting.select_related("client", "massage_type", "masseur").order_by("-priority", "created_at", "pk")[
                :SHOWN
            ]
        ),
        waiting_count=waiting.count(),
        in_flight=list(
            WaitlistOffer.objects.filter(state=WaitlistOffer.State.OPEN)
            .select_related("entry__client", "slot__masseur", "slot__massage_type")
            .order_by("expires_at", "pk")[:SHOWN]
        ),
        offered_this_week=week["offered"],
        filled_this_week=week["filled"],
    )


def entries_of(*, client: Client) -> list[WaitlistEntry]:
    """The client's entries still waiting, and the last few closed ones. One query."""
    return list(
        WaitlistEntry.objects.filter(client=client)
        .select_related("massage_type", "masseur")
        .order_by("-created_at", "-pk")[:10]
    )

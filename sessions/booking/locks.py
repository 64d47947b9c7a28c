"""The booking locks: whoever creates or moves an appointment first takes, in one fixed order, a lock on
each (masseur, day), (room, day) and (client, day) the new time touches, and only then checks for clashes.
A transaction that also frees an appointment (an online hold replaces the client's earlier one) takes
them, with the (client, day) of the time it frees, before it row-locks, updates or deletes that one, and
asks for every key it may still need in that one lock() call: a later call could want a key below one it
holds. Asking again for a key already held never waits (advisory locks are re-entrant), so the booking
services inside it lock their own keys again.

Why: the exclusion constraints alone decide a race by making the second insert wait for the first
transaction; two bookings (or courses) inserting several rows in different orders then wait on each
other, and PostgreSQL breaks the deadlock after deadlock_timeout by failing one of them. With the locks
two bookings that could clash queue up before either has written anything, the second one's clash
check sees the first one's rows, and the person gets the plain "this time is taken" message. Bookings
that cannot clash share no key and do not wait for each other. A row written or row-locked before a
lock is asked for can make a booking that holds the lock wait for it: the same deadlock again.

Transaction-level advisory locks (released at commit or rollback, and when a savepoint taken before
them is rolled back), two-int keys: the one-int key space is the sign-in throttle's and the waiting-list
scan's.
"""

import datetime
from collections.abc import Iterable

from django.db import connection

from sessions.localtime import local_date

# The first key's high bits say what the id is, so a masseur, a room and a client with one id differ.
_MASSEUR, _ROOM, _CLIENT = 1, 2, 3
_KIND_SHIFT = 28

Key = tuple[int, int]


def _days(starts_at: datetime.datetime, blocks_until: datetime.datetime) -> list[datetime.date]:
    # Every local day the time touches: two overlapping times share at least one of them, even across midnight.
    first, last = local_date(starts_at), local_date(blocks_until - datetime.timedelta(microseconds=1))
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def slot_keys(
    *, masseur_id: int, room_id: int, client_id: int, starts_at: datetime.datetime, blocks_until: datetime.datetime
) -> set[Key]:
    """The lock keys of one appointment's time: its masseur, room and client on each day it touches."""
    keys = set()
    for day in _days(starts_at, blocks_until):
        ordinal = day.toordinal()
        for kind, pk in ((_MASSEUR, masseur_id), (_ROOM, room_id), (_CLIENT, client_id)):
            keys.add(((kind << _KIND_SHIFT) | pk, ordinal))
    return keys


def client_keys(*, client_id: int, starts_at: datetime.datetime, blocks_until: datetime.datetime) -> set[Key]:
    """The lock keys of the client alone on each day the time touches: whoever frees that time of theirs."""
    return {((_CLIENT << _KIND_SHIFT) | client_id, day.toordinal()) for day in _days(starts_at, blocks_until)}


def lock(keys: Iterable[Key]) -> None:
    """Take the locks (one query), in ascending key order whoever asks: the order is what rules out a deadlock.
    Held until the transaction ends; call inside transaction.atomic() before reading for clashes."""
    ordered = sorted(set(keys))
    if not ordered:
        return
    with connection.cursor() as cursor:
        # unnest reads the arrays in order, so the locks are taken in the sorted order.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k1, k2)) FROM unnest(%s::int[], %s::int[]) AS k(k1, k2)",
            [[k1 for k1, _k2 in ordered], [k2 for _k1, k2 in ordered]],
        )


def lock_slot(
    *, masseur_id: int, room_id: int, client_id: int, starts_at: datetime.datetime, blocks_until: datetime.datetime
) -> None:
    """lock() for one appointment's time."""
    lock(
        slot_keys(
            masseur_id=masseur_id,
            room_id=room_id,
            client_id=client_id,
            starts_at=starts_at,
            blocks_until=blocks_until,
        )
    )

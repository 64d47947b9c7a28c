"""What a client is about to book online: one time, or a course from a day at about a time. It travels in
the page's query string, in the session and in the signed sign-in link, always as plain values, and is
checked again against the database whenever it is read."""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from parlor.models import MassageType, Masseur
from sessions.localtime import kyiv

SINGLE = "single"
COURSE = "course"


@dataclass(frozen=True)
class Choice:
    kind: str
    massage_type: MassageType
    masseur: Masseur | None = None
    starts_at: datetime.datetime | None = None  # a single visit
    start_date: datetime.date | None = None  # a course
    preferred_time: datetime.time | None = None  # a course

    @property
    def is_course(self) -> bool:
        return self.kind == COURSE

    @property
    def starts_local(self) -> datetime.datetime | None:
        return self.starts_at.astimezone(kyiv()) if self.starts_at else None

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "type": self.massage_type.pk, "masseur": self.masseur.pk if self.masseur else None}
        if self.kind == COURSE:
            data["day"] = self.start_date.isoformat() if self.start_date else None
            data["time"] = self.preferred_time.strftime("%H:%M") if self.preferred_time else None
        else:
            data["at"] = self.starts_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")
        return data

    def query(self) -> str:
        """The query string of the page that shows this choice."""
        return urlencode({key: value for key, value in self.as_dict().items() if value not in (None, "")})


def offered_types():
    return MassageType.objects.active().order_by("name_uk")


def from_dict(data) -> Choice | None:
    """The choice these plain values describe, or None when they no longer describe one (a type no longer
    offered, a masseur gone, a value that is not one)."""
    if not isinstance(data, dict):
        return None
    try:
        type_pk = int(data.get("type"))
        masseur_pk = int(data["masseur"]) if data.get("masseur") not in (None, "") else None
        kind = COURSE if data.get("kind") == COURSE else SINGLE
        starts_at = start_date = preferred_time = None
        if kind == COURSE:
            start_date = datetime.date.fromisoformat(str(data.get("day")))
            preferred_time = datetime.time.fromisoformat(str(data["time"])) if data.get("time") else None
        else:
            starts_at = datetime.datetime.fromisoformat(str(data.get("at")).replace("Z", "+00:00"))
            if starts_at.tzinfo is None:
                return None
    except (TypeError, ValueError, OverflowError, KeyError):
        return None
    if not (0 < type_pk < 2**63 and (masseur_pk is None or 0 < masseur_pk < 2**63)):
        return None
    massage_type = offered_types().filter(pk=type_pk).first()
    if massage_type is None:
        return None
    masseur = None
    if masseur_pk is not None:
        masseur = Masseur.objects.filter(pk=masseur_pk, is_active=True, qualifications=massage_type).first()
        if masseur is None:
            return None
    if kind == COURSE and massage_type.course_sessions < 1:
        return None
    return Choice(kind, massage_type, masseur, starts_at, start_date, preferred_time)

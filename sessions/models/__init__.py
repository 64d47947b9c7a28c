"""The sessions app's models, one module per area; imported here so Django
and the rest of the code find them as sessions.models.<Name>."""

from sessions.models.booking import MAX_COURSE_SESSIONS, MIN_COURSE_SESSIONS, Appointment, Course
from sessions.models.holds import Hold, Override
from sessions.models.masseur import (
    AREA_CHOICES,
    DURATION_MAX,
    DURATION_MIN,
    PAIN_MAX,
    PAIN_MIN,
    DayOfCheck,
    Flag,
    SessionLog,
    SessionLogAddendum,
    standard_techniques,
)
from sessions.models.online import CallRequest, OnlinePolicy, SignIn
from sessions.models.reminders import Reminder, ReminderPolicy
from sessions.models.waitlist import WaitlistEntry, WaitlistMessage, WaitlistOffer, WaitlistSlot

__all__ = [
    "AREA_CHOICES",
    "DURATION_MAX",
    "DURATION_MIN",
    "PAIN_MAX",
    "PAIN_MIN",
    "MAX_COURSE_SESSIONS",
    "MIN_COURSE_SESSIONS",
    "Appointment",
    "CallRequest",
    "Course",
    "DayOfCheck",
    "Flag",
    "Hold",
    "OnlinePolicy",
    "Override",
    "Reminder",
    "ReminderPolicy",
    "SessionLog",
    "SessionLogAddendum",
    "SignIn",
    "WaitlistEntry",
    "WaitlistMessage",
    "WaitlistOffer",
    "WaitlistSlot",
    "standard_techniques",
]

"""Online booking for clients: the public booking page, sign-in by a one-time link or code, the
10-minute hold of the chosen time, the screening's say before it is confirmed, and "My appointments".
Uses booking and reminders; never care, flags or the waiting list (which builds on this)."""

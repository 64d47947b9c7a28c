"""Care: the masseur's side. My day, the review before a session, check-in, session logs and addenda,
the client's history. Uses booking and flags; nothing below it imports care."""

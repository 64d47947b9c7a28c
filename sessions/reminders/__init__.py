"""Reminders: planning what to send when, the outbox dispatcher that sends it, the signed client links and
what a client does through them, the reception's reminder list. Never imports care or flags."""

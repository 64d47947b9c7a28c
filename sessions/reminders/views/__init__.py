"""Pages of reminders: the client links (no login) and the reception's reminder list."""

"""Pages of the sessions app, one module per area: calendar (day and week
views, the reception dashboard), booking (appointments and courses) and
masseur (My day, review, check-in, session logs, history)."""

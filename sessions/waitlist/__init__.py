"""The waiting list: clients waiting for a time, freed times offered to the best fits by email, the first
to accept gets it. Uses booking, reminders and online (the signed-in client); never care or flags."""

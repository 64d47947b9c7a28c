"""Booking: availability, booking appointments and courses (services, selectors, proposals), the day and
week calendars and the reception dashboard panel. Plans reminders; knows nothing of care or flags."""

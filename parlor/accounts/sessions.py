"""Sessions read from Redis, kept in the database (Django's cached_db), with Redis a help, never a need:
the parlor keeps working while Redis is down (design.md), so a session the cache cannot give or take is
read from and written to the database alone. SESSION_ENGINE names this module."""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            return super().load()
        except RedisError:  # cached_db's own read tolerates the cache, its write-back after the database not
            logger.warning("sessions: Redis unavailable, reading the session from the database")
            return DatabaseStore.load(self)

    def delete(self, session_key=None):
        try:
            super().delete(session_key)
        except RedisError:
            # The database row is gone (deleted first), so the session ends; its cached copy expires
            # with the session's age at the latest.
            logger.warning("sessions: Redis unavailable, session deleted from the database only")

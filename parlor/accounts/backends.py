"""A user's permissions from the cache: every staff page asks has_perm, which cost two queries (the
user's own permissions and their groups') on each request.

Cached per user with the generation of the whole permission setup; a change to a user's groups, own
permissions, superuser or active flag drops that user's entry, a change to a group's permissions (or a
group or permission deleted, or a migration run) starts a new generation: a removed permission takes
effect at the next request. Changes made in raw SQL are not seen until ENTRY_SECONDS have passed.
"""

import copy
import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
GENERATION_KEY = "perms:generation"
ENTRY_SECONDS = 600


def _user_key(user_pk) -> str:
    return f"perms:user:{user_pk}"


class CachedPermissionsBackend(ModelBackend):
    """Django's ModelBackend with get_all_permissions (behind has_perm and has_module_perms) cached."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = _user_key(user_obj.pk)
            try:
                # One round trip for both.
                found = cache.get_many([GENERATION_KEY, key])
            except RedisError:  # Redis down: the database answers, as without the cache
                return super().get_all_permissions(user_obj)
            generation = found.get(GENERATION_KEY, 0)
            entry = found.get(key)
            if entry is not None and entry[0] == generation:
                user_obj._perm_cache = set(entry[1])
            else:
                permissions = super().get_all_permissions(user_obj)
                _quietly(cache.set, key, (generation, sorted(permissions)), ENTRY_SECONDS)
        return user_obj._perm_cache


def permissions_warm(user) -> None:
    """Read the user's permissions into the cache (at log-in), so that every page, the first too,
    finds them there."""
    reader = copy.copy(user)  # the caller's instance keeps whatever it holds
    for held in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        reader.__dict__.pop(held, None)
    CachedPermissionsBackend().get_all_permissions(reader)


def permissions_user_changed(user_pk) -> None:
    _quietly(cache.delete, _user_key(user_pk))


def permissions_all_changed() -> None:
    """Every cached permission set is stale from now on."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet (or evicted): any new one differs from the entries' 0
        _quietly(cache.set, GENERATION_KEY, 1, None)
    except RedisError:
        logger.warning("permissions: Redis unavailable, cached permission sets not invalidated")


def _quietly(call, *args) -> None:
    try:
        call(*args)
    except RedisError:
        logger.warning("permissions: Redis unavailable for %s", call.__name__)


def _user_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:  # each log-in writes it
        return
    permissions_user_changed(instance.pk)


def _membership_changed(sender, instance, action, **kwargs):
    if not action.startswith("post_"):
        return
    if isinstance(instance, get_user_model()):
        permissions_user_changed(instance.pk)
    else:  # from the other side (a group's users, a permission's users): several users at once
        permissions_all_changed()


def _setup_changed(sender, **kwargs):
    permissions_all_changed()


def connect_signals() -> None:
    """Called by ParlorConfig.ready."""
    user = get_user_model()
    post_save.connect(_user_saved, sender=user, dispatch_uid="parlor-perms-user-saved")
    m2m_changed.connect(_membership_changed, sender=user.groups.through, dispatch_uid="parlor-perms-groups")
    m2m_changed.connect(
        _membership_changed, sender=user.user_permissions.through, dispatch_uid="parlor-perms-user-permissions"
    )
    m2m_changed.connect(_setup_changed, sender=Group.permissions.through, dispatch_uid="parlor-perms-group-permissions")
    post_delete.connect(_setup_changed, sender=Group, dispatch_uid="parlor-perms-group-deleted")
    post_delete.connect(_setup_changed, sender=Permission, dispatch_uid="parlor-perms-permission-deleted")
    # Data migrations grant permissions through historical models, which send no signal these see.
    post_migrate.connect(_setup_changed, dispatch_uid="parlor-perms-migrated")

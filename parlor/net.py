"""The client's address of a request, taken correctly behind the reverse proxy.

django-axes (log-in throttling) and the security events both call client_ip, so a lock-out
and its record name the same address.
"""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address PROXY_COUNT trusted proxies say the request came from, else REMOTE_ADDR.

    Each proxy appends the address it received the request from to X-Forwarded-For, so only the
    last PROXY_COUNT entries were written by proxies we run; anything left of them came from the
    client and may be forged. With one proxy (docker-compose) the client is the last entry.
    A header shorter than that means the request did not come through the proxies: REMOTE_ADDR.
    """
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "")
    count = settings.PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return _valid(forwarded[-count]) or remote

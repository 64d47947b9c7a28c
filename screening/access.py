"""Who may see a client's health record: findings, answers, screening history,
diffs and clearance scans. Every view and the client panel ask here, so the
rule can narrow in one place (sessions will limit a masseur to own clients)."""

HEALTH_RECORD_PERMISSION = "screening.view_health_record"


def can_view_health_record(user, client) -> bool:
    """True when the user may see this client's health details, not just the verdict's status."""
    return bool(user and user.is_authenticated and user.has_perm(HEALTH_RECORD_PERMISSION))

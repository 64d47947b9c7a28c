"""Online booking: the manager's settings, the one-time sign-in links and codes, and the front desk's
calls to make when a client's own booking could not go ahead."""

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlor.formats import when


class OnlinePolicy(models.Model):
    """The manager's settings for online booking and the waiting list; one row (pk=1), made with the
    defaults when missing."""

    max_unconfirmed = models.PositiveSmallIntegerField(
        _("unconfirmed online bookings a client may have"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("A course counts as one booking. Confirmed ones (by the reminder's link) do not count."),
    )
    sign_ins_per_email = models.PositiveSmallIntegerField(
        _("sign-in emails per address per hour"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    sign_ins_per_network_address = models.PositiveSmallIntegerField(
        _("sign-in emails per computer (network address) per hour"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    offer_minutes = models.PositiveSmallIntegerField(
        _("a waiting-list offer is open for, minutes"),
        default=120,
        validators=[MinValueValidator(10), MaxValueValidator(24 * 60)],
    )
    offers_at_once = models.PositiveSmallIntegerField(
        _("clients offered a freed time at once"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("The first of them to accept gets it; the others are told it is taken."),
    )
    offer_notice_minutes = models.PositiveSmallIntegerField(
        _("offer only times starting at least this many minutes ahead"),
        default=120,
        validators=[MinValueValidator(15), MaxValueValidator(48 * 60)],
    )
    waitlist_horizon_days = models.PositiveSmallIntegerField(
        _("look for freed times this many days ahead"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )

    class Meta:
        verbose_name = _("online booking settings")
        verbose_name_plural = _("online booking settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="treatments_onlinepolicy_single_row")]

    def __str__(self):
        return str(_("Online booking settings"))

    @classmethod
    def current(cls) -> "OnlinePolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class SignIn(models.Model):
    """One "send me a link" that was sent: the nonce its link and code carry, used at most once.

    No email address or network address in clear: keyed digests (HMAC with SECRET_KEY) are enough to
    count the requests of one address for the throttle, and hold nothing to erase. The link itself
    carries the email, signed, to its owner's mailbox only."""

    nonce = models.UUIDField(unique=True, editable=False)
    email_digest = models.CharField(max_length=64, editable=False)
    address_digest = models.CharField(max_length=64, editable=False)
    # The six-digit code typed instead of following the link, as a keyed digest.
    code_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(editable=False)
    # Set by the conditional UPDATE that spends the link or the code: once only.
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    wrong_codes = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")
        indexes = [
            # The throttle: "sent to this email since an hour ago", "from this address since an hour ago".
            models.Index(fields=["email_digest", "created_at"], name="treatments_signin_email"),
            models.Index(fields=["address_digest", "created_at"], name="treatments_signin_address"),
            # The clean-up: "created before yesterday".
            models.Index(fields=["created_at"], name="treatments_signin_created"),
        ]

    def __str__(self):
        return f"{self.nonce} · {when(self.created_at)}"


# Who asked for the call, what they wanted and who made it are kept by triggers in CallRequestEvent.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CallRequest(models.Model):
    """A task for the front desk: call this client, who could not book online. Says why only as a code
    the front desk reads as what to do; never a health detail."""

    class Reason(models.TextChoices):
        SCREENING_BLOCKS = "screening_blocks", _("The screening does not allow booking online: call the client.")
        OFFER_REFUSED = "offer_refused", _("The client took a waiting-list offer the screening did not allow: call.")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="call_requests", verbose_name=_("client")
    )
    reason = models.CharField(_("why"), max_length=20, choices=Reason.choices)
    massage_type = models.ForeignKey(
        "parlor.MassageType", on_delete=models.PROTECT, related_name="+", verbose_name=_("massage type")
    )
    wanted_at = models.DateTimeField(_("the time the client wanted"))
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    notified_at = models.DateTimeField(_("front desk emailed at"), null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("called at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called by"),
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("call to make")
        verbose_name_plural = _("calls to make")
        indexes = [
            # The dashboard: "calls not made yet, oldest first".
            models.Index(fields=["created_at"], condition=Q(done_at__isnull=True), name="treatments_callreq_open"),
        ]

    def __str__(self):
        return f"{self.client_id} · {self.get_reason_display()} · {when(self.created_at)}"

    def get_absolute_url(self):
        return self.client.get_absolute_url()

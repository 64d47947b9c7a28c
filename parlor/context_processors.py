from django.conf import settings


def parlor(request):
    """The parlor's contact details for the footer and the page title."""
    return {
        "PARLOR_NAME": settings.PARLOR_NAME,
        "PARLOR_PHONE": settings.PARLOR_PHONE,
        "PARLOR_ADDRESS": settings.PARLOR_ADDRESS,
    }

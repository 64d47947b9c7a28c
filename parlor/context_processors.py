from parlor.contacts import parlor_contacts


def parlor(request):
    """The parlor's contact details for the footer and the page title, in the page's language."""
    contacts = parlor_contacts()
    return {
        "PARLOR_NAME": contacts.name,
        "PARLOR_PHONE": contacts.phone,
        "PARLOR_ADDRESS": contacts.address,
    }

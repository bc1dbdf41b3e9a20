"""Reads of the desk's records as a user may see them."""

from moderation.models import Report


def reports_filed_by(user):
    """The reports the user filed (the pages order them)."""
    return Report.objects.filter(reporter=user)

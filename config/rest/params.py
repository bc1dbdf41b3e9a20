"""Small parsers for request parameters: bad values are a 400, never a 500.

`id_parameter` is the OpenAPI twin of `id_param`, so the schema states exactly
what the parser accepts.
"""

from django.urls import register_converter
from drf_spectacular.utils import OpenApiParameter

from config.errors import ValidationFailed
from config.fields import ID_SCHEMA, MAX_ID

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def id_param(request, name, *, required=False):
    """An id filter; absent is None. Empty (`?before=`) is not an id: a 400, as in the schema."""
    raw = request.query_params.get(name)
    if raw is None and not required:
        return None
    if not raw and required:
        raise ValidationFailed(details={name: ["This parameter is required."]})
    # isdigit() alone accepts "²" and other Unicode digits that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise ValidationFailed(details={name: ["Must be a positive integer id."]})
    return int(raw)


def flag_param(request, name):
    """A yes/no filter: absent is no; anything but the known spellings (empty too) is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    raw = raw.lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationFailed(details={name: ["Must be true or false."]})


def id_parameter(name, *, required=False, description=""):
    """The OpenAPI query parameter that `id_param` parses."""
    return OpenApiParameter(name, ID_SCHEMA, required=required, description=description)


class IdConverter:
    """URL converter for ids: digits that fit a 64-bit integer column (longer ones are a 404, not a 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


# `<id:pk>` in any app's routes: registered here, once, so that no URL module depends on
# another being imported first.
register_converter(IdConverter, "id")


def reason_param(request):
    """The optional `reason` of a staff verb sent through REST (a JSON body, on DELETE too)."""
    data = request.data
    reason = data.get("reason", "") if isinstance(data, dict) else ""
    return reason if isinstance(reason, str) else ""

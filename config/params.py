"""Small parsers for query parameters: bad values are a 400, never a 500."""

from config.errors import ValidationFailed

MAX_ID = 2**63 - 1


def id_param(request, name, *, required=False):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationFailed(details={name: ["This parameter is required."]})
        return None
    # isdigit() alone accepts "²" and other Unicode digits that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise ValidationFailed(details={name: ["Must be a positive integer id."]})
    return int(raw)


def flag_param(request, name):
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


class IdConverter:
    """URL converter for ids: digits that fit a 64-bit integer column (longer ones are a 404, not a 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)

"""Strict input fields shared by REST serializers and relay frames.

DRF's own fields are lenient: a CharField turns 42 into "42", a BooleanField takes
"yes", 0 or "off", an IntegerField takes "1_000", " 42" or "４２". A JSON client that
sends the wrong type has a bug, so these refuse it (a 400, or `invalid_frame` on the
socket) instead of storing a guess. SPEC §1 allows one conversion: numeric strings
for ids.
"""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_ID = 2**63 - 1
_ASCII_ID = re.compile(r"[0-9]{1,19}")

ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
# An id as a client may send it (SPEC §1): an integer, or a string of ASCII digits.
ID_INPUT_SCHEMA = {"oneOf": [ID_SCHEMA, {"type": "string", "pattern": "^[0-9]{1,19}$"}]}


@extend_schema_field(ID_INPUT_SCHEMA)
class IdField(serializers.IntegerField):
    """An id: a positive integer, or a string of ASCII digits ("42"). Any other string
    ("pm2yig6go") fails with the code `not_an_id`: it can name nothing, and the socket
    answers it `not_found` (`relay.errors.unknown_ids`)."""

    default_error_messages = {"not_an_id": serializers.IntegerField.default_error_messages["invalid"]}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float):
            if not data.is_integer():
                self.fail("invalid")
        elif isinstance(data, str):
            # int() alone also takes " 42", "4_2" and other scripts' digits.
            if not _ASCII_ID.fullmatch(data):
                self.fail("not_an_id" if data.strip() and data == data.strip() else "invalid")
        elif not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictStringMixin:
    """Refuse numbers, lists and objects instead of turning them into strings.

    `max_length` holds for the string as sent, as the OpenAPI document says (DRF alone
    checks it after stripping, so a padded string passed).
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        max_length = getattr(self, "max_length", None)
        if max_length is not None and len(data) > max_length:
            self.fail("max_length", max_length=max_length)
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    """A CharField that accepts only JSON strings."""


@extend_schema_field({"type": "string", "minLength": 1,
                      "description": "1..4000 characters after stripping surrounding whitespace"})
class MessageTextField(StrictCharField):
    """A message body: SPEC §5 counts 1..4000 characters after stripping, so the raw string has no
    length limit of its own (the request size limit bounds it) and the schema states none."""

    MAX = 4000

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > self.MAX:
            self.fail("max_length", max_length=self.MAX)
        return value


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    """An EmailField that accepts only JSON strings."""


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that accepts only JSON `true` and `false`."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

"""Client frame schemas: one serializer per client frame type.

They validate incoming frames (`relay.handlers.DISPATCH` maps each type to one) and,
with the server frames' catalogue (`relay.stream.catalogue`), generate the AsyncAPI
document (`relay.asyncapi`), so the protocol's description cannot drift from what
the server accepts and sends.
"""

import threading

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
)
from rest_framework import serializers
from rest_framework.fields import (
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
    empty,
)

from config.fields import IdField, MessageTextField, StrictBooleanField, StrictCharField

_validators = threading.local()


def validate(serializer_class, data):
    """(validated data, None) or (None, errors) for a client frame.

    The same rules and error details as `serializer_class(data=data).is_valid()`,
    without its cost per frame. A new serializer deep-copies all its fields, which
    was the largest item in a profile of a busy socket, so one instance per class
    (per thread) is kept. A well-formed frame is then accepted by a plan compiled
    from that instance's fields (`_plan`), which checks the same rules in a few
    comparisons; anything the plan is not sure of (a missing required field, a blank
    or over-long string, an id sent as a string, a null...) goes through DRF's own
    `run_validation`, so every error is DRF's.
    """
    entry = getattr(_validators, "entries", {}).get(serializer_class)
    if entry is None:
        serializer = serializer_class()
        entry = (serializer, _plan(serializer))
        if not hasattr(_validators, "entries"):
            _validators.entries = {}
        _validators.entries[serializer_class] = entry
    serializer, plan = entry
    if plan is not None and type(data) is dict:
        try:
            return plan(data), None
        except _Unsure:
            pass
    try:
        return serializer.run_validation(data), None
    except serializers.ValidationError as exc:
        return None, exc.detail


# --- the compiled plan ------------------------------------------------------------------------------
class _Unsure(Exception):
    """The plan cannot accept this frame as it is: DRF decides."""


# The validators DRF's own fields add from their arguments; the checks below cover them.
_BUILTIN_VALIDATORS = (MaxLengthValidator, MinLengthValidator, MaxValueValidator, MinValueValidator,
                       ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)


def _string_check(field, limit=None):
    trim, max_length, min_length = field.trim_whitespace, field.max_length, field.min_length

    def check(raw):
        if type(raw) is not str:
            raise _Unsure
        value = raw.strip() if trim else raw
        if (not value or "\x00" in value
                or (max_length is not None and len(raw) > max_length)
                or (min_length is not None and len(value) < min_length)
                or (limit is not None and len(value) > limit)):
            raise _Unsure
        if not value.isascii():
            try:
                value.encode()  # fails on exactly the lone surrogates DRF refuses
            except UnicodeEncodeError:
                raise _Unsure from None
        return value

    return check


def _int_check(field):
    low, high = field.min_value, field.max_value

    def check(raw):
        if type(raw) is not int or (low is not None and raw < low) or (high is not None and raw > high):
            raise _Unsure
        return raw

    return check


def _bool_check(field):
    def check(raw):
        if type(raw) is not bool:
            raise _Unsure
        return raw

    return check


# Exact classes only: a subclass may add rules the plan does not know.
_CHECKS = {
    StrictCharField: _string_check,
    MessageTextField: lambda field: _string_check(field, limit=MessageTextField.MAX),
    IdField: _int_check,
    StrictBooleanField: _bool_check,
}


def _plan(serializer):
    """A function accepting a frame as `serializer.run_validation` would, or None when a field or
    hook of the serializer needs DRF every time. It raises `_Unsure` for what it does not accept."""
    base, own = serializers.Serializer, type(serializer)
    if (serializer.validators or own.to_internal_value is not base.to_internal_value
            or own.run_validation is not base.run_validation):
        return None
    steps = []
    for field in serializer._writable_fields:
        name = field.field_name
        make = _CHECKS.get(type(field))
        if (make is None or field.source_attrs != [name] or hasattr(serializer, f"validate_{name}")
                or (field.default is not empty and callable(field.default))
                or not all(isinstance(v, _BUILTIN_VALIDATORS) for v in field.validators)):
            return None
        steps.append((name, make(field), field.required, field.default))
    validate_attrs = None
    if own.validate is not base.validate:
        validate_attrs = serializer.validate

    def accept(data):
        attrs = {}
        for name, check, required, default in steps:
            raw = data.get(name, empty)
            if raw is empty:
                if required:
                    raise _Unsure
                if default is not empty:
                    attrs[name] = default
            else:
                attrs[name] = check(raw)
        if validate_attrs is not None:
            try:
                attrs = validate_attrs(attrs)
            except (serializers.ValidationError, DjangoValidationError):
                raise _Unsure from None
        return attrs

    return accept


class ClientFrame(serializers.Serializer):
    """Fields every client frame may carry besides identifier and type."""

    ref = StrictCharField(max_length=64, required=False, allow_blank=True,
                          help_text="echoed in the ack or error that answers this frame")


class EmptyFrame(ClientFrame):
    pass


class AuthFrame(ClientFrame):
    token = StrictCharField(max_length=4096, help_text="an access JWT (also as \"Bearer <jwt>\") or a one-time ticket")


class ChannelFrame(ClientFrame):
    channel = serializers.RegexField(r"^((post|group|presence):[1-9][0-9]{0,18}|feed|groups|custom:[a-z0-9][a-z0-9_-]{0,47})$",
                                     max_length=64,
                                     help_text=('"post:<id>", "group:<id>", "presence:<group id>" (who of a large '
                                                'group of yours comes and goes), "feed" (new public posts), '
                                                '"groups" (new public groups) or "custom:<name>" (what other services '
                                                'publish there, `POST /api/publish/`)'))


class PostLikeFrame(ClientFrame):
    postid = IdField()
    liked = StrictBooleanField(default=True)


class MessageFrame(ClientFrame):
    message = MessageTextField()
    to = IdField(required=False, help_text="a user id (direct message)")
    groupid = IdField(required=False, help_text="a group id (group message)")

    def validate(self, attrs):
        if ("to" in attrs) == ("groupid" in attrs):
            raise serializers.ValidationError({"to": ["Give exactly one of `to` or `groupid`."]})
        return attrs


class TypingFrame(ClientFrame):
    to = IdField(required=False)
    groupid = IdField(required=False)

    validate = MessageFrame.validate


class ReadFrame(ClientFrame):
    to = IdField(required=False, help_text="a user id (direct conversation)")
    groupid = IdField(required=False)
    message_id = IdField(help_text="the newest message read")

    validate = MessageFrame.validate


class EditMessageFrame(ClientFrame):
    id = IdField(help_text="your message")
    message = MessageTextField(help_text="its new text")


class DeleteMessageFrame(ClientFrame):
    id = IdField(help_text="a message you wrote, or one of a group you own or administer")


class ReactFrame(ClientFrame):
    messageid = IdField(required=False, help_text="a message you can see")
    postid = IdField(required=False, help_text="a post you can see")
    emoji = StrictCharField(max_length=32, help_text="one of REACTION_EMOJI")
    on = StrictBooleanField(default=True, help_text="false: take it back")

    def validate(self, attrs):
        if ("messageid" in attrs) == ("postid" in attrs):
            raise serializers.ValidationError({"messageid": ["Give exactly one of `messageid` or `postid`."]})
        return attrs


class GroupFrame(ClientFrame):
    groupid = IdField()


class KickFrame(ClientFrame):
    groupid = IdField()
    userid = IdField()
    ban = StrictBooleanField(default=False)

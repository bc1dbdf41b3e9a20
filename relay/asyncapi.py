"""The AsyncAPI 3 document of the relay, generated from the frame serializers.

Client frames come from `relay.handlers.DISPATCH` (the serializers that validate
them), server frames from `relay.stream.catalogue.SERVER_FRAMES`, so the catalogue lists
exactly what the server accepts and sends.
"""

from rest_framework import serializers

from relay.auth import INACTIVE, INVALID, TRY_AGAIN_LATER
from relay.drain import CLOSE_SERVICE_RESTART
from relay.handlers import CLIENT_FRAME_DESCRIPTIONS, DISPATCH
from relay.limits import CLOSE_TOO_BIG
from relay.opening import CLOSE_FAILED, CLOSE_TOO_MANY_SOCKETS
from relay.outbox import CLOSE_SLOW_CONSUMER
from relay.stream.catalogue import SERVER_FRAMES, ErrorOut
from relay.stream.events import STATEFUL_TYPES, is_stateful
from relay.upkeep import CLOSE_IDLE_ANONYMOUS

# Every code the server closes a socket with, and what it means (docs/protocol.md, section 4).
CLOSE_CODES = {
    INVALID: "bad, expired or reused ticket or token, or a token of a session that logged out",
    INACTIVE: "deactivated user (also sent to open sockets when a user is deactivated or banned)",
    CLOSE_TOO_MANY_SOCKETS: "too many sockets for this user (or anonymous ones from this address)",
    CLOSE_IDLE_ANONYMOUS: "anonymous socket idle",
    CLOSE_SLOW_CONSUMER: "the client stopped reading: reconnect with resume=",
    CLOSE_TOO_BIG: "frame too big",
    TRY_AGAIN_LATER: "try again later (Redis is unreachable for a moment)",
    CLOSE_FAILED: "the server failed while connecting",
    CLOSE_SERVICE_RESTART: "this process is draining (a deploy): reconnect, to another, with resume=",
}

_POSITION = {
    "seq": {"type": "integer", "description": (
        "the event's position in the stream: increases along what a socket receives (not by one)")},
    "streams": {"type": "object", "additionalProperties": {"type": "integer"}, "description": (
        "the event's offset in each stream it belongs to (`user:<id>`, `group:<id>`, `post:<id>`): "
        "1, 2, 3, ... in each, so a client sees a gap in a stream it follows by itself")},
}

STREAM = (
    " Every stateful frame (" + ", ".join(sorted(STATEFUL_TYPES)) + ") carries `seq` and `streams`. "
    "To resume, reconnect with `&resume=<the newest seq seen>` (or the first `connection` frame's `seq`): "
    "the server replays, oldest first, every stateful frame the user was entitled to when it happened, "
    "then goes live, with no gap and no duplicate; past retention it sends `resync` (`reason: retention`) "
    "and goes live. `&since=<message id>` (older clients) replays the `sendmessage` frames with a larger "
    "id. REST consumers read the same stream at `GET /api/events/?after=<seq>`."
)


def field_schema(field):
    if isinstance(field, serializers.BaseSerializer) and not isinstance(field, serializers.ListSerializer):
        schema = serializer_schema(field)
    elif isinstance(field, serializers.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, serializers.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        if field.min_value is not None:  # ids: numeric strings are accepted too
            schema = {"oneOf": [schema, {"type": "string", "pattern": "^[0-9]+$"}]}
    elif isinstance(field, serializers.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, serializers.ChoiceField):
        schema = {"type": "string", "enum": list(field.choices)}
    elif isinstance(field, serializers.ListField):
        schema = {"type": "array", "items": field_schema(field.child)}
    elif isinstance(field, serializers.DictField):
        schema = {"type": "object"}
    elif isinstance(field, serializers.CharField):
        schema = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if isinstance(field, serializers.RegexField):
            schema["pattern"] = field.validators[-1].regex.pattern
    else:
        schema = {}
    if getattr(field, "allow_null", False):
        schema = {"oneOf": [schema, {"type": "null"}]}
    if field.help_text:
        schema["description"] = str(field.help_text)
    return schema


def serializer_schema(serializer):
    properties, required = {}, []
    for name, field in serializer.fields.items():
        properties[name] = field_schema(field)
        if field.required and not field.read_only:
            required.append(name)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def frame_schema(type_, serializer, *, direction):
    schema = serializer_schema(serializer)
    schema["properties"] = {
        "identifier": {"const": "kirimin"},
        "type": {"const": type_},
        **schema["properties"],
    }
    schema["required"] = ["identifier", "type", *schema.get("required", [])]
    if direction == "in":
        schema["additionalProperties"] = True  # unknown fields (a spoofed `from`) are ignored
    return schema


def document():
    messages, schemas = {}, {}
    client, server = [], []
    for type_, route in DISPATCH.items():
        name = f"client_{type_}"
        schemas[name] = frame_schema(type_, route.serializer(), direction="in")
        messages[name] = {"name": type_, "title": f"{type_} (client -> server)",
                          "summary": CLIENT_FRAME_DESCRIPTIONS.get(type_, ""),
                          "payload": {"$ref": f"#/components/schemas/{name}"},
                          "x-requires-sign-in": route.signed_in}
        client.append({"$ref": f"#/channels/relay/messages/{name}"})
    for type_, (serializer, summary) in SERVER_FRAMES.items():
        name = f"server_{type_}"
        schemas[name] = frame_schema(type_, serializer(), direction="out")
        if is_stateful(type_):
            schemas[name]["properties"].update(_POSITION)
            schemas[name]["required"] += list(_POSITION)
        messages[name] = {"name": type_, "title": f"{type_} (server -> client)", "summary": summary,
                          "payload": {"$ref": f"#/components/schemas/{name}"}}
        server.append({"$ref": f"#/channels/relay/messages/{name}"})
    error_codes = list(ErrorOut().fields["code"].choices)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Kirimin relay",
            "version": "1.0.0",
            "description": (
                "JSON text frames tagged `\"identifier\": \"kirimin\"`. Connect to `ws(s)://<socket.host>?id=<ticket>` "
                "(the `socket` object of login/is-user), or with `Authorization: Bearer <access>`, or anonymously "
                "and send `auth`. Close codes: " + ", ".join(f"{code} {meaning}" for code, meaning in CLOSE_CODES.items())
                + ". Error codes: " + ", ".join(error_codes) + "." + STREAM
            ),
        },
        "servers": {"relay": {"host": "localhost:8000", "pathname": "/ws/", "protocol": "ws"}},
        "x-close-codes": [{"code": code, "meaning": meaning} for code, meaning in CLOSE_CODES.items()],
        "channels": {
            "relay": {
                "address": "/ws/",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "sendFrame": {"action": "receive", "channel": {"$ref": "#/channels/relay"}, "messages": client,
                          "summary": "frames a client sends"},
            "receiveFrame": {"action": "send", "channel": {"$ref": "#/channels/relay"}, "messages": server,
                             "summary": "frames the server sends"},
        },
        "components": {"messages": messages, "schemas": schemas},
    }

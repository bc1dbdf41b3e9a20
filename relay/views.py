"""HTTP views of the relay: its AsyncAPI document, and the event stream for REST consumers."""

import time
from urllib.parse import urlencode

import orjson
from django.http import JsonResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import Gone, ValidationFailed
from groups.selectors import member_group_ids
from relay.asyncapi import document
from relay.stream import read

MAX_WAIT = 25.0  # seconds a long poll may hold the request
_POLL = 0.25


def asyncapi(request):
    return JsonResponse(document(), json_dumps_params={"indent": 1})


def _number(request, name, *, default, low, high, cast=int):
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or not (raw.isascii() and low <= value <= high) or value != value:
        raise ValidationFailed(details={name: [f"Must be a number from {low} to {high}."]})
    return value


class EventsView(APIView):
    """Your event stream, oldest first: every stateful frame (as the socket sends it, with `seq`
    and `streams`) that you were entitled to after position `after`. Start with no `after` to
    learn the current position (`cursor`); then ask again with `after=<cursor>`. `wait=<s>`
    holds an empty answer up to that many seconds until something comes (a long poll)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="a stream position (`cursor` of the last page, or a frame's `seq`)"),
            OpenApiParameter("limit", int, description="1..100, default 50"),
            OpenApiParameter("wait", float, description=f"seconds to wait for an event when there is none, 0..{MAX_WAIT:g}"),
        ],
        responses=inline_serializer("EventPage", {
            "results": serializers.ListField(child=serializers.DictField()),
            "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "cursor": serializers.IntegerField(help_text="the position this page reached: the next `after`"),
        }),
    )
    def get(self, request):
        after = _number(request, "after", default=None, low=0, high=10**18)
        limit = _number(request, "limit", default=50, low=1, high=100)
        wait = _number(request, "wait", default=0.0, low=0, high=MAX_WAIT, cast=float)
        user = request.user
        deadline = time.monotonic() + wait
        while True:
            position, trimmed, groups, _ = read.snapshot(lambda: member_group_ids(user), lambda _: ())
            if after is None:
                after = position
            if after < trimmed:
                raise Gone("That position is older than the stream keeps: reload through REST and start again "
                           "from `cursor`.", details={"cursor": position})
            page, cursor = read.replay(user.pk, groups, min(after, position), position, trimmed=trimmed, limit=limit)
            if page or time.monotonic() >= deadline:
                break
            time.sleep(_POLL)
        next_url = None
        if len(page) >= limit and cursor < position:
            query = request.query_params.copy()
            query["after"] = str(cursor)
            query.pop("wait", None)
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
        return Response({"results": [orjson.loads(text) for _, text in page], "next": next_url, "previous": None,
                         "cursor": cursor})


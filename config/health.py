"""/healthz/: the database and a channel layer round trip, 200 or 503."""

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse

from relay import drain


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_layer():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    try:
        token = str(time.monotonic_ns())
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        message = await asyncio.wait_for(layer.receive(channel), timeout=3)
        if message.get("token") != token:
            raise RuntimeError("wrong message came back")
    finally:
        # The pub/sub layer keeps each channel subscribed until told otherwise: one Redis
        # subscription per probe, for as long as the process lives.
        discard = getattr(layer, "discard_channel", None)
        if discard is not None:
            await discard(channel)


def healthz(request):
    checks, ok = {}, True
    if drain.draining:  # this process is leaving (`relay.drain`): send no more here
        ok = False
        checks["draining"] = {"ok": False, "error": "Draining"}
    for name, check in (("database", _check_database), ("channel_layer", async_to_sync(_check_layer))):
        started = time.monotonic()
        try:
            check()
            checks[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
        except Exception as exc:  # report which part failed, never a traceback
            ok = False
            checks[name] = {"ok": False, "error": type(exc).__name__}
    status = 200 if ok else 503
    body = {"status": status, "message": "OK" if ok else "Service Unavailable", "data": {"checks": checks}}
    if not ok:
        body.update(error="unhealthy", details={"checks": checks}, data=None)
    return JsonResponse(body, status=status)

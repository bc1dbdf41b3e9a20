"""Metrics for Prometheus: `GET /metrics`, off unless METRICS_TOKEN is set (then it takes
`Authorization: Bearer <METRICS_TOKEN>`).

Each process counts its own; Prometheus scrapes each process (each replica's port). With
PROMETHEUS_MULTIPROC_DIR set (a directory shared by the processes of one host, emptied
before they start), any process answers for all of them: counters and histograms are
summed, the socket gauges summed over the live processes (`prometheus_client`'s
multiprocess mode).
"""

import hmac
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

SOCKETS = Gauge("kirimin_sockets_open", "Open sockets on the relay", ["kind"], multiprocess_mode="livesum")
FRAMES_IN = Counter("kirimin_frames_in", "Frames received from clients, by type", ["type"])
FRAMES_OUT = Counter("kirimin_frames_out", "Frames written to sockets, by type", ["type"])
COMMIT_TO_WRITE = Histogram(
    "kirimin_commit_to_write_seconds", "From an event's commit to its write on a socket of this process",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
REPLAY_SIZE = Histogram("kirimin_replay_entries", "Entries replayed to a resuming socket (resume= or since=)",
                        buckets=(0, 1, 5, 10, 50, 100, 500, 1000, 5000, 10000))
CLOSES = Counter("kirimin_socket_closes", "Sockets closed, by close code (`client`: the client went away)", ["code"])
RATE_LIMITED = Counter("kirimin_rate_limited", "Frames refused with rate_limited")
RESYNCS = Counter("kirimin_resyncs", "resync frames sent (a resume older than the stream keeps)")
REDIS_OUTAGES = Counter("kirimin_redis_outages", "Times the relay's Redis subscriber connection broke")
WEBHOOKS = Counter("kirimin_webhook_attempts", "Webhook delivery attempts, by result", ["result"])

def _registry():
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_view(request):
    """The metrics in Prometheus' text format, for the holder of METRICS_TOKEN; 404 when off."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def mark_process_dead(pid):
    """For a process manager's exit hook in multiprocess mode: its live gauges stop counting."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)

"""Send what a request committed, and tell REST clients when it could not be relayed.

The actions a view or an admin page runs leave their events, once committed, in the
database connection's outbox (`relay.stream.publish`); this middleware sends them
before the response is rendered. A relay outage does not fail the request (the work
is stored), but it must not pass for a delivery either: the response then carries
the header `Kirimin-Relayed: false` and the envelope the field `"relayed": false`.
"""

from relay.stream import publish

HEADER = "Kirimin-Relayed"


class RelayOutcomeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Responses rendered before they got here (redirects, plain JSON): their events go now.
        _send(response)
        if getattr(response, "relay_failed", 0):
            response[HEADER] = "false"
        return response

    def process_template_response(self, request, response):
        """Before DRF renders its response: the envelope says whether the events went out."""
        _send(response)
        return response


def _send(response):
    failed = publish.send_now(publish.take())
    if failed:
        response.relay_failed = getattr(response, "relay_failed", 0) + failed

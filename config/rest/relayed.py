"""Tell REST clients when the events of their request could not be relayed.

A relay outage after commit does not fail the request (the work is stored), but
it must not pass for a delivery either: the response then carries the header
`Kirimin-Relayed: false` and the envelope the field `"relayed": false`.
"""

from relay.stream.publish import RelayOutcome, relay_outcome

HEADER = "Kirimin-Relayed"


class RelayOutcomeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        outcome = RelayOutcome()
        token = relay_outcome.set(outcome)
        try:
            response = self.get_response(request)
        finally:
            relay_outcome.reset(token)
        if outcome.failed:
            response[HEADER] = "false"
        return response


def relay_failed():
    """Whether an event of the current request or frame could not be relayed."""
    outcome = relay_outcome.get()
    return outcome is not None and outcome.failed > 0

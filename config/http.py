"""uvicorn's HTTP protocol with a deadline for request heads (`--http config.http:HeadDeadline`).

uvicorn closes a keep-alive connection that stays silent after a response, but not one that
never finishes a request head: exposed directly, it keeps a connection that sends nothing,
or one header line every few seconds, open for ever (slowloris). Here every request head
(the first from the moment the connection opens, later ones from their first byte) must be
complete within HTTP_HEADER_TIMEOUT seconds (default 10), or the connection is closed. A
request being handled, its body, and a WebSocket once upgraded are not limited by it.

Loaded by uvicorn before Django, so the setting is read from the environment here.
"""

import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = float(os.environ.get("HTTP_HEADER_TIMEOUT", "10"))


class HeadDeadline(HttpToolsProtocol):
    _head_deadline = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self):
        super().on_message_begin()
        if self._head_deadline is None:  # the first request's deadline runs from the connection
            self._arm()

    def on_headers_complete(self):
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)

    def _arm(self):  # only while no deadline runs
        self._head_deadline = self.loop.call_later(HEADER_TIMEOUT, self._head_too_slow)

    def _disarm(self):
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self):
        self._head_deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            # A request is being handled (a pipelined head waits while uvicorn pauses reading):
            # the next head's time starts when the server reads again.
            self._arm()
            return
        if not self.transport.is_closing():
            self.transport.close()

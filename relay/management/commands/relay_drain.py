"""`manage.py relay_drain --pid <pid>`: drain a relay process (`relay.drain`) and wait for it to exit."""

import os
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Drain a server process: its sockets are told to reconnect elsewhere and closed with 1012 over "
            "RELAY_DRAIN_WINDOW seconds, new ones are refused, then it exits (the same as SIGTERM).")

    def add_arguments(self, parser):
        parser.add_argument("--pid", type=int, required=True, help="the server process (uvicorn or daphne)")
        parser.add_argument("--timeout", type=float, default=None,
                            help="seconds to wait for it to exit (default: RELAY_DRAIN_WINDOW + 30)")

    def handle(self, *args, pid, timeout=None, **options):
        timeout = settings.RELAY_DRAIN_WINDOW + 30 if timeout is None else timeout
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError as exc:
            raise CommandError(f"No process {pid}.") from exc
        except PermissionError as exc:
            raise CommandError(f"Not allowed to signal process {pid}.") from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _running(pid):
                self.stdout.write(f"process {pid} drained and exited")
                return
            time.sleep(0.1)
        raise CommandError(f"Process {pid} is still running after {timeout:g} s.")


def _running(pid):
    """Whether `pid` still runs (an exited process that its parent has not reaped yet does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc here: signal 0 is all we know

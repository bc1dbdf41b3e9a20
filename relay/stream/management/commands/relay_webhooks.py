"""`manage.py relay_webhooks`: the webhook worker, a process of its own (`relay.stream.webhooks`)."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from relay.stream import webhooks


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due, per endpoint in order, retrying failures with backoff."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between two looks when idle")

    def handle(self, *args, once=False, interval=1.0, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while not stopping:
            close_old_connections()
            taken = webhooks.send_due()
            if once:
                self.stdout.write(f"{taken} delivered")
                return
            if not taken:
                time.sleep(interval)

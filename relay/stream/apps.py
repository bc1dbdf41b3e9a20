from django.apps import AppConfig


class StreamConfig(AppConfig):
    name = "relay.stream"
    label = "stream"
    verbose_name = "event stream"

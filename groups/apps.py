from django.apps import AppConfig

from relay.stream.topics import index_messages


class GroupsConfig(AppConfig):
    name = "groups"

    def ready(self):
        index_messages(self.get_model("Message"))

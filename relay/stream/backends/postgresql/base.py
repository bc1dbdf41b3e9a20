from django.db.backends.postgresql import base

from relay.stream.backends import NumberingMixin


class DatabaseWrapper(NumberingMixin, base.DatabaseWrapper):
    pass

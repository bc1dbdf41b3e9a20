from django.db.backends.sqlite3 import base

from relay.stream.backends import NumberingMixin


class DatabaseWrapper(NumberingMixin, base.DatabaseWrapper):
    pass

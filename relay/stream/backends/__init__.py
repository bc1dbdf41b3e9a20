"""Database backends that number the stream's queued entries right before each COMMIT
(`relay.stream.numbering.number_pending`): Django has no hook between the last statement of
a transaction and its commit, and that is where an entry's position must be taken."""

from relay.stream.numbering import number_pending


class NumberingMixin:
    def commit(self):
        if self.run_on_commit:
            number_pending(self)
        super().commit()

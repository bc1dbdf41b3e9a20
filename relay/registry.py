"""Which local sockets are on which topic: the hub's registry.

A socket is on its user's topic, on its groups' topics (`member_topics`), and on the
public topics it subscribed to (`subscriptions`). Membership changes of the stream
(`relay.stream.publish`: add, remove, close, private, drop) move it between topics here.
"""

import collections

from config import metrics
from relay.stream.topics import EVERYONE, group_topic, presence_topic, user_topic


class Registry:
    def __init__(self):
        self.topics: dict[str, set] = {}  # topic -> its local sockets
        self.clients: dict[str, object] = {}  # client id -> socket
        self.anonymous: dict[str, set] = {}  # client address -> its anonymous sockets
        self.joining = collections.Counter()  # user id -> their sockets admitted and not yet attached
        self.kinds: dict[str, str] = {}  # client id -> "user" or "anonymous", as counted in the metrics

    def add(self, session, topics):
        """A socket signed in (or opened anonymously) on `topics`; it takes over its `joining` place."""
        self.clients[session.client_id] = session
        self._count(session.client_id, "anonymous" if session.user_id is None else "user")
        if session.user_id is None:
            self.anonymous.setdefault(session.address, set()).add(session)
        else:
            self._not_anonymous(session)
        for topic in (*topics, EVERYONE):
            self.subscribe(session, topic)
        if session.user_id is not None:
            self.joined(session.user_id)

    def forget(self, session):
        self.clients.pop(session.client_id, None)
        self._count(session.client_id, None)
        self._not_anonymous(session)
        for topic in list(session.topics):
            self.unsubscribe(session, topic)

    def _count(self, client_id, kind):
        """Keep the open-sockets gauge: `client_id` is now of `kind` (None: gone)."""
        was = self.kinds.pop(client_id, None)
        if was is not None:
            metrics.SOCKETS.labels(was).dec()
        if kind is not None:
            self.kinds[client_id] = kind
            metrics.SOCKETS.labels(kind).inc()

    def joined(self, user_id):
        """One admitted socket of the user is no longer joining (attached, refused or gone)."""
        self.joining[user_id] -= 1
        if self.joining[user_id] <= 0:
            del self.joining[user_id]

    def subscribe(self, session, topic):
        session.topics.add(topic)
        self.topics.setdefault(topic, set()).add(session)

    def unsubscribe(self, session, topic):
        session.topics.discard(topic)
        members = self.topics.get(topic)
        if members is not None:
            members.discard(session)
            if not members:
                del self.topics[topic]

    def local_sockets(self, user_id):
        """The user's sockets on this process, counting those admitted and still signing in."""
        return len(self.topics.get(user_topic(user_id), ())) + self.joining.get(user_id, 0)

    def attached(self, user_id):
        """The user's sockets on this process that are signed in (not those still signing in)."""
        return len(self.topics.get(user_topic(user_id), ()))

    def online_user_ids(self):
        return [int(t[5:]) for t in self.topics if t.startswith("user.")] + list(self.joining)

    def anonymous_from(self, address):
        return len(self.anonymous.get(address, ()))

    def _not_anonymous(self, session):
        sockets = self.anonymous.get(session.address)
        if sockets is not None:
            sockets.discard(session)
            if not sockets:
                del self.anonymous[session.address]

    # --- membership changes of the stream ----------------------------------------------------------
    def affected(self, op):
        """The ready sockets a membership change is about (a connecting socket applies it in `catch_up`)."""
        topic = group_topic(op[1]) if op[0] == "private" else user_topic(op[1])
        return [c for c in self.topics.get(topic, ()) if c.ready]

    def change(self, session, op):
        """Apply one membership change to one socket; the close code if it closes the socket."""
        kind = op[0]
        if kind == "private":
            topic = group_topic(op[1])
            if topic in session.topics and topic not in session.member_topics:
                session.subscriptions.discard(topic)
                self.unsubscribe(session, topic)
            return None
        if op[1] != session.user_id:
            return None
        if kind == "close":
            return op[2]
        topic = group_topic(op[2])
        if kind == "add":
            session.member_topics.add(topic)
            self.subscribe(session, topic)
        elif kind == "remove":
            session.member_topics.discard(topic)
            for gone in (topic, presence_topic(op[2])):  # a former member hears of its members no more
                session.subscriptions.discard(gone)
                self.unsubscribe(session, gone)
        elif kind == "drop" and topic not in session.member_topics:
            session.subscriptions.discard(topic)
            self.unsubscribe(session, topic)
        return None

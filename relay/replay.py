"""What a returning socket missed: `resume=<position>` replays every entry the user was
entitled to after it (as they were entitled then); the legacy `since=<message id>` replays
every message they can see with a larger id (SPEC rule 7), from the stream and, for the
messages from before the stream began, from the messages table."""

from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async

from config import metrics
from groups import selectors as group_selectors
from groups.serializers import message_dict
from relay.stream import events, read


async def replay(session, scope, position, trimmed, member, streams):
    """`resume=<position>` replays every entry the user was entitled to after it; the legacy
    `since=<message id>` replays the messages with a larger id. Both up to `position`, where
    `Hub.catch_up` takes over."""
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    resume, since = params.get("resume", [None])[0], params.get("since", [None])[0]
    if session.user is None or (resume is None and since is None):
        return
    name, raw = ("resume", resume) if resume is not None else ("since", since)
    # isdigit() alone accepts "²" and other Unicode digits that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        what = "a stream position" if name == "resume" else "a message id"
        await session.reply(events.error(
            "invalid_frame", f"`{name}` must be {what}.", details={name: ["Must be an integer."]}))
        return
    group_ids = member[1]
    if name == "resume":
        after = min(int(raw), position)
        if after < trimmed:
            metrics.RESYNCS.inc()
            await session.reply(events.resync(
                "retention", message="That position is older than the stream keeps: reload through REST.",
                seq=position))
            return
        await _replay_entries(session, group_ids, after, position, trimmed)
        return
    since = int(raw)
    after, oldest = await _legacy_start(since, position)
    if oldest is None or since + 1 < oldest:  # messages from before the stream began
        while True:
            page = await _messages_before_the_stream(session.user, since, oldest)
            await session.write_many([text for _, text in page])
            if not page:
                break
            since = page[-1][0]
    await _replay_entries(session, group_ids, after, position, trimmed, only_messages=True)


async def _replay_entries(session, group_ids, after, position, trimmed, only_messages=False):
    replayed = 0
    while after < position:  # in pages, so a long absence is replayed without holding it all
        page, after = await _replay_page(session.user_id, group_ids, after, position, trimmed)
        texts = [text for _, text in page]
        if only_messages:
            texts = await _still_there(texts)
        await session.write_many(texts)
        replayed += len(texts)
    metrics.REPLAY_SIZE.observe(replayed)


_replay_page = database_sync_to_async(lambda user_id, group_ids, after, upto, trimmed: read.replay(
    user_id, group_ids, after, upto, trimmed=trimmed))
_legacy_start = database_sync_to_async(read.legacy_start)


@database_sync_to_async
def _messages_before_the_stream(user, since, until):
    """(id, encoded frame) of every message `user` can see with since < id < until, oldest first."""
    return [(m.pk, events.encode(events.message(message_dict(m))))
            for m in group_selectors.messages_between(user, since, until)]


@database_sync_to_async
def _still_there(texts):
    """The `sendmessage` frames among `texts` whose message still exists."""
    frames = [(text, orjson.loads(text)) for text in texts]
    frames = [(text, frame["id"]) for text, frame in frames if frame.get("type") == "sendmessage"]
    alive = group_selectors.existing_message_ids(i for _, i in frames)
    return [text for text, message_id in frames if message_id in alive]

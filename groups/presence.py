"""Live presence as people see it: who is told when someone comes and goes, and who may ask.

A user is online while they have an open socket on any process (the counts in
`relay.stream.presence`). What friends and co-members were last told is stored on the
user (`online`, `last_seen`), and `sync` moves it to the live state: in one transaction
that locks the user's row, it reads the live state again, stores it and relays a
`presence` frame to the audience. Two processes syncing one user at once therefore take
turns, and the one that commits last has read the newer state, so the frames are
numbered in the order of what they say.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.timezone import now

from accounts.models import Block, FriendRequest, User
from accounts.selectors import block_partners, withheld_from
from groups.models import Membership
from relay.stream import events, publish
from relay.stream.presence import online_user_ids, shown
from relay.stream.variants import WITHHELD

# Rounds of `sync` for one user: one more when the live state changed while it committed.
_ROUNDS = 3


def friend_ids(user_id) -> set[int]:
    return _friends_of([user_id])[user_id]


def _friends_of(user_ids) -> dict[int, set[int]]:
    friends = {uid: set() for uid in user_ids}
    pairs = (FriendRequest.objects.filter(Q(from_user_id__in=friends) | Q(to_user_id__in=friends),
                                          status=FriendRequest.Status.ACCEPTED)
             .values_list("from_user_id", "to_user_id"))
    for a, b in pairs:
        if a in friends:
            friends[a].add(b)
        if b in friends:
            friends[b].add(a)
    return friends


def audience(user_id) -> set[int]:
    """Who hears of `user_id`'s presence: friends, and the members of their groups of at most
    RELAY_PRESENCE_MAX_MEMBERS members; never themselves."""
    return audiences([user_id])[user_id]


def _past_cap():
    """A group is too large to tell every member if it has a member past the cap: found without
    counting them all (for `Exists`, on a membership row's group)."""
    cap = settings.RELAY_PRESENCE_MAX_MEMBERS
    return Exists(Membership.objects.filter(group_id=OuterRef("group_id")).order_by()[cap:cap + 1].values("id"))


def large_groups(user_ids) -> dict[int, list[int]]:
    """{user id: their groups over RELAY_PRESENCE_MAX_MEMBERS}: whose members hear of them only by
    following the group's `presence:<id>` channel, while they look at its members."""
    large = {uid: [] for uid in user_ids}
    for group_id, uid in Membership.objects.filter(user_id__in=large).filter(_past_cap()).values_list(
            "group_id", "user_id").order_by("group_id"):
        large[uid].append(group_id)
    return large


def audiences(user_ids) -> dict[int, set[int]]:
    """`audience` of each of `user_ids`, in three queries whatever their number."""
    heard = _friends_of(user_ids)
    small = (Membership.objects.filter(user_id__in=heard).filter(~_past_cap())
             .values_list("group_id", "user_id"))
    in_group = {}
    for group_id, uid in small:
        in_group.setdefault(group_id, []).append(uid)
    if in_group:
        for group_id, member in Membership.objects.filter(group_id__in=in_group).values_list("group_id", "user_id"):
            for uid in in_group[group_id]:
                heard[uid].add(member)
    for uid, listeners in heard.items():
        listeners.discard(uid)
    # Nobody hears of a user they block or who blocks them.
    for a, b in Block.objects.filter(Q(user_id__in=heard) | Q(blocked_id__in=heard)).values_list("user_id", "blocked_id"):
        for uid, other in ((a, b), (b, a)):
            if uid in heard:
                heard[uid].discard(other)
    return heard


def shown_to(viewer_id, users) -> dict:
    """`shown` (online, last seen) of `users` as `viewer_id` may see it: their block partners'
    presence is not told (offline, never seen)."""
    users = list(users)
    seen = shown(users)
    for partner in block_partners(viewer_id) & seen.keys():
        seen[partner] = (False, None)
    return seen


def visible(viewer_id, user_ids) -> set[int]:
    """Which of `user_ids` `viewer_id` may see the presence of: themselves, their friends and
    the members of their groups (of any size)."""
    wanted = set(user_ids)
    seen = ({viewer_id} | friend_ids(viewer_id)) & wanted
    rest = wanted - seen
    if rest:
        theirs = Membership.objects.filter(user_id=viewer_id).values("group_id")
        seen |= set(Membership.objects.filter(group_id__in=theirs, user_id__in=rest)
                    .values_list("user_id", flat=True))
    return seen - block_partners(viewer_id)


def states(user_ids) -> dict[int, dict]:
    """{user id: {"online", "last_seen"}}: online with an open socket on a live process, or
    while their departure waits out the debounce (the `presence` frame that follows says
    so: a client that reads this and then follows the frames never stays wrong); and when
    their last socket closed (the present moment while they are online)."""
    rows = shown(User.objects.filter(pk__in=user_ids).only("pk", "last_seen"))
    return {uid: {"online": rows[uid][0], "last_seen": rows[uid][1]} for uid in user_ids if uid in rows}


def sync(user_ids, *, at=None) -> int:
    """Bring what each user's audience was told in line with whether they are online now;
    `at`: when their last socket closed (now by default). A departure still in its debounce
    counts as online: only its own end (`relay.liveness`, which first stops counting it) tells
    it, so a sync that runs meanwhile (a burst of arrivals, a sweep) never cuts the debounce
    short. Any number of users in a handful of queries (a burst of connections is synced as
    one). Returns how many changed."""
    changed = 0
    user_ids = list(user_ids)
    for _ in range(_ROUNDS):
        told = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "online"))
        live = online_user_ids(told, strict=True, leaving=True)
        stale = [uid for uid, online in told.items() if online != (uid in live)]
        if not stale:
            break
        changed += _announce(stale, at or now())
        user_ids = stale  # was anyone back (or gone) meanwhile?
    return changed


def lock_users(user_ids):
    """The users' rows, locked until the transaction ends against another `sync` of them (in id
    order, so two syncs never wait on each other crosswise), but not against rows that refer to
    them: a message a user sends meanwhile checks its foreign key with FOR KEY SHARE, which FOR
    UPDATE would block, and that message's batch holds the stream's lock while it commits,
    which this transaction wants next: a deadlock (seen on PostgreSQL under load). FOR NO KEY
    UPDATE lets it through."""
    return list(User.objects.select_for_update(no_key=True).filter(pk__in=user_ids).order_by("pk"))


def _announce(user_ids, at) -> int:
    with transaction.atomic():
        users = lock_users(user_ids)
        # Under the lock: see the module's docstring.
        live = online_user_ids([u.pk for u in users], strict=True, leaving=True)
        changed = [u for u in users if u.online != (u.pk in live)]
        if not changed:
            return 0
        came = [u.pk for u in changed if u.pk in live]
        went = [u.pk for u in changed if u.pk not in live]
        if came:
            User.objects.filter(pk__in=came).update(online=True)
        if went:
            User.objects.filter(pk__in=went).update(online=False, last_seen=at)
        heard = audiences([u.pk for u in changed])
        large = large_groups([u.pk for u in changed])
        moment = now()
        for user in changed:
            online = user.pk in live
            event = events.presence(user, online=online, last_seen=moment if online else at)
            if heard[user.pk]:
                publish.notify_users(sorted(heard[user.pk]), event)
            # An entry of its own for each large group: nobody may learn from a frame's streams
            # which other groups the user is in. Their block partners who follow the group get a
            # `skip`, and so do they themselves (nobody is told of their own presence).
            withheld = {**withheld_from(user.pk), user.pk: WITHHELD} if large[user.pk] else None
            for group_id in large[user.pk]:
                publish.emit(event, channels=[f"presence:{group_id}"], variants=withheld)
    return len(changed)


def sweep() -> int:
    """Announce offline everyone told online who has no socket anywhere (after every process
    stopped, for instance); returns how many. A departure still in its debounce is not one:
    its process tells it when the debounce ends (or a reconnect leaves nothing to tell)."""
    told = list(User.objects.filter(online=True).values_list("pk", flat=True).order_by("pk"))
    changed = 0
    for start in range(0, len(told), 500):
        changed += sync(told[start:start + 500])
    return changed

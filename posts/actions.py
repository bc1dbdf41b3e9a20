"""Post actions: create, edit, delete, like. REST and the relay both call these."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.actions import notify_user
from accounts.models import Notification
from accounts.selectors import withheld_from
from config.errors import Forbidden, NotFound
from groups import reactions
from groups.models import Membership
from groups.presence import friend_ids
from groups.selectors import manages_group
from posts.models import Like, Post, PostReaction
from posts.selectors import access_post
from relay.stream import events, publish, webhooks


def _post_audience(post):
    """Who sees a post's live events: its author, `post:<id>` subscribers, its group.

    A private group's post goes to the group only, not to `post:<id>`: a member who
    subscribed and then left (or was kicked) keeps that subscription, and must stop
    seeing the post's events; the members who remain get them through the group.
    """
    private = post.group_id is not None and post.group.is_private
    return {"users": [post.author_id], "channels": [] if private else [f"post:{post.pk}"],
            "groups": [post.group_id] if post.group_id else []}


def create_post(*, actor, content, group=None) -> Post:
    """A new post; `postcreate` reaches a group's members, or for a public post its author's
    friends and the `feed` channel's subscribers (none of them the author's block partners)."""
    if group is not None and not Membership.objects.filter(group=group, user=actor).exists():
        raise Forbidden("Only members can post in this group.")
    with transaction.atomic():
        post = Post.objects.create(author=actor, group=group, content=content)
        event, withheld = events.postcreate(post), withheld_from(actor.pk)
        if group is not None:
            publish.emit(event, users=[actor.pk], groups=[group.pk], variants=withheld)
        else:
            # Two entries: one entry's `streams` names each of its topics, and the feed's subscribers
            # (anyone) must not learn the author's friends from it.
            publish.emit(event, users=sorted({actor.pk, *friend_ids(actor.pk)}))
            publish.emit(event, channels=["feed"], variants=withheld)
        webhooks.record_frame("post.created", event)
    return post


def edit_post(*, actor, post, content) -> Post:
    if post.author_id != actor.pk:
        raise Forbidden("Only the author can edit this post.")
    if content == post.content:
        return post
    with transaction.atomic():
        post.content, post.edited_at = content, timezone.now()
        post.save(update_fields=["content", "updated_at", "edited_at"])
        publish.emit(events.postedit(post), **_post_audience(post))
    return post


def can_delete_post(actor, post) -> bool:
    """The author, or an owner or admin of the post's group. (Staff delete through the
    moderation desk, which checks their permission and audits it.)"""
    return post.author_id == actor.pk or (post.group_id is not None and manages_group(actor, post.group_id))


def delete_post(*, actor, post, moderated=False):
    if not moderated and not can_delete_post(actor, post):
        raise Forbidden("You may not delete this post.")
    with transaction.atomic():
        # Lock the row as likes do: a like committed between collecting the post's likes
        # and deleting the post would fail the delete's foreign key check (a 500).
        if Post.objects.select_for_update().filter(pk=post.pk).values_list("pk").first() is None:
            raise NotFound("No such post.")  # deleted meanwhile: nothing changes, nothing relayed
        audience = _post_audience(post)
        event = events.postdelete(postid=post.pk, groupid=post.group_id)
        post.delete()
        publish.emit(event, **audience)


def hide_post(*, post, hidden=True) -> bool:
    """Hide a post (or show it again); hiding relays `postdelete` to its audience. True if it changed.
    The desk's verb: who may is `moderation.actions`' to check."""
    with transaction.atomic():
        changed = Post.objects.filter(pk=post.pk, is_hidden=not hidden).update(is_hidden=hidden) > 0
        post.is_hidden = hidden
        if changed and hidden:
            event = events.postdelete(postid=post.pk, groupid=post.group_id)
            publish.emit(event, **_post_audience(post))
    return changed


def like_post(*, actor, post, liked=True) -> dict:
    """Like or unlike; idempotent and exact under concurrency. Relays only on change.

    The post's row lock serializes the changes of one post's count, so the count never
    drifts. A popular post's likes queue on that lock, so a like takes it last, with the
    counter's own UPDATE, and holds it only until the commit right after: the Like row and
    the notification are written before, not while the others wait. An unlike takes it
    first, as `delete_post` does: both then delete Like rows in the same lock order.
    """
    audience = _post_audience(post)
    with transaction.atomic():
        if liked:
            try:
                with transaction.atomic():
                    Like.objects.create(post=post, user=actor)
                changed = True
            except IntegrityError:  # liked already (or, on SQLite, the post is gone)
                changed = False
        else:
            if Post.objects.select_for_update().filter(pk=post.pk).values_list("pk").first() is None:
                raise NotFound("No such post.")
            changed = Like.objects.filter(post=post, user=actor).delete()[0] > 0
        if not changed:
            count = Post.objects.filter(pk=post.pk).values_list("likes_count", flat=True).first()
            if count is None:
                raise NotFound("No such post.")
            return {"postid": post.pk, "liked": liked, "likes_count": count}
        # Once per liker and post: unliking and liking again must not flood the author.
        if liked and post.author_id != actor.pk and not Notification.objects.filter(
                user_id=post.author_id, kind="like", data__postid=post.pk, data__userid=actor.pk).exists():
            notify_user(user=post.author, kind="like", actor=actor, message=f"{actor.display_name} liked your post.",
                        data={"postid": post.pk, "userid": actor.pk})
        # A post deleted meanwhile has no row to update: NotFound rolls the Like back (on
        # PostgreSQL its foreign key is checked only at commit, which would be a 500).
        count = _add_to_likes_count(post.pk, 1 if liked else -1)
        if count is None:
            raise NotFound("No such post.")
        event = events.postlike(postid=post.pk, userid=actor.pk, liked=liked, likes_count=count)
        # Not told between users one of whom blocks the other (their offsets move on: a `skip`).
        publish.emit(event, **audience, variants=withheld_from(actor.pk))
    return {"postid": post.pk, "liked": liked, "likes_count": count}


def _add_to_likes_count(post_id, delta):
    """Add `delta` to a post's likes_count and return the new count (None: no such post).
    One statement, which takes the row lock and reads the count under it."""
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET likes_count = likes_count + %s WHERE id = %s RETURNING likes_count",
                       [delta, post_id])
        row = cursor.fetchone()
    return None if row is None else row[0]


def react_to_post(*, actor, post_id, emoji, on=True) -> dict:
    """Add (`on`) or take back `actor`'s `emoji` on a post they can see; idempotent. On a change,
    `reaction` reaches the post's live audience (not the actor's block partners)."""
    post = access_post(actor, post_id)
    audience = _post_audience(post)
    with transaction.atomic():
        changed, counts = reactions.react(PostReaction, post, user=actor, emoji=emoji, on=on)
        if changed:
            event = events.reaction(postid=post.pk, user=actor, emoji=emoji, on=on, counts=counts)
            publish.emit(event, **audience, variants=withheld_from(actor.pk))
    return {"postid": post.pk, "emoji": emoji, "on": on, "changed": changed, "counts": counts}


def like_post_by_id(*, actor, post_id, liked=True) -> dict:
    return like_post(actor=actor, post=access_post(actor, post_id), liked=liked)

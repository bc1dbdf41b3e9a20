"""Reads about posts: visibility in one place."""

from django.db.models import Exists, OuterRef, Q, Value

from accounts.models import Block
from config.errors import NotFound
from groups.models import Membership
from posts.models import Like, Post


def visible_posts(user):
    """Public posts, posts of public groups, and posts of the caller's groups, none hidden by a
    moderator; with `liked_by_me`."""
    qs = Post.objects.filter(is_hidden=False).select_related("author", "group")
    if user is not None and user.is_authenticated:
        mine = Membership.objects.filter(user=user).values("group_id")
        qs = qs.filter(Q(group__isnull=True) | Q(group__is_private=False) | Q(group_id__in=mine))
        return qs.annotate(liked_by_me=Exists(Like.objects.filter(post=OuterRef("pk"), user=user)))
    return qs.filter(Q(group__isnull=True) | Q(group__is_private=False)).annotate(liked_by_me=Value(False))


def access_post(user, post_id) -> Post:
    """The post if visible to `user`; NotFound for missing and hidden alike."""
    post = visible_posts(user).filter(pk=post_id).first()
    if post is None:
        raise NotFound("No such post.")
    return post


def can_see_post(user, post_id) -> bool:
    return visible_posts(user).filter(pk=post_id).exists()


def post_list(user, *, group=None, author=None):
    """The posts `user` may see, of one group or one author if given; none by a user they block
    or who blocks them."""
    qs = visible_posts(user)
    if user is not None and user.is_authenticated:
        qs = qs.exclude(author_id__in=Block.objects.filter(user=user).values("blocked_id")).exclude(
            author_id__in=Block.objects.filter(blocked=user).values("user_id"))
    if group is not None:
        qs = qs.filter(group_id=group)
    return qs.filter(author_id=author) if author is not None else qs

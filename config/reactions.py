"""Emoji reactions, the same on messages (`groups`) and posts (`posts`): one row per user, target
and emoji, counted per emoji. Each app's model subclasses `Reaction` with a foreign key to its
target; its actions call `toggle` and `counts`."""

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.errors import ValidationFailed
from config.fields import StrictCharField


class Reaction(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


def check_emoji(emoji):
    """`emoji` if it is one of REACTION_EMOJI; else a validation error that lists them."""
    if emoji not in settings.REACTION_EMOJI:
        raise ValidationFailed(details={"emoji": [f"Use one of {' '.join(settings.REACTION_EMOJI)}."]})
    return emoji


def toggle(model, target, *, user, emoji, on) -> bool:
    """Add (`on`) or remove `user`'s `emoji` on `target`; whether anything changed. Idempotent."""
    check_emoji(emoji)
    field = model.TARGET
    if not on:
        return model.objects.filter(**{field: target}, user=user, emoji=emoji).delete()[0] > 0
    try:
        with transaction.atomic():
            model.objects.create(**{field: target}, user=user, emoji=emoji)
    except IntegrityError:  # reacted already
        return False
    return True


def counts(model, target_ids) -> dict:
    """{target id: {emoji: count}} of the targets that have reactions, in one query."""
    field = f"{model.TARGET}_id"
    out = {}
    rows = (model.objects.filter(**{f"{field}__in": target_ids}).order_by().values_list(field, "emoji")
            .annotate(n=Count("id")))
    for target_id, emoji, n in rows:
        out.setdefault(target_id, {})[emoji] = n
    return out


class EmojiSerializer(serializers.Serializer):
    """The body of `POST .../reactions/`."""

    emoji = StrictCharField(max_length=32, help_text="one of REACTION_EMOJI")


def _result(name, target):
    """The answer to adding or taking back a reaction on a `target` ("messageid" or "postid")."""
    return inline_serializer(name, {
        target: serializers.IntegerField(), "emoji": serializers.CharField(), "on": serializers.BooleanField(),
        "changed": serializers.BooleanField(help_text="false: it was already so"),
        "counts": serializers.DictField(child=serializers.IntegerField(), help_text="count per emoji now")})


MessageReactionResult = _result("MessageReactionResult", "messageid")
PostReactionResult = _result("PostReactionResult", "postid")


def shown_on(rows, model, user):
    """Add `reactions` (count per emoji) and `my_reactions` to REST rows (dicts with `id`) of
    `model`'s targets that have any: one query for the page."""
    ids = [row["id"] for row in rows]
    if not ids:
        return rows
    field = f"{model.TARGET}_id"
    own = Q(user=user) if user.is_authenticated else Q(pk__in=[])
    found = {}
    for target_id, emoji, n, by_me in (model.objects.filter(**{f"{field}__in": ids}).order_by()
                                       .values_list(field, "emoji").annotate(n=Count("id"), me=Count("id", filter=own))):
        shown = found.setdefault(target_id, ({}, []))
        shown[0][emoji] = n
        if by_me:
            shown[1].append(emoji)
    for row in rows:
        if row["id"] in found:
            row["reactions"], row["my_reactions"] = found[row["id"]][0], sorted(found[row["id"]][1])
    return rows

"""Emoji reactions, the same on messages (here) and posts (`posts`, which builds on groups): one row
per user, target and emoji, counted per emoji. Each model subclasses `Reaction` with a foreign key
to its target (named by `TARGET`); the actions call `toggle` and `counts` with the target's row
locked, so that a deleted target is a NotFound and concurrent counts are exact."""

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.errors import NotFound, ValidationFailed
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


def react(model, target, *, user, emoji, on) -> tuple[bool, dict]:
    """Add (`on`) or take back `user`'s `emoji` on `target`, a row of the model `model` reacts to:
    (whether anything changed, the target's count per emoji now). Idempotent; any emoji may be
    taken back (one dropped from REACTION_EMOJI since, too). Call it inside the action's
    transaction: the target's row is locked first (NotFound if it is gone meanwhile)."""
    if on:
        check_emoji(emoji)
    field = model.TARGET
    kind = model._meta.get_field(field).related_model
    if not kind.objects.select_for_update().filter(pk=target.pk).exists():
        raise NotFound(f"No such {field}.")
    if on:
        try:
            with transaction.atomic():
                model.objects.create(**{field: target}, user=user, emoji=emoji)
            changed = True
        except IntegrityError:  # reacted already
            changed = False
    else:
        changed = model.objects.filter(**{field: target}, user=user, emoji=emoji).delete()[0] > 0
    return changed, _tally(model, [target.pk]).get(target.pk, ({}, []))[0]


def _tally(model, target_ids, user=None) -> dict:
    """{target id: ({emoji: count}, [the emoji `user` gave])} of the targets that have reactions,
    in one query."""
    field = f"{model.TARGET}_id"
    own = Q(user=user) if user is not None and user.is_authenticated else Q(pk__in=[])
    found = {}
    for target_id, emoji, n, by_me in (model.objects.filter(**{f"{field}__in": target_ids}).order_by()
                                       .values_list(field, "emoji").annotate(n=Count("id"), me=Count("id", filter=own))):
        counts, mine = found.setdefault(target_id, ({}, []))
        counts[emoji] = n
        if by_me:
            mine.append(emoji)
    return found


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
    found = _tally(model, [row["id"] for row in rows], user) if rows else {}
    for row in rows:
        if row["id"] in found:
            row["reactions"], row["my_reactions"] = found[row["id"]][0], sorted(found[row["id"]][1])
    return rows

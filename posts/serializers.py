"""Post serializers."""

from rest_framework import serializers

from accounts.serializers import UserSerializer
from config.fields import IdField, StrictCharField
from posts.models import Post


class PostSerializer(serializers.ModelSerializer):
    """A post with `likes_count` and `liked_by_me` (annotated by `visible_posts`, no query per post)."""

    author = UserSerializer(read_only=True)
    group_id = serializers.IntegerField(read_only=True, allow_null=True)
    liked_by_me = serializers.BooleanField(read_only=True)

    class Meta:
        model = Post
        fields = ["id", "author", "content", "group_id", "likes_count", "liked_by_me", "created_at", "updated_at",
                  "edited_at"]
        read_only_fields = ["id", "likes_count", "created_at", "updated_at", "edited_at"]


class PostCreateSerializer(serializers.Serializer):
    content = StrictCharField(max_length=10000)
    group_id = IdField(required=False, allow_null=True)


class PostEditSerializer(serializers.Serializer):
    content = StrictCharField(max_length=10000)


class LikeResultSerializer(serializers.Serializer):
    postid = serializers.IntegerField()
    liked = serializers.BooleanField()
    likes_count = serializers.IntegerField()

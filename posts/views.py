"""Post endpoints (SPEC §4): the feed, posts, likes. Thin: actions hold the rules."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.errors import NotFound
from config.rest.params import id_param, id_parameter
from groups.reactions import EmojiSerializer, PostReactionResult, shown_on
from groups.selectors import access_group
from posts import actions
from posts import serializers as s
from posts.models import PostReaction
from posts.selectors import access_post, post_list, visible_posts


def _input(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PostViewSet(viewsets.GenericViewSet):
    serializer_class = s.PostSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return visible_posts(self.request.user)

    def _post(self, pk):
        return access_post(self.request.user, pk)

    @extend_schema(parameters=[id_parameter("group"), id_parameter("author")])
    def list(self, request):
        page = self.paginate_queryset(post_list(request.user, group=id_param(request, "group"),
                                                author=id_param(request, "author")))
        return self.get_paginated_response(shown_on(self.get_serializer(page, many=True).data, PostReaction,
                                                    request.user))

    @extend_schema(request=s.PostCreateSerializer, responses={201: s.PostSerializer})
    def create(self, request):
        data = _input(s.PostCreateSerializer, request)
        group = None
        if data.get("group_id") is not None:
            try:
                group = access_group(request.user, data["group_id"])
            except NotFound as exc:
                raise NotFound("No such group.", details={"group_id": ["No such group."]}) from exc
        post = actions.create_post(actor=request.user, content=data["content"], group=group)
        return Response(self.get_serializer(self._post(post.pk)).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(shown_on([self.get_serializer(self._post(pk)).data], PostReaction, request.user)[0])

    @extend_schema(request=s.PostEditSerializer)
    def partial_update(self, request, pk=None):
        post = self._post(pk)
        data = _input(s.PostEditSerializer, request)
        actions.edit_post(actor=request.user, post=post, content=data["content"])
        return Response(self.get_serializer(self._post(pk)).data)

    @extend_schema(responses={200: None})
    def destroy(self, request, pk=None):
        self.perform_destroy(self._post(pk))
        return Response(None)

    def perform_destroy(self, post):
        actions.delete_post(actor=self.request.user, post=post)

    @extend_schema(methods=["post", "delete"], request=None, responses={200: s.LikeResultSerializer})
    @action(detail=True, methods=["post", "delete"])
    def like(self, request, pk=None):
        result = actions.like_post(actor=request.user, post=self._post(pk), liked=request.method == "POST")
        return Response(result)

    @extend_schema(request=EmojiSerializer, responses={201: PostReactionResult, 200: PostReactionResult})
    @action(detail=True, methods=["post"])
    def reactions(self, request, pk=None):
        """React to a post with an emoji (REACTION_EMOJI): its live audience gets `reaction` with the
        counts. Idempotent: 201 when added, 200 when it was already there."""
        data = _input(EmojiSerializer, request)
        result = actions.react_to_post(actor=request.user, post_id=pk, emoji=data["emoji"])
        return Response(result, status=status.HTTP_201_CREATED if result["changed"] else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: PostReactionResult})
    @action(detail=True, methods=["delete"], url_path=r"reactions/(?P<emoji>[^/]+)")
    def reaction(self, request, pk=None, emoji=None):
        """Take back your `emoji` on a post."""
        return Response(actions.react_to_post(actor=request.user, post_id=pk, emoji=emoji, on=False))

"""Post endpoints (SPEC §4): the feed, posts, likes. Thin: actions hold the rules."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.errors import NotFound
from config.rest.params import id_param, id_parameter
from groups.selectors import access_group
from posts import actions
from posts import serializers as s
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
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

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
        return Response(self.get_serializer(self._post(pk)).data)

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

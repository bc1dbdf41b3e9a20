"""HTTP views of the relay: its AsyncAPI document."""

from django.http import JsonResponse

from relay.asyncapi import document


def asyncapi(request):
    return JsonResponse(document(), json_dumps_params={"indent": 1})

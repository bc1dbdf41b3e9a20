"""Cursor pagination per SPEC §1: `data = {"results", "next", "previous"}`, `?limit=` 1..100."""

from rest_framework import pagination

from config.errors import ValidationFailed


class CursorPagination(pagination.CursorPagination):
    """Newest first by id; `?limit=` outside 1..100 is a validation error, not silently clamped."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "limit"
    ordering = "-id"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() also takes " 5", "+5" and "5_0".
        size = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationFailed(details={"limit": [f"Must be an integer from 1 to {self.max_page_size}."]})
        return size

    def decode_cursor(self, request):
        from rest_framework.exceptions import NotFound

        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationFailed(details={"cursor": ["Invalid cursor."]}) from exc

    def get_paginated_response(self, data):
        from rest_framework.response import Response

        return Response({"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
            },
        }

"""Request parsing: every malformed body is a 400 `invalid_json`, never a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, plus: nesting too deep for Python's decoder is malformed input."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:  # json raises this, not ValueError, for "[[[[..." bodies
            raise ParseError("JSON parse error - nested too deeply.") from exc

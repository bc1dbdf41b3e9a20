"""The AsyncAPI document (/api/asyncapi/) and the frame catalogue cannot drift from the code."""

import re
from pathlib import Path

import pytest

from relay.handlers import CLIENT_FRAME_DESCRIPTIONS, DISPATCH
from relay.stream import events
from relay.stream.catalogue import SERVER_FRAMES


@pytest.fixture
def document(client):
    response = client.get("/api/asyncapi/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def listed(document, direction):
    messages = document["components"]["messages"]
    return {messages[name]["name"] for name in messages if name.startswith(direction + "_")}


def test_it_is_an_asyncapi_3_document(document):
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["channels"]["relay"]["address"] == "/ws/"


def test_it_lists_every_client_frame(document):
    assert listed(document, "client") == set(DISPATCH)


def test_it_lists_every_server_frame(document):
    assert listed(document, "server") == set(SERVER_FRAMES)


def refs(node):
    """Every `$ref` anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_every_reference_resolves(document):
    found = list(refs(document))
    assert len(found) > 2 * len(DISPATCH)
    for ref in found:
        assert ref.startswith("#/"), ref
        node = document
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


def test_client_frames_require_identifier_and_type_and_their_fields(document):
    schema = document["components"]["schemas"]["client_sendmessage"]
    assert schema["required"][:2] == ["identifier", "type"] and "message" in schema["required"]
    assert schema["properties"]["type"] == {"const": "sendmessage"}
    assert schema["properties"]["identifier"] == {"const": "kirimin"}
    kick = document["components"]["schemas"]["client_kick"]
    assert {"groupid", "userid"} <= set(kick["required"]) and "ban" not in kick["required"]


def test_it_documents_close_and_error_codes(document):
    description = document["info"]["description"]
    for code in ("4401", "4403", "4429", "1009"):
        assert code in description
    codes = document["components"]["schemas"]["server_error"]["properties"]["code"]["enum"]
    for code in ("invalid_json", "invalid_identifier", "unknown_type", "invalid_frame", "forbidden",
                 "unauthorized", "not_found", "rate_limited"):
        assert code in codes


def test_every_server_frame_built_in_events_is_catalogued():
    source = Path(events.__file__).read_text()
    built = set(re.findall(r'frame\(\s*"([a-z_]+)"', source))
    assert built, "no frame(...) calls found: the scan is broken"
    assert built - set(SERVER_FRAMES) == set()


def test_every_client_frame_has_a_description():
    assert set(DISPATCH) - set(CLIENT_FRAME_DESCRIPTIONS) == set()
    assert all(CLIENT_FRAME_DESCRIPTIONS[t].strip() for t in DISPATCH)


def test_an_uncatalogued_server_frame_fails_where_it_is_built():
    with pytest.raises(AssertionError, match="SERVER_TYPES"):
        events.frame("not_a_frame")


def test_the_event_layer_knows_every_catalogued_frame():
    assert events.SERVER_TYPES == set(SERVER_FRAMES)


def test_the_clients_know_every_stateful_frame():
    """kirimin.js and the fault tests' client count the same frames in the stream as the server."""
    from tests.reliability.stream_client import STATEFUL

    source = (Path(__file__).resolve().parents[2] / "config/static/app/kirimin.js").read_text()
    listed = re.search(r"export const STATEFUL = new Set\(\[([^\]]*)\]\)", source).group(1)
    assert set(re.findall(r'"(\w+)"', listed)) == set(events.STATEFUL_TYPES) == set(STATEFUL)


def test_the_fuzzer_knows_every_client_frame():
    from tests.reliability.test_fuzz_frames import CLIENT_TYPES, FIELDS

    assert set(CLIENT_TYPES) == set(DISPATCH) == set(FIELDS)

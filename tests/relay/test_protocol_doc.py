"""docs/protocol.md, the client contract in the repository, stays true to the AsyncAPI document
(/api/asyncapi/): every frame type both ways, every socket error code and every close code
is described in its own section."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def section(title):
    """The text of the doc's `## N. <title>` or `### <title>` section, up to the next heading of its level."""
    text = DOC.read_text()
    match = re.search(rf"^(#+) (?:\d+\. )?{re.escape(title)}\s*$", text, re.M)
    assert match, f"docs/protocol.md has no section {title!r}"
    level = match.group(1)
    end = re.compile(rf"^#{{1,{len(level)}}} ", re.M).search(text, match.end())
    return text[match.end():end.start() if end else len(text)]


def table_keys(text):
    """The first cell of each table row: `ping`, 4401, ..."""
    return {cell.strip().strip("`") for cell in re.findall(r"^\|([^|]+)\|", text, re.M)}


@pytest.fixture
def document(client):
    response = client.get("/api/asyncapi/")
    assert response.status_code == 200
    return response.json()


def frames(document, direction):
    messages = document["components"]["messages"]
    return {messages[name]["name"] for name in messages if name.startswith(direction + "_")}


def test_every_client_frame_has_its_row(document):
    assert frames(document, "client") - table_keys(section("Client frames")) == set()


def test_every_server_frame_has_its_row_with_who_gets_it(document):
    rows = section("Server frames, and who gets them")
    assert frames(document, "server") - table_keys(rows) == set()
    for line in rows.splitlines():
        if line.startswith("| `"):
            assert line.rstrip().rstrip("|").rsplit("|", 1)[-1].strip(), f"no audience: {line}"


def test_every_error_code_of_the_socket_is_explained(document):
    codes = document["components"]["schemas"]["server_error"]["properties"]["code"]["enum"]
    assert set(codes) - table_keys(section("Errors on the socket")) == set()


def test_every_close_code_is_explained(document):
    codes = {str(entry["code"]) for entry in document["x-close-codes"]}
    assert {"4401", "4403", "4429", "4008", "1009", "1013"} <= codes
    assert codes - table_keys(section("Close codes")) == set()


def test_the_stream_fields_are_explained():
    text = section("The event stream and recovery")
    for word in ("seq", "streams", "resume=", "since=", "resync", "/api/events/"):
        assert word in text, word

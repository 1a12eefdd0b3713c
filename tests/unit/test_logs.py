"""Log lines: JSON objects with the request's context, and never a token."""

import io
import json
import logging

import pytest

from chatd.logs import INSTANCE, REQUEST_ID, USER_ID, JsonFormatter, TextFormatter

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwidHlwIjoiYWNjZXNzIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def log_lines():
    """A logger whose lines land in a list, formatted by the given formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("chatd.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)

    def lines(formatter: logging.Formatter):
        handler.setFormatter(formatter)
        return logger, lambda: stream.getvalue().splitlines()

    yield lines
    logger.removeHandler(handler)


def test_a_json_line_carries_the_request_context_and_extras(log_lines):
    logger, lines = log_lines(JsonFormatter())
    request_token, user_token = REQUEST_ID.set("req-1"), USER_ID.set(42)
    try:
        logger.info("user %s did %s", 42, "a thing", extra={"status": 201})
    finally:
        REQUEST_ID.reset(request_token)
        USER_ID.reset(user_token)
    [line] = lines()
    entry = json.loads(line)
    assert entry["msg"] == "user 42 did a thing"
    assert entry["level"] == "info" and entry["logger"] == "chatd.test_logs"
    assert (entry["request_id"], entry["user_id"], entry["status"]) == ("req-1", 42, 201)
    assert entry["instance"] == INSTANCE
    assert entry["ts"].endswith("+00:00")


def test_no_request_no_context_fields(log_lines):
    logger, lines = log_lines(JsonFormatter())
    logger.warning("started")
    entry = json.loads(lines()[0])
    assert "request_id" not in entry and "user_id" not in entry


def test_an_exception_is_one_line_of_json(log_lines):
    logger, lines = log_lines(JsonFormatter())
    try:
        raise ValueError("broken")
    except ValueError:
        logger.exception("failed")
    [line] = lines()
    assert "ValueError: broken" in json.loads(line)["exc"]


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_tokens_are_masked_wherever_they_appear(log_lines, formatter):
    logger, lines = log_lines(formatter)
    logger.info("token %s", TOKEN, extra={"header": f"Bearer {TOKEN}"})
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        logger.exception("with a traceback")
    output = "\n".join(lines())
    assert TOKEN not in output and "[redacted]" in output


def test_text_lines_end_with_the_request_id(log_lines):
    logger, lines = log_lines(TextFormatter())
    token = REQUEST_ID.set("abc123")
    try:
        logger.info("hello")
    finally:
        REQUEST_ID.reset(token)
    assert lines()[0].endswith("INFO chatd.test_logs hello [abc123]")

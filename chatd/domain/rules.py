"""Value rules for user input: each returns the clean value or raises InvalidInput."""

import re

from chatd.domain.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,32}")
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores (or refuses) anything longer


def is_valid_username(username: str) -> bool:
    return USERNAME_PATTERN.fullmatch(username) is not None


def check_username(username: str) -> str:
    if not is_valid_username(username):
        raise InvalidInput(
            "username must be 3 to 32 characters of letters, digits, '_', '.' or '-'",
            code="invalid_username",
        )
    return username


def check_password(password: str) -> str:
    if _has_surrogate(password):
        raise InvalidInput("password is not valid Unicode text", code="invalid_password")
    size = len(password.encode("utf-8"))
    if not PASSWORD_MIN_BYTES <= size <= PASSWORD_MAX_BYTES:
        raise InvalidInput(
            f"password must be {PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} bytes in UTF-8",
            code="invalid_password",
        )
    return password


ROOM_NAME_MAX = 100
ROOM_TOPIC_MAX = 500
BODY_MAX = 4000
CLIENT_ID_MAX = 64
PAGE_MAX = 200
DEFAULT_PAGE = 50


def check_room_name(name: str) -> str:
    """The name without surrounding whitespace, 1 to 100 characters."""
    name = _storable(name, "name").strip()
    if not 1 <= len(name) <= ROOM_NAME_MAX:
        raise InvalidInput(
            f"room name must be 1 to {ROOM_NAME_MAX} characters, not counting surrounding spaces",
            code="invalid_room_name",
        )
    return name


def check_topic(topic: str) -> str:
    topic = _storable(topic, "topic").strip()
    if len(topic) > ROOM_TOPIC_MAX:
        raise InvalidInput(
            f"topic must be at most {ROOM_TOPIC_MAX} characters", code="invalid_topic"
        )
    return topic


def check_body(body: str) -> str:
    """The body without surrounding whitespace: what is stored and counted, 1 to 4000."""
    body = _storable(body, "body").strip()
    if not body:
        raise InvalidInput("message body is empty", code="empty_body")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"message body is over {BODY_MAX} characters", code="body_too_long")
    return body


def check_client_id(client_id: str) -> str:
    if not 1 <= len(_storable(client_id, "client_id")) <= CLIENT_ID_MAX:
        raise InvalidInput(
            f"client_id must be 1 to {CLIENT_ID_MAX} characters", code="invalid_client_id"
        )
    return client_id


SEARCH_QUERY_MAX = 200


def check_search_query(query: str) -> str:
    """Words to search for: 1 to 200 characters, at least one letter or digit."""
    query = _storable(query, "q").strip()
    if not 1 <= len(query) <= SEARCH_QUERY_MAX or not any(c.isalnum() for c in query):
        raise InvalidInput(
            f"'q' must be 1 to {SEARCH_QUERY_MAX} characters with at least one word",
            code="invalid_search",
        )
    return query


def check_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_MAX}", code="invalid_limit")
    return limit


def _storable(text: str, field: str) -> str:
    """A string PostgreSQL can hold: no NUL, no lone surrogate (JSON can carry both)."""
    if not isinstance(text, str):
        raise InvalidInput(f"'{field}' must be a string", code="invalid_field")
    if "\x00" in text or _has_surrogate(text):
        raise InvalidInput(f"'{field}' contains characters that cannot be stored", code="bad_text")
    return text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False

"""Value rules for user input: each returns the clean value or raises InvalidInput."""

import re

from chatd.domain.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,32}")
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores (or refuses) anything longer


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "username must be 3 to 32 characters of letters, digits, '_', '.' or '-'",
            code="invalid_username",
        )
    return username


def check_password(password: str) -> str:
    size = len(password.encode("utf-8"))
    if not PASSWORD_MIN_BYTES <= size <= PASSWORD_MAX_BYTES:
        raise InvalidInput(
            f"password must be {PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} bytes in UTF-8",
            code="invalid_password",
        )
    return password

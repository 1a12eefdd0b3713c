"""What an attacker puts where a value goes: SQL metacharacters and statements, LIKE wildcards,
NUL, odd Unicode, numbers at and past every limit, and the wrong JSON type altogether."""

from typing import Any

SQL_STRINGS = [
    "'",
    '"',
    "\\",
    "`",
    "' OR '1'='1",
    "' OR 1=1 --",
    "admin'--",
    "'; DROP TABLE users; --",
    "1; DROP TABLE messages",
    "'); DELETE FROM rooms; --",
    "' UNION SELECT id, username, password_hash FROM users --",
    "$1",
    "$$; DROP TABLE memberships; $$",
    "1' AND pg_sleep(5) --",
    "%",
    "_",
    "%_%",
    "\\%",
    "\x00",
    "a\x00b",
    "\ud800",
    "\u202eevil",
    "\u02bc OR 1=1",  # a modifier letter apostrophe, which some normalisers turn into '
    "\uff07 OR 1=1",  # a fullwidth apostrophe
    "😀" * 10,
    "NULL",
    "null",
    "'" * 5000,
    " ",
    "",
]
NUMBERS = [0, -1, -(2**63) - 1, 2**63, 2**64, 10**30, 1.5, -0.0, 1e308, float("inf")]
WRONG_TYPES = [None, True, False, [], ["x"], {}, {"$gt": ""}, {"sql": "' OR 1=1"}]
JSON_VALUES: list[Any] = [*SQL_STRINGS, *NUMBERS, *WRONG_TYPES]

# Path segments and query values, as sent on the wire (percent-encoded by the caller).
URL_VALUES = [
    "1'",
    "1' OR '1'='1",
    "1;DROP TABLE rooms",
    "1 OR 1=1",
    "-1",
    "0",
    "1.5",
    "1e3",
    "0x10",
    "99999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "%",
    "_",
    "\x00",
    "1\x00",
    "\uff11",  # a fullwidth digit one
    "\u0661",  # an Arabic-Indic digit one
    "NULL",
    "",
    " 1",
    "1 ",
    "+1",
    "[1]",
    "{}",
]

RAW_BODIES = [
    b'{"username": ' + b"9" * 5000 + b', "password": "x"}',
    b'{"username": 1e999, "password": NaN}',
    b'{"username": "alice", "password": Infinity}',
    b'{"username": "alice", "username": "bob", "password": "x"}',
    b'{"username": "\\ud800\\udc00", "password": "\\u0000"}',
]

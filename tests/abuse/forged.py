"""JSON Web Tokens as an attacker makes them: any header, any claims, any key, or no signature."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

from tests.conftest import TEST_SECRET

ATTACKER_KEY = "attacker-" + "k" * 64


def _part(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(
    claims: dict,
    *,
    key: str | None = TEST_SECRET,
    alg: str = "HS256",
    digest: Callable = hashlib.sha256,
    header: dict | None = None,
) -> str:
    """header.claims.signature; HMAC with `digest` under `key`, or no signature (key None)."""
    signing_input = f"{_part({'alg': alg, 'typ': 'JWT', **(header or {})})}.{_part(claims)}"
    if key is None:
        return signing_input + "."
    mac = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_part(mac)}"


def claims(sub: str | int | None, **overrides) -> dict:
    now = int(time.time())
    base = {"sub": sub, "typ": "access", "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def access_attacks(uid: int) -> dict[str, str]:
    """RFC 8725's list, and then some: every one must be refused as an access token."""
    me = str(uid)
    now = int(time.time())
    good = token(claims(me))
    head, body, _ = good.split(".")
    return {
        "alg none": token(claims(me), key=None, alg="none"),
        "alg None": token(claims(me), key=None, alg="None"),
        "alg NONE, signed anyway": token(claims(me), alg="NONE"),
        "HS512 under the right key": token(claims(me), alg="HS512", digest=hashlib.sha512),
        "HS384 under the right key": token(claims(me), alg="HS384", digest=hashlib.sha384),
        "RS256 header, HMAC under the secret (RS/HS confusion)": token(claims(me), alg="RS256"),
        "RS256 header, garbage signature": f"{token(claims(me), alg='RS256', key=None)}AAAA",
        "ES256 header": token(claims(me), alg="ES256"),
        "HS256 under another key": token(claims(me), key=ATTACKER_KEY),
        "attacker's key in a jwk header": token(
            claims(me), key=ATTACKER_KEY, header={"jwk": {"kty": "oct", "k": _part(b"k" * 64)}}
        ),
        "kid pointing at an empty file, empty key": token(
            claims(me), key="", header={"kid": "../../../../dev/null"}
        ),
        "jku pointing elsewhere": token(
            claims(me), key=ATTACKER_KEY, header={"jku": "https://evil.example/jwks"}
        ),
        "signature cut off": f"{head}.{body}.",
        "no signature part": f"{head}.{body}",
        "signature of another token": f"{head}.{body}.{token(claims('999')).split('.')[2]}",
        "one character of the signature changed": good[:-2]
        + ("A" if good[-2] != "A" else "B")
        + good[-1],
        "header and claims swapped": f"{body}.{head}.{good.split('.')[2]}",
        "missing typ": token(claims(me, typ=None)),
        "missing exp": token(claims(me, exp=None)),
        "missing iat": token(claims(me, iat=None)),
        "missing sub": token(claims(None)),
        "missing jti": token(claims(me, jti=None)),
        "typ Access": token(claims(me, typ="Access")),
        "typ empty": token(claims(me, typ="")),
        "typ id": token(claims(me, typ="id")),
        "typ a number": token(claims(me, typ=1)),
        "typ a list": token(claims(me, typ=["access"])),
        "exp a string": token(claims(me, exp=str(now + 600))),
        "exp far past": token(claims(me, iat=0, exp=1)),
        "iat a string": token(claims(me, iat=str(now))),
        "iat an hour ahead": token(claims(me, iat=now + 3600, exp=now + 7200)),
        "nbf an hour ahead": token(claims(me, nbf=now + 3600)),
        "sub a number": token(claims(uid)),
        "sub a list": token(claims([me])),
        "sub non-numeric": token(claims("admin")),
        "sub zero": token(claims("0")),
        "sub negative": token(claims("-" + me)),
        "sub with a space": token(claims(" " + me)),
        "sub 1.0": token(claims(me + ".0")),
        "sub in Arabic-Indic digits": token(claims("\u0661")),
        "sub past bigint": token(claims("9" * 30)),
        "sub of nobody": token(claims("987654")),
        "refresh typ as access": token(claims(me, typ="refresh", fam=str(uuid.uuid4()))),
        "5 KB of claims, alg none": token(claims(me, pad="x" * 5_000), key=None, alg="none"),
        "not base64": "eyJ!!!.eyJ???.***",
        "empty": "",
        "just dots": "..",
    }


EXPIRED = "expired"


def expired(uid: int) -> str:
    now = int(time.time())
    return token(claims(str(uid), iat=now - 999, exp=now - 60))

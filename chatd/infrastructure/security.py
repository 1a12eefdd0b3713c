"""Password hashing with bcrypt (off the event loop) and JWTs with pyjwt (HS256 only)."""

import asyncio
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import bcrypt
import jwt

from chatd.domain.errors import NotAuthenticated
from chatd.domain.model import AccessGrant, RefreshGrant
from chatd.domain.rules import PASSWORD_MAX_BYTES

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ"]
MAX_USER_ID = 2**63 - 1  # users.id is a bigint
ACCESS, REFRESH = "access", "refresh"


class BcryptHasher:
    """bcrypt at a fixed cost, run in a small thread pool of its own.

    bcrypt releases the GIL, so hashing never stalls the event loop, and the pool's size bounds
    how many CPU-heavy checks run at once without starving other executor work.
    """

    def __init__(self, *, rounds: int, executor: ThreadPoolExecutor) -> None:
        self._rounds = rounds
        self._executor = executor
        self._dummy_hash: bytes | None = None

    async def hash(self, password: str) -> bytes:
        return await self._run(bcrypt.hashpw, _utf8(password), bcrypt.gensalt(self._rounds))

    async def verify(self, password: str, password_hash: bytes | None) -> bool:
        candidate = _utf8(password)
        if password_hash is None or len(candidate) > PASSWORD_MAX_BYTES:
            # No such user, or a password no account can have (bcrypt refuses it): the same
            # work as a real check, then no.
            await self._run(bcrypt.checkpw, candidate[:PASSWORD_MAX_BYTES], await self._dummy())
            return False
        return await self._run(bcrypt.checkpw, candidate, password_hash)

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def _run(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)


class JwtCodec:
    def __init__(self, *, secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def issue_access(self, user_id: int) -> str:
        return self._encode({"sub": str(user_id), "typ": ACCESS}, self.access_ttl)

    def issue_refresh(self, user_id: int, family_id: str) -> str:
        return self._encode(
            {"sub": str(user_id), "typ": REFRESH, "fam": family_id}, self.refresh_ttl
        )

    def read_access(self, token: str) -> int:
        return _user_id(self._decode(token, ACCESS))

    def read_access_grant(self, token: str) -> AccessGrant:
        claims = self._decode(token, ACCESS)
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return AccessGrant(user_id=_user_id(claims), expires_at=expires_at)

    def read_refresh(self, token: str) -> RefreshGrant:
        claims = self._decode(token, REFRESH)
        family_id = claims.get("fam")
        if not isinstance(family_id, str):
            raise NotAuthenticated("refresh token has no family", code="invalid_token")
        return RefreshGrant(user_id=_user_id(claims), family_id=family_id)

    def _encode(self, claims: dict, ttl: int) -> str:
        now = int(time.time())
        payload = {**claims, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, expected_type: str) -> dict:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS}
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("token expired", code="token_expired") from None
        except (jwt.InvalidTokenError, ValueError):  # ValueError: not even encodable text
            raise NotAuthenticated("invalid token", code="invalid_token") from None
        if claims["typ"] != expected_type:
            raise NotAuthenticated(f"expected an {expected_type!r} token", code="invalid_token")
        if not all(_numeric_date(claims[name]) for name in ("exp", "iat")):
            # PyJWT lets "1700000000" (a string) pass as a time; RFC 7519 does not.
            raise NotAuthenticated("invalid token times", code="invalid_token")
        return claims


def _numeric_date(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utf8(password: str) -> bytes:
    # "surrogatepass": a login attempt with a lone surrogate (valid JSON) is just a wrong
    # password, never an error; registration refuses such passwords.
    return password.encode("utf-8", "surrogatepass")


def _user_id(claims: dict) -> int:
    subject = claims["sub"]
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
        raise NotAuthenticated("invalid token subject", code="invalid_token")
    if not 0 < int(subject) <= MAX_USER_ID:  # past bigint, the database would refuse the query
        raise NotAuthenticated("invalid token subject", code="invalid_token")
    return int(subject)

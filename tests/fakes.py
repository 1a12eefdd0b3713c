"""Fakes of the application's accounts, security and limit ports for unit tests (rooms and
messages: tests/fake_rooms.py; the real-time side: tests/fake_streams.py). They don't inherit:
the Protocols in chatd.application.ports are structural."""

from datetime import UTC, datetime, timedelta

from chatd.domain.errors import Conflict, NotAuthenticated
from chatd.domain.model import (
    AccessGrant,
    Credentials,
    RefreshGrant,
    SpentToken,
    TokenState,
    User,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ALICE = User(id=1, username="alice", created_at=EPOCH)
BOB = User(id=2, username="bob", created_at=EPOCH)


class FakeClock:
    def __init__(self, now: datetime = EPOCH) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class FakeUserRepo:
    def __init__(self) -> None:
        self.credentials: dict[int, Credentials] = {}

    async def add(self, *, username: str, password_hash: bytes) -> User:
        if any(c.user.username.lower() == username.lower() for c in self.credentials.values()):
            raise Conflict("that username is taken", code="username_taken")
        user = User(id=len(self.credentials) + 1, username=username, created_at=EPOCH)
        self.credentials[user.id] = Credentials(user, password_hash)
        return user

    async def get(self, user_id: int) -> User | None:
        found = self.credentials.get(user_id)
        return found.user if found else None

    async def find_credentials(self, username: str) -> Credentials | None:
        for credentials in self.credentials.values():
            if credentials.user.username.lower() == username.lower():
                return credentials
        return None


class FakeRefreshTokenRepo:
    def __init__(self, clock: "FakeClock | None" = None) -> None:
        self.rows: dict[bytes, dict] = {}
        self.clock = clock or FakeClock()  # when a family is revoked

    async def add(self, *, token_hash: bytes, user_id: int, family_id: str, expires_at) -> None:
        self.rows[token_hash] = {
            "user_id": user_id,
            "family_id": family_id,
            "spent": False,
            "revoked": False,
            "revoked_at": None,
        }

    async def spend(self, token_hash: bytes) -> SpentToken | None:
        row = self.rows.get(token_hash)
        if row is None:
            return None
        if row["revoked"]:
            state = TokenState.REVOKED
        elif row["spent"]:
            state = TokenState.SPENT
        else:
            state = TokenState.FRESH
        row["spent"] = True
        return SpentToken(user_id=row["user_id"], family_id=row["family_id"], state=state)

    async def revoke_family(self, family_id: str) -> None:
        for row in self.rows.values():
            if row["family_id"] == family_id and not row["revoked"]:
                row["revoked"], row["revoked_at"] = True, self.clock.now()

    async def last_revocations(self, user_ids) -> dict[int, datetime]:
        last: dict[int, datetime] = {}
        for row in self.rows.values():
            user_id, when = row["user_id"], row["revoked_at"]
            if user_id in user_ids and when is not None:
                last[user_id] = max(when, last.get(user_id, when))
        return last


class FakeFailureLimiter:
    """Counts failures per key, without windows: tests move time by calling `forget`."""

    def __init__(self, *, limit: int, retry_after_seconds: int = 900) -> None:
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds
        self.failures: dict[str, int] = {}

    async def retry_after(self, keys: list[str]) -> int:
        blocked = any(self.failures.get(key, 0) >= self.limit for key in keys)
        return self.retry_after_seconds if self.limit and blocked else 0

    async def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            self.failures[key] = self.failures.get(key, 0) + 1

    def forget(self) -> None:
        self.failures.clear()


class FakeRateLimiter:
    """Allows `limit` events per key (0: unlimited), then answers `retry_after_seconds`."""

    def __init__(self, *, limit: int = 0, retry_after_seconds: int = 10) -> None:
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds
        self.counts: dict[str, int] = {}

    async def acquire(self, key: str) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        over = self.limit and self.counts[key] > self.limit
        return self.retry_after_seconds if over else 0


class FakeHasher:
    """Reversible 'hashing', recording every check so tests can see the dummy check happen."""

    def __init__(self) -> None:
        self.checks: list[tuple[str, bytes | None]] = []

    async def hash(self, password: str) -> bytes:
        return b"hashed:" + password.encode()

    async def verify(self, password: str, password_hash: bytes | None) -> bool:
        self.checks.append((password, password_hash))
        return password_hash == b"hashed:" + password.encode()


class FakeTokenCodec:
    """Tokens as readable strings: 'access:<user>:<n>:<expiry, seconds after EPOCH>' and
    'refresh:<user>:<family>:<n>'. Access tokens expire `access_ttl` after issue by `clock`."""

    refresh_ttl = 3600

    def __init__(self, clock: FakeClock | None = None, *, access_ttl: int = 900) -> None:
        self._clock = clock or FakeClock()
        self.access_ttl = access_ttl
        self._issued = 0

    def issue_access(self, user_id: int) -> str:
        self._issued += 1
        expires = (self._clock.now() - EPOCH).total_seconds() + self.access_ttl
        return f"access:{user_id}:{self._issued}:{expires}"

    def read_access_grant(self, token: str) -> AccessGrant:
        user_id = self.read_access(token)
        expiry = token.split(":")[3] if token.count(":") >= 3 else str(self.access_ttl)
        expires_at = EPOCH + timedelta(seconds=float(expiry))
        if self._clock.now() >= expires_at:
            raise NotAuthenticated("token expired", code="token_expired")
        return AccessGrant(user_id=user_id, expires_at=expires_at)

    def issue_refresh(self, user_id: int, family_id: str) -> str:
        self._issued += 1
        return f"refresh:{user_id}:{family_id}:{self._issued}"

    def read_access(self, token: str) -> int:
        kind, user_id, *_ = [*token.split(":"), "", ""]
        if kind != "access" or not user_id.isdigit():
            raise NotAuthenticated("invalid token", code="invalid_token")
        return int(user_id)

    def read_refresh(self, token: str) -> RefreshGrant:
        parts = token.split(":")
        if len(parts) != 4 or parts[0] != "refresh":
            raise NotAuthenticated("invalid token", code="invalid_token")
        return RefreshGrant(user_id=int(parts[1]), family_id=parts[2])

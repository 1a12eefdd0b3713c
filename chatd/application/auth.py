"""Accounts: registration, login, token rotation with reuse detection, logout."""

import hashlib
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from chatd.application.ports import (
    Clock,
    EventBus,
    FailureLimiter,
    PasswordHasher,
    RefreshTokenRepo,
    TokenCodec,
    UserRepo,
)
from chatd.domain.errors import NotAuthenticated, RateLimited
from chatd.domain.events import SessionsRevoked
from chatd.domain.model import TokenPair, TokenState, User
from chatd.domain.rules import check_password, check_username, is_valid_username


def token_fingerprint(token: str) -> bytes:
    """Refresh tokens are stored by this hash, never in clear."""
    return hashlib.sha256(token.encode("utf-8")).digest()


class Accounts:
    def __init__(
        self,
        *,
        users: UserRepo,
        refresh_tokens: RefreshTokenRepo,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        clock: Clock,
        login_failures: FailureLimiter,
        bus: EventBus,
    ) -> None:
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._login_failures = login_failures
        self._bus = bus  # ends the sockets of a login that ends, on every process

    async def register(self, *, username: str, password: str) -> User:
        check_username(username)
        check_password(password)
        password_hash = await self._hasher.hash(password)
        return await self._users.add(username=username, password_hash=password_hash)

    async def login(self, *, username: str, password: str, client_address: str) -> TokenPair:
        # A name no account can have (NUL bytes, lone surrogates...) is never looked up, and
        # such names share one failure counter.
        account = username.lower() if is_valid_username(username) else None
        # Counted per account and per address, so neither guessing one account's password from
        # many addresses nor many accounts' from one address gets far. Checked before hashing.
        limit_keys = [f"login:user:{account or '<invalid>'}", f"login:addr:{client_address}"]
        retry_after = await self._login_failures.retry_after(limit_keys)
        if retry_after:
            raise RateLimited("too many failed logins; try again later", retry_after=retry_after)
        credentials = await self._users.find_credentials(username) if account else None
        # Unknown users cost a hash check too, so timing does not tell them apart.
        stored_hash = credentials.password_hash if credentials else None
        if not await self._hasher.verify(password, stored_hash) or credentials is None:
            await self._login_failures.record_failure(limit_keys)
            raise NotAuthenticated("wrong username or password", code="invalid_credentials")
        return await self._issue_pair(credentials.user.id, family_id=str(uuid.uuid4()))

    async def refresh(self, *, refresh_token: str) -> TokenPair:
        grant = self._tokens.read_refresh(refresh_token)
        spent = await self._refresh_tokens.spend(token_fingerprint(refresh_token))
        if spent is None:
            raise NotAuthenticated("unknown refresh token", code="invalid_token")
        if spent.state is TokenState.SPENT:
            await self._refresh_tokens.revoke_family(spent.family_id)
            await self._bus.publish(SessionsRevoked(spent.user_id, "refresh token reused"))
            raise NotAuthenticated(
                "refresh token already used; every session of this login is revoked",
                code="token_reused",
            )
        if spent.state is not TokenState.FRESH:
            raise NotAuthenticated(f"refresh token {spent.state}", code=f"token_{spent.state}")
        return await self._issue_pair(grant.user_id, family_id=grant.family_id)

    async def last_revocations(self, user_ids: Collection[int]) -> dict[int, datetime]:
        """When each of these users last had a login end (logout, reuse); absent: never."""
        return await self._refresh_tokens.last_revocations(user_ids)

    async def logout(self, *, refresh_token: str) -> None:
        """End the login; the user's open sockets, on every process, are closed (4401)."""
        grant = self._tokens.read_refresh(refresh_token)
        await self._refresh_tokens.revoke_family(grant.family_id)
        await self._bus.publish(SessionsRevoked(grant.user_id, "logged out"))

    async def authenticate(self, access_token: str) -> User:
        return await self._user_of(self._tokens.read_access(access_token))

    async def authenticate_until(self, access_token: str) -> tuple[User, datetime]:
        """The token's user and when the token expires (a socket lives until then)."""
        grant = self._tokens.read_access_grant(access_token)
        return await self._user_of(grant.user_id), grant.expires_at

    async def _user_of(self, user_id: int) -> User:
        user = await self._users.get(user_id)
        if user is None:
            raise NotAuthenticated("the token's user no longer exists", code="invalid_token")
        return user

    async def _issue_pair(self, user_id: int, *, family_id: str) -> TokenPair:
        refresh_token = self._tokens.issue_refresh(user_id, family_id)
        await self._refresh_tokens.add(
            token_hash=token_fingerprint(refresh_token),
            user_id=user_id,
            family_id=family_id,
            expires_at=self._clock.now() + timedelta(seconds=self._tokens.refresh_ttl),
        )
        return TokenPair(
            access_token=self._tokens.issue_access(user_id),
            refresh_token=refresh_token,
            expires_in=self._tokens.access_ttl,
        )

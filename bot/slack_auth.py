"""Who the bot is on Slack, learnt once from ``auth.test``, and a Bolt ``authorize`` that never fails.

Bolt's default single-workspace authorization calls ``auth.test`` on the first request and, when
that call fails for any reason, answers every request with "Please reinstall this app". A bot with
one static token does not need Slack's Web API to answer a slash command from its acknowledgement,
so ``SlackIdentity.bolt_authorize`` always returns the known token, plus the bot's ids once they are
known. While ``auth.test`` has not succeeded it is retried in the background, never on a request's
path, and the bot user id is taken from the event's ``authorizations`` so the bot still ignores
its own messages.

A token Slack rejects (``invalid_auth``, ...) is not transient: at start it is ``TokenRejected``,
which stops the start with one line; later it makes the bot unready and is logged once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

REJECTED_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked"})
AUTH_TEST_TIMEOUT = 5.0
RETRY_INTERVAL = 30.0
AUTHORIZATIONS_KEY = "birdwatch_authorizations"

logger = logging.getLogger("birdwatch.slack")


class TokenRejected(Exception):
    """Slack refused the token: the bot cannot work until someone replaces it."""

    def __init__(self, which: str, error: str) -> None:
        super().__init__(f"Slack rejected {which} ({error}); check the token in the settings")
        self.error = error


@dataclass(frozen=True, slots=True)
class BotIdentity:
    team_id: str | None
    enterprise_id: str | None
    bot_id: str | None
    bot_user_id: str | None


def failure_reason(error: BaseException) -> str:
    """A short reason for a failed Slack call: its error code, else the exception's name and text."""
    if isinstance(error, SlackApiError):
        data = getattr(error.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        return str(code or f"HTTP {getattr(error.response, 'status_code', '?')}")
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__


def rejected_error(error: BaseException) -> str | None:
    """The error code when ``error`` says the token itself was refused, else None."""
    if isinstance(error, SlackApiError):
        data = getattr(error.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        if code in REJECTED_TOKEN_ERRORS:
            return str(code)
    return None


class SlackIdentity:
    """The bot's token and ids; ``bolt_authorize()`` is given to Bolt in place of its own."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        retry_interval: float = RETRY_INTERVAL,
        timeout: float = AUTH_TEST_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._retry_interval = retry_interval
        self._timeout = timeout
        self._clock = clock
        self.identity: BotIdentity | None = None
        self.rejected: str | None = None  # the error code Slack gave for the token, once it did
        self._last_attempt: float | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._last_reason: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether auth.test has accepted the token (readiness)."""
        return self.identity is not None

    async def verify(self) -> None:
        """Call auth.test once; raise TokenRejected if Slack refuses the token, log if it is unreachable."""
        await self._auth_test(raise_rejected=True)

    async def _auth_test(self, *, raise_rejected: bool = False) -> None:
        self._last_attempt = self._clock()
        token = self._client.token or ""
        try:
            result = await asyncio.wait_for(self._client.auth_test(token=token), self._timeout)
        except Exception as error:  # anything else is transient: keep answering, try again later
            reason = failure_reason(error)
            if (code := rejected_error(error)) is not None:
                self.rejected = code
                if raise_rejected:
                    raise TokenRejected("SLACK_BOT_TOKEN", code) from None
            if reason != self._last_reason:  # one line per change, not one per attempt
                logger.warning("Slack auth.test failed; answering without it", extra={"reason": reason})
                self._last_reason = reason
            return
        self.rejected = None
        self._last_reason = None
        self.identity = BotIdentity(
            team_id=result.get("team_id"),
            enterprise_id=result.get("enterprise_id"),
            bot_id=result.get("bot_id"),
            bot_user_id=result.get("user_id"),
        )
        logger.info("Slack accepted the bot token", extra={"team_id": self.identity.team_id})

    async def check(self) -> bool:
        """Readiness: the token was accepted; while it is not, ask Slack again now and then."""
        self.refresh_soon()
        return self.accepted

    def refresh_soon(self) -> None:
        """Retry auth.test at most every ``retry_interval`` seconds, off the request's path."""
        if self.identity is not None or (self._refresh is not None and not self._refresh.done()):
            return
        if self._last_attempt is not None and self._clock() - self._last_attempt < self._retry_interval:
            return
        self._refresh = asyncio.get_running_loop().create_task(self._auth_test(), name="slack-auth-test")

    async def aclose(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)

    def bolt_authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's ``authorize`` (a plain function: Bolt passes arguments by their names)."""

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None, context: Any
        ) -> AuthorizeResult:
            """The static token, with the bot's ids as far as they are known."""
            self.refresh_soon()
            known = self.identity
            return AuthorizeResult(
                enterprise_id=enterprise_id or (known.enterprise_id if known else None),
                team_id=team_id or (known.team_id if known else None),
                bot_token=self._client.token,
                bot_id=known.bot_id if known else None,
                bot_user_id=known.bot_user_id if known else _bot_user_from(context),
                user_id=user_id,
            )

        return authorize


async def note_event_authorizations(
    body: dict[str, Any], context: dict[str, Any], next: Callable[[], Awaitable[Any]]
) -> Any:
    """Bolt ``before_authorize`` middleware: keep the event's ``authorizations`` for ``authorize``."""
    authorizations = body.get("authorizations") if isinstance(body, dict) else None
    if isinstance(authorizations, list):
        context[AUTHORIZATIONS_KEY] = authorizations
    return await next()


def _bot_user_from(context: Any) -> str | None:
    """The bot user id Slack names in an event's ``authorizations``, when auth.test has not answered."""
    authorizations = context.get(AUTHORIZATIONS_KEY) if isinstance(context, dict) else None
    if isinstance(authorizations, list):
        for entry in authorizations:
            if isinstance(entry, dict) and entry.get("is_bot") and isinstance(entry.get("user_id"), str):
                return str(entry["user_id"])
    return None

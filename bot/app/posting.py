"""Getting a message to a member by the best way left: the interaction's response while its token lives,
with bounded retries on Discord's 429s and 5xx, else the channel (mentioning them), else a direct message.

An interaction token lives 15 minutes; a job that waited in the queue or on a slow model can outlive it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import discord

from bot.core.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIES = 3  # on top of discord.py's own retries
RETRY_DELAY = 1.0  # seconds, doubled each time
TOKEN_MARGIN = 20.0  # seconds: an upload started this close to the token's end may not finish in time
TOKEN_GONE = frozenset({10015, 10062, 50027})  # unknown webhook, unknown interaction, invalid webhook token
NEEDED_TO_POST = discord.Permissions(view_channel=True, send_messages=True, embed_links=True, attach_files=True)


def token_alive(interaction: discord.Interaction, lifetime: float) -> bool:
    """Whether the interaction's token can still be used for an edit or follow-up (with a margin)."""
    ends = interaction.created_at + timedelta(seconds=lifetime - min(TOKEN_MARGIN, lifetime / 20))
    return discord.utils.utcnow() < ends


async def with_retries(call: Callable[[], Awaitable[T]], metrics: Metrics | None = None) -> T:
    """`call()`, tried again after Discord's rate limits and server errors, a few times with growing pauses."""
    attempt = 0
    while True:
        try:
            return await call()
        except discord.HTTPException as error:
            if metrics is not None:
                metrics.discord_error(error.status)
            if attempt == RETRIES or not retryable(error):
                raise
            delay = RETRY_DELAY * 2**attempt
            log.warning("Discord answered %s; trying again in %.0fs", error.status, delay)
            await asyncio.sleep(delay)
            attempt += 1


def retryable(error: discord.HTTPException) -> bool:
    return error.status == 429 or error.status >= 500


def elsewhere_may_work(error: discord.HTTPException) -> bool:
    """Whether another way of posting may succeed: the token died, or Discord kept failing; not a refused payload."""
    return retryable(error) or error.code in TOKEN_GONE


async def to_channel_or_dm(
    interaction: discord.Interaction, content: str, *, private: bool = False, **message: Any
) -> discord.Message | None:
    """Post in the interaction's channel mentioning the member, or else send it to them directly (at once when
    `private`: what was meant for them only goes nowhere else).

    `message` holds send() arguments other than content (`embed`, `files`, `view`); a `files` factory is called
    for each try, since an upload consumes its files. None, logged, when neither way works.
    """
    channel = interaction.channel
    allowed = interaction.app_permissions >= NEEDED_TO_POST and not private
    target = channel if isinstance(channel, discord.abc.Messageable) and allowed else None
    user = interaction.user

    async def direct() -> discord.abc.Messageable:
        return user

    metrics: Metrics | None = getattr(interaction.client, "metrics", None)
    return await channel_or_dm(target, user.id, direct, content, metrics, **message)


async def channel_or_dm(
    channel: discord.abc.Messageable | None,
    user_id: int,
    direct: Callable[[], Awaitable[discord.abc.Messageable]],
    content: str,
    metrics: Metrics | None = None,
    **message: Any,
) -> discord.Message | None:
    """Post in `channel` mentioning the member (with retries), or else in their direct messages, reached through
    `direct` only when needed; None, logged, when neither way works."""
    files: Callable[[], list[discord.File]] | None = message.pop("files", None)
    if channel is not None:
        mention = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)])
        try:
            return await with_retries(
                lambda: channel.send(content, files=files() if files else [], allowed_mentions=mention, **message),
                metrics,
            )
        except discord.HTTPException:
            log.warning("could not post in channel %s for user %s", getattr(channel, "id", "?"), user_id, exc_info=True)
    try:
        user = await direct()
        return await with_retries(lambda: user.send(content, files=files() if files else [], **message), metrics)
    except discord.HTTPException:
        log.error("could not reach user %s in channel %s or by direct message", user_id, getattr(channel, "id", "?"))
        return None

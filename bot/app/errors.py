"""The one place that turns errors into messages for users."""

import logging
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands

from bot.app.i18n import catalogue
from bot.app.limit_text import channel_mentions
from bot.app.posting import elsewhere_may_work, to_channel_or_dm
from bot.core import errors
from bot.core.pricing import micro_to_dollars

log = logging.getLogger(__name__)

MESSAGES: dict[type[errors.BotError], str] = {
    errors.BotError: "error.unexpected",
    errors.InvalidRequest: "error.invalid",
    errors.PromptEmpty: "error.prompt_empty",
    errors.PromptTooLong: "error.prompt_too_long",
    errors.ModelNotAllowed: "error.model_not_allowed",
    errors.CountOutOfRange: "error.count_out_of_range",
    errors.InvalidChoice: "error.invalid_choice",
    errors.InvalidPromptParameter: "error.prompt_parameter",
    errors.InvalidStyle: "error.style",
    errors.NoPictures: "error.no_pictures",
    errors.TooManyPictures: "error.too_many_pictures",
    errors.PictureError: "error.picture",
    errors.NotAnImage: "error.not_an_image",
    errors.CorruptImage: "error.corrupt_image",
    errors.PictureTooLarge: "error.picture_too_large",
    errors.TooManyPixels: "error.too_many_pixels",
    errors.PictureUnavailable: "error.picture_unavailable",
    errors.NotAllowedHere: "error.not_allowed",
    errors.OutsideServer: "error.guild_only",
    errors.ChannelNotAllowed: "error.channel_not_allowed",
    errors.EditDisabled: "error.edit_disabled",
    errors.PrivateNotAllowed: "error.private_not_allowed",
    errors.CountAboveLimit: "error.count_above_limit",
    errors.QualityAboveLimit: "error.quality_above_limit",
    errors.PromptBlocked: "error.prompt_blocked",
    errors.UserBlocked: "error.user_blocked",
    errors.ServerBlocked: "error.server_blocked",
    errors.NotPermitted: "error.not_permitted",
    errors.InvalidLimitValue: "error.invalid_limit_value",
    errors.QuotaExceeded: "error.quota",
    errors.QueueFull: "error.queue_full",
    errors.QueueClosed: "error.queue_closed",
    errors.JobCancelled: "error.cancelled",
    errors.JobGone: "error.job_gone",
    errors.ResultGone: "error.result_gone",
    errors.ImageAPIError: "error.api",
    errors.SafetyRefused: "error.safety",
    errors.RateLimited: "error.rate_limited",
    errors.Overloaded: "error.overloaded",
    errors.UpstreamTimeout: "error.timeout",
    errors.AuthenticationFailed: "error.auth",
    errors.UpstreamQuotaExhausted: "error.upstream_quota",
    errors.EmptyResult: "error.empty",
    errors.MalformedAnswer: "error.malformed",
    errors.DownloadFailed: "error.download_failed",
    errors.RequestRejected: "error.rejected",
    errors.ServerError: "error.server",
    errors.ConnectionFailed: "error.connection",
}
# Errors worded by one of their fields as well: their key followed by its value (each limit says what it counts).
VARIANTS: dict[type[errors.BotError], str] = {
    errors.QuotaExceeded: "limit",
    errors.NotPermitted: "role",
    errors.QueueFull: "scope",
    errors.JobCancelled: "reason",
    errors.InvalidPromptParameter: "reason",
    errors.InvalidStyle: "reason",
}
UNKNOWN_RETRY_SECONDS = 60
MAX_ECHO = 40  # characters of a member's invalid value repeated back to them
PUBLIC_JOB = "public_job"  # Interaction.extras key: the response is a job's public one, so may move to the channel
PRIVATE_JOB = "private_job"  # ... a job's private one, so may move to a direct message


def user_message(error: errors.BotError, locale: discord.Locale | str) -> str:
    """The catalogue text for an error, its typed fields filling the placeholders."""
    worded = next(cls for cls in type(error).__mro__ if cls in MESSAGES)
    key = MESSAGES[worded]
    if (field := VARIANTS.get(worded)) is not None:
        key = f"{key}.{getattr(error, field)}"
    return catalogue.text(locale, key, **_params(error))


def _params(error: errors.BotError) -> dict[str, object]:
    params = dict(vars(error))
    if isinstance(error, errors.RateLimited):
        wait = error.retry_after if error.retry_after > 0 else UNKNOWN_RETRY_SECONDS
        params["retry_at"] = discord.utils.format_dt(discord.utils.utcnow() + timedelta(seconds=wait), "R")
    if isinstance(error, errors.ImageAPIError):
        params["detail"] = discord.utils.escape_mentions(discord.utils.escape_markdown(error.detail))
    if isinstance(error, errors.PictureError):
        params["name"] = in_code(error.name)
    if isinstance(error, errors.PictureTooLarge):
        params["size"], params["limit"] = megabytes(error.size), megabytes(error.limit)
    if isinstance(error, errors.QuotaExceeded):
        if error.limit in ("server_budget", "global_budget"):
            params["used"], params["allowed"] = micro_to_dollars(error.used), micro_to_dollars(error.allowed)
        params["resets"] = discord.utils.format_dt(error.resets_at, "R") if error.resets_at else ""
    if isinstance(error, errors.ChannelNotAllowed):
        params["channels"] = channel_mentions(error.channels)
    if isinstance(error, errors.PromptBlocked):
        params["word"] = in_code(error.word)
    if isinstance(error, errors.InvalidChoice | errors.InvalidPromptParameter):
        params["value"] = in_code(error.value[:MAX_ECHO])
    if isinstance(error, errors.InvalidPromptParameter):
        params["parameter"] = in_code(error.parameter[:MAX_ECHO])
    if isinstance(error, errors.InvalidStyle):
        params["name"] = in_code(error.name[:MAX_ECHO])
    if isinstance(error, errors.TooManyPixels):
        params["limit"] = f"{error.limit / 1_000_000:g}"
    return params


def in_code(text: str) -> str:
    """Text for inside `code`: markdown and mentions don't apply there, only a backtick would end it."""
    return text.replace("`", "'")


def megabytes(size: int) -> str:
    """A byte count as members read it: `9.5 MB` (binary megabytes, as Discord counts them)."""
    return f"{size / 1024 / 1024:.1f} MB"


class ImageTree(app_commands.CommandTree):
    """Answers every failed command in the same response, never with a traceback."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Commands work in servers only: Discord hides them elsewhere, but a forged or stale interaction from a
        direct message would otherwise run with no server's limits."""
        if interaction.guild_id is not None:
            return True
        if interaction.type is discord.InteractionType.application_command:
            await report_failure(interaction, errors.OutsideServer())
        return False

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await report_failure(interaction, original)


async def report_failure(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member why their command, button or form failed; log what they can't fix."""
    if isinstance(error, errors.BotError):
        log.info("%s failed for user %s: %r", _name(interaction), interaction.user.id, error)
        message = user_message(error, interaction.locale)
    elif isinstance(error, app_commands.TransformerError):
        message = catalogue.text(interaction.locale, "error.invalid_option")
    elif isinstance(error, app_commands.NoPrivateMessage):
        message = catalogue.text(interaction.locale, "error.guild_only")
    else:
        log.exception("%s crashed for user %s", _name(interaction), interaction.user.id, exc_info=error)
        message = catalogue.text(interaction.locale, "error.unexpected")
    await reply(interaction, message)


async def reply(interaction: discord.Interaction, message: str) -> None:
    """Say `message` in the interaction's own response, whatever state it is in; for a job whose response can
    no longer be edited (its token died while it waited), in the channel or by direct message instead."""
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=message, embed=None, attachments=[], view=None)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException as error:
        log.warning("could not tell user %s about a failure in the response", interaction.user.id, exc_info=True)
        private = bool(interaction.extras.get(PRIVATE_JOB))
        if (private or interaction.extras.get(PUBLIC_JOB)) and elsewhere_may_work(error):
            late = catalogue.text(interaction.locale, "error.late", user=interaction.user.mention, message=message)
            await to_channel_or_dm(interaction, late, private=private)


def _name(interaction: discord.Interaction) -> str:
    """What the member used: a command's name, or a button's or form's custom id."""
    if interaction.command is not None:
        return f"command {interaction.command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    return f"component {data.get('custom_id', '?')}"

"""Errors the core raises, each saying what happened with typed fields.

Wording for users lives in the catalogue; the Discord layer picks a message by class, walking
the MRO, so a new subclass inherits its parent's message until it gets its own.

    BotError
    ├── InvalidRequest            the request breaks a rule the bot checks before calling the API
    │   ├── PromptTooLong
    │   ├── PromptEmpty
    │   ├── ModelNotAllowed
    │   ├── CountOutOfRange
    │   ├── InvalidChoice         an option's value is none of those offered (a forged or stale value)
    │   ├── NoPictures            an edit has no picture to work on
    │   ├── TooManyPictures       more pictures than the model accepts
    │   └── PictureError          one input picture can't be used; `name` says which
    │       ├── NotAnImage        its bytes are no PNG, JPEG or WebP image
    │       ├── CorruptImage      it claims a format but does not decode
    │       ├── PictureTooLarge   more bytes than the cap
    │       ├── TooManyPixels     more pixels than the cap (decompression bombs)
    │       └── PictureUnavailable  it can no longer be downloaded
    ├── QuotaExceeded             a limit on usage is reached: which, how much is used, when it resets
    ├── QueueFull                 too many jobs waiting: the user's or the server's (`scope`) queued jobs
    ├── QueueClosed               the bot is shutting down and takes no new jobs
    ├── JobCancelled              a job stopped before it finished: by its requester or at shutdown
    ├── NotAllowedHere            the server's rules (or the bot's admins) refuse the request
    │   ├── OutsideServer         used outside a server, where no server's rules could apply
    │   ├── ChannelNotAllowed     not in this channel; `channels` are the ids of those allowed
    │   ├── EditDisabled          editing is switched off in this server
    │   ├── CountAboveLimit
    │   ├── QualityAboveLimit
    │   ├── PromptBlocked         the prompt holds a blocked word or pattern
    │   ├── UserBlocked           blocked by the bot's admins
    │   └── ServerBlocked
    ├── NotPermitted              a command for moderators or admins, used by someone else
    ├── InvalidLimitValue         a moderator's value doesn't fit the limit
    ├── JobGone                   a result's job is no longer on record
    ├── ResultGone                a result message has no image left to work on
    └── ImageAPIError             the image API failed or refused
        ├── SafetyRefused         refused for safety (also a 200 with no images)
        ├── RateLimited           retry_after seconds
        ├── Overloaded            503 / "model is overloaded"
        ├── UpstreamTimeout       no answer within the configured time
        ├── AuthenticationFailed  the API key is wrong: the operator must act
        ├── UpstreamQuotaExhausted  the gateway account's own credit is used up
        ├── EmptyResult           the API answered but produced no image
        ├── MalformedAnswer       the answer could not be understood
        ├── DownloadFailed        an image link in the answer could not be fetched
        ├── RequestRejected       another 4xx, with the API's reason
        ├── ServerError           another 5xx
        └── ConnectionFailed      the API could not be reached
"""

from datetime import datetime


class BotError(Exception):
    """Base of every error the bot explains to its users."""


class InvalidRequest(BotError):
    """The request breaks a rule checked before the image API is called."""


class PromptEmpty(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("the prompt is empty")


class PromptTooLong(InvalidRequest):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"the prompt has {length} characters, more than {limit}")
        self.length = length
        self.limit = limit


class ModelNotAllowed(InvalidRequest):
    def __init__(self, model: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"model {model!r} is not allowed")
        self.model = model
        self.allowed = ", ".join(allowed)


class CountOutOfRange(InvalidRequest):
    def __init__(self, count: int, low: int, high: int) -> None:
        super().__init__(f"count {count} is outside {low}..{high}")
        self.count = count
        self.low = low
        self.high = high


class InvalidChoice(InvalidRequest):
    """`option` was sent `value`, which is none of `allowed` (what the command offers)."""

    def __init__(self, option: str, value: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{value!r} is not a valid {option}")
        self.option = option
        self.value = value
        self.allowed = ", ".join(allowed)


class InvalidPromptParameter(InvalidRequest):
    """A parameter typed into the prompt (`parameter`, as written) is `reason`: `unknown`, `missing` (its value),
    `repeated`, or `value` (one it can't take: `value`, not one of `allowed`)."""

    def __init__(self, parameter: str, reason: str, value: str = "", allowed: tuple[str, ...] = ()) -> None:
        super().__init__(f"prompt parameter {parameter}: {reason} {value!r}".rstrip(" '"))
        self.parameter = parameter
        self.reason = reason
        self.value = value
        self.allowed = ", ".join(allowed)


class InvalidStyle(InvalidRequest):
    """A style `name` that can't be one, for `reason`: `name` (letters, digits, spaces, - and _, up to 32),
    `reserved` (the spec's own styles), `template` (must hold {prompt}, up to 1000 characters), `unknown` (no such
    style here, to remove) or `full` (a server has as many as it may)."""

    def __init__(self, reason: str, name: str) -> None:
        super().__init__(f"style {name!r}: {reason}")
        self.reason = reason
        self.name = name


class NoPictures(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("there is no picture to edit")


class TooManyPictures(InvalidRequest):
    def __init__(self, count: int, limit: int, model: str) -> None:
        super().__init__(f"{count} pictures, but {model} accepts at most {limit}")
        self.count = count
        self.limit = limit
        self.model = model


class PictureError(InvalidRequest):
    """One input picture can't be used; `name` is its file name as the member knows it."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name


class NotAnImage(PictureError):
    def __init__(self, name: str) -> None:
        super().__init__(name, "not a PNG, JPEG or WebP image")


class CorruptImage(PictureError):
    def __init__(self, name: str) -> None:
        super().__init__(name, "the image data is damaged")


class PictureTooLarge(PictureError):
    def __init__(self, name: str, size: int, limit: int) -> None:
        super().__init__(name, f"{size} bytes, more than {limit}")
        self.size = size
        self.limit = limit


class TooManyPixels(PictureError):
    def __init__(self, name: str, width: int, height: int, limit: int) -> None:
        super().__init__(name, f"{width}x{height} pixels, more than {limit}")
        self.width = width
        self.height = height
        self.limit = limit


class PictureUnavailable(PictureError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, f"could not be downloaded: {reason}")
        self.reason = reason


class NotAllowedHere(BotError):
    """The server's rules, or the bot's admins, refuse this request."""


class OutsideServer(NotAllowedHere):
    def __init__(self) -> None:
        super().__init__("used outside a server")


class PrivateNotAllowed(NotAllowedHere):
    """The server's moderators turned private results off."""

    def __init__(self) -> None:
        super().__init__("private results are turned off in this server")


class ChannelNotAllowed(NotAllowedHere):
    """Not in this channel; `channels` are the ids of those where the commands work."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__("not allowed in this channel")
        self.channels = channels


class EditDisabled(NotAllowedHere):
    def __init__(self) -> None:
        super().__init__("editing is switched off in this server")


class CountAboveLimit(NotAllowedHere):
    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"count {count} is above this server's {limit}")
        self.count = count
        self.limit = limit


class QualityAboveLimit(NotAllowedHere):
    def __init__(self, quality: str, limit: str) -> None:
        super().__init__(f"quality {quality} is above this server's {limit}")
        self.quality = quality
        self.limit = limit


class PromptBlocked(NotAllowedHere):
    def __init__(self, word: str) -> None:
        super().__init__(f"the prompt holds the blocked word {word!r}")
        self.word = word


class UserBlocked(NotAllowedHere):
    def __init__(self) -> None:
        super().__init__("the user is blocked")


class ServerBlocked(NotAllowedHere):
    def __init__(self) -> None:
        super().__init__("the server is blocked")


class NotPermitted(BotError):
    """A command for moderators or the bot's admins, used by someone who is neither."""

    def __init__(self, role: str) -> None:
        super().__init__(f"only {role}s may do this")
        self.role = role


class InvalidLimitValue(BotError):
    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"{value!r} is not a valid value for {name}")
        self.name = name
        self.value = value


class QuotaExceeded(BotError):
    """A usage limit is reached.

    `limit` names it: "user_daily", "server_daily", "server_budget" (amounts in micro-dollars), "cooldown",
    "concurrent", or the deployment-wide "global_daily" and "global_budget" (micro-dollars); `used` and `allowed`
    are in its unit; `resets_at` is when room frees up (None when it frees up as running jobs end).
    """

    def __init__(self, limit: str, used: int, allowed: int, resets_at: datetime | None) -> None:
        super().__init__(f"{limit} limit reached: {used} of {allowed}")
        self.limit = limit
        self.used = used
        self.allowed = allowed
        self.resets_at = resets_at


class QueueFull(BotError):
    """Too many jobs waiting: `scope` is "user" or "server", whose `queued` jobs are at `limit`."""

    def __init__(self, scope: str, queued: int, limit: int) -> None:
        super().__init__(f"{queued} {scope} jobs are queued, the limit is {limit}")
        self.scope = scope
        self.queued = queued
        self.limit = limit


class QueueClosed(BotError):
    def __init__(self) -> None:
        super().__init__("the queue is closed: the bot is shutting down")


class JobCancelled(BotError):
    """The job stopped before it finished; `reason` is "requester" or "shutdown"."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the job was cancelled ({reason})")
        self.reason = reason


class JobGone(BotError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} is not on record")
        self.job_id = job_id


class ResultGone(BotError):
    def __init__(self) -> None:
        super().__init__("the result message has no image left")


class ImageAPIError(BotError):
    """The image API failed or refused.

    `status` is the HTTP status when there was one; `retry_after` the seconds the API asked to
    wait before trying again (0 when it did not say).
    """

    def __init__(self, detail: str = "", status: int | None = None, retry_after: float = 0.0) -> None:
        super().__init__(detail or type(self).__name__)
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


class SafetyRefused(ImageAPIError): ...


class RateLimited(ImageAPIError):
    def __init__(self, retry_after: float, detail: str = "", status: int | None = 429) -> None:
        super().__init__(detail or f"rate limited, retry after {retry_after:.0f}s", status, retry_after)


class Overloaded(ImageAPIError): ...


class UpstreamTimeout(ImageAPIError): ...


class AuthenticationFailed(ImageAPIError): ...


class UpstreamQuotaExhausted(ImageAPIError): ...


class EmptyResult(ImageAPIError): ...


class MalformedAnswer(ImageAPIError): ...


class DownloadFailed(ImageAPIError): ...


class RequestRejected(ImageAPIError): ...


class ServerError(ImageAPIError): ...


class ConnectionFailed(ImageAPIError): ...

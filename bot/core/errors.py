"""Errors the core raises, each saying what happened with typed fields.

Wording for users lives in the catalogue; the Discord layer picks a message by class, walking
the MRO, so a new subclass inherits its parent's message until it gets its own.

    BotError
    ├── InvalidRequest            the request breaks a rule the bot checks before calling the API
    │   ├── PromptTooLong
    │   ├── PromptEmpty
    │   ├── ModelNotAllowed
    │   └── CountOutOfRange
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

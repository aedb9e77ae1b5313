"""Turning what a member asked for into a checked image API request, and running it."""

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.errors import (
    CountOutOfRange,
    ImageAPIError,
    InvalidChoice,
    ModelNotAllowed,
    PromptEmpty,
    PromptTooLong,
    TooManyPictures,
)
from bot.core.imageapi import QUALITIES, ImageBytes, hash_user
from bot.core.images import pixel_size
from bot.core.inputs import InputPicture
from bot.core.metrics import Metrics
from bot.core.providers.router import Router
from bot.core.request import ASPECT_SIZES, ImageRequest

log = logging.getLogger(__name__)

MAX_COUNT = 10  # the spec's bound on `n`


@dataclass(frozen=True, slots=True)
class RequestRules:
    models: tuple[str, ...]
    default_model: str
    prompt_max_length: int
    max_pictures: Mapping[str, int] = field(default_factory=lambda: {"*": 1})  # per model; `*` for the rest

    def pictures_allowed(self, model: str) -> int:
        """How many input pictures `model` accepts."""
        return self.max_pictures.get(model, self.max_pictures.get("*", 1))


def normal_choice(option: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """`value` as its canonical spelling in `allowed`, whatever its case; None stays None (the API's default).

    Every later reader (limits, prices, the ledger, the API) sees only canonical values, so a forged `4K` can't
    slip past a check that knows `4k`.
    """
    if value is None:
        return None
    for choice in allowed:
        if value.strip().casefold() == choice.casefold():
            return choice
    raise InvalidChoice(option, value, allowed)


def normal_size(value: str | None) -> str | None:
    """A size as the API's `WxH` among those offered; an aspect ratio (`16:9`) names its size."""
    if value is not None and (size := ASPECT_SIZES.get(value.strip())) is not None:
        return size
    return normal_choice("size", value, tuple(ASPECT_SIZES.values()))


def known_model(asked: str, models: tuple[str, ...]) -> str | None:
    """The one of `models` that `asked` names, whatever its case; None for none of them."""
    return {model.casefold(): model for model in models}.get(asked.strip().casefold())


@dataclass(frozen=True, slots=True)
class Generation:
    """What a request produced: the images, the provider that made them, the seconds it took, and the quality tier
    delivered (the one asked, unless the images came back smaller than that tier makes them)."""

    images: list[ImageBytes]
    provider: str
    seconds: float
    quality: str | None = None


def delivered_quality(asked: str | None, images: Sequence[ImageBytes], floor: Callable[[str], int]) -> str | None:
    """The highest tier up to `asked` whose images are at least `floor(tier)` pixels on their long side."""
    if asked is None or not images:
        return asked
    long_side = min(max(pixel_size(image.reader())) for image in images)
    reachable = QUALITIES[: QUALITIES.index(asked) + 1]
    return next((tier for tier in reversed(reachable) if floor(tier) <= long_side), QUALITIES[0])


class GenerationService:
    """Checks an ask against the rules, then has the providers fulfil it."""

    def __init__(self, router: Router, rules: RequestRules, user_salt: str, metrics: Metrics | None = None) -> None:
        self._router = router
        self._rules = rules
        self._user_salt = user_salt
        self._metrics = metrics

    @property
    def rules(self) -> RequestRules:
        return self._rules

    def prepare(self, ask: ImageRequest) -> ImageRequest:
        """The request checked and normalised (canonical choices, the model filled in); raises an InvalidRequest
        subclass when a rule is broken."""
        prompt = ask.prompt.strip()
        if not prompt:
            raise PromptEmpty
        if len(prompt) > self._rules.prompt_max_length:
            raise PromptTooLong(len(prompt), self._rules.prompt_max_length)
        model = self._model(ask.model)
        if not 1 <= ask.count <= MAX_COUNT:
            raise CountOutOfRange(ask.count, 1, MAX_COUNT)
        if len(ask.pictures) > (allowed := self._rules.pictures_allowed(model)):
            raise TooManyPictures(len(ask.pictures), allowed, model)
        return dataclasses.replace(
            ask,
            prompt=prompt,
            model=model,
            size=normal_size(ask.size),
            quality=normal_choice("quality", ask.quality, QUALITIES),
        )  # the style is the job service's to resolve: a server's own styles are among the choices

    def _model(self, asked: str | None) -> str:
        """The configured model the member chose (in any case), or the default."""
        if asked is None:
            return self._rules.default_model
        if (model := known_model(asked, self._rules.models)) is None:
            raise ModelNotAllowed(asked, self._rules.models)
        return model

    async def generate(
        self, request: ImageRequest, user_id: int, pictures: tuple[InputPicture, ...] = ()
    ) -> Generation:
        """Run a prepared request for a member, with its input pictures; raises an ImageAPIError subclass on failure
        (the last provider's, when none could serve it). The member is named upstream only by an opaque id."""
        try:
            served = await self._router.generate(request, user=hash_user(user_id, self._user_salt), pictures=pictures)
        except ImageAPIError as error:
            if self._metrics is not None:
                self._metrics.gateway_error(type(error).__name__)
            raise
        if self._metrics is not None:
            self._metrics.gateway_request(served.seconds)
        provider = served.provider.provider
        quality = delivered_quality(
            request.quality, served.images, lambda tier: provider.tier_floor(tier, request.size)
        )
        if quality != request.quality:
            log.warning("%s delivered %s images for a %s request", provider.name, quality, request.quality)
        return Generation(served.images, provider.name, served.seconds, quality)

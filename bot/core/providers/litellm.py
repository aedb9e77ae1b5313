"""The `litellm` kind: a LiteLLM proxy in front of OpenAI's Images API and Gemini's image models.

LiteLLM speaks OpenAI's Images API (`POST {root}/v1/images/generations` as JSON, `/v1/images/edits` as multipart with
each input picture an `image[]` part, in order) and translates each call for the provider behind the model asked for.
What it passes on differs by that provider, so each of the entry's models has a route (`routes`, from the model's id at
LiteLLM to openai or gemini; openai unless named):

    bot option       openai route (LiteLLM's openai/gpt-image-*)   gemini route (LiteLLM's gemini/gemini-*-image*)
    count            n, in one call                                 one call per image (LiteLLM turns n into
                                                                    Gemini's candidateCount, which image models
                                                                    refuse above 1)
    size (ratio)     as the openai kind: 1024x1024, 1536x1024,      imageConfig.aspectRatio (16:9, ...)
                     1024x1536, none left out
    quality (tier)   as the openai kind: medium, high               imageConfig.imageSize (1K, 2K, 4K); LiteLLM
                                                                    refuses `quality` for Gemini, or drops it
    user             user                                           not sent: LiteLLM refuses it for Gemini
    edit pictures    image[] parts                                  image[] parts; imageConfig as a JSON field

No `response_format` is sent: both routes answer base64. LiteLLM wraps an upstream's error as `{"error": {"message":
"litellm.BadRequestError: OpenAIException - <the upstream's message>\\n\\nLiteLLM: model group ...", "type", "code"}}`
(a Gemini error's message is Google's JSON body); the wrapping is taken off before the error is read, so a member
reads the upstream's meaning, never LiteLLM's text nor a JSON body; LiteLLM's 500 for an upstream it could not reach
or that did not answer in time reads as such. LiteLLM answers a Gemini image that was blocked as an empty list
(Google's reason does not come through it), which reads as an answer without an image.
"""

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import aiohttp

from bot.core.errors import ConnectionFailed, ImageAPIError, UpstreamTimeout
from bot.core.providers.base import Body, ProviderCall, ProviderSettings
from bot.core.providers.gemini_sizes import image_config
from bot.core.providers.gemini_sizes import tier_floor as gemini_tier_floor
from bot.core.providers.openai import OpenAIProvider, multipart

OPENAI, GEMINI = "openai", "gemini"
ROUTES = (OPENAI, GEMINI)
IMAGES_PER_CALL: Mapping[str, int | None] = MappingProxyType({OPENAI: None, GEMINI: 1})
_WRAPPER = re.compile(r"^litellm\.(\w+):\s*(?:\w+Error:\s*)?(?:\w+Exception(?:\s+\w+)?\s+-\s*)?")
# LiteLLM's own exceptions that say more than the status it answers them with (a 500 for a refused connection)
_NOT_REACHED: Mapping[str, type[ImageAPIError]] = MappingProxyType(
    {"APIConnectionError": ConnectionFailed, "Timeout": UpstreamTimeout}
)
_MODEL_GROUP = re.compile(r"\s*LiteLLM: model group .*\Z", re.DOTALL)


class LiteLLMProvider(OpenAIProvider):
    """A LiteLLM proxy: what is sent for each route, and how LiteLLM's errors are read (see the module docstring)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: ProviderSettings,
        *,
        routes: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(session, settings, **kwargs)
        routes = routes or {}
        if unknown := sorted(set(routes.values()) - set(ROUTES)):
            raise ValueError(f"route {unknown[0]!r} is not one of {', '.join(ROUTES)}")
        self.routes = MappingProxyType(dict(routes))

    def route(self, model: str) -> str:
        """The route of the model with this id at LiteLLM."""
        return self.routes.get(model, OPENAI)

    def images_per(self, call: ProviderCall) -> int | None:
        """The openai route asks for every image in one call, the gemini route one image a call."""
        return IMAGES_PER_CALL[self.route(call.model)]

    def body(self, call: ProviderCall, edit: bool, count: int) -> Body:
        if self.route(call.model) == OPENAI:
            return super().body(call, edit, count)
        request = call.request
        fields: dict[str, Any] = {"model": call.model, "prompt": request.prompt}
        asked = image_config(request.size, request.quality, ratio_key="aspectRatio", size_key="imageSize", api="Gemini")
        if asked:
            fields["imageConfig"] = asked
        return multipart(fields, call.pictures) if edit else fields

    def classify(self, status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
        error = super().classify(status, unwrapped(raw), headers)
        if (not_reached := _NOT_REACHED.get(litellm_exception(raw))) is not None:
            return not_reached(error.detail, status)
        return error

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """The fewest pixels on the long side at `quality`: the lowest floor of the routes this entry's models take
        (a route's own when they all take one; the floor is asked without the model)."""
        floors = {OPENAI: super().tier_floor(quality, size), GEMINI: gemini_tier_floor(quality)}
        return min(floors[route] for route in set(self.routes.values()) or {OPENAI})


def _message(raw: bytes) -> tuple[dict[str, Any], str] | None:
    """The `error` object of LiteLLM's error body and its message, or None for another body."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(message := error.get("message"), str):
        return None
    return error, message


def litellm_exception(raw: bytes) -> str:
    """The name of LiteLLM's exception in its error body (`APIConnectionError`, `BadRequestError`, ...), or ""."""
    found = _message(raw)
    match = _WRAPPER.match(found[1]) if found is not None else None
    return match[1] if match is not None else ""


def unwrapped(raw: bytes) -> bytes:
    """LiteLLM's error body with the upstream's own message in `error.message` (its `type` and `code` kept): without
    LiteLLM's `litellm.XError: XException - ` before it and its model-group note after it, and, when the upstream's
    message is a JSON error body (Google's), that body's message. Anything else comes back as it was."""
    if (found := _message(raw)) is None:
        return raw
    error, message = found
    inner = _MODEL_GROUP.sub("", _WRAPPER.sub("", message, count=1)).strip()
    try:
        upstream = json.loads(inner)
    except ValueError:
        upstream = None
    if isinstance(upstream, dict) and isinstance(upstream.get("error"), dict):
        inner = str(upstream["error"].get("message") or "").strip() or inner
    return json.dumps({"error": error | {"message": inner}}).encode()

"""The `gateway` kind: an OpenAI-compatible gateway serving `POST /v1/images/generations` as the seed spec describes
(new-api and one-api builds in front of Gemini's image models, among others).

Gateways differ in what they take, so the operator sets it: the `quality` value sent for each tier (some builds
match `2K` but read `2k` as 1K), whether `size` goes as pixels (`1792x1024`) or a ratio (`16:9`), the
`response_format` asked for (every answer shape is read either way), and how an edit's pictures go in `image`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import ImageAPIError
from bot.core.imageapi.answers import ImageBytes, ImageLink, classify_error, parse_success
from bot.core.imageapi.request import QUALITIES
from bot.core.inputs import INPUT_MODES
from bot.core.providers.base import Body, HTTPProvider, ProviderCall, api_root
from bot.core.providers.body import encode_for_api
from bot.core.providers.gemini_sizes import tier_floor
from bot.core.request import RATIOS

SIZE_FORMATS = ("pixels", "ratio")


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """What this gateway takes (see the module docstring)."""

    quality_values: Mapping[str, str] = field(default_factory=lambda: {tier: tier for tier in QUALITIES})
    size_format: str = "pixels"
    response_format: str = "b64_json"
    edit_input: str = "data_url"

    def __post_init__(self) -> None:
        if self.size_format not in SIZE_FORMATS:
            raise ValueError(f"size_format must be one of {', '.join(SIZE_FORMATS)}")
        if self.edit_input not in INPUT_MODES:
            raise ValueError(f"edit_input must be one of {', '.join(INPUT_MODES)}")
        if unknown := set(self.quality_values) - set(QUALITIES):
            raise ValueError(f"quality_values has {sorted(unknown)[0]!r}; its keys are {', '.join(QUALITIES)}")


class GatewayProvider(HTTPProvider):
    """`POST /v1/images/generations`, the seed's dialect; an edit sends its pictures in the `image` array."""

    def __init__(self, *args: Any, options: GatewayOptions | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options or GatewayOptions()

    def url(self, call: ProviderCall, edit: bool) -> str:
        return f"{api_root(self.settings.base_url, 'v1')}/v1/images/generations"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_key}"}

    def body(self, call: ProviderCall, edit: bool, count: int) -> Body:
        request, options = call.request, self.options
        body: dict[str, Any] = {
            "model": call.model,
            "prompt": request.prompt,
            "n": count,
            "response_format": options.response_format,
        }
        quality = options.quality_values.get(request.quality, request.quality) if request.quality else None
        size = (
            RATIOS.get(request.size, request.size) if options.size_format == "ratio" and request.size else request.size
        )
        optional = {"size": size, "quality": quality, "style": request.style, "user": call.user}
        body.update({name: value for name, value in optional.items() if value})
        if call.pictures:
            body["image"] = list(encode_for_api(call.pictures, options.edit_input))
        return body

    def parse(self, raw: bytes) -> list[ImageBytes | ImageLink]:
        return parse_success(raw)

    def classify(self, status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
        return classify_error(status, raw, headers)

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """The fewest pixels on the long side an image at `quality` has from this kind: the seed's gateways serve
        Gemini's image models (see gemini_sizes)."""
        return tier_floor(quality)

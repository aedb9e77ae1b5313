"""What a member asks for: one value from the command, through the checks and the queue, to the image API."""

from dataclasses import dataclass

from bot.core.inputs import PictureRef

# Aspect ratios offered to members, with the `WxH` strings the API takes (gateways map them to ratios).
ASPECT_SIZES: dict[str, str] = {
    "1:1": "1024x1024",
    "16:9": "1792x1024",
    "9:16": "1024x1792",
    "3:2": "1536x1024",
    "2:3": "1024x1536",
    "4:3": "1280x960",
    "3:4": "960x1280",
}
RATIOS = {size: ratio for ratio, size in ASPECT_SIZES.items()}  # "1792x1024" -> "16:9"
STYLES = ("vivid", "natural")  # the spec's `style` values


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRequest:
    """Images to make: from a prompt, or from input pictures (an edit).

    As a command builds it, options the member left out are None; `GenerationService.prepare` checks it and returns
    it normalised (canonical choices, the model filled in), and only that form goes further.
    """

    prompt: str
    model: str | None = None
    count: int = 1
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    pictures: tuple[PictureRef, ...] = ()  # input pictures of an edit, in order
    private: bool | None = None  # the result is shown to the member only (None: as their default says, else not)

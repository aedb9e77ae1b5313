"""What a member asks for: one value from the command, through the checks and the queue, to the image API."""

from dataclasses import dataclass

from bot.core.inputs import PictureRef


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

"""The body of a successful answer: `ImagesResponse` as OpenAI sends it for GPT image models."""

import base64
import time

from tests.loopback.image_api.render import EncodedImage

from .errors import JSONObject
from .validation import ImageJob

# Output tokens of one 1024x1024 image at each quality (OpenAI's table for GPT image models); other sizes scale
# with their pixels, which gives the table's 1024x1536 figures exactly.
TOKENS_PER_MEGAPIXEL_SQUARE = {"low": 272, "medium": 1056, "high": 4160}
TOKENS_PER_PICTURE = 194  # input tokens an edit's picture costs (an estimate; the API's depends on the picture)


def images_answer(job: ImageJob, images: list[EncodedImage]) -> JSONObject:
    """`{created, data: [{b64_json}], background, output_format, quality, size, usage}`."""
    return {
        "created": int(time.time()),
        "data": [{"b64_json": base64.b64encode(image.data).decode()} for image in images],
        "background": job.background,
        "output_format": job.output_format,
        "quality": job.quality,
        "size": job.size_label,
        "usage": usage(job),
    }


def empty_answer() -> JSONObject:
    """A 200 that holds no image."""
    return {"created": int(time.time()), "data": []}


def usage(job: ImageJob) -> JSONObject:
    """Token counts as the API reports them."""
    text_tokens = max(1, len(job.prompt) // 4)
    image_tokens = TOKENS_PER_PICTURE * job.pictures
    width, height = job.size
    per_image = round(TOKENS_PER_MEGAPIXEL_SQUARE[job.quality] * width * height / (1024 * 1024))
    output_tokens = per_image * job.n
    return {
        "input_tokens": text_tokens + image_tokens,
        "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
        "total_tokens": text_tokens + image_tokens + output_tokens,
    }

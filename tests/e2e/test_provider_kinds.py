"""Each provider kind end to end, as a member meets it: the bot process with a providers file holding one provider of
that kind, pointed at the kind's loopback stand-in. /imagine and /edit must reach the stand-in in the kind's own
dialect and come back as images of the size asked; a safety refusal and a wrong key must be told in the bot's words.

One bot process per kind serves the /imagine and /edit checks; the refusal (with a quota of one image) and the
wrong key each need a bot of their own.
"""

import base64
import binascii
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app.i18n import catalogue
from tests.conftest import DISCORD_TOKEN
from tests.e2e.deployment import Deployment
from tests.e2e.helpers import embed_fields, image_size, png_bytes
from tests.e2e.test_edit import jpeg_bytes
from tests.loopback import gemini_api, image_api, openai_api, openrouter_api
from tests.loopback.discord import DiscordServer

MODEL = "studio"  # the model members see; each kind maps it to its own id for a model made at 2K
KEY = "sk-loopback-right-key-7f3a"
WRONG_KEY = "sk-loopback-wrong-key-0c91"
IMAGINE_2K = {"prompt": "a lighthouse at dusk", "count": 2, "size": "1792x1024", "quality": "2k"}
_DATA_URL = re.compile(r"data:image/(?:png|jpeg|webp);base64,(.+)", re.DOTALL)


def from_data_url(url: str) -> bytes:
    """The bytes of a `data:image/...;base64,...` URL (the test fails on anything else)."""
    match = _DATA_URL.fullmatch(url)
    assert match is not None, f"not an image data URL: {url[:60]!r}"
    try:
        return base64.b64decode(match[1], validate=True)
    except binascii.Error as error:
        raise AssertionError(f"the data URL's base64 is broken: {error}") from None


# -- what each kind sent, in its own words ------------------------------------------------------------------------


def gateway_generations(api: image_api.ImageAPIServer) -> list[dict[str, Any]]:
    return [{name: request.json.get(name) for name in ("model", "n", "size", "quality")} for request in api.requests]


def gateway_pictures(api: image_api.ImageAPIServer) -> list[bytes]:
    return [from_data_url(entry) for entry in api.last_request.json["image"]]


def openai_generations(api: openai_api.OpenAIImagesServer) -> list[dict[str, Any]]:
    fields = ("model", "n", "size", "quality")
    return [{"path": request.path} | {name: request.params.get(name) for name in fields} for request in api.requests]


def openai_pictures(api: openai_api.OpenAIImagesServer) -> list[bytes]:
    request = api.last_request
    assert request.path == openai_api.EDITS_PATH
    assert [upload.field for upload in request.files] == ["image[]"] * len(request.files)  # multipart, in order
    return [upload.data for upload in request.files]


def gemini_generations(api: gemini_api.GeminiAPIServer) -> list[dict[str, Any]]:
    return [
        {"model": request.model, "imageConfig": request.json["generationConfig"].get("imageConfig")}
        for request in api.requests
    ]


def gemini_pictures(api: gemini_api.GeminiAPIServer) -> list[bytes]:
    text, *pictures = api.last_request.json["contents"][0]["parts"]
    assert set(text) == {"text"}
    return [base64.b64decode(part["inline_data"]["data"], validate=True) for part in pictures]


def openrouter_generations(api: openrouter_api.OpenRouterServer) -> list[dict[str, Any]]:
    return [{"model": request.json["model"], "image_config": request.image_config} for request in api.requests]


def openrouter_pictures(api: openrouter_api.OpenRouterServer) -> list[bytes]:
    text, *pictures = api.last_request.json["messages"][0]["content"]
    assert text["type"] == "text"
    assert [part["type"] for part in pictures] == ["image_url"] * len(pictures)
    return [from_data_url(part["image_url"]["url"]) for part in pictures]


@dataclass(frozen=True)
class Kind:
    """A provider kind, its stand-in, and what an /imagine of two 16:9 images at 2k becomes there."""

    name: str
    stand_in: Callable[..., Any]  # the stand-in's class, taking `api_key`
    model: str  # the provider's id for MODEL
    generations: Callable[[Any], list[dict[str, Any]]]  # what each call of a job asked, in the kind's words
    asked: list[dict[str, Any]]  # ... for IMAGINE_2K
    delivered: tuple[int, int]  # the pixel size of each image IMAGINE_2K delivers
    pictures: Callable[[Any], list[bytes]]  # the input pictures the last call carried, in order
    refusals: tuple[Any, ...]  # the stand-in's safety refusals, as its vendor words them

    @property
    def key_env(self) -> str:
        return f"{self.name.upper()}_API_KEY"


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            name="gateway",
            stand_in=image_api.ImageAPIServer,
            model="gemini-3-pro-image-preview",
            generations=gateway_generations,
            asked=[{"model": "gemini-3-pro-image-preview", "n": 2, "size": "1792x1024", "quality": "2k"}],
            delivered=(3584, 2048),  # the seed stand-in doubles each side of `size` at 2k
            pictures=gateway_pictures,
            refusals=(image_api.safety(),),
        ),
        Kind(
            name="openai",
            stand_in=openai_api.OpenAIImagesServer,
            model="gpt-image-1",
            generations=openai_generations,
            asked=[
                {
                    "path": openai_api.GENERATIONS_PATH,
                    "model": "gpt-image-1",
                    "n": 2,
                    "size": "1536x1024",
                    "quality": "high",
                }
            ],
            delivered=(1536, 1024),  # the largest wide size GPT image models make
            pictures=openai_pictures,
            refusals=(openai_api.moderation_blocked(),),
        ),
        Kind(
            name="gemini",
            stand_in=gemini_api.GeminiAPIServer,
            model="gemini-3-pro-image-preview",
            generations=gemini_generations,
            asked=[{"model": "gemini-3-pro-image-preview", "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"}}]
            * 2,  # one image per call
            delivered=(2752, 1536),
            pictures=gemini_pictures,
            refusals=(gemini_api.safety(), gemini_api.prompt_blocked()),
        ),
        Kind(
            name="openrouter",
            stand_in=openrouter_api.OpenRouterServer,
            model="google/gemini-3-pro-image-preview",
            generations=openrouter_generations,
            asked=[
                {
                    "model": "google/gemini-3-pro-image-preview",
                    "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
                }
            ]
            * 2,  # one image per call
            delivered=(2752, 1536),
            pictures=openrouter_pictures,
            refusals=(openrouter_api.moderation(), openrouter_api.content_filter()),
        ),
    )
}


def providers_file(kind: Kind, base_url: str, *, extra: str = "") -> str:
    return f"""
[[providers]]
name = "{kind.name}-one"
kind = "{kind.name}"
base_url = "{base_url}"
api_key_env = "{kind.key_env}"
models = {{ "{MODEL}" = "{kind.model}" }}
priority = 1
max_retries = 0
{extra}
"""


def settings(kind: Kind, key: str = KEY, **more: str) -> dict[str, str]:
    """The bot's environment beyond the test defaults: the kind's key, the one model offered, and `more`."""
    return {kind.key_env: key, "IMAGE_MODELS": MODEL} | more


# -- fixtures: a stand-in per kind, and one bot process per kind for the checks that share it ---------------------


@pytest.fixture(scope="module", params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


@pytest.fixture(scope="module")
async def stand_in(kind: Kind) -> AsyncIterator[Any]:
    async with kind.stand_in(api_key=KEY) as server:
        yield server


@pytest.fixture
def api(stand_in: Any) -> Iterator[Any]:
    """The kind's stand-in, its faults and records cleared after each test."""
    yield stand_in
    stand_in.reset()


@pytest.fixture(scope="module")
async def served(kind: Kind, stand_in: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    """The bot with one provider of the kind, in a Discord of its own, for the whole module's checks of that kind."""
    discord = DiscordServer(token=DISCORD_TOKEN)
    await discord.start()
    deployment = Deployment(discord, tmp_path_factory.mktemp(kind.name))
    try:
        await deployment.start(providers_file(kind, stand_in.base_url), stand_in, settings(kind))
        yield deployment
        await deployment.stop()
    finally:
        if getattr(deployment, "process", None) is not None and deployment.process.returncode is None:
            deployment.process.kill()
            await deployment.process.wait()
        await discord.stop()


# -- the checks ---------------------------------------------------------------------------------------------------


async def test_imagine_two_wide_images_at_2k(kind: Kind, api: Any, served: Deployment) -> None:
    result = await served.imagine(**IMAGINE_2K)

    assert [image_size(file) for file in result.files] == [kind.delivered] * 2
    assert kind.generations(api) == kind.asked
    fields = embed_fields(result.embeds[0])
    assert fields[catalogue.text("en-US", "result.quality")] == "2k"  # delivered at the tier asked, not a lower one
    width, height = kind.delivered
    shown = f"{width}x{height} (16:9)"
    if kind.name == "openai":  # no 16:9 there: the summary says what came and what was asked
        shown = catalogue.text("en-US", "result.size.other", size="1536x1024", ratio="3:2", asked="16:9")
    assert fields[catalogue.text("en-US", "result.size")] == shown


async def test_edit_sends_both_pictures_in_order(kind: Kind, api: Any, served: Deployment) -> None:
    pictures = [png_bytes(colour=(255, 0, 0)), jpeg_bytes()]

    result = await served.ask(
        "edit",
        {"prompt": "put them side by side"},
        attachments={"image": ("first.png", pictures[0]), "image2": ("second.jpg", pictures[1])},
    )

    assert len(result.files) == 1
    assert embed_fields(result.embeds[0])[catalogue.text("en-US", "result.pictures")] == "2"
    assert len(api.requests) == 1
    assert kind.pictures(api) == pictures


async def test_a_safety_refusal_is_told_and_its_image_refunded(kind: Kind, api: Any, deployment: Deployment) -> None:
    await deployment.start(providers_file(kind, api.base_url), api, settings(kind, LIMIT_USER_DAILY_IMAGES="1"))
    api.fail_next(*kind.refusals)

    refused = [await deployment.imagine("something the safety system refuses") for _ in kind.refusals]
    image = await deployment.imagine("a cat on a windowsill")  # the member's one image of the day is still there
    over = await deployment.imagine("one more")

    assert [message.content for message in refused] == [catalogue.text("en-US", "error.safety")] * len(refused)
    assert all(message.files == [] for message in refused)
    assert len(image.files) == 1
    assert over.files == []  # the quota of one was in force: the refusals cost nothing, the image cost it
    assert over.content.startswith(
        catalogue.text("en-US", "error.quota.user_daily", used=1, allowed=1, resets="").removesuffix(".")
    )
    assert len(api.requests) == len(kind.refusals) + 1


async def test_a_wrong_key_tells_the_member_and_the_operator(kind: Kind, api: Any, deployment: Deployment) -> None:
    await deployment.start(providers_file(kind, api.base_url), api, settings(kind, key=WRONG_KEY))

    refused = await deployment.imagine()

    assert refused.content == catalogue.text("en-US", "error.auth")
    assert refused.files == []
    stderr = await deployment.stop()
    told = [line for line in stderr.splitlines() if "refused the API key" in line]
    assert len(told) == 1, stderr[-2000:]
    assert f"{kind.name}-one" in told[0]
    assert kind.key_env in told[0]
    assert WRONG_KEY not in stderr  # the key itself never reaches the log


async def test_a_gateway_sends_the_quality_values_and_size_format_of_its_file(deployment: Deployment) -> None:
    gateway = KINDS["gateway"]
    extra = 'quality_values = { "1k" = "1K", "2k" = "2K", "4k" = "4K" }\nsize_format = "ratio"'
    async with image_api.ImageAPIServer(api_key=KEY) as api:
        await deployment.start(providers_file(gateway, api.base_url, extra=extra), api, settings(gateway))

        result = await deployment.imagine(**IMAGINE_2K)

        assert api.last_request.json["quality"] == "2K"
        assert api.last_request.json["size"] == "16:9"
        assert [image_size(file) for file in result.files] == [(3584, 2048)] * 2  # 16:9 at 2K

"""A LiteLLM proxy as the bot's provider, end to end: the real proxy (tests/litellm_proxy.py) in front of the OpenAI
and Gemini stand-ins, the bot as its own process with one `litellm` provider, members asking through the loopback
Discord. The proxy is configured as the README tells operators to: `drop_params`, no retries of its own.

One proxy and one bot serve the module's checks; the refusals (with a quota of one image) need a bot of their own.
"""

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.app.i18n import catalogue
from tests.conftest import DISCORD_TOKEN
from tests.e2e.bot_process import free_port
from tests.e2e.deployment import Deployment
from tests.e2e.helpers import embed_fields, image_size, png_bytes
from tests.e2e.test_edit import jpeg_bytes
from tests.litellm_proxy import LiteLLMProxy, ProxiedModel
from tests.loopback import gemini_api, openai_api
from tests.loopback.discord import DiscordServer

OPENAI_KEY = "sk-loopback-openai-key-51d2"
GEMINI_KEY = "loopback-gemini-key-8e07"
GPT, GEMINI, DOWN = "gpt-image-1", "gemini-3-pro-image", "gpt-image-down"  # the model names at LiteLLM
PROVIDERS = f"""
[[providers]]
name = "litellm-one"
kind = "litellm"
base_url = "{{base_url}}"
api_key_env = "LITELLM_API_KEY"
models = {{{{ "studio" = "{GPT}", "banana" = "{GEMINI}", "offline" = "{DOWN}" }}}}
routes = {{{{ "{GEMINI}" = "gemini" }}}}
priority = 1
max_retries = 1
"""
WIDE = {"count": 2, "size": "1792x1024"}
QUALITY = catalogue.text("en-US", "result.quality")
SIZE = catalogue.text("en-US", "result.size")


@pytest.fixture(scope="module")
async def openai() -> AsyncIterator[openai_api.OpenAIImagesServer]:
    async with openai_api.OpenAIImagesServer(api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture(scope="module")
async def gemini() -> AsyncIterator[gemini_api.GeminiAPIServer]:
    async with gemini_api.GeminiAPIServer(api_key=GEMINI_KEY) as server:
        yield server


@pytest.fixture(scope="module")
async def proxy(
    openai: openai_api.OpenAIImagesServer, gemini: gemini_api.GeminiAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiteLLMProxy]:
    models = [
        ProxiedModel(GPT, "openai/gpt-image-1", f"{openai.base_url}/v1", OPENAI_KEY),
        ProxiedModel(GEMINI, "gemini/gemini-3-pro-image-preview", f"{gemini.base_url}/v1beta", GEMINI_KEY),
        ProxiedModel(DOWN, "openai/gpt-image-1", f"http://127.0.0.1:{free_port()}/v1", OPENAI_KEY),  # nothing listens
    ]
    async with LiteLLMProxy(models, tmp_path_factory.mktemp("litellm")) as running:
        yield running


@pytest.fixture
def apis(
    openai: openai_api.OpenAIImagesServer, gemini: gemini_api.GeminiAPIServer
) -> Iterator[tuple[openai_api.OpenAIImagesServer, gemini_api.GeminiAPIServer]]:
    """Both stand-ins, their faults and records cleared after each test."""
    yield openai, gemini
    openai.reset()
    gemini.reset()


def settings(proxy: LiteLLMProxy, **more: str) -> dict[str, str]:
    return {"LITELLM_API_KEY": proxy.master_key, "IMAGE_MODELS": "studio,banana,offline"} | more


async def start(deployment: Deployment, proxy: LiteLLMProxy, **more: str) -> None:
    await deployment.start(PROVIDERS.format(base_url=proxy.base_url), proxy, settings(proxy, **more))


@pytest.fixture(scope="module")
async def served(proxy: LiteLLMProxy, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    """The bot with the LiteLLM provider, in a Discord of its own, for the module's shared checks."""
    discord = DiscordServer(token=DISCORD_TOKEN)
    await discord.start()
    deployment = Deployment(discord, tmp_path_factory.mktemp("bot"))
    try:
        await start(deployment, proxy)
        yield deployment
        await deployment.stop()
    finally:
        if getattr(deployment, "process", None) is not None and deployment.process.returncode is None:
            deployment.process.kill()
            await deployment.process.wait()
        await discord.stop()


@pytest.mark.parametrize(("quality", "sent"), [("1k", "medium"), ("2k", "high")])
async def test_openai_route_gets_its_quality_and_size_values(apis, served: Deployment, quality: str, sent: str) -> None:
    openai, gemini = apis

    result = await served.imagine(model="studio", quality=quality, **WIDE)

    assert [image_size(file) for file in result.files] == [(1536, 1024)] * 2
    [request] = openai.requests
    params = dict(request.params)
    user = params.pop("user")  # the member's opaque id, passed on by LiteLLM
    assert (request.path, params) == (
        openai_api.GENERATIONS_PATH,
        {"model": "gpt-image-1", "prompt": "a harbour at night", "n": 2, "size": "1536x1024", "quality": sent},
    )
    assert isinstance(user, str) and user and str(served.member.id) not in user
    assert gemini.requests == []
    assert embed_fields(result.embeds[0])[QUALITY] == quality
    # GPT image models make no 16:9: the summary shows the size delivered, not the one asked
    shown = catalogue.text("en-US", "result.size.other", size="1536x1024", ratio="3:2", asked="16:9")
    assert embed_fields(result.embeds[0])[SIZE] == shown


@pytest.mark.parametrize(
    ("quality", "image_size_name", "delivered"), [("1k", "1K", (1376, 768)), ("2k", "2K", (2752, 1536))]
)
async def test_gemini_route_asks_one_image_a_call_at_the_tier(
    apis, served: Deployment, quality: str, image_size_name: str, delivered: tuple[int, int]
) -> None:
    openai, gemini = apis

    result = await served.imagine(model="banana", quality=quality, **WIDE)

    assert [image_size(file) for file in result.files] == [delivered] * 2
    configs = [request.json["generationConfig"] for request in gemini.requests]
    assert [config["imageConfig"] for config in configs] == [{"aspectRatio": "16:9", "imageSize": image_size_name}] * 2
    assert all(config.get("candidateCount", 1) == 1 for config in configs)  # Gemini's image models make one a call
    assert [request.model for request in gemini.requests] == ["gemini-3-pro-image-preview"] * 2
    assert openai.requests == []
    assert embed_fields(result.embeds[0])[QUALITY] == quality  # the tier delivered, which is the one asked
    assert embed_fields(result.embeds[0])[SIZE] == f"{delivered[0]}x{delivered[1]} (16:9)"


@pytest.mark.parametrize("model", ["studio", "banana"])
async def test_an_edit_carries_both_pictures_in_order(apis, served: Deployment, model: str) -> None:
    openai, gemini = apis
    pictures = [png_bytes(colour=(255, 0, 0)), jpeg_bytes()]

    result = await served.ask(
        "edit",
        {"prompt": "put them side by side", "model": model},
        attachments={"image": ("first.png", pictures[0]), "image2": ("second.jpg", pictures[1])},
    )

    assert len(result.files) == 1
    assert embed_fields(result.embeds[0])[catalogue.text("en-US", "result.pictures")] == "2"
    if model == "studio":
        [request] = openai.requests
        assert request.path == openai_api.EDITS_PATH
        assert [upload.data for upload in request.files_named("image[]")] == pictures
    else:
        [request] = gemini.requests
        assert request.input_images == pictures


async def test_an_upstream_error_is_told_in_its_own_words(apis, served: Deployment) -> None:
    _, gemini = apis
    gemini.fail_next(gemini_api.google_error(400, "INVALID_ARGUMENT", "Unable to process input image."))

    refused = await served.imagine(model="banana")

    assert refused.content == catalogue.text("en-US", "error.rejected", detail="Unable to process input image.")


async def test_an_upstream_that_is_down_costs_the_bots_retries_only(apis, served: Deployment) -> None:
    openai, _ = apis
    for _ in range(6):
        openai.fail_next(openai_api.server_error(503))

    failed = await served.imagine(model="studio")

    assert failed.content == catalogue.text("en-US", "error.overloaded")
    assert failed.files == []
    assert len(openai.requests) == 2  # the bot's one retry, each one call through LiteLLM, which retries nothing


async def test_an_upstream_litellm_cannot_reach_is_told_as_unreachable(apis, served: Deployment) -> None:
    failed = await served.imagine(model="offline")

    assert failed.content == catalogue.text("en-US", "error.connection")
    assert failed.files == []


async def test_refusals_are_told_and_refunded(apis, proxy: LiteLLMProxy, deployment: Deployment) -> None:
    openai, gemini = apis
    await start(deployment, proxy, LIMIT_USER_DAILY_IMAGES="1")
    openai.fail_next(openai_api.moderation_blocked())
    gemini.fail_next(gemini_api.safety())

    safety = await deployment.imagine("something the safety system refuses", model="studio")
    blocked = await deployment.imagine("something Gemini blocks", model="banana")
    image = await deployment.imagine("a cat on a windowsill", model="studio")  # the day's one image is still there
    over = await deployment.imagine("one more", model="studio")

    assert safety.content == catalogue.text("en-US", "error.safety")
    # LiteLLM answers Gemini's blocked image as an empty list, without Google's reason
    assert blocked.content == catalogue.text("en-US", "error.empty")
    assert safety.files == blocked.files == []
    assert len(image.files) == 1
    assert over.files == []
    assert over.content.startswith(
        catalogue.text("en-US", "error.quota.user_daily", used=1, allowed=1, resets="").removesuffix(".")
    )
    assert (len(openai.requests), len(gemini.requests)) == (2, 1)

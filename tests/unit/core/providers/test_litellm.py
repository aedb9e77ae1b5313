"""The litellm kind's pure parts: the `routes` of its file entry, LiteLLM's error wrapping taken off before an error
is read, and the tier floor of an entry by the routes its models take. The calls themselves run against the real
proxy in tests/e2e/test_litellm.py."""

import json

import aiohttp
import pytest

from bot.core import errors
from bot.core.providers.base import ProviderSettings
from bot.core.providers.config import ProvidersFileError, load_providers
from bot.core.providers.litellm import LiteLLMProvider, unwrapped

ENTRY = """
[[providers]]
name = "proxy"
kind = "litellm"
base_url = "http://litellm:4000"
api_key_env = "LITELLM_API_KEY"
models = { "studio" = "gpt-image-1", "banana" = "gemini-3-pro-image" }
"""
ENV = {"LITELLM_API_KEY": "sk-test"}
GROUP_NOTE = "\n\nLiteLLM: model group 'x' failed with the error above. No fallback was attempted."


def litellm_error(message: str, type_: str = "invalid_request_error", code: str = "400") -> bytes:
    """An error body as LiteLLM's proxy sends it."""
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}}).encode()


def test_every_model_has_a_route_openai_unless_named() -> None:
    [config] = load_providers(ENTRY + 'routes = { "gemini-3-pro-image" = "gemini" }', ENV)

    assert config.routes == {"gpt-image-1": "openai", "gemini-3-pro-image": "gemini"}


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ('{ "gemini-3-pro-image" = "imagen" }', "must be a table from a model id at LiteLLM to openai or gemini"),
        ('{ "banana" = "gemini" }', "names 'banana', which is not a model id in its models"),
    ],
)
def test_a_bad_route_names_the_provider_and_the_field(routes: str, problem: str) -> None:
    with pytest.raises(ProvidersFileError, match=f"provider 'proxy': routes {problem}"):
        load_providers(ENTRY + f"routes = {routes}", ENV)


def test_routes_are_for_litellm_entries_only() -> None:
    text = ENTRY.replace('"litellm"', '"openai"') + 'routes = { "gpt-image-1" = "openai" }'

    with pytest.raises(ProvidersFileError, match="routes is for litellm providers only"):
        load_providers(text, ENV)


@pytest.mark.parametrize(
    ("message", "upstream"),
    [
        (
            "litellm.BadRequestError: OpenAIException - Invalid value: '1k'. Supported values are: 'low'.",
            "Invalid value: '1k'. Supported values are: 'low'.",
        ),
        (
            "litellm.ServiceUnavailableError: ServiceUnavailableError: OpenAIException - The server had an error.",
            "The server had an error.",
        ),
        (
            'litellm.BadRequestError: GeminiException BadRequestError - {"error": {"code": 400, "message": '
            '"Unable to process input image.", "status": "INVALID_ARGUMENT"}}',
            "Unable to process input image.",
        ),
        ("No deployments available for selected model", "No deployments available for selected model"),
    ],
)
def test_litellms_wrapping_comes_off_the_message(message: str, upstream: str) -> None:
    body = json.loads(unwrapped(litellm_error(message + GROUP_NOTE, code="429")))

    assert body == {"error": {"message": upstream, "type": "invalid_request_error", "param": None, "code": "429"}}


def test_a_body_that_is_not_litellms_comes_back_as_it_was() -> None:
    assert unwrapped(b"<html>Bad Gateway</html>") == b"<html>Bad Gateway</html>"
    assert unwrapped(b'{"detail": "Not Found"}') == b'{"detail": "Not Found"}'


async def test_a_safety_refusal_through_litellm_reads_as_one() -> None:
    message = "litellm.BadRequestError: OpenAIException - Your request was rejected by the safety system." + GROUP_NOTE
    async with aiohttp.ClientSession() as session:
        provider = LiteLLMProvider(session, ProviderSettings("proxy", "http://litellm:4000", "sk-test"))

        error = provider.classify(400, litellm_error(message, type_="image_generation_user_error"), {})

    assert isinstance(error, errors.SafetyRefused)
    assert error.detail == "Your request was rejected by the safety system."


@pytest.mark.parametrize(
    ("routes", "floor_2k"),
    [
        ({"gpt-image-1": "openai"}, 1536),  # GPT image models' wide size
        ({"gemini-3-pro-image": "gemini"}, 2000),  # Gemini's 2K
        ({"gpt-image-1": "openai", "gemini-3-pro-image": "gemini"}, 1536),  # the lower of the two
    ],
)
async def test_the_tier_floor_is_that_of_the_routes_its_models_take(routes: dict[str, str], floor_2k: int) -> None:
    async with aiohttp.ClientSession() as session:
        provider = LiteLLMProvider(session, ProviderSettings("proxy", "http://litellm:4000", "sk-test"), routes=routes)

        assert provider.tier_floor("2k", "1792x1024") == floor_2k
        assert provider.tier_floor("1k", "1792x1024") == 0


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (
            "litellm.APIConnectionError: APIConnectionError: OpenAIException - Connection error.",
            errors.ConnectionFailed,
        ),
        ("litellm.Timeout: Connection timed out after 600.0 seconds.", errors.UpstreamTimeout),
        ("litellm.InternalServerError: OpenAIException - The server had an error.", errors.ServerError),
    ],
)
async def test_litellms_500_says_whether_the_upstream_was_reached(
    message: str, kind: type[errors.ImageAPIError]
) -> None:
    async with aiohttp.ClientSession() as session:
        provider = LiteLLMProvider(session, ProviderSettings("proxy", "http://litellm:4000", "sk-test"))

        error = provider.classify(500, litellm_error(message + GROUP_NOTE, type_="internal_server_error"), {})

    assert type(error) is kind
    assert "litellm" not in error.detail

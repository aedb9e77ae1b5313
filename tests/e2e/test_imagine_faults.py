"""Every upstream fault gets a clear, specific message in the same response, and the bot keeps serving."""

import logging

import pytest

from bot.app.i18n import catalogue
from tests.conftest import API_KEY
from tests.e2e.helpers import outcome
from tests.loopback import image_api as faults
from tests.loopback.image_api import Fault


def message_of(key: str) -> str:
    return catalogue.text("en-US", key)


# Each case: the faults the API answers with (the test settings allow one retry), and the message key.
CASES: dict[str, tuple[list[Fault], str]] = {
    "safety_refusal": ([faults.safety(code="prompt_blocked")], "error.safety"),
    "sensitive_words": ([faults.safety(code="sensitive_words_detected")], "error.safety"),
    "empty_data_is_safety": ([faults.empty_data()], "error.safety"),
    "upstream_quota": ([faults.quota_exhausted()], "error.upstream_quota"),
    "bad_api_key": ([faults.unauthorized()], "error.auth"),
    "not_json": ([faults.not_json()], "error.malformed"),
    "dead_image_link": ([faults.dead_url()], "error.download_failed"),
    "empty_response": ([faults.empty_response()], "error.empty"),
    "no_images_generated": ([faults.no_images()], "error.empty"),
    "overloaded": ([faults.overloaded(), faults.overloaded()], "error.overloaded"),
    "server_error": ([faults.server_error(500), faults.server_error(502, html=True)], "error.server"),
    "hang": ([faults.hang()], "error.timeout"),
}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_fault_is_explained_and_the_bot_keeps_serving(discord_api, image_api, bot, member, case, guild) -> None:
    injected, key = CASES[case]
    for fault in injected:
        image_api.fail_next(fault)

    refused = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a cat"})).final(
        timeout=15, until=outcome
    )

    assert refused.content == message_of(key)
    assert refused.files == []
    assert refused.embeds == []
    again = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a dog"})).final(
        timeout=15, until=outcome
    )
    assert len(again.files) == 1


@pytest.mark.parametrize(
    "fault",
    [faults.rate_limited(retry_after=0.2), faults.rate_limited(retry_after=0.2, header=False, in_message=True)],
    ids=["retry_after_header", "retry_in_message"],
)
async def test_rate_limit_says_when_to_retry(discord_api, image_api, bot, member, fault, guild) -> None:
    image_api.fail_next(fault)
    image_api.fail_next(fault)

    refused = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a cat"})).final(
        timeout=15, until=outcome
    )

    assert refused.content.startswith("The image service is getting too many requests. Try again <t:")
    assert refused.content.endswith(":R>.")
    assert len(image_api.requests) == 2


async def test_integer_error_code_with_json_message_is_a_rate_limit(discord_api, image_api, bot, member, guild) -> None:
    image_api.fail_next(faults.error_code_int(429))
    image_api.fail_next(faults.error_code_int(429))

    refused = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a cat"})).final(
        timeout=15, until=outcome
    )

    assert "too many requests" in refused.content


@pytest.mark.parametrize(
    "fault",
    [faults.rate_limited(retry_after=0.1), faults.overloaded(), faults.server_error(503)],
    ids=["rate_limited", "overloaded", "server_error"],
)
async def test_a_passing_fault_is_retried_and_the_member_gets_images(
    discord_api, image_api, bot, member, fault, guild
) -> None:
    image_api.fail_next(fault)

    message = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a cat"})).final(
        timeout=15, until=outcome
    )

    assert len(message.files) == 1
    assert [request.status for request in image_api.requests] == [fault.status, 200]


async def test_a_refusal_is_not_retried(discord_api, image_api, bot, member, guild) -> None:
    image_api.fail_next(faults.safety())

    await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a cat"})).final(
        timeout=15, until=outcome
    )

    assert len(image_api.requests) == 1


async def test_the_api_key_never_reaches_logs_or_messages(discord_api, image_api, bot, member, caplog, guild) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = f"Invalid token: {API_KEY}"
    image_api.fail_next(faults.api_error(400, f"bad request, key {API_KEY}", code="invalid_request"))
    image_api.fail_next(faults.api_error(401, echoed, code="invalid_api_key"))

    rejected = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a"})).final(
        timeout=15, until=outcome
    )
    refused = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "b"})).final(
        timeout=15, until=outcome
    )

    assert rejected.content == catalogue.text("en-US", "error.rejected", detail="bad request, key [redacted]")
    assert refused.content == message_of("error.auth")
    assert "check IMAGE_API_KEY" in caplog.text
    assert API_KEY not in caplog.text
    everything_posted = [message.content for message in discord_api.messages(rejected.channel_id)]
    assert not any(API_KEY in content for content in everything_posted)

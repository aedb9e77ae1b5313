"""The loopback image API: injected faults, latency and concurrency, hanging requests, lifecycle."""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.loopback.image_api import (
    GENERATIONS_PATH,
    Fault,
    ImageAPIServer,
    api_error,
    dead_url,
    empty_data,
    empty_response,
    error_code_int,
    hang,
    no_images,
    not_json,
    overloaded,
    quota_exhausted,
    rate_limited,
    safety,
    server_error,
    unauthorized,
)

KEY = "test-key"
REQUEST = {"prompt": "a lighthouse at dusk", "size": "64x64"}


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[ImageAPIServer]:
    server = ImageAPIServer(api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def fresh_api(api: ImageAPIServer) -> None:
    api.reset()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def post(
    http: aiohttp.ClientSession, api: ImageAPIServer, *, give_up_after: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    client_timeout = aiohttp.ClientTimeout(total=give_up_after)
    async with http.post(api.base_url + GENERATIONS_PATH, json=REQUEST, timeout=client_timeout) as response:
        return response.status, dict(response.headers), await response.read()


async def error_of(http: aiohttp.ClientSession, api: ImageAPIServer, fault: Fault) -> tuple[int, dict[str, str], dict]:
    api.fail_next(fault)
    status, headers, body = await post(http, api)
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return status, headers, error


async def test_rate_limited_sends_retry_after_header(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    status, headers, error = await error_of(http, api, rate_limited())

    assert status == 429
    assert headers["Retry-After"] == "1"
    assert error["code"] == "rate_limit_exceeded"
    assert "retry in" not in error["message"]


async def test_rate_limited_can_name_the_delay_in_the_message_only(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    status, headers, error = await error_of(http, api, rate_limited(2.5, header=False, in_message=True))

    assert status == 429
    assert "Retry-After" not in headers
    assert error["message"].endswith("Please retry in 2.5s.")


async def test_server_error_is_json_by_default(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    status, _, error = await error_of(http, api, server_error())

    assert status == 500
    assert error["type"] == "server_error"


@pytest.mark.parametrize(("status", "title"), [(502, "502 Bad Gateway"), (504, "504 Gateway Timeout")])
async def test_server_error_can_be_a_proxy_html_page(
    http: aiohttp.ClientSession, api: ImageAPIServer, status: int, title: str
) -> None:
    api.fail_next(server_error(status, html=True))
    answer_status, headers, body = await post(http, api)

    assert answer_status == status
    assert headers["Content-Type"].startswith("text/html")
    assert f"<title>{title}</title>" in body.decode()


def test_server_error_needs_a_5xx_status() -> None:
    with pytest.raises(ValueError, match="5xx"):
        server_error(404)


async def test_overloaded_is_503_with_the_provider_message(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    status, _, error = await error_of(http, api, overloaded())

    assert status == 503
    assert error["message"] == "The model is overloaded. Please try again later."
    assert error["code"] == "UNAVAILABLE"


@pytest.mark.parametrize("code", ["prompt_blocked", "sensitive_words_detected", "content_policy_violation"])
async def test_safety_refusals_carry_their_code(http: aiohttp.ClientSession, api: ImageAPIServer, code: str) -> None:
    status, _, error = await error_of(http, api, safety(code=code))  # type: ignore[arg-type]

    assert status == 400
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"


async def test_safety_status_can_be_chosen(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    status, _, _ = await error_of(http, api, safety(status=422))

    assert status == 422


async def test_quota_exhausted_is_403(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    status, _, error = await error_of(http, api, quota_exhausted())

    assert (status, error["code"]) == (403, "insufficient_user_quota")


async def test_unauthorized_fault_answers_like_a_wrong_key(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    status, _, error = await error_of(http, api, unauthorized())

    assert (status, error["code"]) == (401, "invalid_api_key")


async def test_error_code_int_has_an_integer_code_and_json_in_the_message(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    status, _, error = await error_of(http, api, error_code_int())

    assert status == 429
    assert error["code"] == 429
    inner = json.loads(error["message"])["error"]
    assert (inner["code"], inner["status"]) == (429, "RESOURCE_EXHAUSTED")


async def test_error_code_int_can_carry_the_providers_retry_delay(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    _, _, error = await error_of(http, api, error_code_int(retry_in=0.5))

    inner = json.loads(error["message"])["error"]
    assert inner["message"].endswith("Please retry in 0.5s.")
    assert inner["details"][0]["retryDelay"] == "0.5s"


@pytest.mark.parametrize(
    ("fault", "code", "message"),
    [
        (empty_response(), "empty_response", "The model returned an empty response."),
        (no_images(), None, "no images generated"),
    ],
)
async def test_empty_upstream_answers_are_500(
    http: aiohttp.ClientSession, api: ImageAPIServer, fault: Fault, code: str | None, message: str
) -> None:
    status, _, error = await error_of(http, api, fault)

    assert status == 500
    assert error["code"] == code
    assert error["message"] == message


async def test_api_error_builds_any_error(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    fault = api_error(408, "Request timed out.", code="timeout", type_="server_error", headers={"X-Trace": "1"})
    status, headers, error = await error_of(http, api, fault)

    assert (status, headers["X-Trace"], error["code"], error["message"]) == (408, "1", "timeout", "Request timed out.")


async def test_empty_data_is_a_200_without_images(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.fail_next(empty_data())
    status, _, body = await post(http, api)

    answer = json.loads(body)
    assert status == 200
    assert answer["data"] == []
    assert isinstance(answer["created"], int)


async def test_not_json_is_a_200_with_an_html_page(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.fail_next(not_json(), not_json("upstream says no", content_type="text/plain"))
    page = await post(http, api)
    text = await post(http, api)

    assert page[0] == text[0] == 200
    assert page[1]["Content-Type"].startswith("text/html")
    assert page[2].startswith(b"<!DOCTYPE html>")
    assert (text[1]["Content-Type"], text[2]) == ("text/plain", b"upstream says no")


async def test_dead_url_links_answer_404(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.fail_next(dead_url())
    status, _, body = await post(http, api)

    [item] = json.loads(body)["data"]
    assert status == 200
    assert item["url"].startswith(f"{api.base_url}/files/")
    async with http.get(item["url"]) as file:
        assert file.status == 404
    assert api.image_fetches == 0


async def test_faults_are_used_once_in_order(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.fail_next(rate_limited())
    api.fail_next(server_error(502), overloaded())

    statuses = [(await post(http, api))[0] for _ in range(4)]

    assert statuses == [429, 502, 503, 200]
    assert [record.fault for record in api.requests] == ["rate_limited", "server_error", "overloaded", None]
    assert api.pending_faults == 0


async def test_refused_requests_do_not_use_up_a_fault(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.fail_next(overloaded())
    url = api.base_url + GENERATIONS_PATH
    async with http.post(url, json={"prompt": "x"}, headers={"Authorization": "Bearer wrong"}) as response:
        assert response.status == 401
    async with http.post(url, json={"n": 2}) as response:
        assert response.status == 400

    assert api.pending_faults == 1
    assert (await post(http, api))[0] == 503


async def test_reset_drops_queued_faults(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.fail_next(overloaded(), overloaded())
    api.reset()

    assert api.pending_faults == 0
    assert (await post(http, api))[0] == 200


async def test_latency_overlaps_across_concurrent_requests(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.latency = 0.3
    started = time.monotonic()
    requests = [asyncio.create_task(post(http, api)) for _ in range(4)]
    async with asyncio.timeout(2):
        await api.wait_in_flight(4)
    statuses = [status for status, _, _ in await asyncio.gather(*requests)]
    elapsed = time.monotonic() - started

    assert statuses == [200] * 4
    assert 0.3 <= elapsed < 0.9  # one after another would take 1.2 s
    assert (api.in_flight, api.max_in_flight) == (0, 4)


async def test_latency_applies_to_faulted_answers_too(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.latency = 0.2
    api.fail_next(overloaded())
    started = time.monotonic()

    status, _, _ = await post(http, api)

    assert status == 503
    assert time.monotonic() - started >= 0.2


async def test_wait_requests_returns_once_enough_requests_arrived(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    api.latency = 0.2
    requests = [asyncio.create_task(post(http, api)) for _ in range(2)]

    async with asyncio.timeout(2):
        await api.wait_requests(2)

    assert api.in_flight == 2
    assert all(record.status is None for record in api.requests)
    await asyncio.gather(*requests)
    assert [record.status for record in api.requests] == [200, 200]


async def test_settings_are_taken_when_a_request_arrives(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.latency = 0.2
    request = asyncio.create_task(post(http, api))
    async with asyncio.timeout(2):
        await api.wait_in_flight(1)
    api.answer_shape, api.image_format = "b64_json", "jpeg"

    status, _, body = await request

    assert status == 200
    assert json.loads(body)["data"][0]["url"].endswith(".png")


async def test_a_hanging_request_ends_when_the_client_gives_up(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    api.fail_next(hang())

    with pytest.raises(TimeoutError):
        await post(http, api, give_up_after=0.2)

    async with asyncio.timeout(2):
        await api.wait_idle()
    assert api.last_request.status is None
    assert api.last_request.fault == "hang"
    assert (await post(http, api))[0] == 200


async def test_stop_does_not_wait_for_a_hanging_request() -> None:
    server = ImageAPIServer(api_key=KEY)
    await server.start()
    server.fail_next(hang())
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session:
        request = asyncio.create_task(session.post(server.base_url + GENERATIONS_PATH, json=REQUEST))
        async with asyncio.timeout(2):
            await server.wait_in_flight(1)

        started = time.monotonic()
        await server.stop()

        assert time.monotonic() - started < 1.0
        with pytest.raises(aiohttp.ClientError):
            await request
    assert server.in_flight == 0


async def test_lifecycle_guards_and_context_manager() -> None:
    server = ImageAPIServer()
    with pytest.raises(RuntimeError, match="not been started"):
        _ = server.base_url

    async with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError, match="already running"):
            await server.start()

    await server.stop()  # stopping twice is harmless

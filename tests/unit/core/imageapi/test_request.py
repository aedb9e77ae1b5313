from bot.core.imageapi import GenerationRequest, hash_user
from bot.core.imageapi.request import build_body


def test_body_carries_every_field_that_is_set() -> None:
    request = GenerationRequest(
        prompt="a fox",
        model="gemini-3-pro-image-preview",
        n=3,
        size="1792x1024",
        quality="2k",
        style="vivid",
        user="u-1",
        images=("data:image/png;base64,AAAA",),
    )
    assert build_body(request, "url") == {
        "model": "gemini-3-pro-image-preview",
        "prompt": "a fox",
        "n": 3,
        "size": "1792x1024",
        "quality": "2k",
        "style": "vivid",
        "user": "u-1",
        "response_format": "url",
        "image": ["data:image/png;base64,AAAA"],
    }


def test_unset_optional_fields_are_left_out() -> None:
    body = build_body(GenerationRequest(prompt="a fox", model="m"), "b64_json")
    assert body == {"model": "m", "prompt": "a fox", "n": 1, "response_format": "b64_json"}


def test_user_hash_is_stable_salted_and_hides_the_id() -> None:
    first = hash_user(123456789012345678, "salt")
    assert first == hash_user(123456789012345678, "salt")
    assert first != hash_user(123456789012345678, "other salt")
    assert first != hash_user(123456789012345679, "salt")
    assert "123456789012345678" not in first
    assert len(first) == 34

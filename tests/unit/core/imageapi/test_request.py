from bot.core.imageapi import hash_user
from bot.core.imageapi.request import build_body
from bot.core.request import ImageRequest


def test_body_carries_every_field_that_is_set() -> None:
    request = ImageRequest(
        prompt="a fox", model="gemini-3-pro-image-preview", count=3, size="1792x1024", quality="2k", style="vivid"
    )
    assert build_body(request, "url", user="u-1", images=("data:image/png;base64,AAAA",)) == {
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
    body = build_body(ImageRequest(prompt="a fox", model="m"), "b64_json")
    assert body == {"model": "m", "prompt": "a fox", "n": 1, "response_format": "b64_json"}


def test_user_hash_is_stable_salted_and_hides_the_id() -> None:
    first = hash_user(123456789012345678, "salt")
    assert first == hash_user(123456789012345678, "salt")
    assert first != hash_user(123456789012345678, "other salt")
    assert first != hash_user(123456789012345679, "salt")
    assert "123456789012345678" not in first
    assert len(first) == 34

from bot.core.imageapi import hash_user


def test_user_hash_is_stable_salted_and_hides_the_id() -> None:
    first = hash_user(123456789012345678, "salt")
    assert first == hash_user(123456789012345678, "salt")
    assert first != hash_user(123456789012345678, "other salt")
    assert first != hash_user(123456789012345679, "salt")
    assert "123456789012345678" not in first
    assert len(first) == 34

import re
from datetime import UTC, datetime

import pytest

from bot.core.storage import JobRecord, PictureSource, new_job_id
from bot.core.storage.rows import pictures_from_json, pictures_to_json


def test_new_job_ids_are_16_lowercase_hex_characters():
    ids = {new_job_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{16}", job_id) for job_id in ids)


@pytest.mark.parametrize("job_id", ["", "ABCDEF0123456789", "0123456789abcde", "0123456789abcdef0", "g123456789abcdef"])
def test_a_malformed_job_id_is_refused(job_id):
    with pytest.raises(ValueError, match="16 lowercase hex"):
        JobRecord(id=job_id, kind="imagine", user_id=1, guild_id=None, channel_id=None, prompt="p", model="m", n=1)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        JobRecord(
            id=new_job_id(),
            kind="imagine",
            user_id=1,
            guild_id=None,
            channel_id=None,
            prompt="p",
            model="m",
            n=1,
            created_at=datetime(2024, 1, 1),  # noqa: DTZ001 - the naive time under test
        )


def test_pictures_keep_their_order_through_json():
    pictures = (PictureSource("b.png", "https://x/b"), PictureSource("ä.png", "https://x/a"))
    assert pictures_from_json(pictures_to_json(pictures)) == pictures
    assert pictures_to_json(()) == "[]"


def test_a_record_is_created_now_in_utc():
    before = datetime.now(UTC)
    job = JobRecord(
        id=new_job_id(), kind="imagine", user_id=1, guild_id=None, channel_id=None, prompt="p", model="m", n=1
    )
    assert before <= job.created_at <= datetime.now(UTC)
    assert job.created_at.tzinfo is UTC

"""The statements are written once; each dialect fills them in and (PostgreSQL) numbers their parameters."""

import re

import pytest

from bot.core.storage import postgres, sql, sqlite

STATEMENTS = {name: value for name, value in vars(sql).items() if name.isupper() and isinstance(value, str)}
NAMED = re.compile(r"(?<![:\w]):[A-Za-z_]")


@pytest.mark.parametrize("fragments", [sqlite.FRAGMENTS, postgres.FRAGMENTS], ids=["sqlite", "postgres"])
@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_every_statement_is_filled_in_for_both_dialects(name: str, fragments: dict[str, str]):
    rendered = sql.render(STATEMENTS[name], fragments)
    assert "{" not in rendered and "}" not in rendered
    assert "jobs.columns" not in rendered


def test_both_dialects_fill_in_the_same_fields():
    assert set(sqlite.FRAGMENTS) == set(postgres.FRAGMENTS)


def test_postgres_numbers_each_parameter_once_in_order_of_first_use():
    text, names = postgres._compile(sql.USAGE_TOTALS)
    assert names == ("guild", "since", "until")
    assert text.count("$1") == 2 and "$2" in text and "$3" in text
    assert not NAMED.search(text)


def test_postgres_leaves_casts_alone():
    text, names = postgres._compile(sql.USAGE_BY_DAY)
    assert names == ("guild", "since")
    assert "AT TIME ZONE 'UTC'" in text and not NAMED.search(text)


def test_a_job_row_lists_every_field_of_the_record_once():
    rendered = sql.render(sql.LOAD_JOB, sqlite.FRAGMENTS)
    columns = rendered.removeprefix("SELECT ").split(" FROM ")[0].split(", ")
    assert columns == [
        "id",
        "kind",
        "user_id",
        "guild_id",
        "channel_id",
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "style",
        "pictures",
        "status",
        "created_at",
        "finished_at",
        "message_id",
    ]

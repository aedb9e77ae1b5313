"""The statements are written once; each dialect fills them in and (PostgreSQL) numbers their parameters."""

import re

import pytest

from bot.core.storage import postgres, sql, sqlite


def _statements() -> dict[str, str]:
    """Every statement of `sql` by name: the scoped ones once per scope, the rollups' once per rollup."""
    found: dict[str, str] = {}
    for name, value in vars(sql).items():
        if not name.isupper() or name.startswith("_") or name in {"MEASURES", "TABLES"}:
            continue
        if isinstance(value, str):
            found[name] = value
        elif isinstance(value, dict):
            found |= {f"{name}[{scope}]": form for scope, form in value.items()}
        elif isinstance(value, tuple):
            found |= {f"{name}[{index}]": form for index, form in enumerate(value)}
    return found


STATEMENTS = _statements()
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
    text, names = postgres._compile(sql.USAGE_TOTALS["server"])
    assert names == ("guild", "first_day", "end_day", "since", "first", "end", "until")
    assert text.count("$1") == 3 and "$7" in text and "$8" not in text
    assert not NAMED.search(text)


def test_postgres_leaves_casts_alone():
    text, names = postgres._compile(sql.USAGE_BY_DAY["everywhere"])
    assert names == ("first_day", "since", "first")
    assert "AT TIME ZONE 'UTC'" in text and not NAMED.search(text)


def test_each_scope_has_its_own_condition_on_the_server():
    assert "guild_id = :guild" in sql.BOOKED["server"] and "guild_id = :guild" not in sql.USAGE_TOTALS["everywhere"]
    assert "guild_id IS NULL" in sql.BOOKED["direct"]
    assert not any(" IS NULL OR " in statement for statement in STATEMENTS.values())
    assert not any(re.search(r"<[a-z_]+>", statement) for statement in STATEMENTS.values())


def test_a_rollup_adds_each_measure_under_its_key():
    rendered = sql.render(sql.ROLL_UPS[0], sqlite.FRAGMENTS)
    assert rendered == (
        "INSERT INTO usage_daily (guild_id, day, model, jobs, images, cost, delivered_images, delivered_cost)"
        " VALUES (:guild_id, :day, :model, :jobs, :images, :cost, :delivered_images, :delivered_cost)"
        " ON CONFLICT (guild_id, day, model) DO UPDATE SET jobs = usage_daily.jobs + excluded.jobs,"
        " images = usage_daily.images + excluded.images, cost = usage_daily.cost + excluded.cost,"
        " delivered_images = usage_daily.delivered_images + excluded.delivered_images,"
        " delivered_cost = usage_daily.delivered_cost + excluded.delivered_cost"
    )


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

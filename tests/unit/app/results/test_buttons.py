import pytest

from bot.app.results.buttons import RESULT_ACTIONS, STYLES, JobButton, cancel_view, result_view

JOB_ID = "0123456789abcdef"
OWNER = 2**63 - 1  # the largest snowflake, as ids made before the owner was left out carried it
TEMPLATE = JobButton.__discord_ui_compiled_template__


@pytest.mark.parametrize("action", list(STYLES))
def test_every_button_id_round_trips_through_its_template(action) -> None:
    button = JobButton(action, JOB_ID, "label")

    match = TEMPLATE.fullmatch(button.custom_id)

    assert match is not None
    assert (match["action"], match["job"]) == (action, JOB_ID)
    assert len(button.custom_id) <= 100  # Discord's limit


@pytest.mark.parametrize("action", list(STYLES))
def test_ids_name_no_owner_but_old_ids_with_one_still_match(action) -> None:
    new = JobButton(action, JOB_ID).custom_id

    assert new.endswith(JOB_ID)  # who may press is read from the stored job, not from the id
    assert TEMPLATE.fullmatch(f"{new}:{OWNER}")["job"] == JOB_ID


def test_the_views_have_one_labelled_button_per_action() -> None:
    view = result_view(JOB_ID, "en-US")

    assert [item.item.label for item in view.children] == ["Reroll", "Edit", "Upscale", "Delete"]
    assert [item.action for item in view.children] == list(RESULT_ACTIONS)
    assert view.timeout is None
    assert [item.item.label for item in cancel_view(JOB_ID, "en-US").children] == ["Cancel"]


def test_an_unknown_action_or_malformed_job_does_not_match() -> None:
    assert TEMPLATE.fullmatch(f"img:v1:explode:{JOB_ID}:1") is None
    assert TEMPLATE.fullmatch("img:v1:reroll:XYZ:1") is None
    assert TEMPLATE.fullmatch(f"img:v2:reroll:{JOB_ID}:1") is None
    assert TEMPLATE.fullmatch(f"img:v1:reroll:{JOB_ID}:x") is None

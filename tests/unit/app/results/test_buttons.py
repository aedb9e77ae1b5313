import pytest

from bot.app.views.cancel import CancelButton
from bot.app.views.results import ACTIONS, ResultButton, result_view

JOB_ID = "0123456789abcdef"
OWNER = 2**63 - 1  # the largest snowflake, as ids made before the owner was left out carried it


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_button_id_round_trips_through_its_template(action) -> None:
    button = ResultButton(action, JOB_ID, "label")

    match = ResultButton.__discord_ui_compiled_template__.fullmatch(button.custom_id)

    assert match is not None
    assert (match["action"], match["job"]) == (action, JOB_ID)
    assert len(button.custom_id) <= 100  # Discord's limit


@pytest.mark.parametrize("item", [ResultButton, CancelButton])
def test_ids_name_no_owner_but_old_ids_with_one_still_match(item) -> None:
    new = ResultButton("reroll", JOB_ID).custom_id if item is ResultButton else CancelButton(JOB_ID).custom_id
    template = item.__discord_ui_compiled_template__

    assert new.endswith(JOB_ID)  # who may press is read from the stored job, not from the id
    assert template.fullmatch(f"{new}:{OWNER}")["job"] == JOB_ID


def test_the_view_has_one_labelled_button_per_action() -> None:
    view = result_view(JOB_ID, "en-US")

    assert [item.item.label for item in view.children] == ["Reroll", "Edit", "Upscale", "Delete"]
    assert view.timeout is None


def test_an_unknown_action_or_malformed_job_does_not_match() -> None:
    template = ResultButton.__discord_ui_compiled_template__

    assert template.fullmatch(f"img:v1:explode:{JOB_ID}:1") is None
    assert template.fullmatch("img:v1:reroll:XYZ:1") is None
    assert template.fullmatch(f"img:v2:reroll:{JOB_ID}:1") is None
    assert template.fullmatch(f"img:v1:reroll:{JOB_ID}:x") is None

import dataclasses

import pytest

from bot.core import errors
from bot.core.limits import (
    DEFAULT_LIMITS,
    LIMIT_NAMES,
    LIMITS,
    SCALAR_LIMITS,
    Requester,
    ServerLimits,
    blocked_word,
    caps_for,
    check_request,
    check_word_pattern,
    decode,
    parse_limit,
    resolve,
    to_json,
)
from bot.core.storage import Caps

MODELS = ("pro", "flash")
MEMBER = Requester(user_id=1, guild_id=2, channel_id=3, role_ids=frozenset({10}))


def check(limits: ServerLimits, requester: Requester = MEMBER, **ask: object) -> None:
    fields = {"model": "pro", "count": 1, "quality": None, "prompt": "a cat", "edit": False} | ask
    check_request(limits, requester, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("user_daily_images", "25", 25),
        ("cooldown_seconds", "0", 0),
        ("monthly_budget", "12.50", 12_500_000),
        ("max_count", "4", 4),
        ("max_count", "0", 0),
        ("max_quality", "2K", "2k"),
        ("models", "flash, pro", ("flash", "pro")),
        ("models", "all", ()),
        ("edit_allowed", "no", False),
    ],
)
def test_moderators_values_are_read(name, text, value) -> None:
    assert parse_limit(name, text, MODELS) == value


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("user_daily_images", "-1"),
        ("user_daily_images", "lots"),
        ("max_count", "11"),
        ("cooldown_seconds", "86401"),  # longer than a day: a huge one would overflow a time
        ("cooldown_seconds", "1000000000000000"),
        ("max_count", "-1"),
        ("max_quality", "8k"),
        ("models", "dall-e"),
        ("edit_allowed", "maybe"),
        ("monthly_budget", "free"),
    ],
)
def test_bad_values_are_refused_naming_the_limit(name, text) -> None:
    with pytest.raises(errors.InvalidLimitValue) as refused:
        parse_limit(name, text, MODELS)
    assert (refused.value.name, refused.value.value) == (name, text)


def test_overrides_apply_over_the_defaults_and_unreadable_ones_are_skipped() -> None:
    defaults = ServerLimits(user_daily_images=25, max_quality="2k")
    stored = {
        "user_daily_images": to_json("user_daily_images", 5),
        "channels": to_json("channels", (7, 8)),
        "role_daily_images": to_json("role_daily_images", ((10, 50),)),
        "max_quality": '"16k"',
        "unknown": "1",
    }

    limits = resolve(defaults, stored)

    assert (limits.user_daily_images, limits.channels, limits.role_daily_images) == (5, (7, 8), ((10, 50),))
    assert limits.max_quality == "2k"
    assert decode("channels", stored["channels"]) == (7, 8)


def test_every_rule_refuses_with_its_own_error() -> None:
    with pytest.raises(errors.ChannelNotAllowed):
        check(ServerLimits(channels=(99,)))
    with pytest.raises(errors.EditDisabled):
        check(ServerLimits(edit_allowed=False), edit=True)
    with pytest.raises(errors.ModelNotAllowed):
        check(ServerLimits(models=("flash",)))
    with pytest.raises(errors.CountAboveLimit):
        check(ServerLimits(max_count=2), count=3)
    with pytest.raises(errors.QualityAboveLimit):
        check(ServerLimits(max_quality="1k"), quality="2k")
    with pytest.raises(errors.PromptBlocked):
        check(ServerLimits(blocked_words=("cat",)))
    check(ServerLimits(channels=(3,), models=("pro",), max_count=1, max_quality="1k", blocked_words=("dog",)))


def test_a_thread_counts_as_its_channel() -> None:
    in_thread = Requester(user_id=1, guild_id=2, channel_id=50, parent_channel_id=3)

    check(ServerLimits(channels=(3,)), requester=in_thread)
    with pytest.raises(errors.ChannelNotAllowed):  # a thread of a channel not allowed is not allowed either
        check(ServerLimits(channels=(4,)), requester=in_thread)


@pytest.mark.parametrize(
    ("patterns", "prompt", "found"),
    [
        (("dragon*",), "Two DRAGONS", "dragon*"),
        (("dragon*",), "a snapdragon", None),
        (("red panda",), "a Red  Panda", None),  # the phrase as written: one space
        (("red panda",), "a red panda", "red panda"),
        (("a.b",), "axb", None),  # no regular expression syntax but *
        (("cat",), "concatenate", None),
    ],
)
def test_blocked_words_match_whole_words_in_any_case(patterns, prompt, found) -> None:
    assert blocked_word(patterns, prompt) == found


@pytest.mark.parametrize(
    "prompt",
    [
        "a c\u200bat",  # zero-width space
        "a c\u00adat",  # soft hyphen
        "a ca\u200dt",  # zero-width joiner
        "a \u2060cat\ufeff",  # word joiner, byte order mark
        "a \uff43\uff41\uff54",  # fullwidth letters
        "a \uff23\uff21\uff34",  # fullwidth capitals
        "a \u0441\u0430t",  # Cyrillic es and a
        "a c\u03b1t",  # Greek alpha
        "a ca\u0301t",  # a combining accent
        "a \U0001d41c\U0001d41a\U0001d42d",  # mathematical bold letters
    ],
)
def test_blocked_words_are_found_in_disguise(prompt) -> None:
    assert blocked_word(("cat",), prompt) == "cat"


@pytest.mark.parametrize("prompt", ["concaténate", "a c\u200bats", "\u0441\u0430ts", "scat\u00adter"])
def test_disguised_text_still_matches_whole_words_only(prompt) -> None:
    assert blocked_word(("cat",), prompt) is None


def test_blocked_words_of_other_scripts_still_match_themselves() -> None:
    assert blocked_word(("\u043a\u043e\u0442",), "\u041a\u041e\u0422 \u0441\u043f\u0438\u0442") is not None  # Russian
    assert blocked_word(("\u732b",), "\u4e00\u53ea\u732b") is None  # no word boundary inside Chinese text
    assert blocked_word(("\u732b",), "\u732b") == "\u732b"


def test_a_quality_reaching_the_check_must_be_canonical() -> None:
    with pytest.raises(KeyError):  # generation.prepare normalises first; anything else is a bug, not a 1k
        check(ServerLimits(max_quality="1k"), quality="4K")


def test_no_count_limit_leaves_the_request_bound() -> None:
    check(ServerLimits(max_count=0), count=10)
    with pytest.raises(errors.CountAboveLimit):
        check(ServerLimits(max_count=3), count=4)


@pytest.mark.parametrize("pattern", ["", "***", "x" * 101, "`tick`"])
def test_unusable_patterns_are_refused(pattern) -> None:
    with pytest.raises(errors.InvalidLimitValue):
        check_word_pattern(pattern)


def test_caps_follow_roles() -> None:
    limits = ServerLimits(
        user_daily_images=5,
        server_daily_images=100,
        cooldown_seconds=10,
        exempt_roles=(20,),
        role_daily_images=((10, 8), (11, 12)),
    )

    assert caps_for(limits, {20, 10}) == Caps()
    assert caps_for(limits, {10, 11}).user_daily_images == 12
    assert caps_for(limits, set()) == Caps(
        user_daily_images=5, server_daily_images=100, cooldown_seconds=10, user_concurrent_jobs=None
    )


@pytest.mark.parametrize("name", ["channels", "__class__", "bogus"])
def test_a_name_no_single_valued_limit_has_is_refused(name) -> None:
    with pytest.raises(errors.InvalidChoice) as refused:
        parse_limit(name, "3", MODELS)

    assert (refused.value.option, refused.value.value) == ("limit", name)


def test_server_limits_has_a_field_for_each_spec_in_its_order() -> None:
    assert tuple(field.name for field in dataclasses.fields(ServerLimits)) == LIMIT_NAMES
    assert tuple(spec.name for spec in LIMITS) == LIMIT_NAMES


def test_moderators_write_the_single_valued_limits_and_use_commands_for_the_lists() -> None:
    assert LIMIT_NAMES[:10] == SCALAR_LIMITS
    assert set(LIMIT_NAMES[10:]) == {
        "channels",
        "exempt_roles",
        "role_daily_images",
        "blocked_words",
        "moderator_roles",
        "styles",
    }


SAMPLE = ServerLimits(
    user_daily_images=5,
    server_daily_images=50,
    monthly_budget=12_500_000,
    cooldown_seconds=30,
    concurrent_jobs=1,
    max_count=3,
    max_quality="2k",
    models=("flash",),
    edit_allowed=False,
    channels=(7, 8),
    exempt_roles=(9,),
    role_daily_images=((10, 50),),
    blocked_words=("dragon*",),
    moderator_roles=(11,),
)


@pytest.mark.parametrize("limits", [ServerLimits(), DEFAULT_LIMITS, SAMPLE], ids=["off", "defaults", "sample"])
@pytest.mark.parametrize("name", LIMIT_NAMES)
def test_every_limit_is_stored_and_read_back_as_it_was(limits: ServerLimits, name: str) -> None:
    value = getattr(limits, name)
    assert decode(name, to_json(name, value)) == value


def test_the_operator_defaults_come_from_each_spec() -> None:
    assert (
        dataclasses.replace(
            ServerLimits(),
            user_daily_images=25,
            server_daily_images=250,
            cooldown_seconds=10,
            concurrent_jobs=2,
            max_count=4,
            max_quality="2k",
        )
        == DEFAULT_LIMITS
    )


def test_a_stored_value_no_limit_has_is_unreadable() -> None:
    with pytest.raises(ValueError, match="bogus"):
        decode("bogus", "1")

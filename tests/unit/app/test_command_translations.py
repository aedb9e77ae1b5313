"""Every command text Discord shows has its key, its English matches en-US, and zh-CN obeys Discord's rules."""

import types
import unicodedata
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContextLocation, locale_str
from discord.ext import commands

from bot.app.admin.cog import Admin
from bot.app.edit.cog import Edit
from bot.app.help.cog import Help
from bot.app.i18n import catalogue
from bot.app.i18n.translator import CatalogueTranslator
from bot.app.imagine.cog import Imagine
from bot.app.limits.cog import Limits
from bot.app.usage.cog import Usage
from bot.app.usage.member import MemberUsage
from bot.core.generation import RequestRules
from bot.core.limits import LIMIT_NAMES, SCALAR_LIMITS

ZH = discord.Locale.chinese
LITERAL = {"1K", "2K", "4K", "model-a", "model-b"}  # identifiers, the same in every language


class Recorder(app_commands.Translator):
    """Notes every string discord.py asks to translate."""

    def __init__(self) -> None:
        self.seen: list[tuple[locale_str, TranslationContextLocation]] = []

    async def translate(self, string: locale_str, locale: discord.Locale, context: Any) -> str | None:
        self.seen.append((string, context.location))
        return None


def all_commands() -> list[app_commands.Command | app_commands.Group | app_commands.ContextMenu]:
    """Every command the cogs declare, for a bot with two models and four picture options on /edit."""
    rules = RequestRules(("model-a", "model-b"), "model-a", 1000)
    bot: Any = types.SimpleNamespace(
        jobs=types.SimpleNamespace(generation=types.SimpleNamespace(rules=rules)),
        settings=types.SimpleNamespace(edit_max_attachments=4, owner_ids=frozenset()),
    )
    edit = Edit(bot)
    cogs = [Imagine(bot), edit, Limits(bot), Usage(bot), Admin(bot), MemberUsage(bot), Help(bot)]
    groups = [cog.app_command for cog in cogs if isinstance(cog, commands.GroupCog) and cog.app_command is not None]
    plain = [command for cog in cogs if not isinstance(cog, commands.GroupCog) for command in cog.get_app_commands()]
    return [*plain, *groups, edit.edit_image]


def tree() -> app_commands.CommandTree:
    return app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))


async def payloads(translator: app_commands.Translator) -> list[dict[str, Any]]:
    commands_tree = tree()
    return [await command.get_translated_payload(commands_tree, translator) for command in all_commands()]


async def seen_strings() -> list[tuple[locale_str, TranslationContextLocation]]:
    recorder = Recorder()
    await payloads(recorder)
    return recorder.seen


def valid_slash_name(name: str) -> bool:
    """Discord's `^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`, lowercase where the script has case."""
    letters = all(char in "-_" or unicodedata.category(char)[0] in "LN" for char in name)
    return 1 <= len(name) <= 32 and letters and name == name.lower()


async def test_every_command_text_has_a_key_whose_english_is_the_one_sent() -> None:
    seen = await seen_strings()
    assert len(seen) > 100
    assert {string.message for string, _ in seen if "key" not in string.extras} <= LITERAL
    for string, _ in seen:
        if "key" in string.extras:
            params = {name: value for name, value in string.extras.items() if name != "key"}
            assert catalogue.text("en-US", string.extras["key"], **params) == string.message, string.extras["key"]


async def test_chinese_localizations_follow_discords_rules() -> None:
    sent = await payloads(CatalogueTranslator())

    def check(item: dict[str, Any], slash: bool) -> None:
        name = item["name_localizations"][ZH.value]
        assert valid_slash_name(name) if slash else 1 <= len(name) <= 32, name
        if "description_localizations" in item and slash:
            assert 1 <= len(item["description_localizations"][ZH.value]) <= 100
        names = [option["name_localizations"][ZH.value] for option in item.get("options", [])]
        assert len(names) == len(set(names)), names
        for option in item.get("options", []):
            check(option, slash=True)
            for choice in option.get("choices", []):
                assert 1 <= len(choice["name"]) <= 100, choice
                if choice["name"] not in LITERAL:
                    assert 1 <= len(choice["name_localizations"][ZH.value]) <= 100, choice

    for payload in sent:
        check(payload, slash=payload.get("type", 1) == 1)
    top = [payload["name_localizations"][ZH.value] for payload in sent if payload.get("type", 1) == 1]
    assert len(top) == len(set(top))


async def test_limit_choices_show_each_limits_label_and_send_its_id() -> None:
    group = next(payload for payload in await payloads(CatalogueTranslator()) if payload["name"] == "limits")
    subcommands = {option["name"]: option for option in group["options"]}
    for sub, offered in (("set", SCALAR_LIMITS), ("reset", LIMIT_NAMES)):
        choices = next(option["choices"] for option in subcommands[sub]["options"] if option["name"] == "name")
        assert [choice["value"] for choice in choices] == list(offered)
        for choice in choices:
            key = f"limit.{choice['value']}"
            assert choice["name"] == catalogue.text("en-US", key)
            assert choice["name_localizations"][ZH.value] == catalogue.text("zh-CN", key)


@pytest.mark.parametrize("locale", [discord.Locale.american_english, discord.Locale.japanese])
async def test_other_locales_get_no_translation(locale: discord.Locale) -> None:
    translator = CatalogueTranslator()
    string = locale_str("imagine", key="command.imagine.name")
    assert await translator.translate(string, locale, None) is None  # type: ignore[arg-type]


async def test_parameters_fill_the_chinese_text() -> None:
    string = locale_str("Image model (default: x)", key="command.imagine.option.model.description", model="x")
    translated = await CatalogueTranslator().translate(string, ZH, None)  # type: ignore[arg-type]
    assert translated == catalogue.text("zh-CN", "command.imagine.option.model.description", model="x")
    assert "x" in translated and "{" not in translated

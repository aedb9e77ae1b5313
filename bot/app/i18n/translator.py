"""Command names, descriptions and choices in the member's language, from the catalogue.

The command definitions wrap each text Discord shows in `locale_str(english, key=...)`; extra keyword
arguments are the key's `{placeholders}` (for texts built at start, such as the default model). At sync,
discord.py asks `CatalogueTranslator` for each supported locale; it answers from that locale's catalogue,
or None (Discord then shows the English text). Keys live under `command.`:

    command.<command>.name                         imagine, limits, edit_image (the message menu)
    command.<command>.description
    command.<group>.<sub>.name / .description      limits.set, admin.block-user, …
    command.<command path>.option.<option>.name    command.imagine.option.prompt.name
    command.<command path>.option.<option>.description
    command.choice.<option>.<value>                choice names, shared by the commands offering them:
                                                   command.choice.size.1792x1024, command.choice.style.vivid
    limit.<name>                                   /limits choices: the label /limits show gives each limit

Strings without a key (model names, quality classes) are literal and stay as they are.
Slash command and option names must be lowercase, 1-32 letters, digits, `-` or `_`; a unit test checks
every translation against Discord's rules.
"""

import discord
from discord import app_commands
from discord.app_commands import TranslationContextTypes, locale_str

from bot.app.i18n import catalogue

LOCALES = (discord.Locale.chinese,)  # the locales the catalogue translates commands into, besides en-US


class CatalogueTranslator(app_commands.Translator):
    """Translates keyed `locale_str`s into the locales in `LOCALES`."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        return translation(string, locale)


def translation(string: locale_str, locale: discord.Locale) -> str | None:
    """The catalogue's text for a keyed string in `locale`, or None when it has no translation there."""
    params = dict(string.extras)
    key = params.pop("key", None)
    if locale not in LOCALES or key is None:
        return None
    return catalogue.lookup(locale.value, key, **params)

"""Option types shared by the generation commands."""

from discord import AppCommandOptionType, Interaction, app_commands


class PromptText(app_commands.Transformer):
    """A string option whose length limit Discord shows and enforces in its UI.

    discord.py's `Range` would refuse an over-long value with a generic error; this passes it on so
    that the core's own check answers with the specific message.
    """

    def __init__(self, max_length: int) -> None:
        self._max_length = max_length

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return self._max_length

    async def transform(self, interaction: Interaction, value: str) -> str:
        return value

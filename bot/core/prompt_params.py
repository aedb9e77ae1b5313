"""Parameters typed into a prompt (`a fox --ar 16:9 --q 2k --n 2 --no text`), as members of other image bots type
them: taken out of the prompt and applied as if chosen as options, an option the member chose winning.

A parameter is a word starting with `--` (or `—`, which phones make of `--`) followed by its value; `--no` takes
every word up to the next parameter. The API has no negative prompt, so `--no` becomes an instruction at the end.
"""

from dataclasses import dataclass

from bot.core.errors import InvalidPromptParameter
from bot.core.generation import MAX_COUNT
from bot.core.imageapi import QUALITIES
from bot.core.inputs import PictureRef
from bot.core.request import ASPECT_SIZES, ImageRequest

PREFIXES = ("--", "—")
OPTIONS = {"ar": "size", "aspect": "size", "q": "quality", "quality": "quality", "n": "count", "style": "style"}
AVOID = "no"
PRIVATE = "private"  # a switch: it takes no value
AVOID_INSTRUCTION = "{prompt}\n\nDo not include: {words}."


@dataclass(frozen=True, slots=True)
class TypedOptions:
    """A prompt with its parameters taken out, and what they asked for (None: not typed)."""

    prompt: str
    size: str | None = None
    quality: str | None = None
    count: int | None = None
    style: str | None = None
    private: bool | None = None  # True when typed


def asked_request(
    prompt: str,
    *,
    model: str | None = None,
    count: int | None = None,
    size: str | None = None,
    quality: str | None = None,
    style: str | None = None,
    private: bool | None = None,
    pictures: tuple[PictureRef, ...] = (),
) -> ImageRequest:
    """What a member asked for: each option they chose, else the one typed into the prompt; raises
    InvalidPromptParameter for a parameter that isn't one or a value it can't take."""
    typed = split_parameters(prompt)
    return ImageRequest(
        prompt=typed.prompt,
        model=model,
        count=count or typed.count or 1,
        size=size or typed.size,
        quality=quality or typed.quality,
        style=style or typed.style,
        pictures=pictures,
        private=typed.private if private is None else private,
    )


def split_parameters(text: str) -> TypedOptions:
    """The prompt without its parameters, and their values, checked; text without any is returned as it is."""
    words = text.split()
    if not any(_parameter_name(word) for word in words):
        return TypedOptions(prompt=text)
    kept: list[str] = []
    values: dict[str, str] = {}
    avoid: list[str] = []
    private: bool | None = None
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not (name := _parameter_name(word)):
            kept.append(word)
            continue
        if name == PRIVATE:
            if private:
                raise InvalidPromptParameter(word, "repeated")
            private = True
            continue
        option = AVOID if name == AVOID else OPTIONS.get(name)
        if option is None:
            raise InvalidPromptParameter(word, "unknown")
        value: list[str] = []
        while index < len(words) and not _parameter_name(words[index]) and (option == AVOID or not value):
            value.append(words[index])
            index += 1
        if not value:
            raise InvalidPromptParameter(word, "missing")
        if option == AVOID:
            avoid += value
        elif option in values:
            raise InvalidPromptParameter(word, "repeated")
        else:
            values[option] = _checked(word, option, value[0])
    prompt = " ".join(kept)
    if avoid and prompt:  # an empty prompt stays empty, to be refused as one
        prompt = AVOID_INSTRUCTION.format(prompt=prompt, words=" ".join(avoid).strip(", "))
    count = values.get("count")
    return TypedOptions(
        prompt=prompt,
        size=values.get("size"),
        quality=values.get("quality"),
        count=int(count) if count is not None else None,
        style=values.get("style"),
        private=private,
    )


def _parameter_name(word: str) -> str:
    """The parameter a word names (`--ar` -> `ar`), lower-cased; empty for a word that names none."""
    for prefix in PREFIXES:
        if word.startswith(prefix) and len(word) > len(prefix) and word[len(prefix)].isalpha():
            return word[len(prefix) :].casefold()
    return ""


def _checked(word: str, option: str, value: str) -> str:
    """`value` as the option's canonical value: the API's size for a ratio, a tier, a count, a style."""
    if option == "size":
        if (size := ASPECT_SIZES.get(value)) is None:
            raise InvalidPromptParameter(word, "value", value, tuple(ASPECT_SIZES))
        return size
    if option == "count":
        if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
            raise InvalidPromptParameter(word, "value", value, (f"1-{MAX_COUNT}",))
        return value
    if option == "style":
        return value  # a server's own styles are among the choices: the job service resolves it
    for choice in QUALITIES:
        if value.casefold() == choice.casefold():
            return choice
    raise InvalidPromptParameter(word, "value", value, QUALITIES)

"""Results larger than Discord's upload limit arrive re-encoded under it, never as a failure."""

from bot.app.i18n import catalogue
from bot.core.images import ImageFormat, sniff_format
from tests.e2e.helpers import image_size, outcome
from tests.loopback.image_api.render import BULKY_GRAIN

TEN_MIB = 10 * 1024 * 1024


async def test_a_4k_result_over_the_limit_is_reencoded_under_it(discord_api, image_api, bot, member, guild) -> None:
    image_api.grain = BULKY_GRAIN  # noise a PNG can't compress: 4K is ~20 MiB
    image_api.image_format = "png"

    reply = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "fine sand", "quality": "4k"}
    )

    message = await reply.final(timeout=60, until=outcome)
    assert message.files, message.content
    (file,) = message.files
    assert len(file.data) <= TEN_MIB
    assert sniff_format(file.data) is ImageFormat.JPEG
    assert file.filename == "imagine-1.jpg"
    assert image_size(file) == (4096, 4096)
    assert image_api.last_request.output_sizes[0] > TEN_MIB  # Discord would have refused the API's own image
    assert message.embeds[0]["footer"]["text"].startswith(
        catalogue.text("en-US", "result.reencoded", limit="10.0 MB", images="")[:40]
    )

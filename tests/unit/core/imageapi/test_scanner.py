import base64
import itertools
import json
import random
import tracemalloc
from typing import Any, cast

import aiohttp
import pytest

from bot.core.errors import MalformedAnswer
from bot.core.imageapi import scanner, spool
from bot.core.imageapi.answers import ImageBytes, parse_success
from bot.core.imageapi.scanner import AnswerScanner, ScannedAnswer, parse_scanned
from bot.core.imageapi.spool import CHUNK, IN_MEMORY, Spool
from bot.core.images import ImageFormat
from bot.core.providers.base import ProviderSettings
from bot.core.providers.gemini import GeminiProvider
from bot.core.providers.openai import OpenAIProvider
from bot.core.providers.openrouter import OpenRouterProvider

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fake_png(size: int, seed: int = 1) -> bytes:
    """Bytes that sniff as a PNG (the scanner never decodes pixels), random so no run of them repeats."""
    return PNG_MAGIC + random.Random(seed).randbytes(size - len(PNG_MAGIC))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def scan(raw: bytes, splits: list[int] | None = None, limit: int = 10**9) -> ScannedAnswer:
    """`raw` fed in the pieces cut at `splits` (offsets into it)."""
    answer = AnswerScanner(limit)
    cuts = [0, *sorted(splits or []), len(raw)]
    for start, end in itertools.pairwise(cuts):
        answer.feed(raw[start:end])
    return answer.finish()


def content(image: ImageBytes) -> bytes:
    return image.reader().read()


@pytest.fixture
def short_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strings past 64 bytes are spooled, so small answers exercise every split cheaply."""
    monkeypatch.setattr(scanner, "LONG_STRING", 64)


IMAGE = fake_png(120)
SHAPES = {
    "b64_json": json.dumps({"data": [{"b64_json": b64(IMAGE)}]}),
    "data_url": json.dumps({"data": [{"url": f"data:image/png;base64,{b64(IMAGE)}"}]}),
    "markdown": json.dumps({"data": [{"url": f"Here: ![image](data:image/png;base64,{b64(IMAGE)}) done"}]}),
    "escaped_slashes": json.dumps({"data": [{"b64_json": b64(IMAGE)}]}).replace("/", "\\/"),
    "line_breaks": json.dumps({"data": [{"b64_json": base64.encodebytes(IMAGE).decode()}]}),
    "whitespace": ' {\n  "data" : [ { "b64_json" :\t"' + b64(IMAGE) + '" } ]\n}\n',
    "unicode_escapes": json.dumps({"data": [{"b64_json": b64(IMAGE)}]}).replace("A", "\\u0041"),
}


@pytest.mark.usefixtures("short_strings")
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_image_split_at_any_offset_is_spooled_whole(shape: str) -> None:
    raw = SHAPES[shape].encode()
    for offset in range(len(raw) + 1):
        answer = scan(raw, [offset])
        assert len(answer.spools) == 1, offset
        assert b"spool:0" in answer.skeleton
        assert [content(image) for image in parse_scanned(parse_success, answer)] == [IMAGE], offset


@pytest.mark.usefixtures("short_strings")
def test_an_answer_fed_a_byte_at_a_time_gives_its_images() -> None:
    raw = SHAPES["unicode_escapes"].encode()
    images = parse_scanned(parse_success, scan(raw, list(range(len(raw)))))
    assert [content(image) for image in images] == [IMAGE]


def test_short_strings_and_escapes_stay_in_the_document() -> None:
    document = {"created": 1, "note": 'quote " slash / tab \t é 😀 \\u', "data": [{"url": "https://x/y.png"}], "n": 2.5}
    raw = json.dumps(document).encode()
    assert json.loads(scan(raw, [10, 11, 40]).skeleton) == document


@pytest.mark.usefixtures("short_strings")
def test_a_long_text_without_an_image_is_kept_as_text() -> None:
    text = 'A refusal: é😀 "quoted" and more words than sixty-four bytes, long enough to spool. ' * 3
    raw = json.dumps({"error": {"message": text}}).encode()
    for offset in range(len(raw) + 1):
        answer = scan(raw, [offset])
        assert answer.spools == []
        assert json.loads(answer.skeleton) == {"error": {"message": text}}, offset


@pytest.mark.usefixtures("short_strings")
def test_every_kind_reads_its_spooled_image_at_its_own_path() -> None:
    settings = ProviderSettings(name="p", base_url="http://127.0.0.1:9", api_key="k")
    session = cast(aiohttp.ClientSession, None)  # parse never touches the network
    gemini: dict[str, Any] = {
        "candidates": [
            {"content": {"parts": [{"text": "here"}, {"inlineData": {"mimeType": "image/png", "data": b64(IMAGE)}}]}}
        ]
    }
    openrouter = {
        "choices": [
            {
                "message": {
                    "images": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(IMAGE)}"}}]
                }
            }
        ]
    }
    openai = {"data": [{"b64_json": b64(IMAGE)}, {"b64_json": b64(fake_png(90, seed=2))}]}
    cases = [
        (GeminiProvider(session, settings), gemini, [IMAGE]),
        (OpenRouterProvider(session, settings), openrouter, [IMAGE]),
        (OpenAIProvider(session, settings), openai, [IMAGE, fake_png(90, seed=2)]),
    ]
    for provider, document, expected in cases:
        images = parse_scanned(provider.parse, scan(json.dumps(document).encode(), [57]))
        assert [content(image) for image in images if isinstance(image, ImageBytes)] == expected


@pytest.mark.usefixtures("short_strings")
def test_spools_no_parse_took_are_freed() -> None:
    document = {
        "candidates": [{"content": {"parts": [{"inlineData": {"data": b64(fake_png(100, seed))}} for seed in (1, 2)]}}]
    }
    answer = scan(json.dumps(document).encode())
    settings = ProviderSettings(name="p", base_url="http://127.0.0.1:9", api_key="k")
    [image] = parse_scanned(GeminiProvider(cast(aiohttp.ClientSession, None), settings).parse, answer)
    assert isinstance(image, ImageBytes) and content(image) == fake_png(100, 2)  # Gemini keeps the last image
    assert answer.spools[0].closed


@pytest.mark.usefixtures("short_strings")
@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": [{"b64_json": "' + b64(IMAGE).encode(),  # cut inside the image
        b'{"data": [{"b64_json": "' + b64(IMAGE).encode() + b"\\",  # cut inside an escape
        b'{"data": [{"b64_json": "' + b64(IMAGE[:60]).encode() + b"====" + b64(IMAGE[60:]).encode() + b'"}]}',
        b'{"data": [{"b64_json": "' + b64(IMAGE).encode() + b'\\x"}]}',
        b'{"data": [{"b64_json": "' + b64(IMAGE).encode() + b'\\u12G4"}]}',
        b'{"data": [{"b64_json": "' + b64(IMAGE).encode() + b'\\ud83d\\u0041"}]}',
    ],
    ids=["truncated", "truncated_escape", "padding_inside", "bad_escape", "bad_unicode", "lone_surrogate"],
)
def test_unreadable_answers_are_malformed(raw: bytes) -> None:
    for offset in (1, len(raw) // 2, len(raw) - 1):
        with pytest.raises(MalformedAnswer):
            scan(raw, [offset])


def test_json_cut_between_strings_is_malformed_when_parsed() -> None:
    answer = scan(b'{"data": [{"b64_json": "' + b64(fake_png(200_000)).encode() + b'"}')
    with pytest.raises(MalformedAnswer, match="not JSON"):
        parse_scanned(parse_success, answer)
    assert answer.spools[0].closed


def test_an_answer_over_its_cap_is_refused_as_it_arrives() -> None:
    raw = json.dumps({"data": [{"b64_json": b64(fake_png(300_000))}]}).encode()
    with pytest.raises(MalformedAnswer, match="larger than 200000 bytes"):
        scan(raw, list(range(0, len(raw), CHUNK // 4)), limit=200_000)


def test_text_besides_the_images_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner, "SKELETON_LIMIT", 10_000)
    raw = json.dumps({"error": {"message": "no image here, " * 5_000}}).encode()
    with pytest.raises(MalformedAnswer, match="more than 10000 bytes besides its images"):
        scan(raw, list(range(0, len(raw), 4096)))


def test_a_placeholder_outside_a_scanned_answer_is_malformed() -> None:
    with pytest.raises(MalformedAnswer, match="placeholder"):
        parse_success(json.dumps({"data": [{"b64_json": "\x00spool:0\x00"}]}).encode())


def test_a_spool_moves_to_disk_past_its_memory_share_and_reads_back_whole() -> None:
    data = fake_png(IN_MEMORY + 5)
    held = Spool()
    for start in range(0, len(data), 100_000):
        held.write(data[start : start + 100_000])
    assert held.size == len(data)
    assert held.settled() is held  # too big to hand over as bytes
    assert held.reader().read() == data and held.reader().read() == data  # each read starts at the beginning
    assert held.head(8) == PNG_MAGIC
    held.close()
    assert held.closed


def test_scanning_a_large_answer_holds_a_few_chunks_not_the_answer() -> None:
    image = fake_png(8 * 1024 * 1024)
    raw = json.dumps({"created": 1, "data": [{"b64_json": b64(image)}]}).encode()  # about 11 MiB
    tracemalloc.start()
    try:
        answer = AnswerScanner(len(raw))
        for start in range(0, len(raw), CHUNK):
            answer.feed(raw[start : start + CHUNK])
        scanned = answer.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a spool's share of memory and a few chunk-sized buffers, where reading whole would hold 3 copies of 11 MiB
    assert peak < spool.IN_MEMORY + 4 * CHUNK, f"scanning held {peak} bytes at once"
    [decoded] = parse_scanned(parse_success, scanned)
    assert decoded.format is ImageFormat.PNG and decoded.size == len(image)
    assert content(decoded) == image
    decoded.release()

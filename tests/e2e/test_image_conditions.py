"""The Docker image's conditions, without Docker: the Dockerfile's ENV with `.env.example` passed over it as
`docker run --env-file` does, the image's non-root user, a read-only app folder, and a volume for DATA_DIR."""

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import API_KEY, DISCORD_TOKEN
from tests.e2e.bot_process import START_TIMEOUT, free_port, healthy, stop_bot
from tests.loopback.discord import DiscordServer

ROOT = Path(__file__).resolve().parents[2]
IMAGE_USER = 10001  # the Dockerfile's `useradd --uid 10001 bot`, with its group of the same id
PROBE = "import os, bot.__main__; print('writable' if os.access('.', os.W_OK) else 'read-only')"


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    lines = re.sub(r"\\\n", " ", dockerfile).splitlines()
    return [(keyword.upper(), arguments) for keyword, _, arguments in (line.strip().partition(" ") for line in lines)]


def image_env(dockerfile: str) -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set (their NAME=value form)."""
    env: dict[str, str] = {}
    for keyword, arguments in instructions(dockerfile):
        if keyword == "ENV":
            env |= dict(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


def healthcheck(dockerfile: str) -> list[str]:
    """The command of the Dockerfile's HEALTHCHECK (its exec form, a JSON array)."""
    arguments = next(arguments for keyword, arguments in instructions(dockerfile) if keyword == "HEALTHCHECK")
    return json.loads(arguments.partition(" CMD ")[2])


def env_file(text: str) -> dict[str, str]:
    """What `docker run --env-file` passes: every NAME=value line as written, an empty value too, quotes
    included; lines starting with # are comments, and a bare NAME passes the host's value."""
    env = {}
    for line in (line.lstrip() for line in text.splitlines()):
        name, equals, value = line.partition("=")
        if line and not line.startswith("#") and (equals or name in os.environ):
            env[name] = value if equals else os.environ[name]
    return env


def in_this_test(env: dict[str, str], data: Path, port: int) -> dict[str, str]:
    """The container's places as they are here: the image's DATA_DIR=/data (its volume) becomes `data`, a folder
    the user owns, and its HEALTH_PORT=8080 becomes `port`, free on this machine."""
    places = {"/data": str(data), "8080": str(port)}
    return {name: places.get(value, value) for name, value in env.items()}


@dataclass
class Image:
    """A stand-in for the image's filesystem and user."""

    app: Path  # /app: the bot's code, read-only for the user
    data: Path  # the /data volume, the user's
    home: Path  # /home/bot
    python: str  # a Python the user can run, with the bot's packages
    user: dict[str, Any]  # how subprocesses become the user (nothing when the tests already run as another)


def probe(python: str, app: Path, user: dict[str, Any]) -> str | None:
    """What PROBE prints when `python` runs it as the user in the app folder; None when it can't run there."""
    try:
        result = subprocess.run(  # noqa: S603
            [python, "-c", PROBE], cwd=app, capture_output=True, text=True, timeout=60, check=False, **user
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def python_for(root: Path, app: Path, user: dict[str, Any]) -> str | None:
    """This Python if the user can run it; else (pyenv's under /root is out of that user's reach) the system's
    Python of the same version in a virtual environment under `root` that reads this one's packages."""
    if probe(sys.executable, app, user):
        return sys.executable
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(f"python{version}", path=os.pathsep.join(("/usr/local/bin", "/usr/bin")))
    if system is None:
        return None
    subprocess.run([system, "-m", "venv", "--without-pip", str(root / "venv")], check=True)  # noqa: S603
    packages = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    bridge = root / "venv" / "lib" / f"python{version}" / "site-packages" / "test-packages.pth"
    bridge.write_text("".join(f"import site; site.addsitedir({path!r})\n" for path in packages))
    python = str(root / "venv" / "bin" / "python")
    return python if probe(python, app, user) else None


@pytest.fixture
def image() -> Iterator[Image]:
    with tempfile.TemporaryDirectory(prefix="imagebot-image-") as name:
        root = Path(name)
        root.chmod(0o755)  # reachable by the user (the tests' own temporary folders are not)
        app, data, home = root / "app", root / "data", root / "home"
        shutil.copytree(ROOT / "bot", app / "bot", ignore=shutil.ignore_patterns("__pycache__"))
        for path in (app, *app.rglob("*")):  # as the image's /app, which root owns: the user can't write there
            path.chmod(0o555 if path.is_dir() else 0o444)
        data.mkdir()
        home.mkdir()
        user: dict[str, Any] = {}
        if os.geteuid() == 0:  # tests and CI run as root here: the bot runs as the image's user instead
            user = {"user": IMAGE_USER, "group": IMAGE_USER, "extra_groups": []}
            for path in (data, home):
                os.chown(path, IMAGE_USER, IMAGE_USER)
        python = python_for(root, app, user)
        if python is None:
            pytest.skip(f"uid {IMAGE_USER} can't run {sys.executable}, and no system Python of its version was found")
        assert probe(python, app, user) == "read-only"
        yield Image(app=app, data=data, home=home, python=python, user=user)


async def until_ready(discord_api: DiscordServer, process: asyncio.subprocess.Process) -> bool:
    """Whether the bot process connected to Discord before it exited."""
    ready = asyncio.ensure_future(discord_api.wait_ready(timeout=START_TIMEOUT))
    exited = asyncio.ensure_future(process.wait())
    done, pending = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return ready in done and ready.exception() is None


async def test_the_image_runs_with_env_example_as_its_env_file(own_discord, image_api, image) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    port = free_port()
    loopback = {  # the operator's secrets, and where Discord and the image API are in this test
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "IMAGE_API_KEY": API_KEY,
        "IMAGE_API_BASE_URL": image_api.base_url,
        "DISCORD_API_BASE_URL": own_discord.rest_base,
        "DISCORD_GATEWAY_URL": own_discord.gateway_url,
    }
    container = image_env(dockerfile) | env_file((ROOT / ".env.example").read_text()) | loopback
    env = in_this_test(container, image.data, port) | {"PATH": os.environ["PATH"], "HOME": str(image.home)}

    process = await asyncio.create_subprocess_exec(
        image.python,
        "-m",
        "bot",
        env=env,
        cwd=image.app,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        **image.user,
    )
    try:
        assert await until_ready(own_discord, process), await stop_bot(process)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            health = await healthy(http, port)
        command = healthcheck(dockerfile)
        assert command[0] == "python"  # the image's Python, on its PATH
        check = await asyncio.create_subprocess_exec(image.python, *command[1:], env=env, **image.user)
        checked = await asyncio.wait_for(check.wait(), START_TIMEOUT)
    finally:
        stderr = await stop_bot(process)
    assert (health["gateway"], health["database"]) == ("connected", "ok")
    assert checked == 0, "the HEALTHCHECK failed"
    assert (image.data / "imagebot.db").is_file(), "the database is not on the volume"
    assert process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr

import ast
from pathlib import Path

import bot.core
import bot.settings

CORE = Path(bot.core.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_and_settings_import_nothing_from_discord_or_the_app_layer() -> None:
    files = [*CORE.rglob("*.py"), Path(bot.settings.__file__)]
    assert len(files) > 5
    offenders = {
        f"{path.relative_to(CORE.parent)}: {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] == "discord" or name.startswith("bot.app")
    }
    assert offenders == set()

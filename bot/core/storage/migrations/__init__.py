"""Numbered, append-only SQL migrations, one folder per dialect, and the rules both runners share.

Each file is `NNN_name.sql`; the numbers run 1, 2, 3, … and stay in step across dialects. A
database records what it has applied in `schema_version`; a start applies every higher number
in order, each in its own transaction together with its version row.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from bot.core.storage.errors import StorageError

_FILE_NAME = re.compile(r"(?P<version>\d{3,})_(?P<name>[a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: str) -> tuple[Migration, ...]:
    """The dialect's migrations in version order, read from the installed package."""
    migrations = []
    for entry in resources.files(__name__).joinpath(dialect).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        if not (match := _FILE_NAME.fullmatch(entry.name)):
            raise StorageError(f"migration file {dialect}/{entry.name} is not named NNN_name.sql")
        migrations.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda m: m.version)
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise StorageError(f"{dialect} migrations are not numbered 1, 2, 3, … without gaps or repeats")
    return tuple(migrations)


def pending_migrations(known: tuple[Migration, ...], applied: Iterable[int]) -> tuple[Migration, ...]:
    """The migrations above the database's highest applied version; refuses a database newer than the code."""
    versions = set(applied)
    if unknown := versions - {m.version for m in known}:
        latest = known[-1].version if known else 0
        raise StorageError(
            f"the database has schema version {max(unknown)}, newer than this code knows (up to {latest}); "
            "run the release that upgraded it, or restore a backup from before the upgrade"
        )
    current = max(versions, default=0)
    return tuple(m for m in known if m.version > current)

"""Generated images kept in memory and served by name, as a gateway's file host would."""

import secrets
from dataclasses import dataclass

from .render import EncodedImage


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A servable file."""

    data: bytes
    media_type: str


class FileStore:
    """Names and holds generated images; counts successful downloads."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self.fetches = 0

    def __len__(self) -> int:
        return len(self._files)

    def put(self, image: EncodedImage) -> str:
        """Keep `image`; return its file name."""
        name = f"{secrets.token_hex(8)}.{image.extension}"
        self._files[name] = StoredFile(image.data, image.media_type)
        return name

    def fetch(self, name: str) -> StoredFile | None:
        """The file called `name`, counting the download, or None if there is no such file."""
        stored = self._files.get(name)
        if stored is not None:
            self.fetches += 1
        return stored

    def clear(self) -> None:
        """Forget every file and reset the download count."""
        self._files.clear()
        self.fetches = 0


def missing_name(extension: str) -> str:
    """A file name that is never stored: the target of an expired link."""
    return f"expired-{secrets.token_hex(8)}.{extension}"

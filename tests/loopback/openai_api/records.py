"""What the OpenAI Images stand-in remembers about each request."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file part of a multipart edit: its field name (`image[]`, `image`, `mask`), file name, type and bytes."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(slots=True)
class RecordedRequest:
    """One `POST /v1/images/generations` or `/v1/images/edits`, filled in as it is handled.

    `json` is the body of a JSON request; `fields` the text parts of a multipart one (as sent, strings) and `files`
    its file parts in the order they came. `status` stays None until an answer is sent (so for a request that hangs
    or is dropped); `fault` names the injected fault that answered it. `headers` is case-insensitive.
    """

    path: str
    headers: Mapping[str, str]
    received_at: float
    json: dict[str, object] | None = None
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)
    status: int | None = None
    fault: str | None = None

    @property
    def params(self) -> Mapping[str, object]:
        """The request's parameters, whichever way they came: the JSON body or the multipart text fields."""
        return self.json if self.json is not None else self.fields

    def files_named(self, name: str) -> list[UploadedFile]:
        """The file parts sent under field `name`, in order."""
        return [upload for upload in self.files if upload.field == name]

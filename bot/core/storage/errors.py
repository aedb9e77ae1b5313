"""The one error storage raises on its own account."""


class StorageError(Exception):
    """The storage cannot be used as configured: unreachable, unknown URL, or a schema this code doesn't know."""

"""Errors the kernel reports to a person, importable without torch."""


class CheckpointError(Exception):
    """A model file the app refuses; ``str(error)`` is the message shown to the user."""

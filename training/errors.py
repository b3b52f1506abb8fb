"""Errors a user can fix: ``aegui-train`` prints them as one message instead of a traceback."""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """No usable copy of a dataset: the message says where we looked.

    ``flag`` names the option that points at the data when it is not the command's usual one.
    """

    def __init__(self, message: str, flag: str | None = None):
        super().__init__(message)
        self.flag = flag


class DownloadError(RuntimeError):
    """Raised when no mirror delivered a file with the expected checksum."""

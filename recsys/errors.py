"""The package's own exception types: every error a user can meet is one of these."""
from __future__ import annotations


class RecsysError(Exception):
    """Base class of every error raised on purpose by recsys."""


class DataError(RecsysError):
    """A dataset could not be found, read or validated."""


class ConfigError(RecsysError, ValueError):
    """A hyper-parameter, split or argument is out of its valid range."""


class UnknownIdError(RecsysError, KeyError):
    """A raw user or item id is not in the dataset."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ArtifactError(RecsysError):
    """A saved artifact is missing, corrupt or from an incompatible version."""


class ArtifactGone(ArtifactError):
    """The artifact was deleted (or replaced) while it was being read: not broken, not there."""


class TrainingStopped(RecsysError):
    """Training was stopped by its stop flag before it finished."""

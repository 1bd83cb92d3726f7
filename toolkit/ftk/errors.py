"""Typed errors. The CLI maps each to an exit code and a one-line message; no traceback reaches
the user for a problem with their input."""


class FtkError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 2


class UsageError(FtkError):
    """Bad command-line arguments or configuration."""


class InputError(FtkError):
    """A file that cannot be read at all (missing, a directory, unsupported extension)."""


class ConfigError(FtkError):
    """A bad `[tool.ftk.lint]` table or recipe."""

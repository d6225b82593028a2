"""User-facing errors: one line that names the file or option and the fix."""


class KwsError(Exception):
    """A problem the user can fix; the CLI prints it as one line, no traceback.

    ``exit_code`` follows the CLI convention: 1 for a failed check or bad
    input file, 2 for a usage error (bad option value).
    """

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(KwsError):
    """A bad option or argument value."""

    exit_code = 2


class AudioFileError(KwsError):
    """A wav file kws cannot use as it is."""

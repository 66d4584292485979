"""The one exception type for problems a user can fix (bad data, bad paths, bad checkpoints).

The CLI turns it into a one-line message and exit code 2; library callers can catch it.
"""


class DigitseqError(Exception):
    """A user-facing error; its message names the file (and row) at fault."""


class DataError(DigitseqError, ValueError):
    """A problem with an image, a label file or a label."""


class CheckpointError(DigitseqError):
    """A checkpoint that is missing, corrupt or does not fit the task."""

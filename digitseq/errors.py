"""The one exception type for problems a user can fix (bad data, bad paths, bad checkpoints).

The CLI turns it into a one-line message and exit code 2; library callers can catch it.
"""


class DigitseqError(Exception):
    """A user-facing error; its message names the file (and row) at fault."""


class DataError(DigitseqError, ValueError):
    """A problem with an image, a label file or a label."""


class CheckpointError(DigitseqError):
    """A checkpoint that is missing, corrupt or does not fit the task."""


def make_folder(folder, for_path=None, error: type[DigitseqError] = DigitseqError) -> None:
    """Create ``folder`` (and its parents) if missing, with a one-line ``error`` where it cannot be (a file in the
    way): named by ``for_path``, the file that was to go in it, where given."""
    from pathlib import Path

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        what = f"{for_path}: cannot create its folder {folder}" if for_path else f"{folder}: cannot create this folder"
        raise error(f"{what} ({exc.strerror})") from None

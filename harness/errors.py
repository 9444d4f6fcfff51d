"""Exceptions with messages a user can act on."""


class DataNotFoundError(FileNotFoundError):
    """The benchmark data is missing or unreadable; the message names the setting and the file."""


def unknown_name(kind: str, name: object, valid: "list[str] | tuple[str, ...]") -> ValueError:
    """The error for a name that is not registered, listing the ones that are."""
    plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return ValueError(f"unknown {kind} {name!r}; valid {plural}: {', '.join(map(str, valid))}")


class InputError(ValueError):
    """A file or value the user gave holds something of the wrong type or range; the message names the file
    (or argument) and the field."""

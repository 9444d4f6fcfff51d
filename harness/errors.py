"""Exceptions with messages a user can act on."""

import pickle


class DataNotFoundError(FileNotFoundError):
    """The benchmark data is missing or unreadable; the message names the setting and the file."""


def unknown_name(kind: str, name: object, valid: "list[str] | tuple[str, ...]") -> ValueError:
    """The error for a name that is not registered, listing the ones that are."""
    plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return ValueError(f"unknown {kind} {name!r}; valid {plural}: {', '.join(map(str, valid))}")


class InputError(ValueError):
    """A file or value the user gave holds something of the wrong type or range; the message names the file
    (or argument) and the field."""


class DegenerateWarning(UserWarning):
    """An input that makes a computed value meaningless (constant scores or images, too few archs or images
    for a statistic); the message says what is degenerate and what the value became."""


def check_seed(seed: object, name: str = "seed") -> int:
    """A seed as an int, or an error naming the argument: numpy refuses negative seeds deep inside, torch
    wraps them silently, and a float or bool seed is a mistake."""
    import numbers

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InputError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


class ForbiddenGlobalError(pickle.UnpicklingError, ValueError):
    """A pickle (benchmark or image file) referenced a global its restricted unpickler does not resolve; the
    message names the file and the global. A ValueError too, so that it is reported like any bad input."""

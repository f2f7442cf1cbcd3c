"""One error hierarchy for everything contextvec raises on purpose.

Every message says what was wrong, where, and how to fix it. Catch `ContextvecError` to handle them all.
"""

from __future__ import annotations


class ContextvecError(Exception):
    """Base class of every error contextvec raises deliberately."""


class InvalidInputError(ContextvecError, ValueError):
    """A text, word list or span that cannot be embedded as given."""


class SpanError(InvalidInputError):
    """A character span that is outside its text, empty, or not on word boundaries."""


class OptionError(ContextvecError, ValueError):
    """An unknown option name or an option value outside the valid set."""


class LayerError(OptionError):
    """A layer specification that does not fit the model's layers."""


class ModelNotFoundError(ContextvecError, LookupError):
    """A model name that is neither installed, a local folder, nor reachable on the hub."""


class ModelLoadError(ContextvecError, RuntimeError):
    """A model that was found but could not be loaded or prepared."""


class MissingExtraError(ContextvecError, ImportError):
    """An optional dependency that is not installed; the message names the pip command."""


class InputFileError(ContextvecError, ValueError):
    """A malformed input file; the message names the file and line."""


class DatasetNotFoundError(ContextvecError, LookupError):
    """A public dataset that is not installed; the message names the command that installs it."""


class NonFiniteError(ContextvecError, ArithmeticError):
    """Vectors holding NaN or infinity: damaged weights, or values too large for the requested output dtype."""


class OutputPathError(ContextvecError, ValueError):
    """An output path that cannot be written as asked; checked before any work is done."""


class IndexStateError(ContextvecError, RuntimeError):
    """An index folder that does not fit the request: other model/layers/input, unfinished, or corrupt."""


class OutputWriteError(ContextvecError, OSError):
    """Output that could not be written (disk full, permissions); what was already written is kept."""


class CheckpointError(ContextvecError, RuntimeError):
    """A training checkpoint that is corrupt, half-written, or from another run; the message says which and why."""

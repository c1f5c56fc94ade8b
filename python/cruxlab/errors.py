"""The exceptions cruxlab raises.

Bad input (an unknown experiment, a config key that does not exist, an action out of range) raises
:class:`UserError`, a :class:`ValueError`, carrying the message the ``cruxlab`` command prints
after ``error:``. Anything else raises :class:`InternalError`, a :class:`RuntimeError`; a panic in
the Rust core arrives as one too instead of stopping the interpreter.
"""


class CruxlabError(Exception):
    """Base class of every error cruxlab raises."""


class UserError(CruxlabError, ValueError):
    """Bad input: the CLI would exit with code 2 and this message."""


class InternalError(CruxlabError, RuntimeError):
    """A failure that is not the caller's doing (a bug, a full disk)."""

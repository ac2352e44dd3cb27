"""The one exception a user of rebalance ever sees."""

from __future__ import annotations


class RebalanceError(Exception):
    """A failure the user can fix.

    ``str(exc)`` is the whole message, on one line: it names the file, column or
    value at fault and, where there is one, the fix. The CLI prints it after
    ``rebalance: error:`` and exits with status 2.
    """


class RebalanceWarning(UserWarning):
    """Something the user should know that does not stop the command.

    The CLI prints it as one ``rebalance: warning: ...`` line on stderr.
    """

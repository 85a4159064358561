"""The one exception a command raises to stop with exit 2 (usage or configuration error).

It lives in core so that every stage can raise it without importing the CLI, which catches it
and prints its message as one line on stderr.
"""


class UsageError(Exception):
    """Bad command line or configuration: exit 2 with one line on stderr."""

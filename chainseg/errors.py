"""The one error type for problems the user can fix.

The command line prints its message alone on one line and exits with code 2; anything else is a bug and
exits with 1. Messages name the problem and what to do, and never carry an RPC URL (it may hold an API key).
"""


class UserError(Exception):
    """A problem the user can fix; the message says how."""

    def __init__(self, message: str) -> None:
        # One line, always: a multi-line message would be cut by log collectors and CI summaries.
        super().__init__(" ".join(message.split()))

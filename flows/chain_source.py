"""Where a configured chain's node is: its URL from an environment variable, or the local devnet."""

from __future__ import annotations

import os

from chainseg.config import Config
from chainseg.errors import UserError
from devnet.state import read_state


def chain_url(config: Config, name: str, rpc_url_env: str | None) -> str:
    """The node URL of a configured chain: from its environment variable, or the running devnet."""
    if rpc_url_env:
        url = os.environ.get(rpc_url_env, "").strip()
        if not url:
            raise UserError(
                f"environment variable {rpc_url_env} (chains.{name}.rpc_url_env) is not set; "
                "export it with the node's JSON-RPC URL"
            )
        return url
    running = read_state(config.state_path)
    if running is None:
        raise UserError(
            f"chain '{name}' uses the local devnet, which is not running; start it with `chainseg devnet up`"
        )
    return running.url

"""One look for the help of every ``aegui-train`` command that is not a Lightning one."""

from __future__ import annotations

import argparse
import textwrap


def command_parser(command: str, description: str, example: str) -> argparse.ArgumentParser:
    """A parser whose help wraps the description and shows the example unbroken, ready to copy."""
    return argparse.ArgumentParser(
        prog=f"aegui-train {command}",
        description=textwrap.fill(description, 79),
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

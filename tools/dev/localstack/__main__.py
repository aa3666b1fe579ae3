"""CLI entry: one line per outcome; expected failures exit 1 without a traceback."""

import sys

from . import server

COMMANDS = {
    "up": server.up,
    "down": server.down,
    "status": server.status,
    "logs-path": server.logs_path,
    "prepare": server.prepare,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(f"usage: python -m tools.dev.localstack {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]]()
    except server.ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""framebuf types: the data-type table."""

import json

from ._table import format_table

NAME = "types"
HELP = "list every frame-buffer data type (components, bits, meaning, default filtering)"


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    from ..datatypes import table_rows  # numpy loads when the command runs, not for --help
    rows = table_rows()
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0

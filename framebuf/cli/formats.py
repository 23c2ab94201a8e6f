"""framebuf formats: the format table, generated from the plugin registry."""

import json
import shutil

from ..formats.base import option_row
from ..plugins import registry
from ._table import format_table

NAME = "formats"
HELP = "list every registered file format with its data types, compressions and options"
DESCRIPTION = HELP + "\n\nThe default data type and compression of each format are marked with *."


def _rows(verbose: bool):
    rows = []
    for spec in sorted(registry().formats.values(), key=lambda s: s.name.lower()):
        mode = ("r" if spec.reader else "-") + ("w" if spec.writer else "-")
        row = {
            "format": spec.name,
            "ext": ",".join(spec.extensions),
            "rw": mode if spec.available else "unavailable",
            "types": " ".join(t + ("*" if t == spec.default_datatype else "") for t in spec.datatypes),
            "compression": " ".join(c + ("*" if c == spec.default_compression else "")
                                    for c in spec.compressions) or "-",
            "options": " ".join(spec.options) or "-",
            "description": spec.description,
        }
        if verbose:
            row["notes"] = spec.unavailable_reason if not spec.available else spec.notes
            # the rows' help texts (a row is an Option, or a plain help string from an older plugin)
            row["option_help"] = {k: option_row(r).help for k, r in spec.options.items()}
            row["read_option_help"] = {k: option_row(r).help for k, r in spec.read_options.items()}
        rows.append(row)
    return rows


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print each format's notes (documented choices, unknowns) and "
                             "the help of its write and read options")


def run(args) -> int:
    rows = _rows(args.verbose or args.json)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif args.verbose:
        for row in rows:
            notes = row.pop("notes")
            helps = [("option", row.pop("option_help")), ("read option", row.pop("read_option_help"))]
            print(format_table([row]))
            if notes:
                print(f"  notes: {notes}")
            for kind, table in helps:
                for name, text in table.items():
                    print(f"  {kind} {name}: {text}")
            print()
    else:
        # 315 columns unwrapped: narrow the wide columns to the terminal (80 when piped)
        print(format_table(rows, width=shutil.get_terminal_size().columns))
    return 0

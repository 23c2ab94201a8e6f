"""framebuf shaders: every registered output shader with its parameters and buffers."""

from __future__ import annotations

import json

from ._table import format_table

NAME = "shaders"
HELP = "list every registered output shader with its parameters (types, defaults) and buffers"
DESCRIPTION = HELP + (
    "\n\nBuffer parameters name frame buffers; 'primary' is the set's primary colour buffer, and a "
    "written buffer\nwithout a name is the one read (in place). Run one with "
    "'framebuf apply IN -o OUT --shader NAME:param=value'."
)


def add_arguments(parser):
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these shaders")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def run(args) -> int:
    from ..plugins import registry  # the registry loads when the command runs, not for --help
    from ..shading import describe

    reg = registry()
    table = reg.shaders
    names = args.names or sorted(table)
    missing = [n for n in names if n not in table]
    if missing:
        from ..errors import ShaderError

        raise ShaderError(f"unknown output shader {', '.join(map(repr, missing))}; "
                          f"shaders: {', '.join(sorted(table))}")
    if args.json:
        doc = [{"name": n, "summary": table[n].summary(), "origin": reg.origin.get(("shaders", n)),
                "reads": list(table[n].reads), "writes": list(table[n].writes),
                "creates": dict(table[n].creates), "params": describe(table[n])} for n in names]
        print(json.dumps(doc, indent=2))
        return 0
    for i, n in enumerate(names):
        spec = table[n]
        if i:
            print()
        print(f"{n}: {spec.summary()}")
        origin = reg.origin.get(("shaders", n), "")
        print(f"  reads: {', '.join(spec.reads) or '-'}   writes: {', '.join(spec.writes) or '-'}"
              f"   plugin: {origin}")
        rows = describe(spec)
        if rows:
            print("\n".join("  " + line for line in format_table(rows).splitlines()))
    return 0

"""The ``framebuf`` command. Thin: every subcommand parses arguments, calls the library, prints.

Each subcommand is one module of this package defining ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``; ``ORDER`` only fixes the order ``--help`` lists them in.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import FramebufError

ORDER = ["render", "types", "formats", "shaders", "copy", "apply", "info", "extract", "matte"]


def _command_modules(only: str | None = None):
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    if only in names:  # one command: import only its module (others import Numba, plugins...)
        names = [only]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return [importlib.import_module(f"{__name__}.{n}") for n in names]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framebuf",
        description="Typed framebuffers, output shaders and image files after mental ray's "
                    "output system.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"framebuf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules(only):
        p = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # `framebuf extract ...` builds the parser of that one command (start-up of a short job);
    # anything else (no command, --help, --version, a typo) gets the full parser
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    import warnings

    from ..errors import DroppedWarning

    def one_line(message, category, *_args, **_kw):
        print(f"framebuf {args.command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DroppedWarning)
            warnings.showwarning = one_line
            return int(args._run(args) or 0)
    except FramebufError as exc:
        print(f"framebuf {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"framebuf {args.command}: error: {exc.filename or exc}: no such file", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"framebuf {args.command}: error: {exc.filename or exc}: permission denied", file=sys.stderr)
        return 2
    except FileExistsError as exc:  # an output folder named like an existing file
        print(f"framebuf {args.command}: error: {exc.filename}: exists and is not a folder", file=sys.stderr)
        return 2
    except (NotADirectoryError, IsADirectoryError) as exc:
        print(f"framebuf {args.command}: error: {exc.filename or exc}: {exc.strerror}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (``framebuf shaders | head``): not an error; silence the final flush
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"framebuf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

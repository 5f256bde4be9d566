"""The ``gradlint`` command. Exit codes: 0 no failing finding, 1 findings, 2 usage,
configuration or internal error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn, Optional, Sequence, TextIO

from gradlint import __version__
from gradlint.config import OUTPUT_FORMATS, ConfigError, Settings, find_pyproject, load

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMMANDS = ("check", "rules", "explain", "rule", "server", "clean")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as ruff does
        self.exit(EXIT_ERROR, f"gradlint: error: {message}\n")


def _codes(value: str) -> list[str]:
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{value}'") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{value}'")
    return number


def _model_spec(value: str) -> str:
    """``FILE:CALLABLE`` with an existing Python file."""
    file, _, name = value.rpartition(":")
    if not file or not name or not all(part.isidentifier() for part in name.split(".")):
        raise argparse.ArgumentTypeError(f"'{value}' is not FILE:CALLABLE (e.g. models/net.py:build)")
    if not Path(file).is_file():
        raise argparse.ArgumentTypeError(f"'{file}': no such file")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradlint",
        description="Find the causes of vanishing and exploding gradients in PyTorch code.",
        epilog="Commands: check (default), rules, explain CODE|NAME (or rule CODE), server, clean. Exit: 0 clean, 1 findings, 2 error.",
    )
    parser.add_argument("--version", action="version", version=f"gradlint {__version__}")
    parser.add_argument("paths", nargs="*", default=None, help="files or folders to check (default: .)")
    parser.add_argument("--select", type=_codes, help="comma-separated rule codes or prefixes to enable (e.g. GL2,GL101)")
    parser.add_argument("--extend-select", type=_codes, default=[], help="codes or prefixes to enable on top of the selection")
    parser.add_argument("--ignore", type=_codes, default=[], help="codes or prefixes to disable")
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, help="how to print findings (default: text)")
    parser.add_argument("--config", type=Path, help="read settings from this TOML file instead of the nearest pyproject.toml")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    parser.add_argument("--no-exec", action="store_true", help="static checks only: never import or run user code")
    parser.add_argument("--fail-on", choices=("info", "warning", "error"), help="lowest severity that makes the exit code 1 (default: warning)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write .gradlint_cache/")
    parser.add_argument("--jobs", "-j", type=_positive_int, help="processes to use for many files (default: the number of cores)")
    parser.add_argument("--statistics", action="store_true", help="print the number of findings per rule code instead of the findings")
    parser.add_argument("--stdin-filename", help="lint the text on stdin as this file (also: the path '-')")
    parser.add_argument("--fix", action="store_true", help="apply the fixes of fixable findings ([*]) to the files")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and change nothing (exit 1 if there are any)")
    parser.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff, also apply the fixes marked unsafe (they may change what the code means)")
    parser.add_argument("--model", action="append", default=[], type=_model_spec, metavar="FILE:CALLABLE",
                        help="analyse this model (a class or factory in FILE; repeatable)")
    parser.add_argument("--input", metavar="SPEC", help="input for the models of this run, e.g. float32[8,3,32,32]")
    parser.add_argument("--probe", dest="probe", action="store_true", default=None, help="run the gradient probe on each model (default: from config)")
    parser.add_argument("--no-probe", dest="probe", action="store_false", help="static model analysis only, no probe run")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where the probe runs (default: auto, CUDA when available)")
    parser.add_argument("--probe-dtype", choices=("float32", "bfloat16", "float16"), help="probe precision; bfloat16/float16 run the forward under autocast")
    parser.add_argument("--probe-steps", type=_positive_int, metavar="N", help="training steps the probe runs (default: 1)")
    parser.add_argument("--show-probe", action="store_true", help="draw the probe chart under every probed model, not only those with findings")
    parser.add_argument("--report", type=Path, metavar="FILE.html", help="also write a self-contained HTML page with the probe's per-layer charts and tables")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "rules":
            return _cmd_rules(sys.stdout)
        if argv and argv[0] in ("explain", "rule"):  # `rule` is ruff's spelling
            return _cmd_explain(argv[1:], sys.stdout)
        if argv and argv[0] == "server":
            return _cmd_server(argv[1:])
        if argv and argv[0] == "clean":
            return _cmd_clean(argv[1:], sys.stderr)
        if argv and argv[0] == "check":
            argv = argv[1:]
        return _cmd_check(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches the user
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        sys.stderr.write(f"gradlint: internal error: {detail} (please report it; run with GRADLINT_DEBUG=1 for details)\n")
        if os.environ.get("GRADLINT_DEBUG"):
            raise
        return EXIT_ERROR


def _error(message: str) -> int:
    sys.stderr.write(f"gradlint: error: {message}\n")
    return EXIT_ERROR


def resolve_settings(args: argparse.Namespace) -> Settings:
    if args.config is not None:
        settings = load(args.config, explicit=True)
    else:
        given = [p for p in args.paths or [] if p != "-"] or [getattr(args, "stdin_filename", None) or "."]
        first = Path(given[0])
        while not first.exists() and first != first.parent:  # a --stdin-filename need not exist
            first = first.parent
        settings = load(find_pyproject(first if first.exists() else Path.cwd()))
    from gradlint.registry import is_known_selector

    if getattr(args, "input", None) is not None:
        from gradlint.probe.spec import spec_problem

        problem = spec_problem(args.input)
        if problem:
            raise ConfigError(f"--input: {problem}")
    for flag in ("select", "extend_select", "ignore"):
        for code in getattr(args, flag) or []:
            if not is_known_selector(code):
                raise ConfigError(f"unknown rule code '{code}' in --{flag.replace('_', '-')}")
    if args.select is not None:
        settings.select = args.select
    settings.extend_select = settings.extend_select + args.extend_select
    settings.ignore = settings.ignore + args.ignore
    if args.output_format:
        settings.output_format = args.output_format
    if args.fail_on:
        from gradlint.findings import Severity

        settings.fail_on = Severity(args.fail_on)
    settings.unsafe_fixes = getattr(args, "unsafe_fixes", False)
    if getattr(args, "probe", None) is not None:
        settings.probe["enabled"] = args.probe
    for flag, key in (("device", "device"), ("probe_dtype", "dtype"), ("probe_steps", "steps")):
        if getattr(args, flag, None) is not None:
            settings.probe[key] = getattr(args, flag)
    return settings


def _cmd_check(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = resolve_settings(args)
    except ConfigError as exc:
        return _error(str(exc))

    from gradlint.report import render
    from gradlint.runner import RunOptions, UsageError, run, run_source

    options = RunOptions(no_exec=args.no_exec, jobs=args.jobs, use_cache=not args.no_cache,
                         models=args.model, input=args.input)
    try:
        if args.stdin_filename is not None or args.paths == ["-"]:
            result = run_source(sys.stdin.buffer.read(), args.stdin_filename or "-", settings)
        else:
            if args.fix or args.diff:
                from gradlint.fix.apply import run_fix

                diff_exit = run_fix(args.paths or ["."], settings, diff_only=args.diff, quiet=args.quiet)
                if diff_exit is not None:
                    return diff_exit
            result = run(args.paths or ["."], settings, options)
            if result.files == 0:  # as ruff: a wrong folder must not read as a clean one
                sys.stderr.write("gradlint: warning: no Python files found under the given paths\n")
    except UsageError as exc:
        return _error(str(exc))
    if args.statistics:
        from gradlint.report.statistics import render_statistics

        render_statistics(result, settings.output_format, sys.stdout)
    else:
        render(result, settings.output_format, settings, sys.stdout, quiet=args.quiet, color=_use_color(sys.stdout),
               show_probe=args.show_probe)
    if settings.output_format != "github" or args.statistics:  # github prints them as ::notice:: lines
        for notice in result.notices:
            sys.stderr.write(f"gradlint: notice: {notice}\n")
    sys.stdout.flush()
    if args.report is not None:  # probe pictures as one self-contained page
        import shlex

        from gradlint.report.html import write_report

        try:
            write_report(args.report, result, "gradlint " + " ".join(shlex.quote(a) for a in argv))
        except OSError as exc:
            return _error(f"{args.report}: cannot write the report: {exc.strerror or exc}")
    failing = [f for f in result.findings if f.severity.rank >= settings.fail_on.rank]
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_OK


def _cmd_server(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write("usage: gradlint server [--stdio]\n\nStart the language server (LSP over stdio); needs the server extra: pip install 'torch-gradlint[server]'.\n")
        return EXIT_OK
    if argv and argv[0] not in ("--stdio",):
        return _error("usage: gradlint server [--stdio] (the language server speaks LSP over stdio)")
    try:
        from gradlint.server.server import serve
    except ImportError as exc:
        return _error(f"the language server needs pygls ({exc}); install the server extra: pip install 'torch-gradlint[server]' (from a checkout: pip install '.[server]')")
    serve()
    return EXIT_OK


def _cmd_clean(argv: list[str], stream: TextIO) -> int:
    """Remove the cache of the project the current folder (or the given folders) belong to."""
    from gradlint.cache import clean

    for given in argv or ["."]:
        start = Path(given)
        if not start.is_dir():
            return _error(f"{given}: not a folder")
        pyproject = find_pyproject(start)
        for root in {start.resolve(), *([pyproject.parent.resolve()] if pyproject else [])}:
            if clean(root):
                stream.write(f"Removing cache at: {root / '.gradlint_cache'}\n")
    return EXIT_OK


def _use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _cmd_rules(stream: TextIO) -> int:
    from gradlint.registry import all_rules

    rules = list(all_rules().values())
    header = ("code", "name", "severity", "fixable", "summary")
    rows = [(r.code, r.name, r.severity.value, "yes" if r.fixable else "no", r.summary) for r in rules]
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
    for row in [header] + rows:
        stream.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] + "\n")
    return EXIT_OK


def _cmd_explain(argv: list[str], stream: TextIO) -> int:
    from gradlint.registry import all_rules, get_rule

    if len(argv) != 1:
        return _error("usage: gradlint explain CODE|NAME (e.g. gradlint explain GL206, gradlint explain missing-zero-grad)")
    rules = all_rules()
    wanted = argv[0].strip()
    rule = get_rule(wanted) or next((r for r in rules.values() if r.name == wanted.lower()), None)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(wanted.lower(), [r.name for r in rules.values()], n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return _error(f"unknown rule '{wanted}': {hint}`gradlint rules` lists every code and name")
    stream.write(f"# {rule.code}: {rule.name}\n\n")
    stream.write(f"Severity: {rule.severity.value}. Fixable: {'yes' if rule.fixable else 'no'}.\n")
    if rule.options:
        options = ", ".join(f"{k} = {v!r}" for k, v in rule.options.items())
        stream.write(f"Options ([tool.gradlint.rules.{rule.code}]): {options}\n")
    stream.write(f"\n{rule.summary}.\n\n{rule.doc}\n")
    return EXIT_OK

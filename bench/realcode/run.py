"""The real-code benchmark: gradlint on pinned public sources, every finding judged.

    python bench/realcode/run.py [--no-models] [--only SUBSTRING] [--check]

Reads ``corpus.toml`` beside this file, downloads the PyPI sources it pins (sdists,
``pip download --no-deps``) into a cache outside the repository
($GRADLINT_REALCODE_CACHE, default ~/.cache/gradlint-realcode), looks up the GitHub
snapshots under $GRADLINT_REALREPOS (default ~/.cache/gradlint-realcode/repos), runs
gradlint on each source (the source rules over ``static`` paths with ``--no-exec``,
model analysis and the probe over ``models``), and compares every finding with the
judged list in ``verdicts/<CODE>.tsv`` (``source, path, line, verdict, reason``; verdict
``true``, ``false`` or ``debatable``); ``misses.tsv`` lists problems a reviewer found
that no rule reported (recall work).

It prints, per rule: findings, judged true/false/debatable, precision
(true / (true + false); debatable findings are shown, not counted) and the findings not
judged yet, as TSV lines ready to be judged; and the judged-true findings that are no
longer reported (recall lost). ``--check`` exits 1 when a finding is unjudged, a true
one is lost, or precision is under 0.9 for a rule with 5 or more judged findings or
under 0.95 overall.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("GRADLINT_REALCODE_CACHE", Path.home() / ".cache" / "gradlint-realcode"))
REPOS = Path(os.environ.get("GRADLINT_REALREPOS", CACHE / "repos"))
VERDICTS = HERE / "verdicts"
COLUMNS = ("source", "path", "line", "verdict", "reason")
MIN_JUDGED, RULE_PRECISION, OVERALL_PRECISION = 5, 0.9, 0.95


@dataclass(frozen=True)
class Key:
    code: str
    source: str
    path: str
    line: int


def _source_rule(code: str) -> bool:
    """The rule reads source (scope ``file`` or ``loop``): it runs without model analysis."""
    from gradlint.registry import get_rule  # (the checkout's own gradlint, as the runs below use)

    try:
        return get_rule(code).scope in ("file", "loop")
    except Exception:  # GL001/GL002 and codes a later checkout dropped: count them as source findings
        return True


def fetch_pypi(source: dict) -> Path | None:
    """The unpacked sdist of a ``pypi:NAME==VERSION`` source (downloaded once)."""
    target = CACHE / "src" / source["root"]
    if target.exists():
        return target
    requirement = source["id"].split(":", 1)[1]
    wheel = source.get("wheel", False)  # packages that publish no sdist
    download = CACHE / "dl"
    download.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                           "--only-binary" if wheel else "--no-binary", ":all:", requirement, "-d", str(download)],
                          capture_output=True, text=True)
    name, version = requirement.split("==")
    prefix = f"{name.lower().replace('-', '_')}-{version}"
    archives = [p for p in download.glob("*.whl" if wheel else "*.tar.gz")
                if p.name.lower().replace("-", "_").startswith(prefix.replace("-", "_"))]
    if done.returncode or not archives:
        print(f"  {source['id']}: download failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    if wheel:
        with zipfile.ZipFile(archives[0]) as archive:
            archive.extractall(target, members=[n for n in archive.namelist() if n.endswith(".py")])
    else:
        with tarfile.open(archives[0]) as archive:
            members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(".py")]
            archive.extractall(CACHE / "src", members=members, filter="data")
    return target if target.exists() else None


def locate(source: dict) -> Path | None:
    kind, rest = source["id"].split(":", 1)
    if kind == "pypi":
        return fetch_pypi(source)
    owner_name = rest.split("@", 1)[0]
    folder = REPOS / owner_name.replace("/", "+")
    return folder if folder.exists() else None


def gradlint(root: Path, args: list[str]) -> tuple[list[dict], list[dict], float]:
    command = [sys.executable, "-m", "gradlint", "--no-cache", "--exit-zero", "--output-format", "json", *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"  gradlint failed in {root}: {done.stderr.strip()[-300:]}")
        return [], [], elapsed
    return data["findings"], data.get("models", []), elapsed


def _rows(file: Path) -> list[dict[str, str]]:
    if not file.exists():
        return []
    with file.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_verdicts() -> dict[Key, tuple[str, str]]:
    verdicts: dict[Key, tuple[str, str]] = {}
    for file in sorted(VERDICTS.glob("GL*.tsv")):
        code = file.stem
        with file.open(newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                verdict = row["verdict"].strip()
                if verdict not in ("true", "false", "debatable"):
                    raise SystemExit(f"{file}: bad verdict {verdict!r} (true, false or debatable)")
                verdicts[Key(code, row["source"], row["path"], int(row["line"]))] = (verdict, row["reason"])
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-models", action="store_true", help="source rules only (no model analysis, no probe)")
    parser.add_argument("--only", help="sources whose id contains this text")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every finding is judged and precise enough")
    parser.add_argument("--json", type=Path, help="also write the findings and verdict counts here")
    args = parser.parse_args()

    corpus = tomllib.loads((HERE / "corpus.toml").read_text())["source"]
    verdicts = load_verdicts()
    found: dict[Key, str] = {}
    ran: set[str] = set()
    models_seen: list[tuple[str, dict]] = []
    for source in corpus:
        if args.only and args.only not in source["id"]:
            continue
        root = locate(source)
        if root is None:
            print(f"{source['id']}: not on disk (see corpus.toml), left out")
            continue
        ran.add(source["id"])
        findings, _, seconds = gradlint(root, ["--no-exec", "--select", "ALL", *source.get("static", ["."])])
        line = f"{source['id']}: static {seconds:.1f} s, {len(findings)} findings"
        if source.get("models") and not args.no_models:
            model_findings, models, model_seconds = gradlint(root, ["--select", "GL0,GL1,GL3,GL4", *source["models"]])
            findings += [f for f in model_findings if f["code"][2] in "134" or f["code"].startswith("GL00")]
            models_seen += [(source["id"], m) for m in models]
            line += f"; models {model_seconds:.1f} s, {len(models)} analysed"
        print(line)
        for finding in findings:
            found[Key(finding["code"], source["id"], finding["path"], finding["line"])] = finding["message"]

    per_rule: dict[str, Counter] = defaultdict(Counter)
    unjudged: list[tuple[Key, str]] = []
    for key, message in sorted(found.items(), key=lambda kv: (kv[0].code, kv[0].source, kv[0].path, kv[0].line)):
        verdict = verdicts.get(key, (None, ""))[0]
        per_rule[key.code][verdict or "unjudged"] += 1
        if verdict is None:
            unjudged.append((key, message))
    lost = [(k, v) for k, v in verdicts.items() if v[0] == "true" and k.source in ran and k not in found
            and (not args.no_models or _source_rule(k.code))]  # (--no-models: the model and probe rules did not run)
    gone = [(k, v) for k, v in verdicts.items() if v[0] != "true" and k.source in ran and k not in found]

    print(f"\n{'rule':7} {'found':>5} {'true':>5} {'false':>5} {'debat':>5} {'unjudged':>8} {'precision':>9}")
    total = Counter()
    failing = []
    for code in sorted(per_rule):
        counts = per_rule[code]
        total.update(counts)
        judged = counts["true"] + counts["false"]
        precision = counts["true"] / judged if judged else float("nan")
        if judged >= MIN_JUDGED and precision < RULE_PRECISION:
            failing.append(code)
        print(f"{code:7} {sum(counts.values()):5} {counts['true']:5} {counts['false']:5} {counts['debatable']:5} "
              f"{counts['unjudged']:8} {precision:9.2f}")
    judged = total["true"] + total["false"]
    overall = total["true"] / judged if judged else float("nan")
    print(f"{'all':7} {sum(total.values()):5} {total['true']:5} {total['false']:5} {total['debatable']:5} "
          f"{total['unjudged']:8} {overall:9.2f}")
    if unjudged:
        print(f"\nNot judged yet ({len(unjudged)}): add to verdicts/<CODE>.tsv")
        for key, message in unjudged:
            print(f"{key.code}\t{key.source}\t{key.path}\t{key.line}\t?\t{message[:140]}")
    if lost:
        print(f"\nJudged true but no longer reported ({len(lost)}): recall lost")
        for key, (_, reason) in lost:
            print(f"{key.code}\t{key.source}\t{key.path}\t{key.line}\t{reason}")
    if gone:
        print(f"\nJudged false/debatable and no longer reported: {len(gone)}")
    misses = [row for row in _rows(HERE / "misses.tsv") if row["source"] in ran]
    if misses:
        caught = [row for row in misses if Key(row["code"], row["source"], row["path"], int(row["line"])) in found]
        print(f"\nKnown misses (a reviewer expected a finding there): {len(misses)}, now found: {len(caught)}")
        for row in misses:
            if row not in caught:
                print(f"  {row['code']}\t{row['source']}\t{row['path']}\t{row['line']}\t{row['reason'][:100]}")
    probed = [(s, m) for s, m in models_seen if m.get("probe")]
    if models_seen:
        print(f"\nModels: {len(models_seen)} analysed, {len(probed)} probed")
    if args.json:
        args.json.write_text(json.dumps({"per_rule": {c: dict(v) for c, v in per_rule.items()},
                                         "findings": [dict(k.__dict__, message=m) for k, m in found.items()]}, indent=1))
    bad = bool(unjudged or lost or failing or (judged and overall < OVERALL_PRECISION))
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())

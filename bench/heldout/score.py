#!/usr/bin/env python3
"""Score gradlint's GL107/GL108/GL109/GL215/GL406 on one held-out set (bench/heldout/roundN/).

usage: python bench/heldout/score.py SET_DIR --repos DIR [CHECKOUT] [--no-exec] [--raw-dir DIR]

SET_DIR   a held-out set: EXPECTED.tsv, NEGATIVES.tsv, COMMITS.txt (and ALT_POSTHOC.tsv).
--repos   where the repositories of COMMITS.txt are, one folder each, named <owner>+<name>
          (the .py files of that commit; fetch them yourself: CI has no network).
CHECKOUT  a gradlint checkout with a .venv (default: this one); its .venv/bin/gradlint runs
          on every repository:
            gradlint check <repo> --select GL107,GL108,GL109,GL215,GL406 --output-format json
                                  --no-probe --no-cache --exit-zero [--no-exec]
--no-exec pass --no-exec to gradlint (static only).
--raw-dir write each repository's JSON output there (default: nothing written).

Findings are compared with EXPECTED.tsv (source, path, line, code, note):
  strict:  a finding matches an expected row on path + line + code;
  lenient: rows may name other acceptable locations in their note as
           "alt=path:line,path:line" (the softmax layer, the loss call, ...; an item written
           "owner+name:path:line" with the row's own source is read as "path:line"); ALT_POSTHOC.tsv adds
           a few more, each with the reason it was added after the first run. A finding on the
           row's line or any alt location matches the row, and further findings on the same row
           are counted as duplicates, not false positives.
Per rule it prints TP, FP (reported, not expected), misses (expected, not reported), precision
and recall, then lists every mismatch, and flags any finding that hits a NEGATIVES.tsv row.
"""
import csv
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

HERE = ""  # the set's folder (SET_DIR)
REPOS = ""  # the repositories' folder (--repos)
CODES = ["GL107", "GL108", "GL109", "GL215", "GL406"]


def read_tsv(name):
    with open(os.path.join(HERE, name), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:  # a set whose rows put the source text in `code` and start `note` with the code
        note = row.get("note") or ""
        match = re.match(r"(\[hard\]\s*)?(GL\d{3})\b", note)  # also "[hard] GL406 ..."
        if not re.fullmatch(r"GL\d{3}", row.get("code") or "") and match:
            row["code"], row["note"] = match.group(2), ((match.group(1) or "") + note[match.end():].strip()).strip()
    codes = {row["code"] for row in rows if re.fullmatch(r"GL\d{3}", row.get("code") or "")}
    for row in rows:  # a row with no code at all ("[hard] ..."): the code of every other row of the set
        if not re.fullmatch(r"GL\d{3}", row.get("code") or "") and len(codes) == 1:
            row["code"] = next(iter(codes))
    return rows


def hard(note):
    """The evaluator marked the row beyond static reach: ``[hard]`` opens the note, or opens
    its free text after the ``alt=...`` list (``alt=a.py:3 | [hard] ...``)."""
    return bool(re.match(r"\s*(alt=[^|]*\|\s*)?\[hard\]", note))


def repos():
    out = []
    with open(os.path.join(HERE, "COMMITS.txt")) as f:
        for line in f:
            if line.strip():
                out.append(line.split()[0])
    return out


def check_imports(checkout):
    """Stop unless the checkout's own engine and rules are what its gradlint imports.

    The editable install maps ``gradlint.rules`` to ``rules/`` of the checkout it was made from, so a
    worktree that borrows another checkout's .venv and sets PYTHONPATH still imports that other
    checkout's rules (link ``<worktree>/gradlint/rules -> <worktree>/rules`` to score a worktree).
    """
    python = os.path.join(checkout, ".venv", "bin", "python")
    probe = "import gradlint, gradlint.rules; print(gradlint.__file__); print(list(gradlint.rules.__path__)[0])"
    p = subprocess.run([python, "-c", probe], cwd=checkout, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"score.py: {python} cannot import gradlint: {p.stderr.strip().splitlines()[-1:]}")
    root = os.path.realpath(checkout) + os.sep
    for what, path in zip(("gradlint", "gradlint.rules"), p.stdout.split()):
        if not os.path.realpath(path).startswith(root):
            sys.exit(f"score.py: {what} is imported from {path}, not from {checkout}; "
                     f"link {checkout}/gradlint/rules -> {checkout}/rules or set PYTHONPATH")


def run_gradlint(checkout, repo, no_exec, raw_dir):
    # ``python -m gradlint`` from the checkout: its console script would import whichever
    # checkout the shared editable install points at, not a worktree's code
    python = os.path.join(checkout, ".venv", "bin", "python")
    cmd = [python, "-m", "gradlint", "check", os.path.join(REPOS, repo), "--select", ",".join(CODES),
           "--output-format", "json", "--no-probe", "--no-cache", "--exit-zero"]
    if no_exec:
        cmd.append("--no-exec")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run(["nice"] + cmd, cwd=checkout, capture_output=True, text=True, env=env,
                       timeout=1800)
    if p.returncode not in (0, 1):
        sys.exit(f"gradlint failed on {repo} (exit {p.returncode}):\n{p.stderr}")
    if raw_dir:
        os.makedirs(raw_dir, exist_ok=True)
        with open(os.path.join(raw_dir, repo + ".json"), "w") as f:
            f.write(p.stdout)
    data = json.loads(p.stdout)
    base = os.path.join(os.path.abspath(REPOS), repo) + os.sep
    found = []
    for fd in data.get("findings", []):
        if fd["code"] not in CODES:
            continue
        # (shown relative to the checkout when the projects sit inside it: round21s, round48s)
        path = os.path.normpath(os.path.join(os.path.abspath(checkout), fd["path"]))
        if path.startswith(base):
            path = path[len(base):]
        found.append((repo, path, int(fd["line"]), fd["code"], fd.get("message", "")))
    return found


POSTHOC = {}


def load_posthoc():
    """ALT_POSTHOC.tsv: extra accepted locations added after the first run (see its 'why')."""
    path = os.path.join(HERE, "ALT_POSTHOC.tsv")
    if os.path.exists(path):
        for r in read_tsv("ALT_POSTHOC.tsv"):
            key = (r["source"], r["path"], int(r["line"]), r["code"])
            POSTHOC.setdefault(key, []).extend(a.strip() for a in r["alt"].split(","))


def alt_locations(row, posthoc=True):
    locs = {(row["path"], int(row["line"]))}
    key = (row["source"], row["path"], int(row["line"]), row["code"])
    extra = POSTHOC.get(key, []) if posthoc else []
    for item in extra:
        p, l = item.rsplit(":", 1)
        locs.add((p, int(l)))
    note = row.get("note") or ""
    if "alt=" in note:
        # (``alt=a.py:3,b.py:9 | why``: the list ends at the bar; each item is read up to its
        # line number, so a note's own colons are not places and a path may hold spaces)
        listed = note.split("alt=", 1)[1].split("|", 1)[0]
        for item in listed.split(","):
            item = item.strip().rstrip(";")
            if item.startswith(row["source"] + ":"):  # written ``owner+name:path:line``
                item = item[len(row["source"]) + 1:]
            place = re.match(r"(.+?):(\d+)\b", item)
            if place:
                locs.add((place.group(1), int(place.group(2))))
    return locs


def main():
    global HERE, REPOS
    args = sys.argv[1:]
    no_exec = "--no-exec" in args
    raw_dir = args[args.index("--raw-dir") + 1] if "--raw-dir" in args else None
    if "--repos" not in args:
        sys.exit("score.py: give --repos DIR, the folder holding the set's repositories (see COMMITS.txt)")
    REPOS = os.path.abspath(args[args.index("--repos") + 1])
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and
           (i == 0 or args[i - 1] not in ("--raw-dir", "--repos"))]
    if not pos:
        sys.exit("score.py: give the set's folder (bench/heldout/roundN/...)")
    HERE = os.path.abspath(pos[0])
    default = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    checkout = os.path.abspath(pos[1] if len(pos) > 1 else default)

    check_imports(checkout)
    load_posthoc()
    expected = read_tsv("EXPECTED.tsv")
    negatives = read_tsv("NEGATIVES.tsv")
    findings = []
    for r in repos():
        findings += run_gradlint(checkout, r, no_exec, raw_dir)
    print(f"checkout: {checkout}  ({len(repos())} repositories, {len(findings)} findings)\n")

    exp_keys = {(e["source"], e["path"], int(e["line"]), e["code"]): e for e in expected}
    found_keys = {(f[0], f[1], f[2], f[3]): f for f in findings}

    # strict
    strict = {}
    for c in CODES:
        tp = [k for k in found_keys if k[3] == c and k in exp_keys]
        fp = [k for k in found_keys if k[3] == c and k not in exp_keys]
        miss = [k for k in exp_keys if k[3] == c and k not in found_keys]
        strict[c] = (tp, fp, miss)

    # lenient (alt locations for any row that names them)
    lenient = {}
    for c in CODES:
        rows = [e for e in expected if e["code"] == c]
        matched_rows = set()
        fp, dup = [], []
        # every finding, two at one line included (two frozen encoders one call builds): each
        # takes the first row it matches that no finding has taken yet
        for f in findings:
            k = (f[0], f[1], f[2], f[3])
            if k[3] != c:
                continue
            hits = [i for i, e in enumerate(rows) if e["source"] == k[0] and (k[1], k[2]) in alt_locations(e)]
            free = [i for i in hits if i not in matched_rows]
            if not hits:
                fp.append(k)
            elif not free:
                dup.append(k)
            else:
                matched_rows.add(free[0])
        miss = [rows[i] for i in range(len(rows)) if i not in matched_rows]
        lenient[c] = (len(matched_rows), fp, miss, dup)

    def pr(tp, fp, miss):
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + miss) if tp + miss else float("nan")
        return p, r

    print("rule    strict: TP  FP miss  prec  recall | lenient: TP  FP miss dup  prec  recall")
    for c in CODES:
        tp, fp, miss = strict[c]
        p, r = pr(len(tp), len(fp), len(miss))
        ltp, lfp, lmiss, ldup = lenient[c]
        lp, lr = pr(ltp, len(lfp), len(lmiss))
        print(f"{c}          {len(tp):3d} {len(fp):3d} {len(miss):4d}  {p:4.2f}  {r:5.2f}  |"
              f"          {ltp:3d} {len(lfp):3d} {len(lmiss):4d} {len(ldup):3d}  {lp:4.2f}  {lr:5.2f}")
    alltp = sum(len(strict[c][0]) for c in CODES)
    allfp = sum(len(strict[c][1]) for c in CODES)
    allmiss = sum(len(strict[c][2]) for c in CODES)
    p, r = pr(alltp, allfp, allmiss)
    ltp = sum(lenient[c][0] for c in CODES)
    lfp = sum(len(lenient[c][1]) for c in CODES)
    lmiss = sum(len(lenient[c][2]) for c in CODES)
    lp, lr = pr(ltp, lfp, lmiss)
    print(f"all            {alltp:3d} {allfp:3d} {allmiss:4d}  {p:4.2f}  {r:5.2f}  |"
          f"          {ltp:3d} {lfp:3d} {lmiss:4d}        {lp:4.2f}  {lr:5.2f}")

    # the rows the evaluators did not mark [hard] (reachable by reading the project)
    print("\nrows not [hard], lenient: " + ", ".join(
        f"{c} {len(easy) - sum(e in easy for e in lenient[c][2])}/{len(easy)}" for c in CODES
        if (easy := [e for e in expected if e["code"] == c and not hard(e["note"])])))

    print("\n== strict mismatches")
    for c in CODES:
        tp, fp, miss = strict[c]
        for k in sorted(fp):
            print(f"FP   {c} {k[0]}/{k[1]}:{k[2]}  {found_keys[k][4][:150]}")
        for k in sorted(miss):
            print(f"MISS {c} {k[0]}/{k[1]}:{k[2]}  {exp_keys[k]['note'][:150]}")

    print("\n== lenient mismatches (alt locations accepted)")
    for c in CODES:
        _, fp, miss, dup = lenient[c]
        for k in sorted(fp):
            print(f"FP   {c} {k[0]}/{k[1]}:{k[2]}  {found_keys[k][4][:150]}")
        for e in miss:
            print(f"MISS {c} {e['source']}/{e['path']}:{e['line']}  {e['note'][:150]}")
        for k in sorted(dup):
            print(f"DUP  {c} {k[0]}/{k[1]}:{k[2]}")

    neg_keys = {(n["source"], n["path"], int(n["line"]), n["code"]): n for n in negatives}
    hits = [k for k in found_keys if k in neg_keys]
    print(f"\n== NEGATIVES.tsv rows reported: {len(hits)} of {len(negatives)}")
    for k in sorted(hits):
        print(f"NEG  {k[3]} {k[0]}/{k[1]}:{k[2]}  {neg_keys[k]['note'][:150]}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compare a kosoku (Autobahn TestSuite) report with the checked-in expectations.

    compare.py ROLE [--report DIR_OR_INDEX_JSON] [--expected FILE] [--sections 'GLOB ...']
               [--agent NAME] [--update]

ROLE is `server` or `client`. By default the report is reports/autobahn/ROLE/index.json and
the expectations are tests/autobahn/expected-ROLE.json (paths relative to the repo root).

Only the cases selected by the section globs (default `*`: all) are looked at. A glob
works as kosoku's `-i`: `*` matches any run of characters (dots included), everything
else is literal.

Prints the per-behaviour counts, every case whose `behavior` or `behaviorClose` differs
from the expectation (or that is missing from the report, or that has no expectation),
and a summary line `autobahn ROLE: N passed, M failed`, where passed = cases matching
their expectation. Exits 1 on any difference, 2 on a usage or input error.

With --update, rewrites the expected file from the report instead: the selected cases'
entries are replaced by what the report says (entries for other cases are kept), so
`--sections '12.* 13.*' --update` adds sections without touching the others.

Only the standard library is used, so any Python 3.8+ runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# scripts/autobahn.sh always passes --sections; run by hand, every case is compared.
DEFAULT_SECTIONS = "*"
# Order of the per-behaviour counts; anything else kosoku reports (ERROR, ...) follows.
BEHAVIORS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]


class InputError(Exception):
    pass


def glob_regex(globs: list[str]) -> re.Pattern[str]:
    parts = ["".join(".*" if c == "*" else re.escape(c) for c in g) for g in globs]
    return re.compile("(?:" + "|".join(parts) + r")\Z")


def case_key(case_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def load_report(path: Path, agent: str | None) -> tuple[str, dict[str, dict], Path]:
    index = path / "index.json" if path.is_dir() else path
    try:
        data = json.loads(index.read_text())
    except FileNotFoundError:
        raise InputError(f"no report at {index}") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{index} is not valid JSON: {e}") from None
    if not isinstance(data, dict) or not data:
        raise InputError(f"{index} holds no agent")
    if agent is None:
        if len(data) != 1:
            raise InputError(f"{index} holds several agents {sorted(data)}; pick one with --agent")
        agent = next(iter(data))
    elif agent not in data:
        raise InputError(f"{index} has no agent {agent!r} (it has {sorted(data)})")
    return agent, data[agent], index.parent


def load_expected(path: Path, must_exist: bool) -> dict[str, dict]:
    if not path.exists():
        if must_exist:
            raise InputError(f"no expected file at {path} (create it with --update)")
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not valid JSON: {e}") from None
    for case_id, entry in data.items():
        if not (isinstance(entry, dict) and {"behavior", "behaviorClose"} <= entry.keys()):
            raise InputError(f"{path}: case {case_id} needs 'behavior' and 'behaviorClose'")
    return data


def write_expected(path: Path, expected: dict[str, dict]) -> None:
    """One case per line, in case order, so diffs show exactly the cases that changed."""
    lines = [
        f"  {json.dumps(cid)}: "
        + json.dumps({"behavior": e["behavior"], "behaviorClose": e["behaviorClose"]})
        for cid, e in sorted(expected.items(), key=lambda kv: case_key(kv[0]))
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def counts_line(role: str, cases: dict[str, dict]) -> str:
    def fmt(counter: Counter, order: list[str]) -> str:
        keys = order + sorted(k for k in counter if k not in order)
        return ", ".join(f"{k} {counter[k]}" for k in keys)

    behavior = Counter(c.get("behavior") for c in cases.values())
    close = Counter(c.get("behaviorClose") for c in cases.values())
    close_order = [k for k in ("OK", "INFORMATIONAL") if close[k]] or ["OK"]
    return (
        f"autobahn {role} behaviours ({len(cases)} cases): {fmt(behavior, BEHAVIORS)}"
        f" | behaviorClose: {fmt(close, close_order)}"
    )


def reason(report_dir: Path, case: dict) -> str:
    """Why kosoku gave this verdict, from the per-case JSON file next to index.json."""
    name = case.get("reportfile")
    try:
        full = json.loads((report_dir / name).read_text()) if name else {}
    except (OSError, json.JSONDecodeError):
        full = {}
    parts = []
    if case.get("behavior") != "OK" and full.get("result"):
        parts.append(full["result"])
    if case.get("behaviorClose") != "OK" and full.get("resultClose"):
        parts.append(full["resultClose"])
    text = "; ".join(" ".join(str(s).split()) for s in parts)
    if len(text) > 200:
        text = text[:197] + "..."
    return f" -- {text}" if text else ""


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--report", type=Path, help="report dir or its index.json")
    ap.add_argument("--expected", type=Path, help="expected-ROLE.json")
    ap.add_argument("--sections", default=DEFAULT_SECTIONS, help="case globs, space-separated")
    ap.add_argument("--agent", help="agent key in index.json (default: the only one)")
    ap.add_argument("--update", action="store_true", help="rewrite the expected file")
    args = ap.parse_args(argv)

    role = args.role
    report_path = args.report or REPO / "reports" / "autobahn" / role
    expected_path = args.expected or REPO / "tests" / "autobahn" / f"expected-{role}.json"
    globs = args.sections.split()
    if not globs:
        ap.error("--sections is empty")
    selected = glob_regex(globs)

    try:
        agent, report, report_dir = load_report(report_path, args.agent)
        expected = load_expected(expected_path, must_exist=not args.update)
    except InputError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2

    got = {cid: c for cid, c in report.items() if selected.match(cid)}
    want = {cid: e for cid, e in expected.items() if selected.match(cid)}
    ignored = len(report) - len(got)

    print(f"autobahn {role}: report {report_path} (agent {agent!r}), sections {' '.join(globs)}")
    if ignored:
        print(f"autobahn {role}: ignoring {ignored} reported cases outside the sections")
    print(counts_line(role, got))

    if args.update:
        if not got:
            print(f"compare.py: the report has no case in sections {' '.join(globs)}", file=sys.stderr)
            return 2
        new = {cid: e for cid, e in expected.items() if not selected.match(cid)}
        new.update(
            {cid: {"behavior": c["behavior"], "behaviorClose": c["behaviorClose"]} for cid, c in got.items()}
        )
        changed = sum(
            1 for cid in got if cid in want
            and (want[cid]["behavior"], want[cid]["behaviorClose"]) != (got[cid]["behavior"], got[cid]["behaviorClose"])
        )
        added = len(got.keys() - want.keys())
        removed = len(want.keys() - got.keys())
        write_expected(expected_path, new)
        print(
            f"autobahn {role}: updated {expected_path}: {len(got)} cases from the report"
            f" ({changed} changed, {added} added, {removed} removed), {len(new)} cases in all"
        )
        return 0

    passed, problems = 0, []
    for cid in sorted(got.keys() | want.keys(), key=case_key):
        g, w = got.get(cid), want.get(cid)
        if g is None:
            problems.append(f"  MISSING   {cid}: not in the report (expected {w['behavior']} / {w['behaviorClose']})")
        elif w is None:
            problems.append(
                f"  NO EXPECTATION {cid}: got {g.get('behavior')} / {g.get('behaviorClose')}"
                f" (add it with --update){reason(report_dir, g)}"
            )
        elif (g.get("behavior"), g.get("behaviorClose")) != (w["behavior"], w["behaviorClose"]):
            problems.append(
                f"  MISMATCH  {cid}: behavior {g.get('behavior')} (expected {w['behavior']}),"
                f" behaviorClose {g.get('behaviorClose')} (expected {w['behaviorClose']}){reason(report_dir, g)}"
            )
        else:
            passed += 1
    if not want:
        problems.append(f"  no expected case in sections {' '.join(globs)} (in {expected_path})")

    if problems:
        n = len(problems)
        print(f"autobahn {role}: {n} case{'s' if n != 1 else ''} differ{'' if n != 1 else 's'} from {expected_path}:")
        print("\n".join(problems))
        print(f"autobahn {role}: per-case details: {report_dir / 'index.html'}")
    print(f"autobahn {role}: {passed} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

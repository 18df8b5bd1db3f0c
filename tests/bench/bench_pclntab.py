#!/usr/bin/env python3
"""Go symbol lookups: Pclntab_frames (function, inlined frames, file:line per
frame) against Go's own debug/gosym PCToLine (function, file:line, no inline
expansion) on the same PCs: every return address in the binary's text (what
a dump symbolizes). Both run in-process over the same list, best of 3 rounds.
Debian's gosym (Go 1.19) cannot read the Go 1.20+ format: for esbuild
(go1.26.5) and lefthook (go1.27.0) only our figure is printed."""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.path.join(ROOT, "build", "tests")
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
BINARIES = [("go_symtab", os.path.join(FIXTURES, "go_symtab"), True),
            ("esbuild", os.path.join(ROOT, "build", "npm", "esbuild"), False),
            ("lefthook", os.path.join(ROOT, "build", "npm", "lefthook"), False)]


def return_addresses(path):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", path], capture_output=True,
                         text=True, check=True).stdout
    insn = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)")
    pcs, prev_call = [], False
    for line in out.splitlines():
        m = insn.match(line)
        if m:
            if prev_call:
                pcs.append(f"0x{m.group(1)}")
            prev_call = m.group(2).startswith("call")
    return pcs


def bench(argv, pcs):
    out = subprocess.run(argv, input="\n".join(pcs) + "\n", capture_output=True, text=True, check=True).stdout
    fields = out.split()
    return dict(zip(fields[::2], fields[1::2]))


def main():
    for tool in ("pclntab_query", "gosym_oracle"):
        if not os.path.exists(os.path.join(TOOLS, tool)):
            sys.exit(f"{TOOLS}/{tool} is not built: run 'make fixtures'")
    print(f"{'binary':10} {'unique pcs':>10} {'gosym ns/pc':>12} {'ours ns/pc':>11} {'ratio':>6}"
          f" {'ours ms per 10k pcs':>20}")
    for name, path, gosym in BINARIES:
        if not os.path.exists(path):
            sys.exit(f"{path} is not built: run 'make fixtures'")
        pcs = return_addresses(path)
        ours = bench([os.path.join(TOOLS, "pclntab_query"), "bench", path], pcs)
        ns = float(ours["ns_per_pc"])
        if gosym:
            theirs = float(bench([os.path.join(TOOLS, "gosym_oracle"), "bench", path], pcs)["ns_per_pc"])
            cmp = f"{theirs:12.0f} {ns:11.0f} {ns / theirs:6.2f}"
        else:
            cmp = f"{'n/a':>12} {ns:11.0f} {'-':>6}"
        print(f"{name:10} {len(pcs):10d} {cmp} {ns * 10000 / 1e6:20.2f}"
              f"   ({int(ours['frames']) / len(pcs):.2f} frames/pc)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Every ```cpp block in README.md and docs/*.md is code the test build compiles: the block names
its source, a file under examples/, in the three lines above it, and each of its lines (leading
spaces ignored, "// ..." placeholders skipped) appears in that file.

usage: check_code_blocks.py <source dir>"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
pages = sorted((root / "docs").glob("*.md")) + [root / "README.md"]
failures, blocks = [], 0
for page in pages:
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```cpp"):
            i += 1
            continue
        blocks += 1
        above = "\n".join(lines[max(0, i - 3):i])
        named = re.search(r"examples/([a-z0-9_]+\.cpp)", above)
        text = (root / "examples" / named.group(1)).read_text(encoding="utf-8") if named else None
        if text is None:
            failures.append(f"{page.name}:{i + 1}: a cpp block names no examples/*.cpp file above it")
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            code = lines[i].strip()
            if text is not None and code and not code.startswith("// ...") and code not in text:
                failures.append(f"{page.name}:{i + 1}: not in examples/{named.group(1)}: {code}")
            i += 1
        i += 1
for f in failures:
    print(f)
print(f"{blocks} cpp blocks checked, {len(failures)} problems")
sys.exit(1 if failures else 0)

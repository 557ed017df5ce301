"""Generate layers/deps/requirements.txt from pyproject.toml's [project].dependencies.

The deps layer is exactly the project's runtime dependencies. Packages listed in NO_DEPS are
installed without their dependencies (their only extra dependencies are boto3/botocore, which the
Lambda runtime provides); the Makefile recognises them by the `# no-deps` marker.

    python layers/deps/gen_requirements.py           # rewrite requirements.txt
    python layers/deps/gen_requirements.py --check   # exit 1 if requirements.txt is stale
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent.parent / "pyproject.toml"
REQUIREMENTS = HERE / "requirements.txt"

# Pulled in only for boto3/botocore (+ click for a CLI we do not ship): install with --no-deps.
NO_DEPS = {"aws-msk-iam-sasl-signer-python", "pynamodb"}
NO_DEPS_MARKER = "# no-deps"

HEADER = """\
# GENERATED from pyproject.toml [project].dependencies by layers/deps/gen_requirements.py.
# Do not edit: edit pyproject.toml, then `make -C layers/deps requirements` (a unit test checks).
# Lines marked `# no-deps` are installed with `pip --no-deps` (boto3/botocore come with Lambda).
"""


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"unparseable requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def render(pyproject: Path = PYPROJECT) -> str:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    lines = [HEADER]
    for requirement in data["project"]["dependencies"]:
        marker = f"  {NO_DEPS_MARKER}" if _name(requirement) in NO_DEPS else ""
        lines.append(f"{requirement.strip()}{marker}\n")
    return "".join(lines)


def main(argv: list[str]) -> int:
    expected = render()
    if "--check" in argv:
        current = REQUIREMENTS.read_text(encoding="utf-8") if REQUIREMENTS.exists() else ""
        if current != expected:
            stale = f"{REQUIREMENTS} is stale: run `make -C layers/deps requirements`"
            print(stale, file=sys.stderr)
            return 1
        return 0
    REQUIREMENTS.write_text(expected, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

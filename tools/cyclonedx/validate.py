"""Validates CycloneDX JSON files with cyclonedx-python-lib's JSON validator.

Usage: validate.py SPEC_VERSION FILE...   (SPEC_VERSION: 1.6 or 1.7)

Prints one line per file, "ok FILE" or "invalid FILE: <error>"; exits 1 if any file is
invalid, 2 on bad usage.
"""

import sys

from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    version = SchemaVersion.from_version(argv[1])
    validator = JsonStrictValidator(version)
    assert validator.output_format is OutputFormat.JSON
    failed = False
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        error = validator.validate_str(text)
        if error is None:
            print(f"ok {path}")
        else:
            failed = True
            print(f"invalid {path}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Validates CycloneDX JSON or XML files with cyclonedx-python-lib's validators.

Usage: validate.py [--xml] SPEC_VERSION FILE...   (SPEC_VERSION: 1.6 or 1.7)

JSON by default; with --xml, XML against the official XSD the library bundles, after
checking that it is byte for byte the copy ailedger keeps (schemas/cyclonedx/bom-X.xsd
and the spdx.SNAPSHOT.xsd it imports), so the version ailedger documents is the one
that validated.

Prints one line per file, "ok FILE" or "invalid FILE: <error>"; exits 1 if any file is
invalid, 2 on bad usage, 3 if the bundled XSDs differ from the kept ones.
"""

import hashlib
import sys
from pathlib import Path

from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

KEPT = Path(__file__).resolve().parent.parent.parent / "schemas" / "cyclonedx"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def xml_validator(spec: str, version: SchemaVersion):
    from cyclonedx.schema._res import BOM_XML
    from cyclonedx.validation.xml import XmlValidator

    bundled = Path(BOM_XML[version])
    pairs = [
        (bundled, KEPT / f"bom-{spec}.xsd"),
        (bundled.parent / "spdx.SNAPSHOT.xsd", KEPT / "spdx.SNAPSHOT.xsd"),
    ]
    for lib, kept in pairs:
        if not kept.is_file() or sha256(lib) != sha256(kept):
            print(f"schema mismatch: {lib.name} (library) differs from {kept}", file=sys.stderr)
            return None
    validator = XmlValidator(version)
    assert validator.output_format is OutputFormat.XML
    return validator


def main(argv: list[str]) -> int:
    args = argv[1:]
    xml = bool(args) and args[0] == "--xml"
    if xml:
        args = args[1:]
    if len(args) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    version = SchemaVersion.from_version(args[0])
    if xml:
        validator = xml_validator(args[0], version)
        if validator is None:
            return 3
    else:
        validator = JsonStrictValidator(version)
        assert validator.output_format is OutputFormat.JSON
    failed = False
    for path in args[1:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            error = validator.validate_str(text)
        except Exception as e:  # lxml raises on text that is not well-formed XML
            error = f"{type(e).__name__}: {e}"
        if error is None:
            print(f"ok {path}")
        else:
            failed = True
            print(f"invalid {path}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

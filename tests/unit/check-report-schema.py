#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check-report-schema.py SCHEMA REPORT.json - validate an s3dlio-mpi JSON report.

Checks REPORT.json against the JSON Schema in SCHEMA (docs/report-schema.json), after checking
the schema itself, so a report field that drifted from the schema fails the test.
Exit: 0 valid, 1 invalid or unreadable (up to 10 errors on stderr), 2 usage,
77 skipped: python3-jsonschema is not installed (CTest SKIP_RETURN_CODE 77).
"""
import json
import sys

SKIP = 77


def load(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"check-report-schema: cannot read {what} '{path}': {e}", file=sys.stderr)
        sys.exit(1)


def main(argv):
    if len(argv) != 3:
        print("usage: check-report-schema.py SCHEMA REPORT.json", file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("check-report-schema: skipped: install the Debian package 'python3-jsonschema'",
              file=sys.stderr)
        return SKIP
    schema, report = load(argv[1], "schema"), load(argv[2], "report")
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"check-report-schema: '{argv[1]}' is not a valid schema: {e.message}",
              file=sys.stderr)
        return 1
    errors = sorted(cls(schema).iter_errors(report), key=lambda e: list(e.absolute_path))
    for e in errors[:10]:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        print(f"check-report-schema: '{argv[2]}': {where}: {e.message}", file=sys.stderr)
    if errors:
        return 1
    print(f"check-report-schema: '{argv[2]}' is a valid {schema.get('title', 'report')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

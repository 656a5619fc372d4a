"""Writes N OSV records for bench/osv_import.sh from the fixture records: copy i of a
fixture gets the id MAL-2099-<i> and its packages the name <name>-b<i>, so each record
is distinct; every 200th record names pkg:pypi/bench-hit-<k> (version 1.0.0) instead,
and the packages file registers those plus as many unaffected packages (10,000 in all
for 200,000 records)."""

import json
import pathlib
import sys

src, out, n, packages = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fixtures = [json.loads(p.read_text()) for p in sorted(src.rglob("MAL-*.json"))]
hits = []
for i in range(n):
    r = json.loads(json.dumps(fixtures[i % len(fixtures)]))
    r["id"] = f"MAL-2099-{i}"
    r.pop("withdrawn", None)
    for a in r.get("affected", []):
        if i % 200 == 0:
            k = len(hits)
            a["package"] = {"ecosystem": "PyPI", "name": f"bench-hit-{k}"}
            a.pop("ranges", None)
            a["versions"] = ["1.0.0"]
            hits.append(f"pkg:pypi/bench-hit-{k}@1.0.0")
        else:
            a["package"]["name"] = a["package"]["name"] + f"-b{i}"
            a["package"].pop("purl", None)
    d = out / str(i % 1000)
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{r['id']}.json").write_text(json.dumps(r, indent=2))
misses = [f"pkg:pypi/bench-miss-{k}@1.0.0" for k in range(max(0, n // 20 - len(hits)))]
pathlib.Path(packages).write_text(json.dumps({"artifacts": [{"kind": "package", "ref": p} for p in hits + misses]}))

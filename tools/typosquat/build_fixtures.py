#!/usr/bin/env python3
"""Regenerates the typosquat fixtures in tests/fixtures/typosquats/.

labelled.tsv: real malicious PyPI and npm packages whose published record names the
package they imitate, from the TypoMind "Malicious Package Archive" (ldklab/typomind-release,
MIT; each row cites the GitHub advisory or the vendor report that named the target).

    build_fixtures.py labelled ARCHIVE.csv > tests/fixtures/typosquats/labelled.tsv

Rows kept: ecosystem pip or npm; exactly one named target; every confusion category of the
row is a name-level one (1-step edit, homographic, delimiter, prefix/suffix, reordering,
grammatical); the target is one of the popular names ailedger ships (a detector that compares
with popular names can flag nothing else) and the malicious name is not. Each row is put in
half "tune" or "holdout" by the parity of the first byte of SHA-256(ecosystem:name), so the
split does not depend on the detector.

established-pypi.txt: 2,000 PyPI project names drawn at random (seed 17) from a list of PyPI
project names with their latest release month and download rank, keeping names whose latest
release is before 2025 (so the project existed before 2025) and that are not in the shipped
popular list (those are exempt from the check).

    build_fixtures.py established NAMES.tsv > tests/fixtures/typosquats/established-pypi.txt
"""

import csv
import hashlib
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "crates" / "ailedger-inspect" / "data"
LEXICAL = {1, 2, 3, 4, 7, 10}
CATEGORY = {
    1: "edit",
    2: "homograph",
    3: "delimiter",
    4: "affix",
    7: "reorder",
    10: "grammatical",
}


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def popular(file: str, norm) -> set:
    lines = (DATA / file).read_text(encoding="utf-8").splitlines()
    return {norm(l) for l in lines if l.strip() and not l.startswith("#")}


def labelled(archive: str) -> None:
    pypi = popular("pypi-top.txt", pep503)
    npm = popular("npm-top.txt", lambda s: s.strip().lower())
    seen = set()
    out = []
    with open(archive, encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            eco = {"pip": "pypi", "npm": "npm"}.get(row["Ecosystem"].strip())
            if eco is None:
                continue
            target = row["Original Package Name"].strip()
            if not target or " " in target or "," in target:
                continue
            cats = [int(c) for c in re.findall(r"\d+", row["Categories"])]
            if not cats or not set(cats) <= LEXICAL:
                continue
            norm = pep503 if eco == "pypi" else (lambda s: s.strip().lower())
            name, target = norm(row["Malicious Package Name"]), norm(target)
            names = pypi if eco == "pypi" else npm
            if target not in names or name in names or name == target:
                continue
            if (eco, name) in seen:
                continue
            seen.add((eco, name))
            h = hashlib.sha256(f"{eco}:{name}".encode()).digest()[0]
            half = "tune" if h % 2 == 0 else "holdout"
            kinds = "+".join(CATEGORY[c] for c in cats)
            source = row["Source"].strip().replace("\t", " ")
            if "/package/" in source:
                # A registry's own package page: cited by the archive, not repeated here.
                source = "registry package page (per the archive)"
            out.append((eco, name, target, kinds, half, source))
    out.sort()
    print("#ecosystem\tname\ttarget\tcategories\thalf\tsource")
    for r in out:
        print("\t".join(r))


def established(names_tsv: str) -> None:
    exempt = popular("pypi-top.txt", pep503)
    pool = set()
    with open(names_tsv, encoding="utf-8", errors="replace", newline="") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 3 or not cols[2] or cols[2] >= "2025-01":
                continue
            name = pep503(cols[0])
            if name and name not in exempt:
                pool.add(name)
    rng = random.Random(17)
    for name in sorted(rng.sample(sorted(pool), 2000)):
        print(name)


if __name__ == "__main__":
    {"labelled": labelled, "established": established}[sys.argv[1]](sys.argv[2])

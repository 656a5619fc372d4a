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

The PyPI part of the TypoMind archive is small (23 rows kept), so the `combined`
subcommand adds PyPI rows from two more sources and writes the whole labelled.tsv:

    build_fixtures.py combined ARCHIVE.csv tools/typosquat/ecosyste-ms-typosquats.csv \
        tools/typosquat/ecosyste-ms-confirmed.tsv tools/typosquat/reported-pypi.tsv \
        > tests/fixtures/typosquats/labelled.tsv

- ecosyste-ms-typosquats.csv: `typosquats.csv` of ecosyste-ms/typosquatting-dataset at
  commit fd0bde98d200efe5c282a07edc4c68fba13252c6 (CC0 1.0; SHA-256
  4fbd346d8fcf11e23b647e8e49ee8c88e6661016dd19ac69d3083d44be2101d5), a curated list of
  known typosquats with the package each imitated, drawn from the OpenSSF
  malicious-packages OSV records, the Datadog malicious-software-packages dataset,
  lxyeternal/pypi_malregistry, IQTLabs/pypi-scan and incident write-ups. Its PyPI rows
  are kept under the same rules as the archive's (target on the shipped list, name not,
  name and target not equal once normalised), except the rows in NOT_NAME_CONFUSION,
  and only when ecosyste-ms-confirmed.tsv shows the package was a real malicious PyPI
  package: an OSV MAL- record, the Datadog dataset's PyPI manifest
  (samples/pypi/manifest.json), a package directory of lxyeternal/pypi_malregistry, or
  another record named there. Rows found in none of these (nine `requests` variants
  cited to pypi_malregistry, and two names pypi-scan reported as squats, not as
  malicious) are left out.
- reported-pypi.tsv: a few more malicious PyPI packages whose public record (an OSV
  MAL- record, an issue on the imitated project's tracker) names the imitated package.

A name already in the archive keeps the archive's row. Every row gets its half by the
same rule as the archive's rows.

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
    print_rows(archive_rows(archive))


# Rows of the ecosyste-ms dataset that are not name confusions of the named target:
# pillow-simd is the long-standing, legitimate SIMD fork of Pillow, and torchtriton was
# a dependency confusion of PyTorch's own nightly dependency of that name (the dataset
# names `triton`).
NOT_NAME_CONFUSION = {"pillow-simd", "torchtriton"}

# The dataset's classifications, in the archive's category words.
ECOSYSTE_CATEGORY = {
    "omission": "edit",
    "repetition": "edit",
    "replacement": "edit",
    "transposition": "edit",
    "vowel_swap": "edit",
    "bitflip": "edit",
    "adjacent_insertion": "edit",
    "double_hit": "edit",
    "misspelling": "edit",
    "numeral": "edit",
    "homoglyph": "homograph",
    "delimiter": "delimiter",
    "word_order": "reorder",
    "plural": "grammatical",
    "combosquatting": "affix",
}


def half_of(eco: str, name: str) -> str:
    h = hashlib.sha256(f"{eco}:{name}".encode()).digest()[0]
    return "tune" if h % 2 == 0 else "holdout"


def archive_rows(archive: str) -> list:
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
            kinds = "+".join(CATEGORY[c] for c in cats)
            source = row["Source"].strip().replace("\t", " ")
            if "/package/" in source:
                # A registry's own package page: cited by the archive, not repeated here.
                source = "registry package page (per the archive)"
            out.append((eco, name, target, kinds, half_of(eco, name), source))
    return out


def print_rows(rows: list) -> None:
    rows.sort()
    print("#ecosystem\tname\ttarget\tcategories\thalf\tsource")
    for r in rows:
        print("\t".join(r))


def combined(archive: str, dataset: str, confirmed: str, reported: str) -> None:
    pypi = popular("pypi-top.txt", pep503)
    evidence = {}
    with open(confirmed, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, where = line.rstrip("\n").split("\t")
            evidence[pep503(name)] = where
    rows = archive_rows(archive)
    seen = {(r[0], r[1]) for r in rows}

    def add(name: str, target: str, kinds: str, source: str) -> None:
        name, target = pep503(name), pep503(target)
        if target not in pypi or name in pypi or name == target:
            return
        if ("pypi", name) in seen:
            return
        seen.add(("pypi", name))
        rows.append(("pypi", name, target, kinds, half_of("pypi", name), source))

    with open(dataset, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["ecosystem"].strip() != "pypi":
                continue
            name, target = row["malicious_package"], row["target_package"]
            if pep503(name) in NOT_NAME_CONFUSION or pep503(name) not in evidence:
                continue
            cls = row["classification"].strip()
            if cls == "addition":
                extra = len(pep503(name)) - len(pep503(target))
                kinds = "edit" if extra == 1 else "affix"
            elif cls in ECOSYSTE_CATEGORY:
                kinds = ECOSYSTE_CATEGORY[cls]
            else:
                continue
            source = "ecosyste-ms/typosquatting-dataset (from {}); malicious per {}".format(
                row["source"].strip(), evidence[pep503(name)]
            )
            add(name, target, kinds, source)
    with open(reported, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, target, kinds, source = line.rstrip("\n").split("\t")
            add(name, target, kinds, source)
    print_rows(rows)


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
    commands = {"labelled": labelled, "combined": combined, "established": established}
    commands[sys.argv[1]](*sys.argv[2:])

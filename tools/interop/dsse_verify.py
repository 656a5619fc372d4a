#!/usr/bin/env python3
"""Verify a DSSE envelope with securesystemslib, independently of ailedger.

Usage: dsse_verify.py ENVELOPE.json PUBLIC_KEY.pem

Reads the envelope with securesystemslib's Envelope API and the key (SubjectPublicKeyInfo
PEM: Ed25519, ECDSA or RSA) as an SSlibKey, whose key id securesystemslib computes
itself. Verifies with a threshold of 1. On success prints "verified <keyid>" for each
key that verified a signature and exits 0; otherwise prints the reason and exits 1.
"""

import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    with open(argv[2], "rb") as f:
        key = SSlibKey.from_crypto(load_pem_public_key(f.read()))
    try:
        accepted = envelope.verify([key], 1)
    except VerificationError as e:
        print(f"not verified: {e}")
        return 1
    for keyid in accepted:
        print(f"verified {keyid}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

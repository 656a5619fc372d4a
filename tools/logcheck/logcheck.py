#!/usr/bin/env python3
"""logcheck: an independent, offline checker for ailedger's log proofs and checkpoints.

It exists so that an auditor does not have to trust ailedger's own code to check
ailedger's claims. It is written from the specifications, not from the Rust sources:

* Merkle trees: RFC 9162 section 2.1 (the same tree as RFC 6962). Proofs are checked
  by walking the recursive definitions of PATH (2.1.3.1) and SUBPROOF (2.1.4.1)
  backwards, which is a different route to the same answer than the bit-twiddling
  verifiers the Rust crate uses.
* Checkpoints: C2SP tlog-checkpoint inside a C2SP signed note, Ed25519 keys in the
  `name+keyid+base64` verifier-key format.

Usage:
    logcheck.py checkpoint  <note-file> <vkey>
    logcheck.py inclusion   <proof.json> <checkpoint-note-file> <vkey> [--body FILE]
    logcheck.py consistency <proof.json> <old-checkpoint> <new-checkpoint> <vkey>

<vkey> is the verifier key text, or a file containing it. Exit status 0 means verified;
1 means not verified (the reason is printed); 2 means bad usage.

Needs Python 3.9+ and the `cryptography` package (see requirements.txt).
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_NOTE_BYTES = 16 * 1024
MAX_SIGNATURES = 100
EM_DASH = "\u2014"
ED25519 = 0x01


class Failure(Exception):
    """Something did not verify."""


# ---------------------------------------------------------------- encodings


def strict_b64(text, what):
    """Standard base64 with padding, canonical, nothing else."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Failure(f"{what} is not valid base64")
    if base64.b64encode(raw).decode("ascii") != text:
        raise Failure(f"{what} is not canonical base64")
    return raw


HEX64 = re.compile(r"[0-9a-f]{64}")


def hash_from_hex(value, what):
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise Failure(f"{what} must be 64 lowercase hex digits")
    return bytes.fromhex(value)


def u64(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise Failure(f"{what} must be an unsigned 64-bit integer")
    return value


# ---------------------------------------------------------------- RFC 9162 trees


def hash_leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_from_path(index, size, leaf, path):
    """Inverts PATH(m, D[n]): PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if m < k,
    else PATH(m - k, D[k:n]) : MTH(D[0:k]); PATH of a single leaf is empty. The last
    element of the path is therefore the sibling at the top of the tree."""
    if size == 1:
        if path:
            raise Failure("inclusion proof is too long")
        return leaf
    if not path:
        raise Failure("inclusion proof is too short")
    k = split(size)
    *rest, sibling = path
    if index < k:
        return hash_children(root_from_path(index, k, leaf, rest), sibling)
    return hash_children(sibling, root_from_path(index - k, size - k, leaf, rest))


def check_inclusion(index, size, leaf, path, root):
    if size == 0 or index >= size:
        raise Failure(f"leaf index {index} is not inside a tree of size {size}")
    if len(path) > 64:
        raise Failure("inclusion proof is too long")
    if root_from_path(index, size, leaf, list(path)) != root:
        raise Failure("inclusion proof does not lead to the checkpoint's root")


def roots_from_subproof(m, n, path, old_root_known, old_root):
    """Inverts SUBPROOF(m, D[n], b), returning (MTH(D[0:m]), MTH(D[0:n])) as implied by
    the proof. When b is true and m == n the node is the old root itself, which the
    verifier already has; when b is false it is the proof's next element."""
    if m == n:
        if old_root_known:
            if path:
                raise Failure("consistency proof is too long")
            return old_root, old_root
        if len(path) != 1:
            raise Failure("consistency proof has the wrong length")
        return path[0], path[0]
    if not path:
        raise Failure("consistency proof is too short")
    k = split(n)
    *rest, sibling = path
    if m <= k:
        old, new = roots_from_subproof(m, k, rest, old_root_known, old_root)
        return old, hash_children(new, sibling)
    old, new = roots_from_subproof(m - k, n - k, rest, False, old_root)
    return hash_children(sibling, old), hash_children(sibling, new)


def check_consistency(old_size, new_size, path, old_root, new_root):
    if old_size > new_size:
        raise Failure(f"old size {old_size} is larger than new size {new_size}")
    if len(path) > 128:
        raise Failure("consistency proof is too long")
    if old_size == new_size:
        if path:
            raise Failure("equal sizes need an empty consistency proof")
        if old_root != new_root:
            raise Failure("same size, different roots: the log forked")
        return
    if old_size == 0:
        if path:
            raise Failure("a consistency proof from the empty tree must be empty")
        if old_root != hashlib.sha256(b"").digest():
            raise Failure("the old checkpoint's root is not the empty tree's")
        return
    old, new = roots_from_subproof(old_size, new_size, list(path), True, old_root)
    if old != old_root:
        raise Failure("consistency proof does not match the old checkpoint's root")
    if new != new_root:
        raise Failure("consistency proof does not match the new checkpoint's root")


# ---------------------------------------------------------------- keys and notes


def is_key_name(name):
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_hash(name, public_key):
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()
    return digest[:4]


class VerifierKey:
    def __init__(self, text):
        text = text.strip()
        fields = text.split("+", 2)
        if len(fields) != 3:
            raise Failure("verifier key must look like name+keyid+base64")
        name, key_id_hex, material_b64 = fields
        if not is_key_name(name):
            raise Failure("verifier key has an invalid name")
        if not re.fullmatch(r"[0-9a-f]{8}", key_id_hex):
            raise Failure("verifier key id must be 8 lowercase hex digits")
        material = strict_b64(material_b64, "verifier key")
        if len(material) != 33 or material[0] != ED25519:
            raise Failure("verifier key is not an Ed25519 key")
        public_key = material[1:]
        if key_hash(name, public_key).hex() != key_id_hex:
            raise Failure("verifier key id does not match the key")
        self.name = name
        self.key_id = bytes.fromhex(key_id_hex)
        try:
            self.key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            raise Failure("verifier key is not a valid Ed25519 public key")


def load_vkey(arg):
    if os.path.isfile(arg):
        with open(arg, encoding="utf-8") as f:
            arg = f.read()
    return VerifierKey(arg)


def open_note(raw, vkey):
    """Returns the note text if `raw` carries a valid signature by `vkey`."""
    if len(raw) > MAX_NOTE_BYTES:
        raise Failure("note is larger than 16 KiB")
    try:
        note = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure("note is not UTF-8")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise Failure("note contains control characters")
    if not note.endswith("\n"):
        raise Failure("note does not end with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise Failure("note has no blank line before its signatures")
    text, signatures = note[: cut + 1], note[cut + 2 :]
    lines = signatures.split("\n")[:-1]
    if not lines:
        raise Failure("note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise Failure("note has too many signatures")
    good = False
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            raise Failure("malformed signature line")
        parts = line[2:].split(" ")
        if len(parts) != 2 or not is_key_name(parts[0]):
            raise Failure("malformed signature line")
        name, blob = parts[0], strict_b64(parts[1], "signature")
        if len(blob) < 5:
            raise Failure("signature is too short")
        if name != vkey.name or blob[:4] != vkey.key_id:
            continue  # someone else's signature (a witness, an old key): ignore it
        try:
            vkey.key.verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise Failure(f"signature by {name} does not verify")
        good = True
    if not good:
        raise Failure(f"note is not signed by {vkey.name}")
    return text


SIZE = re.compile(r"0|[1-9][0-9]*")


def read_checkpoint(path, vkey):
    with open(path, "rb") as f:
        raw = f.read(MAX_NOTE_BYTES + 1)
    text = open_note(raw, vkey)
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise Failure("checkpoint must have exactly an origin, a size and a root line")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin:
        raise Failure("checkpoint origin is empty")
    if not SIZE.fullmatch(size) or int(size) >= 2**64:
        raise Failure("checkpoint size is not a decimal number")
    root = strict_b64(root, "checkpoint root")
    if len(root) != 32:
        raise Failure("checkpoint root is not 32 bytes")
    return {"origin": origin, "size": int(size), "root": root}


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError) as e:
        raise Failure(f"cannot read {path}: {e}")
    if not isinstance(value, dict):
        raise Failure(f"{path} is not a JSON object")
    return value


def hash_list(value, what):
    if not isinstance(value, list):
        raise Failure(f"{what} must be a list")
    return [hash_from_hex(h, f"{what}[{i}]") for i, h in enumerate(value)]


# ---------------------------------------------------------------- subcommands


def cmd_checkpoint(args):
    cp = read_checkpoint(args.note, load_vkey(args.vkey))
    return f"checkpoint of {cp['origin']} at size {cp['size']}, root {cp['root'].hex()}"


def cmd_inclusion(args):
    vkey = load_vkey(args.vkey)
    cp = read_checkpoint(args.checkpoint, vkey)
    proof = read_json(args.proof)
    seq = u64(proof.get("seq"), "seq")
    index = u64(proof.get("leaf_index"), "leaf_index")
    size = u64(proof.get("tree_size"), "tree_size")
    leaf = hash_from_hex(proof.get("leaf_hash"), "leaf_hash")
    path = hash_list(proof.get("hashes"), "hashes")
    if seq < 1 or index != seq - 1:
        raise Failure(f"seq {seq} must be leaf index {seq - 1}, proof says {index}")
    if size != cp["size"]:
        raise Failure(f"proof is for tree size {size}, checkpoint is at {cp['size']}")
    if args.body is not None:
        with open(args.body, "rb") as f:
            if hash_leaf(f.read()) != leaf:
                raise Failure("the entry body does not hash to the proof's leaf hash")
    check_inclusion(index, size, leaf, path, cp["root"])
    return f"seq {seq} is included in {cp['origin']} at size {size}"


def cmd_consistency(args):
    vkey = load_vkey(args.vkey)
    old = read_checkpoint(args.old, vkey)
    new = read_checkpoint(args.new, vkey)
    if old["origin"] != new["origin"]:
        raise Failure("the checkpoints are from different logs")
    proof = read_json(args.proof)
    first = u64(proof.get("from"), "from")
    second = u64(proof.get("to"), "to")
    path = hash_list(proof.get("hashes"), "hashes")
    if (first, second) != (old["size"], new["size"]):
        raise Failure(
            f"proof is for sizes {first}->{second}, checkpoints are {old['size']}->{new['size']}"
        )
    check_consistency(first, second, path, old["root"], new["root"])
    return f"{old['origin']} at size {second} extends its tree at size {first}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="logcheck", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("checkpoint", help="verify a signed checkpoint")
    p.add_argument("note")
    p.add_argument("vkey")
    p.set_defaults(run=cmd_checkpoint)
    p = sub.add_parser("inclusion", help="verify an inclusion proof against a checkpoint")
    p.add_argument("proof")
    p.add_argument("checkpoint")
    p.add_argument("vkey")
    p.add_argument("--body", help="also check the entry's canonical body against leaf_hash")
    p.set_defaults(run=cmd_inclusion)
    p = sub.add_parser("consistency", help="verify a consistency proof between checkpoints")
    p.add_argument("proof")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("vkey")
    p.set_defaults(run=cmd_consistency)
    args = parser.parse_args(argv)
    try:
        message = args.run(args)
    except Failure as e:
        print(f"logcheck: FAILED: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"logcheck: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"logcheck: OK: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Self-tests of logcheck.py against published vectors (stdlib unittest).

Run: python3 -m unittest discover -s tools/logcheck

Vectors: the RFC 6962 8-leaf tree used by certificate-transparency and
transparency-dev/merkle (proof/verify_test.go), and the PeterNeumann note from Go's
golang.org/x/mod/sumdb/note documentation and tests.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logcheck as lc  # noqa: E402

LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
          "606162636465666768696a6b6c6d6e6f"]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
P = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b086": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
}
INCLUSION = [(0, 1, []), (0, 8, ["96a2", "5f08", "6b47"]), (5, 8, ["bc1a", "ca85", "d37e"]),
             (2, 3, ["fac5"]), (1, 5, ["6e34", "5f08", "bc1a"])]
CONSISTENCY = [(1, 1, []), (1, 8, ["96a2", "5f08", "6b47"]), (6, 8, ["0ebc", "ca85", "d37e"]),
               (2, 5, ["5f08", "bc1a"]), (6, 7, ["0ebc", "b086", "d37e"])]

VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
       "ngotpRZb6KE6RyyBwJnAM=\n")


def h(x):
    return bytes.fromhex(x)


def leaf(i):
    return lc.hash_leaf(bytes.fromhex(LEAVES[i]))


class Vectors(unittest.TestCase):
    def test_inclusion(self):
        for index, size, path in INCLUSION:
            path = [h(P[p]) for p in path]
            root = h(ROOTS[size - 1])
            lc.check_inclusion(index, size, leaf(index), path, root)
            for bad in [(index + 1, size, path), (index, size * 2, path), (index, size, path + [root]),
                        (index, size, [root] + path)]:
                with self.assertRaises(lc.Failure):
                    lc.check_inclusion(bad[0], bad[1], leaf(index), bad[2], root)
            for i in range(len(path)):
                flipped = list(path)
                flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
                with self.assertRaises(lc.Failure):
                    lc.check_inclusion(index, size, leaf(index), flipped, root)

    def test_consistency(self):
        for old, new, path in CONSISTENCY:
            path = [h(P[p]) for p in path]
            r1, r2 = h(ROOTS[old - 1]), h(ROOTS[new - 1])
            lc.check_consistency(old, new, path, r1, r2)
            if not path:
                continue
            for bad in [(old - 1, new, path, r1, r2), (old + 1, new, path, r1, r2),
                        (old, new * 2, path, r1, r2), (old, new, path, r2, r1),
                        (old, new, path[:-1], r1, r2), (old, new, path + [r1], r1, r2),
                        (old, new, [r2] + path, r1, r2), (old, new, [], r1, r2)]:
                with self.assertRaises(lc.Failure):
                    lc.check_consistency(*bad)

    def test_note(self):
        vkey = lc.VerifierKey(VKEY)
        note = (TEXT + "\n" + SIG).encode()
        self.assertEqual(lc.open_note(note, vkey), TEXT)
        with self.assertRaises(lc.Failure):
            lc.open_note(note.replace(b"cryptography", b"cryptographY"), vkey)
        with self.assertRaises(lc.Failure):
            lc.open_note((TEXT + "\n").encode(), vkey)
        with self.assertRaises(lc.Failure):
            lc.VerifierKey(VKEY.replace("c74f20a3", "c74f20a4"))


if __name__ == "__main__":
    unittest.main()

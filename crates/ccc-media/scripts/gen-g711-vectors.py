#!/usr/bin/env python3
"""Writes tests/data/g711.json: G.711 vectors from Python's audioop (CPython's own C
implementation, independent of ours). audioop exists up to Python 3.12.

- decode tables: the 16-bit sample of each of the 256 mu-law and A-law code words;
- encode: the code word of every 4099th 16-bit sample, and an FNV-1a 64-bit hash of
  the code words of all 65,536 samples in order, so the test covers every input.
"""
import audioop
import json
import os
import struct
import warnings

warnings.simplefilter("ignore", DeprecationWarning)


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


codes = bytes(range(256))
samples = struct.pack("<65536h", *range(-32768, 32768))
out = {}
for law, decode, encode in (
    ("ulaw", audioop.ulaw2lin, audioop.lin2ulaw),
    ("alaw", audioop.alaw2lin, audioop.lin2alaw),
):
    table = list(struct.unpack("<256h", decode(codes, 2)))
    encoded = encode(samples, 2)
    out[law] = {
        "decode": table,
        "encode_samples": [[s, encoded[s + 32768]] for s in range(-32768, 32768, 4099)],
        "encode_all_fnv1a64": f"{fnv1a64(encoded):016x}",
    }
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "g711.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))

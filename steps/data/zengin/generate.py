#!/usr/bin/env python3
"""Regenerates banks.tsv from the zengin-code source data (MIT).

Usage: pip download zengin-code --no-deps -d /tmp/z && cd /tmp/z && unzip -q *.whl
       python3 generate.py /tmp/z/zengin_code/source-data/data > banks.tsv

The output keeps only code, name and kana (full-width, as published): nagare converts
kana to the 全銀 half-width set at run time with its own converter, so the converter is
exercised on every bank and branch name by the tests.
"""
import glob
import json
import os
import sys

root = sys.argv[1]
banks = json.load(open(os.path.join(root, "banks.json"), encoding="utf-8"))
updated = open(os.path.join(root, "updated_at"), encoding="utf-8").read().strip()
out = sys.stdout
out.write(f"# zengin-code source-data updated_at {updated}; MIT, see README.md\n")
for code in sorted(banks):
    bank = banks[code]
    out.write(f"{bank['code']}\t{bank['name']}\t{bank['kana']}\n")
    path = os.path.join(root, "branches", f"{code}.json")
    if not os.path.exists(path):
        continue
    branches = json.load(open(path, encoding="utf-8"))
    for bcode in sorted(branches):
        b = branches[bcode]
        out.write(f"{b['code']}\t{b['name']}\t{b['kana']}\n")

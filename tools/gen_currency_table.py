#!/usr/bin/env python3
"""Regenerates crates/pipewise-core/src/currency_table.rs from the ISO 4217 list in ../shared.

Usage: python3 tools/gen_currency_table.py [path/to/iso4217_list_one.xml]
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

root = Path(__file__).resolve().parent.parent
src = sys.argv[1] if len(sys.argv) > 1 else root.parent / "shared/data/reference/currency/iso4217_list_one.xml"
tree = ET.parse(src)
seen = {}
for entry in tree.getroot().iter("CcyNtry"):
    code, minor = entry.findtext("Ccy"), entry.findtext("CcyMnrUnts")
    if not code or minor is None or not minor.isdigit():
        continue  # "N.A." minor units: metals and funds, not money a deal is priced in.
    seen.setdefault(code, (int(minor), int(entry.findtext("CcyNbr")), entry.findtext("CcyNm")))
lines = [
    '//! ISO 4217 currencies with their minor units, generated from SIX "List One" (published 2026-01-01, public domain)',
    "//! by `tools/gen_currency_table.py`. Codes whose minor unit is \"N.A.\" (metals, funds) are left out.",
    "",
    "/// `(code, minor units, numeric code, name)`, sorted by code.",
    "pub(crate) const CURRENCIES: &[(&str, u8, u16, &str)] = &[",
]
for code in sorted(seen):
    minor, number, name = seen[code]
    lines.append(f'    ("{code}", {minor}, {number}, "{name}"),')
lines.append("];")
(root / "crates/pipewise-core/src/currency_table.rs").write_text("\n".join(lines) + "\n")

#!/usr/bin/env python3
"""Build the curated tier-3 month's UKE file and declarations.csv from its hand-written
case table (tests/data/curated/cases.tsv). The cases and their answers are written by
hand; this script only lays them out in the input contracts (schemas/uke.md,
schemas/declarations.md). Re-run it after editing cases.tsv and commit its outputs."""
import csv
import os
import re

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "curated")
CLINIC = "1312345"
BILLING = "202606"
CARE = "202605"
POINTS = 288
ERAS = {"M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018}


def western(birth):
    m = re.fullmatch(r"([MTSHR])(\d+)\.(\d+)\.(\d+)", birth)
    if m:
        return "%04d%02d%02d" % (ERAS[m[1]] + int(m[2]), int(m[3]), int(m[4]))
    return birth.replace("-", "")


def main():
    with open(os.path.join(HERE, "cases.tsv"), encoding="utf-8") as f:
        cases = list(csv.DictReader(f, delimiter="\t"))
    lines = ["IR,1,13,1,%s,,さくら内科クリニック,%s,00,03-1234-5678" % (CLINIC, BILLING)]
    decl = [
        "clinic_code,billing_month,receipt_number,insurance_kind,insurer_name,employer,card_issued,"
        "declared_copay_percent,name,name_kana,birth_date,sex,address,other_residence,"
        "confirmation_date,phone"
    ]
    for n, c in enumerate(cases, start=1):
        name = c["declared_name"].replace(" ", "\u3000")
        kana = c["declared_kana"].replace(" ", "\u3000")
        lines.append("RE,%d,1112,%s,%s,%s,%s%s,%s," % (
            n, CARE, name, c["sex"], western(c["declared_birth"]), "," * 29, kana))
        lines.append("HO,77777777,,,1,%d,,,,,,,,," % POINTS)
        lines.append("SY,8833421,20260510,1,,,01,")
        lines.append("SI,11,1,111000110,,%d,1,,," % POINTS)
        decl.append(",".join([
            CLINIC, "2026-06", str(n), "", "", "", "earlier", "", c["declared_name"],
            c["declared_kana"], c["declared_birth"], c["sex"], c["declared_address"], "",
            "2026-05-10", "",
        ]))
    lines.append("GO,%d,%d,99" % (len(cases), POINTS * len(cases)))
    uke = os.path.join(HERE, "uke", "1", CLINIC)
    os.makedirs(uke, exist_ok=True)
    with open(os.path.join(uke, "RECEIPTC.UKE"), "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("cp932") + b"\x1a")
    with open(os.path.join(HERE, "declarations.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(decl) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build the curated tier-3 month's UKE file and declarations.csv from its hand-written
case table (tests/data/curated/cases.tsv). The cases and their answers are written by
hand; this script only lays them out in the input contracts (schemas/uke.md,
schemas/declarations.md). Re-run it after editing cases.tsv and commit its outputs."""
import csv
import os
import re
from datetime import date, timedelta

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "curated")
CLINIC = "1312345"
BILLING = "202606"
CARE = "202605"
POINTS = 288
ERAS = {"M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018}


KANJI_ERAS = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}


def western(birth):
    """The RE 生年月日 (YYYYMMDD) of a declared birth date: ISO, S50.1.30 or 昭和50年1月30日."""
    m = re.fullmatch(r"([MTSHR])(\d+)\.(\d+)\.(\d+)", birth)
    if not m:
        m = re.fullmatch(r"(明治|大正|昭和|平成|令和)(\d+|元)年(\d+)月(\d+)日", birth)
        if m:
            m = [None, KANJI_ERAS[m[1]], "1" if m[2] == "元" else m[2], m[3], m[4]]
    if m:
        return "%04d%02d%02d" % (ERAS[m[1]] + int(m[2]), int(m[3]), int(m[4]))
    return birth.replace("-", "")


# Ordinary background persons for the roster (ids B0001...), so that the month's
# population is not only the cases and their decoys. Deterministic: a fixed linear
# congruential sequence over short lists of common names and the month's towns. A
# background person never takes a name written in the hand-written roster or in a
# declaration, so no case's answer depends on them.
BACKGROUND = 320
SURNAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
    ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
    ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
]
GIVEN = {
    "1": [("大輝", "ダイキ"), ("健一", "ケンイチ"), ("裕太", "ユウタ"), ("直人", "ナオト"),
          ("和彦", "カズヒコ"), ("勝", "マサル"), ("亮太", "リョウタ"), ("俊之", "トシユキ"),
          ("悠真", "ユウマ"), ("博", "ヒロシ"), ("智也", "トモヤ"), ("昭", "アキラ"),
          ("湊", "ミナト"), ("達也", "タツヤ"), ("義男", "ヨシオ"), ("翼", "ツバサ")],
    "2": [("陽菜", "ヒナ"), ("裕子", "ユウコ"), ("明美", "アケミ"), ("真理", "マリ"),
          ("理恵", "リエ"), ("京子", "キョウコ"), ("舞", "マイ"), ("智子", "トモコ"),
          ("芽依", "メイ"), ("洋子", "ヨウコ"), ("麻美", "アサミ"), ("文子", "フミコ"),
          ("彩乃", "アヤノ"), ("亜希子", "アキコ"), ("栞", "シオリ"), ("和美", "カズミ")],
}
TOWNS = [
    ("130013", "東京都千代田区神田神保町"), ("130013", "東京都千代田区九段南"),
    ("130013", "東京都千代田区神田小川町"), ("130013", "東京都千代田区飯田橋"),
    ("01130012", "東京都千代田区外神田"), ("01130012", "東京都千代田区岩本町"),
    ("01130012", "東京都千代田区麹町"), ("01130012", "東京都千代田区平河町"),
    ("270017", "大阪府大阪市北区天満"), ("270017", "大阪府大阪市生野区桃谷"),
    ("270017", "大阪府大阪市中央区谷町"), ("270017", "大阪府大阪市浪速区日本橋"),
    ("113548", "埼玉県比企郡小川町大字"),
]
OGAWA = ["大塚", "腰越", "下里", "青山", "角山"]
SHAHO_EMPLOYERS = ["株式会社平河物産", "岩本町商事株式会社", "株式会社三崎印刷"]


def background(taken):
    state = 20260603
    rows = []
    while len(rows) < BACKGROUND:
        picks = []
        for modulus in (40, 2, 16, 13, 28000, 9, 30, 30):
            state = (state * 1103515245 + 12345) % 2**31
            picks.append((state >> 8) % modulus)
        (sur, skana), sex = SURNAMES[picks[0]], str(picks[1] + 1)
        given, gkana = GIVEN[sex][picks[2]]
        name = "%s %s" % (sur, given)
        if name in taken:
            continue
        insurer, town = TOWNS[picks[3]]
        birth = date(1936, 1, 1) + timedelta(days=picks[4])
        age = 2026 - birth.year - ((5, 1) < (birth.month, birth.day))
        copay = 10 if age >= 75 else 20 if age >= 70 or age < 6 else 30
        if town.endswith("大字"):
            address = "%s%s%d番地" % (town, OGAWA[picks[5] % 5], picks[6] * 37 + picks[7] + 1)
        else:
            address = "%s%d丁目%d番%d号" % (town, picks[5] % 6 + 1, picks[6] + 1, picks[7] + 1)
        if copay == 10:
            insurer = "39270012" if town.startswith("大阪") else "39130018"
            if town.startswith("埼玉"):
                continue
        n = len(rows) + 1
        shaho = insurer == "01130012"
        rows.append(",".join([
            "B%04d" % n, insurer, "41" if shaho else "", "%07d" % (5100000 + n),
            "00" if shaho else "", name, "%s %s" % (skana, gkana), birth.isoformat(), sex, "",
            address, SHAHO_EMPLOYERS[n % 3] if shaho else "",
            max(birth, date(2016, 4, 1)).isoformat(), "", str(copay),
        ]))
        taken.add(name)
    return rows


def write_roster(cases):
    """roster.csv = its hand-written rows (every id not starting with B) + the background."""
    path = os.path.join(HERE, "roster.csv")
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("B")]
    taken = {l.split(",")[5] for l in lines[1:]}
    taken |= {c["declared_name"] for c in cases}
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines + background(taken)) + "\n")


def geta(text):
    """A character Shift_JIS cannot carry (a simplified 陈) is written 〓 in the UKE, as
    receipt software does; declarations.csv (UTF-8) keeps it as declared."""
    out = []
    for ch in text:
        try:
            ch.encode("cp932")
            out.append(ch)
        except UnicodeEncodeError:
            out.append("\u3013")
    return "".join(out)


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
        name = geta(c["declared_name"].replace(" ", "\u3000"))
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
    write_roster(cases)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Converts the name and address data of the MIT-licensed `gimei` crate (0.2.0) into the
compact TSV files under data/ that `reseclear generate` embeds with include_str!.

Run once, by hand, when the data should be refreshed:

    python3 scripts/import_gimei.py ~/.cargo/registry/src/*/gimei-0.2.0 data/

What it does:
- keeps kanji, hiragana and katakana of every entry (many kanji spellings share one
  reading; they are kept as separate entries);
- drops exact duplicate rows (keeping the first, so the frequency order of the last
  names survives: gimei lists them roughly from the commonest down), except that 林
  and 清水, which gimei lists right after 佐藤, are moved to about their census rank
  (19th and 22nd), since the generator weights last names by rank;
- drops entries that are not JIS X 0208 (UKE files are Shift_JIS in that repertoire);
- assigns every city to its prefecture: gimei lists cities prefecture by prefecture,
  each prefecture starting with the city named in FIRST_CITY below;
- copies gimei's LICENSE-MIT to data/LICENSE-gimei.

Output files (UTF-8, tab separated, no header):
    last_names.tsv      kanji  hiragana  katakana        (frequency order)
    first_male.tsv      kanji  hiragana  katakana
    first_female.tsv    kanji  hiragana  katakana
    prefectures.tsv     code   kanji     hiragana  katakana
    cities.tsv          prefecture_code  kanji  hiragana  katakana
    towns.tsv           kanji  hiragana  katakana
"""

import shutil
import sys
from pathlib import Path

import yaml

# The first city gimei lists for each prefecture, in JIS prefecture order (01–47).
FIRST_CITY = [
    "札幌市中央区", "青森市", "盛岡市", "仙台市青葉区", "秋田市", "山形市", "福島市",
    "水戸市", "宇都宮市", "前橋市", "さいたま市西区", "千葉市中央区", "千代田区",
    "横浜市鶴見区", "新潟市北区", "富山市", "金沢市", "福井市", "甲府市", "長野市",
    "岐阜市", "静岡市葵区", "名古屋市千種区", "津市", "大津市", "京都市北区",
    "大阪市都島区", "神戸市東灘区", "奈良市", "和歌山市", "鳥取市", "松江市",
    "岡山市北区", "広島市中区", "下関市", "徳島市", "高松市", "松山市", "高知市",
    "北九州市門司区", "佐賀市", "長崎市", "熊本市中央区", "大分市", "宮崎市",
    "鹿児島市", "那覇市",
]


def jis_x0208(text: str) -> bool:
    try:
        text.encode("shift_jis")  # Python's shift_jis is strict JIS X 0201/0208
        return True
    except UnicodeEncodeError:
        return False


def rows(entries):
    seen = set()
    out = []
    for e in entries:
        t = tuple(str(x) for x in e)
        if len(t) != 3 or t in seen or not all(jis_x0208(x) for x in t):
            continue
        if any("\t" in x or "," in x for x in t):
            continue
        seen.add(t)
        out.append(t)
    return out


def write(path: Path, table):
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in table:
            f.write("\t".join(str(x) for x in r) + "\n")
    print(f"{path}: {len(table)} rows")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    names = yaml.safe_load((src / "src/data/names.yml").read_text(encoding="utf-8"))
    addrs = yaml.safe_load((src / "src/data/addresses.yml").read_text(encoding="utf-8"))
    addrs = addrs["addresses"]

    last = rows(names["last_name"])
    for name, rank in (("林", 18), ("清水", 21)):
        i = next(i for i, r in enumerate(last) if r[0] == name)
        if i < 5:
            last.insert(rank, last.pop(i))
    write(out / "last_names.tsv", last)
    write(out / "first_male.tsv", rows(names["first_name"]["male"]))
    write(out / "first_female.tsv", rows(names["first_name"]["female"]))

    prefs = rows(addrs["prefecture"])
    assert len(prefs) == 47, len(prefs)
    write(out / "prefectures.tsv", [(f"{i + 1:02}",) + p for i, p in enumerate(prefs)])

    cities = rows(addrs["city"])
    starts = [next(i for i, c in enumerate(cities) if c[0] == first) for first in FIRST_CITY]
    assert starts == sorted(starts) and starts[0] == 0, starts
    table = []
    for i, c in enumerate(cities):
        pref = max(p for p, s in enumerate(starts) if s <= i) + 1
        table.append((f"{pref:02}",) + c)
    write(out / "cities.tsv", table)

    write(out / "towns.tsv", rows(addrs["town"]))
    shutil.copy(src / "LICENSE-MIT", out / "LICENSE-gimei")


if __name__ == "__main__":
    main()

//! The insurer universe of a synthetic month: 協会けんぽ per prefecture, 健保組合,
//! 共済, 船員, 自衛官, municipal 国保, 国保組合 and 後期 per prefecture, with real-shaped
//! numbers (check digits per DOMAIN §7), names, and the employers (事業所) whose
//! employees they insure. Sizes scale with the number of persons.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::names::{pick_cum, tables};
use crate::domain::{InsuranceKind, InsurerNumber, Organization};

/// The scheme an insurer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// 協会けんぽ (法別 01).
    Kyokai,
    /// 船員保険 (02).
    Senin,
    /// 健康保険組合 (06).
    Kumiai,
    /// 共済組合 (31–34), with its 法別番号.
    Kyosai(u8),
    /// 自衛官等 (07).
    Jieikan,
    /// Municipal 国保 (6 digits).
    Kokuho,
    /// 国保組合 (6 digits, third digit 3).
    KokuhoKumiai,
    /// 後期高齢者医療広域連合 (39).
    Koki,
}

impl Scheme {
    pub fn kind(self) -> InsuranceKind {
        match self {
            Scheme::Kyokai | Scheme::Senin | Scheme::Kumiai | Scheme::Kyosai(_) => {
                InsuranceKind::Shaho
            }
            Scheme::Jieikan => InsuranceKind::Other,
            Scheme::Kokuho | Scheme::KokuhoKumiai => InsuranceKind::Kokuho,
            Scheme::Koki => InsuranceKind::Koki,
        }
    }
}

/// How an insurer keeps its records (the roster comes from many systems).
#[derive(Debug, Clone, Copy)]
pub struct RosterStyle {
    /// Kana stored half-width (ｻﾄｳ ﾀﾛｳ).
    pub kana_halfwidth: bool,
    /// Space between family and given name is ASCII.
    pub half_space: bool,
    /// Address style (see `address::format_roster`).
    pub address_style: u8,
}

#[derive(Debug, Clone)]
pub struct Insurer {
    pub number: InsurerNumber,
    pub name: String,
    pub scheme: Scheme,
    pub prefecture: u8,
    pub style: RosterStyle,
    /// 番号 zero-padded to this width (0 = not padded).
    pub number_width: u8,
    /// Next 番号 for numbers the insurer itself hands out (国保 households, 後期 persons).
    pub next_number: u32,
    /// 記号 of the insurer's districts (国保), indexes into [`Registry::symbols`].
    pub district_symbols: Vec<u32>,
}

impl Insurer {
    pub fn kind(&self) -> InsuranceKind {
        self.scheme.kind()
    }

    /// The organization that receives this insurer's receipts.
    pub fn organization(&self) -> Organization {
        organization_of(self.kind())
    }

    pub fn format_number(&self, n: u32) -> String {
        match self.number_width {
            0 => n.to_string(),
            w => format!("{:0w$}", n, w = usize::from(w)),
        }
    }
}

/// 支払基金 for employee insurance (and その他), 国保連 for 国保 and 後期.
pub fn organization_of(kind: InsuranceKind) -> Organization {
    match kind {
        InsuranceKind::Kokuho | InsuranceKind::Koki => Organization::Kokuhoren,
        _ => Organization::ShiharaiKikin,
    }
}

/// A workplace (事業所): who employs, under which insurer, with which 記号.
#[derive(Debug, Clone)]
pub struct Employer {
    pub insurer: u16,
    pub name: String,
    /// Index into [`Registry::symbols`].
    pub symbol: u32,
    pub next_number: u32,
}

/// All insurers and employers, plus lookups.
pub struct Registry {
    pub insurers: Vec<Insurer>,
    pub employers: Vec<Employer>,
    /// 記号 strings, shared by employers and 国保 districts.
    pub symbols: Vec<String>,
    kyokai: Vec<u16>,
    koki: Vec<u16>,
    senin: u16,
    jieikan: u16,
    /// Municipal 国保 insurer of each city (u16::MAX where no one lives).
    pub kokuho_of_city: Vec<u16>,
    /// Cities people live in, per prefecture (index 0 = 01), with cumulative weights.
    pub live_cities: Vec<(Vec<u16>, Vec<f64>)>,
    /// Employers per scheme slot (JOB_SCHEME order) and prefecture (national = index 0).
    employers_by: Vec<Vec<Vec<u32>>>,
    job_cum: Vec<f64>,
    taken_symbols: std::collections::BTreeSet<(u16, String)>,
}

/// A valid insurer number from its body (all digits but the check digit).
pub fn with_check_digit(body: &str) -> InsurerNumber {
    InsurerNumber::from_body(body)
        .unwrap_or_else(|e| panic!("generated insurer number body {body}: {e}"))
}

/// The check digit of a body, by the 保険者番号 rule (also used here for clinic codes
/// and 公費 numbers).
pub fn check_digit_of(body: &str) -> u8 {
    crate::domain::check_digit(body.as_bytes())
}

const COMPANY_HEAD: &[&str] = &[
    "日本",
    "東洋",
    "大和",
    "三和",
    "東和",
    "中央",
    "関東",
    "関西",
    "北陸",
    "太平洋",
    "富士",
    "明治",
    "昭和",
    "旭",
    "日新",
    "新日本",
    "東亜",
    "第一",
    "丸紅",
    "山陽",
    "北海",
    "東邦",
    "西日本",
    "東日本",
    "菱和",
    "住宝",
    "安田",
    "千代田",
    "朝日",
    "信越",
    "九州",
    "中部",
    "瀬戸内",
    "湘南",
    "常盤",
    "大同",
    "協和",
    "光洋",
    "三洋",
    "日立",
    "三協",
    "帝国",
    "国際",
    "不二",
    "日東",
    "平和",
    "松風",
    "青葉",
    "白鳥",
    "若葉",
];
const COMPANY_TRADE: &[&str] = &[
    "電機",
    "化学",
    "製薬",
    "建設",
    "運輸",
    "商事",
    "工業",
    "食品",
    "物産",
    "鉄鋼",
    "精機",
    "産業",
    "通信",
    "証券",
    "銀行",
    "生命",
    "百貨店",
    "自動車",
    "電子",
    "機械",
    "印刷",
    "製紙",
    "紡績",
    "石油",
    "電力",
    "ガス",
    "物流",
    "システム",
    "ソフトウェア",
    "重工",
    "硝子",
    "製作所",
    "興業",
    "開発",
    "不動産",
    "海上",
    "航空",
    "製菓",
    "乳業",
    "酒造",
];
const SMALL_TRADE: &[&str] = &[
    "工務店",
    "製作所",
    "商店",
    "運送",
    "建設",
    "設備",
    "電気工事",
    "塗装",
    "印刷",
    "製麺",
    "不動産",
    "商事",
    "自動車整備",
    "歯科医院",
    "クリニック",
    "薬局",
    "保育園",
    "介護サービス",
    "美容室",
    "食堂",
    "酒店",
    "精肉店",
    "鮮魚店",
    "設計事務所",
    "会計事務所",
    "税理士事務所",
    "総合サービス",
    "ビルメンテナンス",
    "警備保障",
    "住宅設備",
];
const KOKUHO_KUMIAI_TRADE: &[&str] = &[
    "医師",
    "歯科医師",
    "薬剤師",
    "建設業",
    "食品販売",
    "理容美容",
    "税理士",
    "弁護士",
    "土木建築",
    "料理飲食業",
    "浴場業",
    "青果卸売",
    "文化芸能",
    "左官タイル",
];

fn company_stem(rng: &mut ChaCha8Rng) -> String {
    let h = COMPANY_HEAD[rng.random_range(0..COMPANY_HEAD.len())];
    let t = COMPANY_TRADE[rng.random_range(0..COMPANY_TRADE.len())];
    format!("{h}{t}")
}

/// A company name with its legal form in one of the usual positions.
fn company_name(rng: &mut ChaCha8Rng, stem: &str) -> String {
    match rng.random_range(0..10) {
        0..=4 => format!("{stem}株式会社"),
        5..=7 => format!("株式会社{stem}"),
        8 => format!("{stem}有限会社"),
        _ => format!("有限会社{stem}"),
    }
}

fn small_company(rng: &mut ChaCha8Rng, pref: u8) -> String {
    let t = tables();
    let stem = if rng.random_bool(0.7) {
        t.last[t.last_name(rng) as usize].kanji.to_string()
    } else {
        let cities = &t.cities_of[usize::from(pref) - 1];
        let c = &t.cities[usize::from(cities[rng.random_range(0..cities.len())])];
        c.municipality
            .trim_end_matches(['市', '区', '町', '村'])
            .to_string()
    };
    let trade = SMALL_TRADE[rng.random_range(0..SMALL_TRADE.len())];
    match trade {
        "歯科医院" | "クリニック" => format!("医療法人{stem}会　{stem}{trade}"),
        "保育園" | "介護サービス" => format!("社会福祉法人{stem}会"),
        "会計事務所" | "税理士事務所" | "設計事務所" => format!("{stem}{trade}"),
        _ => company_name(rng, &format!("{stem}{trade}")),
    }
}

impl Registry {
    /// Builds the universe for `persons` people.
    pub fn build(rng: &mut ChaCha8Rng, persons: usize) -> Registry {
        let t = tables();
        let mut reg = Registry {
            insurers: Vec::new(),
            employers: Vec::new(),
            symbols: Vec::new(),
            kyokai: Vec::new(),
            koki: Vec::new(),
            senin: 0,
            jieikan: 0,
            kokuho_of_city: vec![u16::MAX; t.cities.len()],
            live_cities: Vec::new(),
            employers_by: vec![vec![Vec::new(); 48]; 6],
            job_cum: super::names::cumulative_of(&super::rates::JOB_SCHEME),
            taken_symbols: std::collections::BTreeSet::new(),
        };
        let scale = |per: usize, lo: usize, hi: usize| (persons / per).clamp(lo, hi);

        // 協会けんぽ and 後期: one per prefecture.
        for p in 1..=47u8 {
            let pref = t.pref(p);
            let i = reg.push(
                rng,
                format!("01{p:02}001"),
                format!("全国健康保険協会　{}支部", pref.short()),
                Scheme::Kyokai,
                p,
            );
            reg.kyokai.push(i);
        }
        for p in 1..=47u8 {
            let pref = t.pref(p);
            let i = reg.push(
                rng,
                format!("39{p:02}000"),
                format!("{}後期高齢者医療広域連合", pref.entry.kanji),
                Scheme::Koki,
                p,
            );
            reg.insurers[usize::from(i)].number_width = 8;
            reg.insurers[usize::from(i)].next_number = rng.random_range(10_000_000..20_000_000);
            reg.koki.push(i);
        }
        reg.senin = reg.push(
            rng,
            "0213001".into(),
            "全国健康保険協会　船員保険部".into(),
            Scheme::Senin,
            13,
        );
        reg.jieikan = reg.push(
            rng,
            "0713001".into(),
            "防衛省（自衛官等）".into(),
            Scheme::Jieikan,
            13,
        );

        // 健保組合: national firms, head offices mostly in the big prefectures.
        let n_kumiai = scale(2500, 20, 1400);
        let mut per_pref = [0u32; 48];
        let mut stems = std::collections::BTreeSet::new();
        for _ in 0..n_kumiai {
            let p = match rng.random_range(0..100) {
                0..=39 => 13,
                40..=51 => 27,
                52..=59 => 23,
                _ => t.prefecture(rng),
            };
            per_pref[usize::from(p)] += 1;
            let mut stem = company_stem(rng);
            while !stems.insert(stem.clone()) {
                stem = format!(
                    "{}{}",
                    stem,
                    ["ホールディングス", "グループ", "連合", "総合"][rng.random_range(0..4)]
                );
            }
            let i = reg.push(
                rng,
                format!("06{p:02}{:03}", per_pref[usize::from(p)]),
                format!("{stem}健康保険組合"),
                Scheme::Kumiai,
                p,
            );
            let companies = [1, 1, 1, 2, 2, 3, 4][rng.random_range(0..7)];
            for c in 0..companies {
                let name = if c == 0 {
                    company_name(rng, &stem)
                } else {
                    let suffix =
                        ["サービス", "物流", "システムズ", "販売", "エンジニアリング"][c % 5];
                    company_name(rng, &format!("{stem}{suffix}"))
                };
                let symbol = (rng.random_range(1..9999u32)).to_string();
                reg.employer(i, name, symbol, 1, 0);
            }
        }

        // 共済.
        let n_kyosai = scale(40_000, 8, 80);
        let mut kyosai: Vec<(u8, u8, String, &str)> = vec![
            (34, 13, "日本私立学校振興・共済事業団".into(), "私学"),
            (31, 13, "財務省共済組合".into(), "財務"),
            (31, 13, "厚生労働省共済組合".into(), "厚労"),
            (31, 13, "国土交通省共済組合".into(), "国交"),
            (31, 13, "文部科学省共済組合".into(), "文科"),
            (31, 13, "法務省共済組合".into(), "法務"),
            (31, 13, "農林水産省共済組合".into(), "農水"),
        ];
        let mut prefs: Vec<u8> = (1..=47).collect();
        prefs.sort_by_key(|&p| std::cmp::Reverse(pop_rank(p)));
        for &p in &prefs {
            let pref = t.pref(p);
            kyosai.push((
                32,
                p,
                format!("公立学校共済組合　{}支部", pref.short()),
                "公学",
            ));
            kyosai.push((
                32,
                p,
                format!("{}市町村職員共済組合", pref.entry.kanji),
                "市共",
            ));
            kyosai.push((33, p, format!("警察共済組合　{}支部", pref.short()), "警共"));
            kyosai.push((
                32,
                p,
                format!("地方職員共済組合　{}支部", pref.short()),
                "地共",
            ));
        }
        let mut serial = BTreeMap::new();
        for (law, p, name, sym) in kyosai.into_iter().take(n_kyosai) {
            let s = serial.entry((law, p)).or_insert(0u32);
            *s += 1;
            let i = reg.push(
                rng,
                format!("{law}{p:02}{:03}", *s),
                name.clone(),
                Scheme::Kyosai(law),
                p,
            );
            let n_emp = if law == 34 { 30 } else { 6 };
            for e in 0..n_emp {
                let emp_pref = if law == 34 || law == 31 {
                    t.prefecture(rng)
                } else {
                    p
                };
                let ename = kyosai_employer(rng, law, &name, emp_pref, e);
                let symbol = format!(
                    "{sym}{}",
                    if rng.random_bool(0.5) {
                        (e + 1).to_string()
                    } else {
                        String::new()
                    }
                );
                reg.employer(
                    i,
                    ename,
                    symbol,
                    2,
                    if law == 34 || law == 31 { 0 } else { p },
                );
            }
        }

        // 船員, 自衛官 employers.
        for _ in 0..scale(20_000, 3, 60) {
            let stem = t.last[t.last_name(rng) as usize].kanji;
            let trade = ["海運", "汽船", "漁業", "マリン"][rng.random_range(0..4)];
            let name = company_name(rng, &format!("{stem}{trade}"));
            let symbol = rng.random_range(100..9999u32).to_string();
            reg.employer(reg.senin, name, symbol, 4, 0);
        }
        for _ in 0..scale(10_000, 3, 100) {
            let p = t.prefecture(rng);
            let cities = &t.cities_of[usize::from(p) - 1];
            let c = t.cities[usize::from(cities[rng.random_range(0..cities.len())])].municipality;
            let c = c.trim_end_matches(['市', '区', '町', '村']);
            let (name, sym) = match rng.random_range(0..3) {
                0 => (format!("陸上自衛隊　{c}駐屯地"), "陸自"),
                1 => (format!("海上自衛隊　{c}基地"), "海自"),
                _ => (format!("航空自衛隊　{c}基地"), "空自"),
            };
            reg.employer(reg.jieikan, name, sym.to_string(), 5, 0);
        }

        // Municipal 国保: the municipalities people live in.
        reg.municipal_kokuho(rng, scale(1500, 47, 1700));

        // 国保組合.
        let n_kk = scale(20_000, 5, 160);
        let mut kk_serial = [0u32; 48];
        for k in 0..n_kk {
            let p = if k < 3 {
                [13, 27, 23][k]
            } else {
                t.prefecture(rng)
            };
            kk_serial[usize::from(p)] += 1;
            if kk_serial[usize::from(p)] > 99 {
                continue;
            }
            let trade =
                KOKUHO_KUMIAI_TRADE[(k + rng.random_range(0..3)) % KOKUHO_KUMIAI_TRADE.len()];
            let pref = t.pref(p);
            let i = reg.push(
                rng,
                format!("{p:02}3{:02}", kk_serial[usize::from(p)]),
                format!("{}{trade}国民健康保険組合", pref.entry.kanji),
                Scheme::KokuhoKumiai,
                p,
            );
            for _ in 0..rng.random_range(5..40) {
                let name = match trade {
                    "医師" => format!("{}医院", t.last[t.last_name(rng) as usize].kanji),
                    "歯科医師" => {
                        format!("{}歯科医院", t.last[t.last_name(rng) as usize].kanji)
                    }
                    "薬剤師" => format!("{}薬局", t.last[t.last_name(rng) as usize].kanji),
                    "弁護士" => format!("{}法律事務所", t.last[t.last_name(rng) as usize].kanji),
                    "税理士" => {
                        format!("{}税理士事務所", t.last[t.last_name(rng) as usize].kanji)
                    }
                    _ => small_company(rng, p),
                };
                let symbol = rng.random_range(1..999u32).to_string();
                reg.employer(i, name, symbol, 3, p);
            }
        }

        // 協会けんぽ employers: many small workplaces in every prefecture.
        let n_kyokai_emp = (persons / 20).max(200);
        let mut emp_serial = [0u32; 48];
        for _ in 0..n_kyokai_emp {
            let p = t.prefecture(rng);
            emp_serial[usize::from(p)] += 1;
            let code =
                u32::from(p) * 1_000_000 + (emp_serial[usize::from(p)] * 7919 + 12345) % 1_000_000;
            let name = small_company(rng, p);
            reg.employer(
                reg.kyokai[usize::from(p) - 1],
                name,
                format!("{code:08}"),
                0,
                p,
            );
        }
        reg
    }

    fn push(
        &mut self,
        rng: &mut ChaCha8Rng,
        body: String,
        name: String,
        scheme: Scheme,
        prefecture: u8,
    ) -> u16 {
        let number = with_check_digit(&body);
        let style = RosterStyle {
            kana_halfwidth: rng.random_bool(0.12),
            half_space: rng.random_bool(0.2),
            address_style: rng.random_range(0..4),
        };
        let number_width = match scheme {
            Scheme::Kokuho | Scheme::KokuhoKumiai => [0, 0, 7, 8][rng.random_range(0..4)],
            Scheme::Kumiai => [0, 0, 0, 6][rng.random_range(0..4)],
            _ => 0,
        };
        self.insurers.push(Insurer {
            number,
            name,
            scheme,
            prefecture,
            style,
            number_width,
            next_number: rng.random_range(1..5000),
            district_symbols: Vec::new(),
        });
        (self.insurers.len() - 1) as u16
    }

    fn symbol(&mut self, s: String) -> u32 {
        self.symbols.push(s);
        (self.symbols.len() - 1) as u32
    }

    fn employer(&mut self, insurer: u16, name: String, symbol: String, slot: usize, bucket: u8) {
        // 記号 must be unique within the insurer: 番号 are counted per employer.
        let mut s = symbol.clone();
        let mut k = 1;
        while !self.taken_symbols.insert((insurer, s.clone())) {
            k += 1;
            s = format!("{symbol}{k}");
        }
        let symbol = self.symbol(s);
        self.employers.push(Employer {
            insurer,
            name,
            symbol,
            next_number: 1 + (symbol % 50),
        });
        let e = (self.employers.len() - 1) as u32;
        self.employers_by[slot][usize::from(bucket)].push(e);
    }

    fn municipal_kokuho(&mut self, rng: &mut ChaCha8Rng, n: usize) {
        let t = tables();
        // Municipalities with their cities, in data order.
        let mut munis: Vec<(u8, &'static str, Vec<u16>, f64)> = Vec::new();
        for (i, c) in t.cities.iter().enumerate() {
            match munis.last_mut() {
                Some(m) if m.0 == c.prefecture && m.1 == c.municipality => {
                    m.2.push(i as u16);
                    m.3 += c.weight;
                }
                _ => munis.push((c.prefecture, c.municipality, vec![i as u16], c.weight)),
            }
        }
        // Every prefecture's first municipality (its capital), then weighted picks.
        let mut chosen = vec![false; munis.len()];
        let mut seen_pref = [false; 48];
        for (i, m) in munis.iter().enumerate() {
            if !seen_pref[usize::from(m.0)] {
                seen_pref[usize::from(m.0)] = true;
                chosen[i] = true;
            }
        }
        let pop_of = |p: u8| f64::from(pop_rank(p));
        let weights: Vec<f64> = munis.iter().map(|m| m.3 * pop_of(m.0)).collect();
        let mut left = n.saturating_sub(47).min(munis.len() - 47);
        let mut cum = super::names::cumulative_of(&weights);
        while left > 0 {
            let i = pick_cum(rng, &cum);
            if !chosen[i] {
                chosen[i] = true;
                left -= 1;
                // Remove its weight so it is not drawn again.
                let w = weights[i];
                for c in cum.iter_mut().skip(i) {
                    *c -= w;
                }
            }
        }
        let mut serial = [0u32; 48];
        let mut live: Vec<(Vec<u16>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); 47];
        for (i, (p, muni, cities, _)) in munis.iter().enumerate() {
            if !chosen[i] {
                continue;
            }
            // 保険者別番号: three digits whose first is not 3 (3 marks 国保組合).
            let code = loop {
                serial[usize::from(*p)] += 1;
                let s = serial[usize::from(*p)];
                if (s / 100) % 10 != 3 {
                    break s;
                }
            };
            let name = format!("{muni}国民健康保険");
            let ins = self.push(rng, format!("{p:02}{code:03}"), name, Scheme::Kokuho, *p);
            let prefix: String = if rng.random_bool(0.35) {
                muni.chars().take(rng.random_range(1..=2)).collect()
            } else {
                String::new()
            };
            let districts = if rng.random_bool(0.1) {
                1
            } else {
                rng.random_range(2..12)
            };
            for d in 0..districts {
                let s = if districts == 1 && prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}{}", d * 3 + 1)
                };
                let sym = self.symbol(s);
                self.insurers[usize::from(ins)].district_symbols.push(sym);
            }
            for &c in cities {
                self.kokuho_of_city[usize::from(c)] = ins;
            }
            let (lc, lw) = &mut live[usize::from(*p) - 1];
            for &c in cities {
                lc.push(c);
                let acc = lw.last().copied().unwrap_or(0.0);
                lw.push(acc + t.cities[usize::from(c)].weight);
            }
        }
        self.live_cities = live;
    }

    pub fn koki(&self, pref: u8) -> u16 {
        self.koki[usize::from(pref) - 1]
    }

    /// A city people live in, in the prefecture.
    pub fn live_city(&self, rng: &mut ChaCha8Rng, pref: u8) -> u16 {
        let (cities, cum) = &self.live_cities[usize::from(pref) - 1];
        cities[pick_cum(rng, cum)]
    }

    pub fn city_kokuho(&self, city: u16) -> u16 {
        self.kokuho_of_city[usize::from(city)]
    }

    /// An employer for a new job of someone living in `pref`.
    pub fn pick_employer(&self, rng: &mut ChaCha8Rng, pref: u8) -> u32 {
        loop {
            let slot = pick_cum(rng, &self.job_cum);
            let local = &self.employers_by[slot][usize::from(pref)];
            let national = &self.employers_by[slot][0];
            let list = if !local.is_empty() && (national.is_empty() || rng.random_bool(0.8)) {
                local
            } else {
                national
            };
            if !list.is_empty() {
                return list[rng.random_range(0..list.len())];
            }
        }
    }
}

/// A population weight for a prefecture (bigger prefectures get more 共済 and 国保).
fn pop_rank(p: u8) -> u32 {
    const POP: [u32; 47] = [
        522, 124, 121, 230, 96, 107, 183, 287, 193, 194, 734, 628, 1405, 924, 220, 104, 113, 77,
        81, 205, 198, 363, 754, 177, 141, 258, 884, 547, 132, 92, 55, 67, 189, 280, 134, 72, 95,
        133, 69, 514, 81, 131, 174, 112, 107, 159, 147,
    ];
    POP[usize::from(p.clamp(1, 47)) - 1]
}

fn kyosai_employer(rng: &mut ChaCha8Rng, law: u8, insurer: &str, pref: u8, e: usize) -> String {
    let t = tables();
    let pref_e = t.pref(pref);
    let cities = &t.cities_of[usize::from(pref) - 1];
    let city = t.cities[usize::from(cities[rng.random_range(0..cities.len())])].municipality;
    match law {
        31 => {
            let ministry = insurer.trim_end_matches("共済組合");
            if e.is_multiple_of(2) {
                ministry.to_string()
            } else {
                format!("{ministry}　{}事務所", pref_e.short())
            }
        }
        33 => format!("{}警察本部", pref_e.entry.kanji),
        34 => {
            let stem = t.last[t.last_name(rng) as usize].kanji;
            format!("学校法人{stem}学園")
        }
        _ => {
            if insurer.starts_with("公立学校") {
                let town = t.towns[rng.random_range(0..t.towns.len())].kanji;
                let town = town.trim_end_matches(['町', '村']);
                format!("{city}立{town}{}", ["小学校", "中学校"][e % 2])
            } else if insurer.starts_with("地方職員") {
                format!("{}庁", pref_e.entry.kanji)
            } else if city.ends_with('村') || city.ends_with('町') {
                format!("{city}役場")
            } else {
                format!("{city}役所")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn numbers_are_valid_and_unique() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let reg = Registry::build(&mut rng, 50_000);
        let mut seen = std::collections::BTreeSet::new();
        for i in &reg.insurers {
            assert!(InsurerNumber::parse(i.number.as_str()).is_ok());
            assert!(seen.insert(i.number), "duplicate {}", i.number);
            if i.scheme == Scheme::KokuhoKumiai {
                assert_eq!(&i.number.as_str()[2..3], "3");
            }
            if i.scheme == Scheme::Kokuho {
                assert_ne!(&i.number.as_str()[2..3], "3");
                assert_eq!(i.number.as_str().len(), 6);
            }
        }
        let tokyo = reg
            .insurers
            .iter()
            .find(|i| i.number.as_str() == "01130012")
            .unwrap();
        assert_eq!(tokyo.scheme, Scheme::Kyokai);
        assert_eq!(
            reg.insurers[usize::from(reg.koki(28))].number.as_str(),
            "39280003"
        );
        assert!(reg.live_cities.iter().all(|(c, _)| !c.is_empty()));
        assert!(reg.insurers.len() > 150, "{}", reg.insurers.len());
    }
}

//! Name and address tables for the generator, embedded from `data/` (converted once from
//! the MIT-licensed `gimei` crate by `scripts/import_gimei.py`; see `data/LICENSE-gimei`).
//!
//! Last names are drawn with Zipf-like weights by their rank in gimei's list (which runs
//! roughly from the commonest down), so 佐藤, 鈴木, 高橋 … are frequent, as they are in
//! the real population: the matcher must cope with many people sharing a name.

use std::sync::OnceLock;

use rand::Rng;

const LAST_NAMES: &str = include_str!("../../data/last_names.tsv");
const FIRST_MALE: &str = include_str!("../../data/first_male.tsv");
const FIRST_FEMALE: &str = include_str!("../../data/first_female.tsv");
const PREFECTURES: &str = include_str!("../../data/prefectures.tsv");
const CITIES: &str = include_str!("../../data/cities.tsv");
const TOWNS: &str = include_str!("../../data/towns.tsv");

/// Population of each prefecture (2020 census, in ten thousands), JIS order 01–47.
const PREFECTURE_POPULATION: [u32; 47] = [
    522, 124, 121, 230, 96, 107, 183, 287, 193, 194, 734, 628, 1405, 924, 220, 104, 113, 77, 81,
    205, 198, 363, 754, 177, 141, 258, 884, 547, 132, 92, 55, 67, 189, 280, 134, 72, 95, 133, 69,
    514, 81, 131, 174, 112, 107, 159, 147,
];

/// Zipf exponent and rank offset of last-name frequency: weight = 1 / (rank + OFFSET)^S.
/// With gimei's ~500 names this gives the commonest about 2% of the population.
const LAST_NAME_ZIPF_S: f64 = 1.0;
const LAST_NAME_ZIPF_OFFSET: f64 = 12.0;

/// A name or place in kanji with its readings.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub kanji: &'static str,
    /// Hiragana reading (the corruption model derives hiragana from `kana` instead).
    #[allow(dead_code)]
    pub hira: &'static str,
    pub kana: &'static str,
}

#[derive(Debug, Clone)]
pub struct Prefecture {
    /// JIS code 1–47 (also its position in the table).
    #[allow(dead_code)]
    pub code: u8,
    pub entry: Entry,
}

impl Prefecture {
    /// The name without 都/府/県 (北海道 stays), as in 協会けんぽ 東京支部.
    pub fn short(&self) -> &'static str {
        let k = self.entry.kanji;
        if k == "北海道" {
            return k;
        }
        k.strip_suffix(['都', '府', '県']).unwrap_or(k)
    }
}

#[derive(Debug, Clone)]
pub struct City {
    pub prefecture: u8,
    pub entry: Entry,
    /// The municipality that runs its 国保: the city for a ward of a designated city
    /// (札幌市中央区 → 札幌市), the town without its 郡 (○○郡△△町 → △△町), else itself.
    pub municipality: &'static str,
    pub weight: f64,
}

/// All tables, parsed once.
pub struct Tables {
    pub last: Vec<Entry>,
    last_cum: Vec<f64>,
    pub male: Vec<Entry>,
    pub female: Vec<Entry>,
    pub prefectures: Vec<Prefecture>,
    pref_cum: Vec<f64>,
    pub cities: Vec<City>,
    /// City indexes of each prefecture (index 0 = prefecture 01).
    pub cities_of: Vec<Vec<u16>>,
    pub towns: Vec<Entry>,
    /// First-name indexes sorted by reading, to find other spellings of one reading.
    male_by_reading: Vec<u16>,
    female_by_reading: Vec<u16>,
}

fn rows(text: &'static str, cols: usize) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines().filter(|l| !l.is_empty()).map(move |l| {
        let v: Vec<&str> = l.split('\t').collect();
        assert_eq!(v.len(), cols, "bad data line {l:?}");
        v
    })
}

fn entries(text: &'static str) -> Vec<Entry> {
    rows(text, 3)
        .map(|v| Entry {
            kanji: v[0],
            hira: v[1],
            kana: v[2],
        })
        .collect()
}

/// Cumulative sums of `weights`, for [`pick_cum`].
pub fn cumulative_of(weights: &[f64]) -> Vec<f64> {
    cumulative(weights.iter().copied())
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// Index drawn from cumulative weights.
pub fn pick_cum<R: Rng>(rng: &mut R, cum: &[f64]) -> usize {
    let total = *cum.last().unwrap_or(&0.0);
    let x = rng.random::<f64>() * total;
    cum.partition_point(|&c| c <= x)
        .min(cum.len().saturating_sub(1))
}

fn municipality(kanji: &'static str) -> &'static str {
    // Ward of a designated city: "札幌市中央区" → "札幌市".
    if let Some(i) = kanji.find('市') {
        let end = i + '市'.len_utf8();
        if end < kanji.len() && kanji.ends_with('区') {
            return &kanji[..end];
        }
    }
    // Town or village in a district: "中川郡幕別町" → "幕別町".
    if let Some(i) = kanji.find('郡') {
        let rest = &kanji[i + '郡'.len_utf8()..];
        if !rest.is_empty() {
            return rest;
        }
    }
    kanji
}

fn city_weight(kanji: &str, prefecture: u8) -> f64 {
    if kanji.ends_with('区') {
        if prefecture == 13 && !kanji.contains('市') {
            8.0
        } else {
            5.0
        }
    } else if kanji.ends_with('市') {
        4.0
    } else if kanji.ends_with('村') {
        0.3
    } else {
        1.0
    }
}

fn by_reading(v: &[Entry]) -> Vec<u16> {
    let mut idx: Vec<u16> = (0..v.len() as u16).collect();
    idx.sort_by_key(|&i| (v[i as usize].kana, i));
    idx
}

impl Tables {
    fn load() -> Tables {
        let last = entries(LAST_NAMES);
        let last_cum = cumulative(
            (0..last.len())
                .map(|r| 1.0 / (r as f64 + LAST_NAME_ZIPF_OFFSET).powf(LAST_NAME_ZIPF_S)),
        );
        let male = entries(FIRST_MALE);
        let female = entries(FIRST_FEMALE);
        let prefectures: Vec<Prefecture> = rows(PREFECTURES, 4)
            .map(|v| Prefecture {
                code: v[0].parse().unwrap_or(0),
                entry: Entry {
                    kanji: v[1],
                    hira: v[2],
                    kana: v[3],
                },
            })
            .collect();
        assert_eq!(prefectures.len(), 47);
        let pref_cum = cumulative(PREFECTURE_POPULATION.iter().map(|&p| f64::from(p)));
        let cities: Vec<City> = rows(CITIES, 4)
            .map(|v| {
                let prefecture: u8 = v[0].parse().unwrap_or(1);
                City {
                    prefecture,
                    entry: Entry {
                        kanji: v[1],
                        hira: v[2],
                        kana: v[3],
                    },
                    municipality: municipality(v[1]),
                    weight: city_weight(v[1], prefecture),
                }
            })
            .collect();
        let mut cities_of = vec![Vec::new(); 47];
        for (i, c) in cities.iter().enumerate() {
            cities_of[usize::from(c.prefecture) - 1].push(i as u16);
        }
        let male_by_reading = by_reading(&male);
        let female_by_reading = by_reading(&female);
        Tables {
            last,
            last_cum,
            male,
            female,
            prefectures,
            pref_cum,
            cities,
            cities_of,
            towns: entries(TOWNS),
            male_by_reading,
            female_by_reading,
        }
    }

    pub fn last_name<R: Rng>(&self, rng: &mut R) -> u16 {
        pick_cum(rng, &self.last_cum) as u16
    }

    pub fn first_name<R: Rng>(&self, rng: &mut R, male: bool) -> u16 {
        let n = if male {
            self.male.len()
        } else {
            self.female.len()
        };
        rng.random_range(0..n) as u16
    }

    pub fn first(&self, male: bool, i: u16) -> &Entry {
        if male {
            &self.male[usize::from(i)]
        } else {
            &self.female[usize::from(i)]
        }
    }

    /// Another spelling of the same first-name reading, if there is one.
    pub fn same_reading<R: Rng>(&self, rng: &mut R, male: bool, i: u16) -> Option<u16> {
        let (v, idx) = if male {
            (&self.male, &self.male_by_reading)
        } else {
            (&self.female, &self.female_by_reading)
        };
        let kana = v[usize::from(i)].kana;
        let lo = idx.partition_point(|&j| v[usize::from(j)].kana < kana);
        let hi = idx.partition_point(|&j| v[usize::from(j)].kana <= kana);
        let others: Vec<u16> = idx[lo..hi].iter().copied().filter(|&j| j != i).collect();
        if others.is_empty() {
            None
        } else {
            Some(others[rng.random_range(0..others.len())])
        }
    }

    /// A prefecture code 1–47 weighted by population.
    pub fn prefecture<R: Rng>(&self, rng: &mut R) -> u8 {
        pick_cum(rng, &self.pref_cum) as u8 + 1
    }

    pub fn pref(&self, code: u8) -> &Prefecture {
        &self.prefectures[usize::from(code.clamp(1, 47)) - 1]
    }
}

/// The embedded tables.
pub fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(Tables::load)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn tables_load_and_cities_know_their_prefecture() {
        let t = tables();
        assert!(t.last.len() > 400);
        assert_eq!(t.last[0].kanji, "佐藤");
        assert_eq!(t.pref(13).entry.kanji, "東京都");
        assert_eq!(t.pref(13).short(), "東京");
        assert_eq!(t.pref(1).short(), "北海道");
        let sapporo = t
            .cities
            .iter()
            .find(|c| c.entry.kanji == "札幌市中央区")
            .unwrap();
        assert_eq!(sapporo.prefecture, 1);
        assert_eq!(sapporo.municipality, "札幌市");
        let naha = t.cities.iter().find(|c| c.entry.kanji == "那覇市").unwrap();
        assert_eq!(naha.prefecture, 47);
        assert!(t.cities_of.iter().all(|c| !c.is_empty()));
        assert_eq!(municipality("中川郡幕別町"), "幕別町");
        assert_eq!(municipality("千代田区"), "千代田区");
    }

    #[test]
    fn common_last_names_are_common() {
        let t = tables();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let sato = (0..n).filter(|_| t.last_name(&mut rng) == 0).count();
        // About 2% 佐藤, far above the uniform 0.2%.
        assert!(sato > n / 100 && sato < n / 25, "{sato}");
    }
}

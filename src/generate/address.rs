//! Addresses: a place (prefecture, city, town from the gimei tables) plus 丁目, 番地, 号
//! and sometimes a building, written in the many ways rosters, clinics and patients
//! write them (1丁目2番3号, 1-2-3, 一丁目2番3号, full-width digits, prefecture left out).

use rand::Rng;

use super::kana::{fullwidth_digits, kanji_numeral};
use super::names::tables;

const BUILDING_HEAD: &[&str] = &[
    "コーポ",
    "ハイツ",
    "メゾン",
    "サンハイツ",
    "グランドール",
    "パークサイド",
    "レジデンス",
    "シャトー",
    "ヴィラ",
    "フォレスト",
];
const BUILDING_TAIL: &[&str] = &["", "マンション", "荘", "ハイム", "コート", "テラス"];

/// One address. The prefecture is the city's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub city: u16,
    pub town: u16,
    /// 丁目 (0: the town has none; then `banchi` is a 番地).
    pub chome: u8,
    pub banchi: u16,
    /// 号 (0: none).
    pub go: u16,
    /// Building name index + 1 (0: a house).
    pub building: u16,
    pub room: u16,
    /// Postal code as 7 digits.
    pub postal: u32,
}

impl Address {
    pub fn random<R: Rng>(rng: &mut R, city: u16) -> Address {
        let t = tables();
        let town = rng.random_range(0..t.towns.len()) as u16;
        let chome = if rng.random_bool(0.6) {
            rng.random_range(1..=7)
        } else {
            0
        };
        let banchi = if chome > 0 {
            rng.random_range(1..=30)
        } else {
            rng.random_range(1..=1500)
        };
        let go = if chome > 0 || rng.random_bool(0.4) {
            rng.random_range(1..=28)
        } else {
            0
        };
        let building = if rng.random_bool(0.35) {
            rng.random_range(1..=(BUILDING_HEAD.len() * BUILDING_TAIL.len()) as u16)
        } else {
            0
        };
        let room = 100 * rng.random_range(1..=8) + rng.random_range(1..=12);
        let postal = postal_code(city, town);
        Address {
            city,
            town,
            chome,
            banchi,
            go,
            building,
            room,
            postal,
        }
    }

    /// Another dwelling in the same town (a move round the corner).
    pub fn nearby<R: Rng>(&self, rng: &mut R) -> Address {
        let mut a = Address::random(rng, self.city);
        if rng.random_bool(0.5) {
            a.town = self.town;
            a.postal = self.postal;
        }
        a
    }

    pub fn prefecture(&self) -> u8 {
        tables().cities[usize::from(self.city)].prefecture
    }

    pub fn postal_text(&self) -> String {
        format!("{:03}-{:04}", self.postal / 10_000, self.postal % 10_000)
    }

    fn place(&self, with_prefecture: bool) -> String {
        let t = tables();
        let city = &t.cities[usize::from(self.city)];
        let mut s = String::new();
        if with_prefecture {
            s.push_str(t.pref(city.prefecture).entry.kanji);
        }
        s.push_str(city.entry.kanji);
        s.push_str(t.towns[usize::from(self.town)].kanji);
        s
    }

    fn building_name(&self) -> Option<String> {
        if self.building == 0 {
            return None;
        }
        let t = tables();
        let i = usize::from(self.building - 1);
        let head = BUILDING_HEAD[i % BUILDING_HEAD.len()];
        let tail = BUILDING_TAIL[i / BUILDING_HEAD.len() % BUILDING_TAIL.len()];
        let town = t.towns[usize::from(self.town)]
            .kanji
            .trim_end_matches(['町', '村']);
        Some(if tail.is_empty() {
            format!("{head}{town}")
        } else {
            format!("{town}{tail}")
        })
    }

    /// The numbers in a style: 0 `1丁目2番3号`, 1 `1-2-3`, 2 full-width `１丁目２番３号`,
    /// 3 `一丁目2番3号`, 4 full-width `１－２－３`.
    fn numbers(&self, style: u8) -> String {
        let (c, b, g) = (u32::from(self.chome), self.banchi, self.go);
        let dashed = match (c, g) {
            (0, 0) => format!("{b}"),
            (0, g) => format!("{b}-{g}"),
            (c, 0) => format!("{c}-{b}"),
            (c, g) => format!("{c}-{b}-{g}"),
        };
        let chome_text = |chome: String| match (c, g) {
            (0, 0) => format!("{b}番地"),
            (0, g) => format!("{b}番地{g}"),
            (_, 0) => format!("{chome}丁目{b}番"),
            (_, g) => format!("{chome}丁目{b}番{g}号"),
        };
        match style % 5 {
            0 => chome_text(c.to_string()),
            1 => dashed,
            2 => fullwidth_digits(&chome_text(c.to_string())),
            3 => chome_text(kanji_numeral(c)),
            _ => fullwidth_digits(&dashed),
        }
    }

    /// The roster's form of the address (one style per insurer).
    pub fn roster_text(&self, style: u8) -> String {
        let mut s = self.place(true);
        s.push_str(&self.numbers(style));
        if let Some(b) = self.building_name() {
            let room = self.room.to_string();
            s.push('　');
            s.push_str(&b);
            s.push_str(&if style == 2 {
                fullwidth_digits(&room)
            } else {
                room
            });
            if style == 0 {
                s.push_str("号室");
            }
        }
        s
    }

    /// The address as a patient or a clerk writes it: any number style, the prefecture
    /// sometimes left out, the building sometimes left out. Never contains a comma.
    pub fn written<R: Rng>(&self, rng: &mut R, drop_prefecture: bool) -> String {
        let style = rng.random_range(0..5u8);
        let mut s = self.place(!drop_prefecture);
        s.push_str(&self.numbers(style));
        if let Some(b) = self.building_name() {
            if rng.random_bool(0.8) {
                let room = self.room.to_string();
                let room = if style == 2 || style == 4 {
                    fullwidth_digits(&room)
                } else {
                    room
                };
                match rng.random_range(0..3) {
                    0 => s.push_str(&format!("　{b}{room}")),
                    1 => s.push_str(&format!("{b}{room}号室")),
                    _ => s.push_str(&format!("－{room}")),
                }
            }
        }
        s
    }
}

/// A stable postal code for a town of a city: three digits from the prefecture and
/// city, four from the town.
fn postal_code(city: u16, town: u16) -> u32 {
    let t = tables();
    let pref = u32::from(t.cities[usize::from(city)].prefecture);
    let head = (pref * 19 + u32::from(city) % 17) % 990 + 10;
    let h = (u32::from(city) * 7919 + u32::from(town) * 104_729) % 10_000;
    head * 10_000 + h
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn styles() {
        let a = Address {
            city: 0,
            town: 1,
            chome: 1,
            banchi: 2,
            go: 3,
            building: 0,
            room: 101,
            postal: 1_234_567,
        };
        assert_eq!(a.roster_text(0), "北海道札幌市中央区亀尾町1丁目2番3号");
        assert_eq!(a.roster_text(1), "北海道札幌市中央区亀尾町1-2-3");
        assert_eq!(a.roster_text(2), "北海道札幌市中央区亀尾町１丁目２番３号");
        assert_eq!(a.roster_text(3), "北海道札幌市中央区亀尾町一丁目2番3号");
        assert_eq!(a.postal_text(), "123-4567");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let a = Address::random(&mut rng, 100);
            let w = a.written(&mut rng, true);
            assert!(!w.contains(',') && !w.starts_with("北海道"), "{w}");
        }
    }
}

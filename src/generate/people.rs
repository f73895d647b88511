//! People and their eligibility histories.
//!
//! People live in households. Each household has an address history (moves), and each
//! person who works has a job history (job changes, retirement). A person's insurance
//! on any day follows from those: 75 and over → 後期 of the prefecture they live in
//! (from the 75th birthday); a job → its insurer (社保, 国保組合, 自衛官), with the
//! dependents of the insured person under the same 記号・番号 and their own 枝番; no job
//! (or the insured person in 後期) → the 国保 of the city, one 記号・番号 per household.
//! Periods are the runs of days with the same coverage.
//!
//! Some households had an event (job change, retirement, move) in the weeks before the
//! care month; for some of those the new insurer has not registered the new period yet
//! (registration lag: the new period exists in truth but not on the roster). Some babies
//! are not registered yet, and a few households are on no roster at all.

use chrono::{Datelike, NaiveDate, TimeDelta};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::address::Address;
use super::insurers::Registry;
use super::kana::{has_variant, with_variant};
use super::names::{cumulative_of, pick_cum, tables};
use super::rates;
use crate::domain::{Sex, YearMonth};

pub const NO_BRANCH: u8 = u8::MAX;
pub const NO_EMPLOYER: u32 = u32::MAX;
pub const NO_SYMBOL: u32 = u32::MAX;

/// The dates a synthetic month is built around.
#[derive(Debug, Clone, Copy)]
pub struct Dates {
    pub billing_month: YearMonth,
    pub care_month: YearMonth,
    pub care_start: NaiveDate,
    pub care_end: NaiveDate,
    /// The day the roster was extracted (10th of the billing month).
    pub snapshot: NaiveDate,
    /// About ten years before the snapshot: older history is not on the roster.
    pub window_start: NaiveDate,
}

impl Dates {
    pub fn new(billing_month: YearMonth) -> Dates {
        let care_end = billing_month.first_day() - TimeDelta::days(1);
        let care_month = YearMonth::of(care_end);
        let snapshot = billing_month.first_day() + TimeDelta::days(9);
        Dates {
            billing_month,
            care_month,
            care_start: care_month.first_day(),
            care_end,
            snapshot,
            window_start: snapshot - TimeDelta::days(3652),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Head,
    Spouse,
    Child,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub last: u16,
    /// The last name as registered, when it is an old/variant spelling (髙橋, 齋藤 …).
    pub last_registered: Option<Box<str>>,
    pub first: u16,
    pub sex: Sex,
    pub birth: NaiveDate,
    pub household: u32,
    pub role: Role,
    pub periods_start: u32,
    pub periods_len: u8,
    /// Where the person lives on the first day of the care month.
    pub address: u32,
    /// Where they lived before their last move (the same when they have not moved).
    pub prev_address: u32,
    /// Born within about two months before the care month.
    pub newborn: bool,
}

impl Person {
    pub fn is_male(&self) -> bool {
        self.sex == Sex::Male
    }
}

/// One eligibility period (a roster row when `on_roster`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// Inclusive; `None` = still valid.
    pub to: Option<NaiveDate>,
    pub insurer: u16,
    /// Index into `Registry::symbols`, or [`NO_SYMBOL`].
    pub symbol: u32,
    pub number: u32,
    /// 枝番, or [`NO_BRANCH`].
    pub branch: u8,
    pub employer: u32,
    pub address: u32,
    pub copay: u8,
    pub on_roster: bool,
}

impl Period {
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.from <= d && self.to.is_none_or(|t| d <= t)
    }

    pub fn covers_range(&self, a: NaiveDate, b: NaiveDate) -> bool {
        self.from <= a && self.to.is_none_or(|t| b <= t)
    }
}

pub struct World {
    pub persons: Vec<Person>,
    pub periods: Vec<Period>,
    pub addresses: Vec<Address>,
    pub dates: Dates,
    pub households: u32,
    id_salt: u64,
}

impl World {
    pub fn periods_of(&self, p: usize) -> &[Period] {
        let s = &self.persons[p];
        let a = s.periods_start as usize;
        &self.periods[a..a + usize::from(s.periods_len)]
    }

    /// Global index of the person's period that covers `d`.
    pub fn period_on(&self, p: usize, d: NaiveDate) -> Option<usize> {
        let s = &self.persons[p];
        let a = s.periods_start as usize;
        (a..a + usize::from(s.periods_len)).find(|&i| self.periods[i].covers(d))
    }

    /// The opaque, stable person key of the central system.
    pub fn person_id(&self, p: usize) -> String {
        // A bijection of 0..10^10 (the multiplier is prime to 10), so ids are unique.
        let n = (p as u64)
            .wrapping_mul(2_654_435_761)
            .wrapping_add(self.id_salt)
            % 10_000_000_000;
        format!("P{n:010}")
    }

    /// Registered family and given name (kanji).
    pub fn name(&self, p: usize) -> (&str, &'static str) {
        let t = tables();
        let s = &self.persons[p];
        let last = match &s.last_registered {
            Some(r) => r,
            None => t.last[usize::from(s.last)].kanji,
        };
        (last, t.first(s.is_male(), s.first).kanji)
    }

    /// Family and given name in katakana.
    pub fn kana(&self, p: usize) -> (&'static str, &'static str) {
        let t = tables();
        let s = &self.persons[p];
        (
            t.last[usize::from(s.last)].kana,
            t.first(s.is_male(), s.first).kana,
        )
    }

    /// A stable phone number of the person (mobile, or the household's landline with
    /// the area code of where they live).
    pub fn phone(&self, p: usize) -> String {
        const AREA: [&str; 47] = [
            "011", "017", "019", "022", "018", "023", "024", "029", "028", "027", "048", "043",
            "03", "045", "025", "076", "076", "0776", "055", "026", "058", "054", "052", "059",
            "077", "075", "06", "078", "0742", "073", "0857", "0852", "086", "082", "083", "088",
            "087", "089", "088", "092", "0952", "095", "096", "097", "0985", "099", "098",
        ];
        let s = &self.persons[p];
        let h = mix(p as u64 ^ self.id_salt);
        if s.role == Role::Child || h.is_multiple_of(5) {
            let hh = mix(u64::from(s.household) ^ self.id_salt);
            let pref = self.addresses[s.address as usize].prefecture();
            let area = AREA[usize::from(pref.clamp(1, 47)) - 1];
            let local = 6 - area.len() as u32;
            let mid = (hh >> 8) % 10u64.pow(local);
            format!(
                "{area}-{mid:0w$}-{:04}",
                (hh >> 24) % 10_000,
                w = local as usize
            )
        } else {
            let pre = ["090", "080", "070"][(h % 3) as usize];
            format!("{pre}-{:04}-{:04}", (h >> 8) % 10_000, (h >> 24) % 10_000)
        }
    }
}

pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub fn days(d: NaiveDate, n: i64) -> NaiveDate {
    d + TimeDelta::days(n)
}

/// Age in completed years on `d`.
pub fn age_on(birth: NaiveDate, d: NaiveDate) -> i32 {
    let mut a = d.year() - birth.year();
    if (d.month(), d.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

/// The n-th birthday (29 February → 1 March in common years).
pub fn birthday(birth: NaiveDate, n: i32) -> NaiveDate {
    let y = birth.year() + n;
    NaiveDate::from_ymd_opt(y, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
        .unwrap_or(birth)
}

/// The patient's copay percentage on `d` (DOMAIN §8).
pub fn copay_on(birth: NaiveDate, d: NaiveDate, high70: bool, koki: u8) -> u8 {
    if d >= birthday(birth, 75) {
        return koki;
    }
    let b70 = birthday(birth, 70);
    let start70 = if birth.day() == 1 {
        NaiveDate::from_ymd_opt(b70.year(), b70.month(), 1).unwrap_or(b70)
    } else {
        YearMonth::of(b70).next().first_day()
    };
    if d >= start70 {
        return if high70 { 30 } else { 20 };
    }
    // Preschool: until the first 31 March on or after reaching 6 (the day before the
    // 6th birthday, in law).
    let reach6 = birthday(birth, 6) - TimeDelta::days(1);
    let march = NaiveDate::from_ymd_opt(reach6.year(), 3, 31).unwrap_or(reach6);
    let end = if reach6 <= march {
        march
    } else {
        NaiveDate::from_ymd_opt(reach6.year() + 1, 3, 31).unwrap_or(reach6)
    };
    if d <= end {
        20
    } else {
        30
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobState {
    Employed { employer: u32, number: u32 },
    Home,
    Gap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cov {
    None,
    Emp {
        employer: u32,
        number: u32,
        branch: u8,
    },
    Kokuho {
        insurer: u16,
        branch: u8,
    },
    Koki {
        insurer: u16,
    },
}

struct Member {
    sex: Sex,
    birth: NaiveDate,
    role: Role,
    independent: bool,
    last: u16,
    first: u16,
    high70: bool,
    koki_copay: u8,
    ordinal: u8,
    start: NaiveDate,
    /// Index into the household's job timelines (own or the head's).
    unit: usize,
}

/// Builds every person and period.
pub struct Builder<'r> {
    rng: ChaCha8Rng,
    reg: &'r mut Registry,
    world: World,
    kinds_cum: Vec<f64>,
    job_changes_cum: Vec<f64>,
    moves_cum: Vec<f64>,
    distance_cum: Vec<f64>,
    koki_cum: Vec<f64>,
    elderly_cum: Vec<f64>,
}

impl<'r> Builder<'r> {
    pub fn new(rng: ChaCha8Rng, reg: &'r mut Registry, dates: Dates, id_salt: u64) -> Self {
        Builder {
            rng,
            reg,
            world: World {
                persons: Vec::new(),
                periods: Vec::new(),
                addresses: Vec::new(),
                dates,
                households: 0,
                id_salt: id_salt % 10_000_000_000,
            },
            kinds_cum: cumulative_of(&rates::HOUSEHOLD_KINDS),
            job_changes_cum: cumulative_of(&rates::JOB_CHANGES),
            moves_cum: cumulative_of(&rates::MOVES),
            distance_cum: cumulative_of(&rates::MOVE_DISTANCE),
            koki_cum: cumulative_of(&rates::KOKI_COPAY),
            elderly_cum: cumulative_of(&rates::ELDERLY_AGE_BANDS),
        }
    }

    pub fn build(mut self, persons: usize) -> World {
        self.world.persons.reserve(persons);
        self.world.periods.reserve(persons * 2);
        while self.world.persons.len() < persons {
            let room = persons - self.world.persons.len();
            self.household(room);
        }
        self.world
    }

    fn birth_for_age(&mut self, age: i32) -> NaiveDate {
        let snap = self.world.dates.snapshot;
        let d = birthday(snap, -age - 1);
        days(d, self.rng.random_range(1..=365))
    }

    fn age_years(&mut self, lo: i32, hi: i32) -> i32 {
        self.rng.random_range(lo..=hi)
    }

    fn household(&mut self, room: usize) {
        let dates = self.world.dates;
        let t = tables();
        let hh = self.world.households;
        self.world.households += 1;
        let kind = pick_cum(&mut self.rng, &self.kinds_cum);
        let head_male = self.rng.random_bool(if kind == 2 { 0.55 } else { 0.85 });
        let head_age = match kind {
            0 => self.age_years(26, 56),
            1 => {
                let u: f64 = self.rng.random();
                25 + (49.0 * u.sqrt()) as i32
            }
            2 => {
                if self.rng.random_bool(0.6) {
                    self.age_years(18, 40)
                } else {
                    self.age_years(41, 74)
                }
            }
            _ => {
                // 75+ by five-year band, roughly as in the census.
                let band = pick_cum(&mut self.rng, &self.elderly_cum) as i32;
                75 + 5 * band + self.rng.random_range(0..if band == 5 { 4 } else { 5 })
            }
        };
        let mut specs: Vec<(Sex, i32, Role)> = Vec::new();
        let sex = |male: bool| if male { Sex::Male } else { Sex::Female };
        specs.push((sex(head_male), head_age, Role::Head));
        let has_spouse = match kind {
            0 => self.rng.random_bool(0.88),
            1 => true,
            2 => false,
            _ => self.rng.random_bool(0.55),
        };
        if has_spouse {
            let a = (head_age + self.rng.random_range(-4..=3)).max(18);
            specs.push((sex(!head_male), a, Role::Spouse));
        }
        if kind == 0 {
            let n = [1, 1, 2, 2, 2, 3][self.rng.random_range(0..6)];
            let max_age = (head_age - 22).clamp(0, 21);
            let mut ages: Vec<i32> = Vec::new();
            for k in 0..n {
                // The youngest is a baby a little more often, so that newborns appear.
                let a = if k == 0 && self.rng.random_bool(rates::YOUNGEST_IS_BABY) {
                    0
                } else {
                    self.rng.random_range(0..=max_age)
                };
                // Siblings at least a year apart (twins aside).
                if ages.contains(&a) && !self.rng.random_bool(0.02) {
                    continue;
                }
                ages.push(a);
                specs.push((sex(self.rng.random_bool(0.51)), a, Role::Child));
            }
        }
        specs.truncate(room);

        // Names: one family name (sometimes registered in an old form), shared.
        let last = t.last_name(&mut self.rng);
        let base_last = t.last[usize::from(last)].kanji;
        let registered: Option<Box<str>> = (has_variant(base_last)
            && self.rng.random_bool(rates::REGISTERED_VARIANT_KANJI))
        .then(|| with_variant(&mut self.rng, base_last, |_| true))
        .flatten()
        .map(Into::into);

        // Address history.
        let pref = t.prefecture(&mut self.rng);
        let city = self.reg.live_city(&mut self.rng, pref);
        let a0 = Address::random(&mut self.rng, city);
        let mut moves: Vec<(NaiveDate, Address)> = vec![(NaiveDate::MIN, a0)];
        let n_moves = pick_cum(&mut self.rng, &self.moves_cum);
        let span = (dates.snapshot - dates.window_start).num_days();
        let mut move_dates: Vec<NaiveDate> = (0..n_moves)
            .map(|_| days(dates.window_start, self.rng.random_range(0..span)))
            .collect();
        move_dates.sort();

        // A recent event, possibly not registered yet.
        let recent = self
            .rng
            .random_bool(rates::RECENT_EVENT)
            .then(|| days(dates.care_start, -self.rng.random_range(0..=70)));
        let lag = recent.is_some() && self.rng.random_bool(rates::REGISTRATION_LAG);
        let absent = self.rng.random_bool(rates::ABSENT_HOUSEHOLD);
        let recent_kind = self.rng.random_range(0..100);
        if let Some(r) = recent {
            move_dates.retain(|&d| d < r);
            if recent_kind < 35 {
                move_dates.push(r);
            }
        }
        for d in move_dates {
            let prev = moves.last().map(|m| m.1).unwrap_or(a0);
            let next = match pick_cum(&mut self.rng, &self.distance_cum) {
                0 => prev.nearby(&mut self.rng),
                1 => {
                    let c = self.reg.live_city(&mut self.rng, prev.prefecture());
                    Address::random(&mut self.rng, c)
                }
                _ => {
                    let p = t.prefecture(&mut self.rng);
                    let c = self.reg.live_city(&mut self.rng, p);
                    Address::random(&mut self.rng, c)
                }
            };
            moves.push((d, next));
        }

        // Members.
        let mut members: Vec<Member> = Vec::new();
        for (i, &(sex, age, role)) in specs.iter().enumerate() {
            let birth = self.birth_for_age(age);
            let member_last =
                if role == Role::Spouse && self.rng.random_bool(rates::SPOUSE_OTHER_SURNAME) {
                    t.last_name(&mut self.rng)
                } else {
                    last
                };
            let first = t.first_name(&mut self.rng, sex == Sex::Male);
            let independent = match role {
                Role::Head => true,
                Role::Spouse => age < 65 && self.rng.random_bool(rates::SPOUSE_INDEPENDENT),
                Role::Child => false,
            };
            let high70 = self.rng.random_bool(rates::HIGH_EARNER_70);
            let koki_copay = [10, 20, 30][pick_cum(&mut self.rng, &self.koki_cum)];
            members.push(Member {
                sex,
                birth,
                role,
                independent,
                last: member_last,
                first,
                high70,
                koki_copay,
                ordinal: i as u8,
                start: birth,
                unit: 0,
            });
        }

        // Job timelines of the insured units (the head and independent spouses).
        let address_at = |moves: &[(NaiveDate, Address)], d: NaiveDate| -> Address {
            moves
                .iter()
                .rev()
                .find(|m| m.0 <= d)
                .map_or(moves[0].1, |m| m.1)
        };
        let mut jobs: Vec<Vec<(NaiveDate, JobState)>> = Vec::new();
        for m in members.iter_mut() {
            if !m.independent {
                continue;
            }
            let birth = m.birth;
            let adult = birthday(birth, 18);
            let start = if birthday(birth, 23) <= dates.window_start {
                let s = days(dates.window_start, -self.rng.random_range(0..=12 * 365));
                s.max(april_first_after(adult))
            } else {
                let s = april_first_after(if self.rng.random_bool(0.5) {
                    adult
                } else {
                    birthday(birth, 22)
                });
                if s >= dates.snapshot {
                    days(adult, 10).min(days(dates.snapshot, -1))
                } else {
                    s
                }
            };
            m.start = start;
            let mut timeline = Vec::new();
            let age0 = age_on(birth, start);
            let employed0 = self.rng.random_bool(if age0 < 60 { 0.78 } else { 0.35 });
            let first_state = if employed0 {
                self.new_job(address_at(&moves, start).prefecture())
            } else {
                JobState::Home
            };
            timeline.push((start, first_state));
            let k = pick_cum(&mut self.rng, &self.job_changes_cum);
            let lo = days(start.max(dates.window_start), 30);
            let mut events: Vec<(NaiveDate, bool)> = Vec::new();
            if lo < dates.snapshot {
                let span = (dates.snapshot - lo).num_days();
                for _ in 0..k {
                    events.push((days(lo, self.rng.random_range(0..span)), false));
                }
            }
            for age in [60, 65] {
                let b = days(birthday(birth, age), 1);
                if b > lo && b < dates.snapshot && self.rng.random_bool(0.3) {
                    events.push((b, true));
                }
            }
            if let Some(r) = recent {
                events.retain(|e| e.0 < r);
                if m.role == Role::Head && recent_kind >= 35 && r > start {
                    events.push((r, recent_kind >= 85));
                }
            }
            events.sort();
            let mut last_date = start;
            for (d, retire) in events {
                if (d - last_date).num_days() < 30 && Some(d) != recent {
                    continue;
                }
                last_date = d;
                let cur = timeline.last().map(|j| j.1).unwrap_or(JobState::Home);
                let age = age_on(birth, d);
                let pref = address_at(&moves, d).prefecture();
                let next = match cur {
                    JobState::Employed { .. } => {
                        if retire
                            || (age >= 60 && self.rng.random_bool(0.65))
                            || (age < 60 && self.rng.random_bool(0.3))
                        {
                            JobState::Home
                        } else {
                            self.new_job(pref)
                        }
                    }
                    _ => {
                        if Some(d) == recent
                            || self.rng.random_bool(if age < 60 { 0.85 } else { 0.25 })
                        {
                            self.new_job(pref)
                        } else {
                            continue;
                        }
                    }
                };
                if matches!(cur, JobState::Employed { .. })
                    && matches!(next, JobState::Employed { .. })
                    && Some(d) != recent
                    && self.rng.random_bool(rates::GAP_BETWEEN_JOBS)
                {
                    let back = days(d, self.rng.random_range(5..45));
                    if back < dates.snapshot {
                        timeline.push((d, JobState::Gap));
                        timeline.push((back, next));
                        last_date = back;
                        continue;
                    }
                }
                timeline.push((d, next));
            }
            m.unit = jobs.len();
            jobs.push(timeline);
        }
        let head_start = members[0].start;
        let head_b75 = birthday(members[0].birth, 75);
        for m in members.iter_mut().filter(|m| !m.independent) {
            m.unit = 0;
            m.start = m.birth.max(head_start);
        }

        // Coverage → periods, member by member.
        let mut kokuho_numbers: Vec<(u16, u32, u32)> = Vec::new(); // (insurer, symbol, number)
        for m in &members {
            let person_index = self.world.persons.len();
            let mut bps: Vec<NaiveDate> = vec![m.start];
            bps.extend(moves.iter().skip(1).map(|x| x.0));
            bps.extend(jobs[m.unit].iter().map(|x| x.0));
            bps.push(birthday(m.birth, 75));
            if !m.independent {
                bps.push(head_b75);
            }
            bps.retain(|&d| d >= m.start && d < dates.snapshot);
            bps.sort();
            bps.dedup();
            let mut runs: Vec<(NaiveDate, Cov)> = Vec::new();
            for &b in &bps {
                let cov = self.coverage(m, b, &moves, &jobs[m.unit], head_b75);
                if runs.last().is_none_or(|r| r.1 != cov) {
                    runs.push((b, cov));
                }
            }
            let mut koki_numbers: Vec<(u16, u32)> = Vec::new();
            let start = self.world.periods.len();
            for (i, &(from, cov)) in runs.iter().enumerate() {
                let to = runs.get(i + 1).map(|r| r.0 - TimeDelta::days(1));
                if to.is_some_and(|t| t < dates.window_start) {
                    continue;
                }
                let end = to.unwrap_or(dates.snapshot);
                let addr = address_at(&moves, end);
                let (insurer, symbol, number, branch, employer) = match cov {
                    Cov::None => continue,
                    Cov::Emp {
                        employer,
                        number,
                        branch,
                    } => {
                        let e = &self.reg.employers[employer as usize];
                        (e.insurer, e.symbol, number, branch, employer)
                    }
                    Cov::Kokuho { insurer, branch } => {
                        let (symbol, number) = match kokuho_numbers.iter().find(|k| k.0 == insurer)
                        {
                            Some(k) => (k.1, k.2),
                            None => {
                                let ins = &mut self.reg.insurers[usize::from(insurer)];
                                let n = ins.next_number;
                                ins.next_number += 1 + (mix(u64::from(n)) % 3) as u32;
                                let d = &ins.district_symbols;
                                let s = d[(mix(u64::from(hh)) % d.len() as u64) as usize];
                                kokuho_numbers.push((insurer, s, n));
                                (s, n)
                            }
                        };
                        (insurer, symbol, number, branch, NO_EMPLOYER)
                    }
                    Cov::Koki { insurer } => {
                        let number = match koki_numbers.iter().find(|k| k.0 == insurer) {
                            Some(k) => k.1,
                            None => {
                                let ins = &mut self.reg.insurers[usize::from(insurer)];
                                let n = ins.next_number;
                                ins.next_number += 1 + (mix(u64::from(n)) % 7) as u32;
                                koki_numbers.push((insurer, n));
                                n
                            }
                        };
                        (insurer, NO_SYMBOL, number, NO_BRANCH, NO_EMPLOYER)
                    }
                };
                let reference = dates.care_start.clamp(from, to.unwrap_or(NaiveDate::MAX));
                let lagged = lag && recent.is_some_and(|r| from >= r);
                let newborn_lag = m.role == Role::Child
                    && m.birth >= days(dates.care_start, -62)
                    && self.rng.random_bool(rates::NEWBORN_LAG);
                let on_roster = !(absent || lagged || newborn_lag);
                self.world.addresses.push(addr);
                self.world.periods.push(Period {
                    from,
                    to,
                    insurer,
                    symbol,
                    number,
                    branch,
                    employer,
                    address: (self.world.addresses.len() - 1) as u32,
                    copay: copay_on(m.birth, reference, m.high70, m.koki_copay),
                    on_roster,
                });
            }
            // Keep the latest MAX_PERIODS.
            let n = self.world.periods.len() - start;
            if n > rates::MAX_PERIODS {
                self.world
                    .periods
                    .drain(start..start + n - rates::MAX_PERIODS);
            }
            // A newborn is registered all or nothing.
            let newborn = m.role == Role::Child && m.birth >= days(dates.care_start, -62);
            if newborn {
                let any_off = self.world.periods[start..].iter().any(|p| !p.on_roster);
                for p in &mut self.world.periods[start..] {
                    p.on_roster = !any_off;
                }
            }
            let here = address_at(&moves, dates.care_start);
            let before = moves
                .iter()
                .rev()
                .find(|x| x.0 <= dates.care_start)
                .and_then(|x| moves.iter().rev().find(|y| y.0 < x.0))
                .map_or(here, |y| y.1);
            self.world.addresses.push(here);
            let address = (self.world.addresses.len() - 1) as u32;
            let prev_address = if before == here {
                address
            } else {
                self.world.addresses.push(before);
                (self.world.addresses.len() - 1) as u32
            };
            self.world.persons.push(Person {
                last: m.last,
                last_registered: if m.last == last {
                    registered.clone()
                } else {
                    None
                },
                first: m.first,
                sex: m.sex,
                birth: m.birth,
                household: hh,
                role: m.role,
                periods_start: start as u32,
                periods_len: (self.world.periods.len() - start) as u8,
                address,
                prev_address,
                newborn,
            });
            debug_assert_eq!(person_index + 1, self.world.persons.len());
        }
    }

    fn new_job(&mut self, pref: u8) -> JobState {
        let employer = self.reg.pick_employer(&mut self.rng, pref);
        let e = &mut self.reg.employers[employer as usize];
        let number = e.next_number;
        e.next_number += 1;
        JobState::Employed { employer, number }
    }

    fn coverage(
        &self,
        m: &Member,
        d: NaiveDate,
        moves: &[(NaiveDate, Address)],
        jobs: &[(NaiveDate, JobState)],
        head_b75: NaiveDate,
    ) -> Cov {
        if d < m.start {
            return Cov::None;
        }
        let addr = moves
            .iter()
            .rev()
            .find(|x| x.0 <= d)
            .map_or(moves[0].1, |x| x.1);
        if d >= birthday(m.birth, 75) {
            return Cov::Koki {
                insurer: self.reg.koki(addr.prefecture()),
            };
        }
        let kokuho = Cov::Kokuho {
            insurer: self.reg.city_kokuho(addr.city),
            branch: m.ordinal,
        };
        if !m.independent && d >= head_b75 {
            return kokuho;
        }
        let job = jobs
            .iter()
            .rev()
            .find(|j| j.0 <= d)
            .map_or(JobState::Home, |j| j.1);
        match job {
            JobState::Gap => Cov::None,
            JobState::Home => kokuho,
            JobState::Employed { employer, number } => Cov::Emp {
                employer,
                number,
                branch: if m.independent { 0 } else { m.ordinal },
            },
        }
    }
}

/// The first 1 April on or after `d`.
fn april_first_after(d: NaiveDate) -> NaiveDate {
    let this = NaiveDate::from_ymd_opt(d.year(), 4, 1).unwrap_or(d);
    if this >= d {
        this
    } else {
        NaiveDate::from_ymd_opt(d.year() + 1, 4, 1).unwrap_or(d)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn copay_by_age() {
        let care = d(2026, 5, 10);
        assert_eq!(copay_on(d(2022, 3, 1), care, false, 10), 20); // preschool
        assert_eq!(copay_on(d(2020, 4, 1), care, false, 10), 30); // school from April 2026
        assert_eq!(copay_on(d(2020, 4, 2), care, false, 10), 20); // preschool until 2027-03-31
        assert_eq!(copay_on(d(1980, 1, 1), care, false, 10), 30);
        assert_eq!(copay_on(d(1956, 4, 15), care, false, 10), 20); // 70 in April → from May
        assert_eq!(copay_on(d(1956, 5, 15), care, false, 10), 30); // from June
        assert_eq!(copay_on(d(1956, 5, 1), care, false, 10), 20); // born on the 1st
        assert_eq!(copay_on(d(1956, 4, 15), care, true, 10), 30);
        assert_eq!(copay_on(d(1951, 5, 10), care, false, 10), 10); // 75 today
        assert_eq!(copay_on(d(1951, 5, 11), care, false, 10), 20);
    }

    #[test]
    fn histories_are_consistent() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut reg = Registry::build(&mut rng, 5000);
        let dates = Dates::new(YearMonth::new(2026, 6).unwrap());
        assert_eq!(dates.care_month.to_string(), "2026-05");
        let world = Builder::new(rng, &mut reg, dates, 42).build(5000);
        assert_eq!(world.persons.len(), 5000);
        let mut lens = [0usize; 5];
        for p in 0..world.persons.len() {
            let ps = world.periods_of(p);
            lens[ps.len().min(4)] += 1;
            for w in ps.windows(2) {
                let to = w[0].to.expect("only the last period is open");
                assert!(to < w[1].from, "overlap for {p}");
            }
            if let Some(last) = ps.last() {
                assert!(last.to.is_none() || last.to.unwrap() < dates.snapshot);
            }
            for q in ps {
                assert!(q.to.is_none_or(|t| t >= q.from));
                assert!([10, 20, 30].contains(&q.copay));
            }
        }
        assert!(lens[0] < 100, "{lens:?}");
        assert!(lens[2] > 500 && lens[3] > 50, "{lens:?}");
        let lagged = world.periods.iter().filter(|p| !p.on_roster).count();
        assert!(lagged > 10, "{lagged}");
        // Ids are unique.
        let ids: std::collections::BTreeSet<String> = (0..world.persons.len())
            .map(|p| world.person_id(p))
            .collect();
        assert_eq!(ids.len(), world.persons.len());
    }
}

//! Every rate and mix the generator uses, in one place, so the difficulty of a synthetic
//! month can be read (and tuned) without reading the generator.

// ---- Tiers (defaults of the CLI) ----
pub const DEFAULT_TIER2: f64 = 0.05;
pub const DEFAULT_TIER3: f64 = 0.05;

// ---- Households and people ----
/// Household kinds: family with children, couple, single adult, elderly (75+).
pub const HOUSEHOLD_KINDS: [f64; 4] = [0.26, 0.27, 0.31, 0.16];
/// Heads of 75+ households by age band 75–79, 80–84, 85–89, 90–94, 95–99, 100–103.
pub const ELDERLY_AGE_BANDS: [f64; 6] = [0.36, 0.28, 0.20, 0.12, 0.035, 0.005];
/// The youngest child of a family is a baby (so that newborns appear).
pub const YOUNGEST_IS_BABY: f64 = 0.06;
/// A spouse under 65 with a job (and insurance) of their own rather than a dependent.
pub const SPOUSE_INDEPENDENT: f64 = 0.45;
/// A spouse registered under another last name.
pub const SPOUSE_OTHER_SURNAME: f64 = 0.04;
/// A person whose last name has an old/variant kanji form is registered under it.
pub const REGISTERED_VARIANT_KANJI: f64 = 0.08;
/// 70–74 with 3割 (high earners).
pub const HIGH_EARNER_70: f64 = 0.12;
/// 75+ copay mix 10/20/30%.
pub const KOKI_COPAY: [f64; 3] = [0.72, 0.20, 0.08];

// ---- Eligibility histories ----
/// Job changes in the ~10-year window (0, 1, 2, 3).
pub const JOB_CHANGES: [f64; 4] = [0.55, 0.30, 0.12, 0.03];
/// Moves of a household in the window (0, 1, 2).
pub const MOVES: [f64; 3] = [0.70, 0.22, 0.08];
/// Of moves: same city, same prefecture, other prefecture.
pub const MOVE_DISTANCE: [f64; 3] = [0.30, 0.45, 0.25];
/// A job change with some uninsured days in between.
pub const GAP_BETWEEN_JOBS: f64 = 0.10;
/// Scheme of a new job: 協会けんぽ, 健保組合, 共済, 国保組合, 船員, 自衛官.
pub const JOB_SCHEME: [f64; 6] = [0.52, 0.30, 0.10, 0.05, 0.01, 0.02];
/// Households with an event (job change, retirement, move) in the ~70 days before the
/// care month: the people whose old card is still in their wallet.
pub const RECENT_EVENT: f64 = 0.05;
/// Of those, the new insurer has not registered the new period yet (資格情報なし).
pub const REGISTRATION_LAG: f64 = 0.45;
/// A baby born in the ~2 months before the care month is not on the roster yet.
pub const NEWBORN_LAG: f64 = 0.6;
/// Households that came from abroad recently: on no roster at all.
pub const ABSENT_HOUSEHOLD: f64 = 0.004;
/// At most this many periods per person are kept (older ones fall out of the window).
pub const MAX_PERIODS: usize = 4;

// ---- Receipts ----
/// Share of a hospital's receipts that are inpatient.
pub const INPATIENT_AT_HOSPITAL: f64 = 0.12;
/// Share of a DPC hospital's receipts that are DPC stays: acute hospitals with many
/// beds, so that DPC stays are about 1.5–2 % of a month's receipts.
pub const INPATIENT_AT_DPC_HOSPITAL: f64 = 0.5;
/// Share of clinics that are hospitals.
pub const HOSPITALS: f64 = 0.08;
/// 公費 (KO) on a child's receipt (乳幼児医療 and the like) and on an adult's.
pub const KO_CHILD: f64 = 0.30;
pub const KO_ADULT: f64 = 0.02;
/// Tier 1 with SN (枝番 known from online confirmation); tier 2 with SN (old 枝番).
pub const SN_TIER1: f64 = 0.85;
pub const SN_TIER2: f64 = 0.5;
/// Tier 2 whose person's new period is not registered yet (pending).
pub const TIER2_PENDING: f64 = 0.10;
/// Tier 3 sub-cases: matched (numbers all filler), insurer known (番号 999999999),
/// pending (registration lag), no match (absent from the roster).
pub const TIER3_CASES: [f64; 4] = [0.55, 0.08, 0.25, 0.12];
/// Insurer-unknown fillers: 77777777, 77777779, 99999999 (disaster style).
pub const FILLERS: [f64; 3] = [0.75, 0.12, 0.13];
/// With 99999999, the real 記号・番号 are written (when the patient knows them).
pub const DISASTER_WITH_NUMBERS: f64 = 0.3;
/// Files written with Japanese-era dates (older specifications).
pub const ERA_FILES: f64 = 0.10;
/// Of era-date clinics, those whose software leaves RE 37 (kana) empty.
pub const ERA_WITHOUT_KANA: f64 = 0.5;
/// Clinics whose software writes 記号・番号 in full-width digits.
pub const FULLWIDTH_NUMBERS: f64 = 0.3;
/// A free-text comment unrelated to eligibility on an ordinary receipt.
pub const NOISE_COMMENT: f64 = 0.03;
/// Big inpatient receipts with HO 12 負担金額 (high-cost cap) recorded.
pub const HIGH_COST_COPAY: f64 = 0.5;
/// Receipts per clinic and month, on average.
pub const RECEIPTS_PER_CLINIC: usize = 150;

// ---- Declarations ----
pub const DECLARATION_OMITTED: f64 = 0.10;
pub const DECLARED_KIND_UNKNOWN: f64 = 0.15;
pub const DECLARED_KIND_WRONG: f64 = 0.03;
/// A 70+ patient declares a copay other than the real one (差額 later).
pub const DECLARED_COPAY_WRONG: f64 = 0.12;
pub const CARD_ISSUED_UNKNOWN: f64 = 0.2;
pub const OTHER_RESIDENCE: f64 = 0.04;

// ---- Corruption: applied independently to a declaration and to a tier-3 receipt ----
/// A character with an old/variant form written in it (only where the name has one).
pub const KANJI_VARIANT: f64 = 0.25;
/// The given name written with another kanji of the same reading.
pub const FIRST_NAME_OTHER_SPELLING: f64 = 0.04;
pub const NAME_SPACE_MISSING: f64 = 0.10;
pub const NAME_SPACE_HALF: f64 = 0.10;
pub const KANA_HALFWIDTH: f64 = 0.06;
pub const KANA_HIRAGANA: f64 = 0.06;
pub const KANA_SMALL_LARGE: f64 = 0.04;
pub const KANA_VOICED_DROPPED: f64 = 0.04;
pub const KANA_LONG_VOWEL: f64 = 0.05;
pub const KANA_MISSING: f64 = 0.04;
pub const BIRTH_DATE_SLIP: f64 = 0.03;
pub const ADDRESS_NO_PREFECTURE: f64 = 0.25;
pub const ADDRESS_MISSING: f64 = 0.05;
/// The previous address written (the patient moved recently).
pub const ADDRESS_OLD: f64 = 0.03;
pub const PHONE_MISSING: f64 = 0.06;
pub const EMPLOYER_MISSING: f64 = 0.15;
pub const INSURER_NAME_MISSING: f64 = 0.2;

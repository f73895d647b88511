//! Apportionment (DOMAIN §9) as a specification: the largest-remainder rounding under
//! random amounts and weights, then eligibility, basis and whole-claim allocation on a
//! small hand-built insurer master.

use std::collections::BTreeMap;

use proptest::prelude::*;
use reseclear::apportion::{
    apportion_claim, basis_weights, claims_basis, eligible_insurers, largest_remainder,
    ApportionConfig, ApportionError, Apportioner, Basis, BasisUsed, ClaimContext, ClaimsBasis,
    Scope,
};
use reseclear::domain::{InsuranceKind, InsurerNumber, Organization, YearMonth, Yen};
use reseclear::ingest::insurers::{Insurer, InsurerMaster};

fn n(s: &str) -> InsurerNumber {
    InsurerNumber::parse(s).unwrap()
}

/// A valid 8-digit number `06` + five body digits + check digit (DOMAIN §7).
fn numbered(body: u32) -> InsurerNumber {
    let body = format!("06{body:05}");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let p = if i % 2 == 0 { d * 2 } else { d };
            p / 10 + p % 10
        })
        .sum();
    n(&format!("{body}{}", (10 - sum % 10) % 10))
}

// ---------------------------------------------------------------------------------
// largest_remainder

/// Checks every promise of `largest_remainder` for one input.
fn check_split(amount: i64, weights: &[(InsurerNumber, u64)]) -> Result<(), TestCaseError> {
    let parts = largest_remainder(Yen(amount), weights).unwrap();
    let w: BTreeMap<InsurerNumber, u64> = weights.iter().copied().collect();
    let total: u128 = w.values().map(|&x| u128::from(x)).sum();
    let a = amount as u128;

    // One entry per party, sorted by insurer number.
    prop_assert_eq!(parts.len(), weights.len());
    prop_assert!(parts.windows(2).all(|p| p[0].0 < p[1].0));
    prop_assert!(parts.iter().map(|p| p.0).eq(w.keys().copied()));

    // Parts sum exactly.
    prop_assert_eq!(
        parts.iter().map(|p| i128::from(p.1 .0)).sum::<i128>(),
        i128::from(amount)
    );

    // Each part is the floor or the ceiling of its exact quota amount × w / W, and
    // strictly within one yen of it: |part × W − amount × w| < W.
    for &(ins, part) in &parts {
        prop_assert!(part.0 >= 0);
        let lhs = part.0 as u128 * total;
        let rhs = a * u128::from(w[&ins]);
        prop_assert!(
            lhs.abs_diff(rhs) < total,
            "{ins}: {part} vs {a}×{}/{total}",
            w[&ins]
        );
        let floor = rhs / total;
        let ceil = floor + u128::from(!rhs.is_multiple_of(total));
        prop_assert!(
            part.0 as u128 == floor || part.0 as u128 == ceil,
            "{ins}: {part} is neither {floor} nor {ceil}"
        );
        if w[&ins] == 0 {
            prop_assert_eq!(part, Yen(0));
        }
    }

    // The whole split is the one an independent computation gives (Hamilton's method
    // written out below, from the weights alone).
    prop_assert_eq!(&parts, &hamilton(amount, weights));

    // Deterministic.
    prop_assert_eq!(largest_remainder(Yen(amount), weights).unwrap(), parts);
    Ok(())
}

/// Largest remainder by hand, sharing no code with `largest_remainder`: each party's
/// exact quota amount × w / W in `i128` as a floor and a remainder; the yen the floors
/// leave over go one each down the list ordered by remainder, largest first, equal
/// remainders by insurer number as a digit string, ascending (the documented tie-break;
/// `01130012` < `131045`). The result sorted by that digit string.
fn hamilton(amount: i64, weights: &[(InsurerNumber, u64)]) -> Vec<(InsurerNumber, Yen)> {
    let total: i128 = weights.iter().map(|&(_, w)| i128::from(w)).sum();
    let amount = i128::from(amount);
    let mut rows: Vec<(InsurerNumber, i128, i128)> = weights
        .iter()
        .map(|&(ins, w)| {
            let exact = amount * i128::from(w);
            (ins, exact / total, exact % total)
        })
        .collect();
    let leftover = amount - rows.iter().map(|r| r.1).sum::<i128>();
    assert!((0..weights.len() as i128).contains(&leftover), "{leftover}");
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.as_str().cmp(b.0.as_str())));
    for row in rows.iter_mut().take(leftover as usize) {
        row.1 += 1;
    }
    rows.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    rows.into_iter()
        .map(|(ins, part, _)| (ins, Yen(i64::try_from(part).expect("a part ≤ the amount"))))
        .collect()
}

type Parties = Vec<(InsurerNumber, u64)>;

/// 1..50 parties with distinct insurer numbers, 8-digit and 6-digit (国保) mixed so that
/// the tie-break's digit-string order is not the numbers' numeric order; weights often
/// 0 or small (ties), else large; at least one positive.
fn parties(max_weight: u64) -> impl Strategy<Value = Parties> {
    let weight = prop_oneof![
        1 => Just(0u64),
        2 => 0u64..4,
        3 => 0u64..=max_weight,
    ];
    let number = |key: u32| {
        if key < 60_000 {
            numbered(key)
        } else {
            let body = format!("{:02}{:03}", 1 + key % 47, (key / 47) % 1000);
            InsurerNumber::from_body(&body).unwrap()
        }
    };
    proptest::collection::btree_map(0u32..100_000, weight, 1..50).prop_map(move |m| {
        let distinct: BTreeMap<InsurerNumber, u64> =
            m.into_iter().map(|(key, w)| (number(key), w)).collect();
        let mut v: Vec<(InsurerNumber, u64)> = distinct.into_iter().collect();
        if v.iter().all(|&(_, w)| w == 0) {
            v[0].1 = 1;
        }
        v
    })
}

/// The same parties and a shuffled copy.
fn parties_and_shuffle(max_weight: u64) -> impl Strategy<Value = (Parties, Parties)> {
    parties(max_weight).prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn split_is_exact_fair_and_order_free(
        amount in prop_oneof![0i64..1_000, 0i64..1_000_000_000_000],
        (ws, shuffled) in parties_and_shuffle(1_000_000_000_000),
    ) {
        check_split(amount, &ws)?;
        prop_assert_eq!(
            largest_remainder(Yen(amount), &shuffled).unwrap(),
            largest_remainder(Yen(amount), &ws).unwrap()
        );
    }

    #[test]
    fn split_is_exact_at_the_largest_sizes(
        amount in 0i64..=10_000_000_000_000,
        ws in parties(1_000_000_000_000_000),
    ) {
        check_split(amount, &ws)?;
    }

    #[test]
    fn equal_weights_differ_by_at_most_one_yen_lowest_numbers_first(
        amount in 0i64..10_000,
        k in 1usize..50,
        w in 1u64..1_000,
    ) {
        let ws: Vec<_> = (0..k as u32).map(|i| (numbered(i * 7 + 3), w)).collect();
        let parts = largest_remainder(Yen(amount), &ws).unwrap();
        let base = amount / k as i64;
        let extra = (amount % k as i64) as usize;
        for (i, &(_, part)) in parts.iter().enumerate() {
            prop_assert_eq!(part, Yen(base + i64::from(i < extra)));
        }
    }
}

#[test]
fn hundred_yen_over_three_equal_weights_is_34_33_33_lowest_number_first() {
    let ws = [(n("39280003"), 5), (n("131045"), 5), (n("01130012"), 5)];
    assert_eq!(
        largest_remainder(Yen(100), &ws).unwrap(),
        vec![
            (n("01130012"), Yen(34)),
            (n("131045"), Yen(33)),
            (n("39280003"), Yen(33)),
        ]
    );
}

#[test]
fn split_refuses_what_cannot_be_split() {
    let one = [(n("01130012"), 1)];
    assert_eq!(
        largest_remainder(Yen(-5), &one),
        Err(ApportionError::NegativeAmount { amount: Yen(-5) })
    );
    assert_eq!(
        largest_remainder(Yen(5), &[]),
        Err(ApportionError::NoParties { amount: Yen(5) })
    );
    let zeros = [(n("01130012"), 0), (n("131045"), 0)];
    let e = largest_remainder(Yen(5), &zeros).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot apportion 5 yen: all 2 parties have weight 0"
    );
    let twice = [(n("131045"), 1), (n("01130012"), 1), (n("131045"), 3)];
    assert_eq!(
        largest_remainder(Yen(5), &twice),
        Err(ApportionError::DuplicateInsurer {
            insurer: n("131045")
        })
    );
    // Zero amount is fine: everyone gets nothing.
    assert_eq!(
        largest_remainder(Yen(0), &one).unwrap(),
        vec![(n("01130012"), Yen(0))]
    );
}

// ---------------------------------------------------------------------------------
// A small master: Tokyo (13) has every kind, Osaka (27) shaho/kokuho/koki, Hyogo (28)
// only its 後期 union.

fn insurer(number: &str, kind: InsuranceKind, prefecture: u8, insured: u64) -> Insurer {
    Insurer {
        number: n(number),
        name: format!("保険者{number}"),
        kind,
        prefecture,
        insured_count: insured,
    }
}

fn master() -> InsurerMaster {
    use InsuranceKind::*;
    let rows = [
        insurer("01130012", Shaho, 13, 4_000_000),
        insurer("06139018", Shaho, 13, 20_000),
        insurer("07130016", Other, 13, 3_000),
        insurer("131045", Kokuho, 13, 300_000),
        insurer("39130000", Koki, 13, 1_600_000),
        insurer("01270016", Shaho, 27, 2_500_000),
        insurer("271007", Kokuho, 27, 600_000),
        insurer("39270004", Koki, 27, 1_200_000),
        insurer("39280003", Koki, 28, 900_000),
    ];
    InsurerMaster {
        insurers: rows.into_iter().map(|i| (i.number, i)).collect(),
    }
}

fn numbers(v: &[InsurerNumber]) -> Vec<&str> {
    v.iter().map(|n| n.as_str()).collect()
}

const KIKIN: Organization = Organization::ShiharaiKikin;
const RENGO: Organization = Organization::Kokuhoren;

#[test]
fn kikin_serves_employee_insurance_and_other_in_the_clinic_prefecture() {
    let e = eligible_insurers(
        &master(),
        KIKIN,
        InsuranceKind::Unknown,
        Some(13),
        Scope::Prefecture,
    );
    assert_eq!(numbers(&e.insurers), ["01130012", "06139018", "07130016"]);
    assert_eq!(e.kinds, [InsuranceKind::Shaho, InsuranceKind::Other]);
    assert_eq!(e.scope_used, Scope::Prefecture);
    assert!(!e.widened && !e.kind_dropped);
    assert_eq!(e.reason, "");
}

#[test]
fn kokuhoren_serves_kokuho_and_koki() {
    let e = eligible_insurers(
        &master(),
        RENGO,
        InsuranceKind::Unknown,
        Some(27),
        Scope::Prefecture,
    );
    assert_eq!(numbers(&e.insurers), ["271007", "39270004"]);
    assert_eq!(e.kinds, [InsuranceKind::Kokuho, InsuranceKind::Koki]);
}

#[test]
fn a_served_declared_kind_narrows() {
    let m = master();
    let e = eligible_insurers(&m, RENGO, InsuranceKind::Koki, Some(13), Scope::Prefecture);
    assert_eq!(numbers(&e.insurers), ["39130000"]);
    assert_eq!(e.kinds, [InsuranceKind::Koki]);
    let e = eligible_insurers(&m, KIKIN, InsuranceKind::Shaho, Some(13), Scope::Prefecture);
    assert_eq!(numbers(&e.insurers), ["01130012", "06139018"]);
    assert!(!e.kind_dropped);
}

#[test]
fn a_kind_the_organization_does_not_serve_falls_back_to_its_kinds() {
    let e = eligible_insurers(
        &master(),
        KIKIN,
        InsuranceKind::Kokuho,
        Some(13),
        Scope::Prefecture,
    );
    assert_eq!(numbers(&e.insurers), ["01130012", "06139018", "07130016"]);
    assert!(e.kind_dropped);
    assert!(!e.widened);
    assert_eq!(
        e.reason,
        "declared kind kokuho is not served by 支払基金; used 支払基金's kinds (shaho/other)"
    );
}

#[test]
fn an_empty_prefecture_widens_to_national_and_says_so() {
    let m = master();
    // Hyogo has no employee insurer in this master.
    let e = eligible_insurers(&m, KIKIN, InsuranceKind::Shaho, Some(28), Scope::Prefecture);
    assert_eq!(numbers(&e.insurers), ["01130012", "01270016", "06139018"]);
    assert_eq!(e.scope_used, Scope::National);
    assert!(e.widened);
    assert_eq!(
        e.reason,
        "no shaho insurer in prefecture 28; widened to national"
    );
    // Osaka has no 自衛官 insurer: the declared kind is kept, the scope widened.
    let e = eligible_insurers(&m, KIKIN, InsuranceKind::Other, Some(27), Scope::Prefecture);
    assert_eq!(numbers(&e.insurers), ["07130016"]);
    assert!(e.widened && !e.kind_dropped);
    // Hyogo has its 後期 union, so 国保連 stays in the prefecture.
    let e = eligible_insurers(
        &m,
        RENGO,
        InsuranceKind::Unknown,
        Some(28),
        Scope::Prefecture,
    );
    assert_eq!(numbers(&e.insurers), ["39280003"]);
    assert!(!e.widened);
}

#[test]
fn an_unknown_clinic_prefecture_widens_to_national() {
    let e = eligible_insurers(
        &master(),
        RENGO,
        InsuranceKind::Kokuho,
        None,
        Scope::Prefecture,
    );
    assert_eq!(numbers(&e.insurers), ["131045", "271007"]);
    assert!(e.widened);
    assert_eq!(e.reason, "clinic prefecture unknown; widened to national");
}

#[test]
fn national_scope_is_not_a_widening() {
    let e = eligible_insurers(
        &master(),
        RENGO,
        InsuranceKind::Koki,
        Some(13),
        Scope::National,
    );
    assert_eq!(numbers(&e.insurers), ["39130000", "39270004", "39280003"]);
    assert_eq!(e.scope_used, Scope::National);
    assert!(!e.widened);
    assert_eq!(e.reason, "");
}

#[test]
fn a_declared_kind_with_no_insurer_anywhere_is_dropped_prefecture_first() {
    let mut m = master();
    m.insurers.remove(&n("07130016"));
    let e = eligible_insurers(&m, KIKIN, InsuranceKind::Other, Some(27), Scope::Prefecture);
    assert_eq!(numbers(&e.insurers), ["01270016"]);
    assert!(e.kind_dropped && !e.widened);
    assert_eq!(
        e.reason,
        "no other insurer in the master; used 支払基金's kinds (shaho/other)"
    );
}

#[test]
fn an_organization_with_no_insurer_cannot_apportion() {
    let mut m = master();
    m.insurers.retain(|_, i| i.kind == InsuranceKind::Shaho);
    let e = eligible_insurers(
        &m,
        RENGO,
        InsuranceKind::Unknown,
        Some(13),
        Scope::Prefecture,
    );
    assert!(e.insurers.is_empty());
    let claim = ClaimContext {
        organization: RENGO,
        kind: InsuranceKind::Unknown,
        prefecture: Some(13),
    };
    let err = apportion_claim(
        Yen(1000),
        &claim,
        &m,
        &ClaimsBasis::new(),
        &ApportionConfig::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no insurer to apportion among: the insurer master has no insurer served by 国保連"
    );
}

#[test]
fn eligibility_agrees_with_a_plain_scan_of_the_master() {
    let m = master();
    let kinds = [
        InsuranceKind::Shaho,
        InsuranceKind::Kokuho,
        InsuranceKind::Koki,
        InsuranceKind::Other,
        InsuranceKind::Unknown,
    ];
    for org in [KIKIN, RENGO] {
        let served: &[InsuranceKind] = match org {
            KIKIN => &[InsuranceKind::Shaho, InsuranceKind::Other],
            RENGO => &[InsuranceKind::Kokuho, InsuranceKind::Koki],
        };
        for kind in kinds {
            for pref in [None, Some(13), Some(27), Some(28), Some(47)] {
                for scope in [Scope::Prefecture, Scope::National] {
                    let e = eligible_insurers(&m, org, kind, pref, scope);
                    let scan: Vec<InsurerNumber> = m
                        .iter()
                        .filter(|i| e.kinds.contains(&i.kind))
                        .filter(|i| match e.scope_used {
                            Scope::National => true,
                            Scope::Prefecture => Some(i.prefecture) == pref,
                        })
                        .map(|i| i.number)
                        .collect();
                    assert_eq!(e.insurers, scan, "{org:?} {kind} {pref:?} {scope:?}");
                    assert!(!e.insurers.is_empty());
                    assert!(e.kinds.iter().all(|k| served.contains(k)));
                    if served.contains(&kind) && !e.kind_dropped {
                        assert_eq!(e.kinds, [kind]);
                    }
                    assert_eq!(
                        e.widened,
                        scope == Scope::Prefecture && e.scope_used == Scope::National
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Basis

#[test]
fn claims_basis_sums_resolved_yen_by_insurer() {
    let c = claims_basis([
        (n("01130012"), Yen(700)),
        (n("06139018"), Yen(100)),
        (n("01130012"), Yen(300)),
    ]);
    assert_eq!(c[&n("01130012")], Yen(1000));
    assert_eq!(c[&n("06139018")], Yen(100));
}

#[test]
fn claims_weights_come_from_the_map_and_missing_is_zero() {
    let m = master();
    let ins = [n("01130012"), n("06139018"), n("07130016")];
    let c = claims_basis([(n("01130012"), Yen(3000)), (n("06139018"), Yen(1000))]);
    let w = basis_weights(&ins, Basis::Claims, &m, &c).unwrap();
    assert_eq!(w.basis_used, BasisUsed::Claims);
    assert_eq!(w.weights, vec![(ins[0], 3000), (ins[1], 1000), (ins[2], 0)]);
    assert_eq!(w.total, 4000);
    assert_eq!(w.reason, "");
}

#[test]
fn all_zero_claims_fall_back_to_headcount_then_equal() {
    let mut m = master();
    let ins = [n("01130012"), n("06139018")];
    let w = basis_weights(&ins, Basis::Claims, &m, &ClaimsBasis::new()).unwrap();
    assert_eq!(w.basis_used, BasisUsed::Headcount);
    assert_eq!(w.weights, vec![(ins[0], 4_000_000), (ins[1], 20_000)]);
    assert_eq!(
        w.reason,
        "every eligible insurer has 0 resolved yen; used headcount"
    );

    for i in m.insurers.values_mut() {
        i.insured_count = 0;
    }
    let w = basis_weights(&ins, Basis::Headcount, &m, &ClaimsBasis::new()).unwrap();
    assert_eq!(w.basis_used, BasisUsed::Equal);
    assert_eq!(w.weights, vec![(ins[0], 1), (ins[1], 1)]);
    assert_eq!(
        w.reason,
        "every eligible insurer has insured_count 0; split equally"
    );
    let w = basis_weights(&ins, Basis::Claims, &m, &ClaimsBasis::new()).unwrap();
    assert_eq!(w.basis_used, BasisUsed::Equal);
    assert_eq!(
        w.reason,
        "every eligible insurer has 0 resolved yen; used headcount; \
         every eligible insurer has insured_count 0; split equally"
    );
}

#[test]
fn negative_resolved_yen_is_an_error_not_a_zero() {
    let m = master();
    let c = claims_basis([(n("01130012"), Yen(-10))]);
    let e = basis_weights(&[n("01130012")], Basis::Claims, &m, &c).unwrap_err();
    let expected = ApportionError::NegativeBasis {
        insurer: n("01130012"),
        amount: Yen(-10),
    };
    assert_eq!(e, expected);
    // An apportioner refuses only the claims that would use that insurer.
    let config = ApportionConfig::default();
    let ap = Apportioner::new(&m, &c, &config);
    assert_eq!(
        ap.apportion(Yen(5), &tokyo(KIKIN, InsuranceKind::Unknown)),
        Err(expected)
    );
    let rengo = ap
        .apportion(Yen(5), &tokyo(RENGO, InsuranceKind::Unknown))
        .expect("国保連's insurers have no negative basis");
    assert_eq!(rengo.parts.iter().map(|p| p.amount).sum::<Yen>(), Yen(5));
}

// ---------------------------------------------------------------------------------
// Whole claims

fn tokyo(organization: Organization, kind: InsuranceKind) -> ClaimContext {
    ClaimContext {
        organization,
        kind,
        prefecture: Some(13),
    }
}

#[test]
fn a_claim_is_split_by_resolved_yen_leaving_out_zero_basis_insurers() {
    let m = master();
    let c = claims_basis([
        (n("01130012"), Yen(3000)),
        (n("06139018"), Yen(1000)),
        (n("01270016"), Yen(9999)), // Osaka: out of scope
    ]);
    let a = apportion_claim(
        Yen(1001),
        &tokyo(KIKIN, InsuranceKind::Unknown),
        &m,
        &c,
        &ApportionConfig::default(),
    )
    .unwrap();
    let parts: Vec<(&str, i64, u64)> = a
        .parts
        .iter()
        .map(|p| (p.insurer.as_str(), p.amount.0, p.basis_value))
        .collect();
    // 1001 × 3/4 = 750.75 → 751; 1001 × 1/4 = 250.25 → 250.
    assert_eq!(parts, [("01130012", 751, 3000), ("06139018", 250, 1000)]);
    assert_eq!(a.basis_total, 4000);
    assert_eq!(a.basis_used, BasisUsed::Claims);
    assert_eq!(a.zero_basis_insurers, 1); // 07130016
    assert_eq!(a.scope_used, Scope::Prefecture);
    assert!(!a.widened);
    assert_eq!(a.reason, "");
}

#[test]
fn headcount_basis_and_national_scope_from_config() {
    let m = master();
    let config: ApportionConfig =
        toml::from_str("basis = \"headcount\"\nscope = \"national\"\n").unwrap();
    let a = apportion_claim(
        Yen(370),
        &tokyo(RENGO, InsuranceKind::Koki),
        &m,
        &ClaimsBasis::new(),
        &config,
    )
    .unwrap();
    // 1.6M : 1.2M : 0.9M of 3.7M → 160 : 120 : 90.
    let yen: Vec<i64> = a.parts.iter().map(|p| p.amount.0).collect();
    assert_eq!(yen, [160, 120, 90]);
    assert_eq!(a.basis_used, BasisUsed::Headcount);
    assert_eq!(a.basis_total, 3_700_000);
    assert_eq!(a.scope_used, Scope::National);
}

#[test]
fn fallbacks_are_reported_together() {
    let m = master();
    // 支払基金 receipt declared kokuho, clinic in Hyogo, no resolved yen at all.
    let claim = ClaimContext {
        organization: KIKIN,
        kind: InsuranceKind::Kokuho,
        prefecture: Some(28),
    };
    let a = apportion_claim(
        Yen(100),
        &claim,
        &m,
        &ClaimsBasis::new(),
        &ApportionConfig::default(),
    )
    .unwrap();
    assert!(a.kind_dropped && a.widened);
    assert_eq!(a.basis_used, BasisUsed::Headcount);
    assert_eq!(
        a.reason,
        "declared kind kokuho is not served by 支払基金; used 支払基金's kinds (shaho/other); \
         no shaho/other insurer in prefecture 28; widened to national; \
         every eligible insurer has 0 resolved yen; used headcount"
    );
    assert_eq!(a.parts.iter().map(|p| p.amount).sum::<Yen>(), Yen(100));
    assert_eq!(a.parts.len(), 4);
}

#[test]
fn an_apportioner_gives_what_apportion_claim_gives() {
    let m = master();
    let c = claims_basis([
        (n("131045"), Yen(12_345)),
        (n("39130000"), Yen(67_890)),
        (n("271007"), Yen(5)),
    ]);
    let config = ApportionConfig::default();
    let ap = Apportioner::new(&m, &c, &config);
    for amount in [0, 1, 2, 99, 12_345, 1_000_000_007] {
        // Some(99): not a prefecture, worked out on the spot (and widened).
        for pref in [None, Some(13), Some(27), Some(28), Some(1), Some(99)] {
            let claim = ClaimContext {
                organization: RENGO,
                kind: InsuranceKind::Unknown,
                prefecture: pref,
            };
            let a = ap.apportion(Yen(amount), &claim).unwrap();
            assert_eq!(
                a,
                apportion_claim(Yen(amount), &claim, &m, &c, &config).unwrap()
            );
            assert_eq!(a.parts.iter().map(|p| p.amount).sum::<Yen>(), Yen(amount));
        }
    }
    assert_eq!(
        ap.apportion(Yen(-1), &tokyo(RENGO, InsuranceKind::Unknown)),
        Err(ApportionError::NegativeAmount { amount: Yen(-1) })
    );
}

// ---------------------------------------------------------------------------------
// Configuration

#[test]
fn config_defaults_and_unknown_keys() {
    let c: ApportionConfig = toml::from_str("").unwrap();
    assert_eq!(c, ApportionConfig::default());
    assert_eq!(c.basis, Basis::Claims);
    assert_eq!(c.scope, Scope::Prefecture);
    assert_eq!(c.hold_months, 3);
    let refusal = |toml_text: &str| {
        toml::from_str::<ApportionConfig>(toml_text)
            .expect_err(toml_text)
            .to_string()
    };
    let err = refusal("bases = \"claims\"\n");
    assert!(err.contains("unknown field `bases`"), "{err}");
    let err = refusal("basis = \"people\"\n");
    assert!(
        err.contains("unknown variant `people`") && err.contains("basis"),
        "{err}"
    );
    let c: ApportionConfig = toml::from_str("hold_months = 6\n").unwrap();
    assert_eq!((c.basis, c.hold_months), (Basis::Claims, 6));
}

#[test]
fn a_claim_is_final_after_the_hold() {
    let c = ApportionConfig::default();
    let may = YearMonth::new(2026, 5).unwrap();
    let month = |y, m| YearMonth::new(y, m).unwrap();
    assert!(!c.is_final_unresolved(may, may));
    assert!(!c.is_final_unresolved(may, month(2026, 7)));
    assert!(c.is_final_unresolved(may, month(2026, 8)));
    assert!(c.is_final_unresolved(month(2025, 11), month(2026, 2)));
    let none = ApportionConfig {
        hold_months: 0,
        ..ApportionConfig::default()
    };
    assert!(none.is_final_unresolved(may, may));
}

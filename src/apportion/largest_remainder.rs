//! Largest-remainder (Hamilton) rounding: split a whole number of yen among parties in
//! proportion to integer weights so that every part is a whole yen, the parts add up
//! to the amount exactly, and no part is a yen or more away from its exact share.
//!
//! This is the one rounding rule of apportionment (DOMAIN §9). It is pure integer
//! arithmetic: no floating point anywhere, so the same input gives the same yen on
//! every machine, and the result can be checked by hand.
//!
//! What it is not: it does not choose the parties or their weights (see
//! [`super::basis`]); it takes them as given.

use crate::domain::{InsurerNumber, Yen};

use super::ApportionError;

/// Splits `amount` among `weights` by the largest-remainder method.
///
/// With `W` the sum of the weights, party `i` first gets `floor(amount × wᵢ / W)`. The
/// yen left over (fewer than the number of parties) go one each to the parties with the
/// largest remainders `amount × wᵢ mod W`; equal remainders are broken by insurer number
/// ascending (compared as digit strings, so `01130012` < `131045` < `39280003`). Hence:
///
/// - the parts sum to `amount` exactly;
/// - every part is within one yen of its exact share, strictly: `|partᵢ − amount × wᵢ / W| < 1`
///   (a party whose exact share is a whole number gets exactly that);
/// - a party of weight 0 gets 0;
/// - the result does not depend on the order of `weights`.
///
/// The output has one entry per input party — zero-weight parties included, with
/// `Yen(0)` — sorted by insurer number. Keeping them makes the output total (the caller
/// sees every party it gave and can drop the zeros itself).
///
/// Arithmetic is `u128`: `amount < 2⁶³` and `wᵢ < 2⁶⁴`, so `amount × wᵢ < 2¹²⁷` can
/// never overflow, whatever the inputs.
///
/// # Errors
/// A negative amount, no parties, an insurer given twice, or all weights 0.
pub fn largest_remainder(
    amount: Yen,
    weights: &[(InsurerNumber, u64)],
) -> Result<Vec<(InsurerNumber, Yen)>, ApportionError> {
    if amount.0 < 0 {
        return Err(ApportionError::NegativeAmount { amount });
    }
    if weights.is_empty() {
        return Err(ApportionError::NoParties { amount });
    }
    let mut parties = weights.to_vec();
    parties.sort_unstable_by_key(|&(n, _)| n);
    if let Some(w) = parties.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ApportionError::DuplicateInsurer { insurer: w[0].0 });
    }
    let total: u128 = parties.iter().map(|&(_, w)| u128::from(w)).sum();
    if total == 0 {
        return Err(ApportionError::ZeroTotalWeight {
            amount,
            parties: parties.len(),
        });
    }

    let a = amount.0 as u128; // non-negative, checked above
    let mut given: u128 = 0;
    // (index into `parties`, floor part, remainder)
    let mut quotas: Vec<(usize, u128, u128)> = parties
        .iter()
        .enumerate()
        .map(|(i, &(_, w))| {
            let product = a * u128::from(w);
            let (floor, rem) = div_rem(product, total);
            given += floor;
            (i, floor, rem)
        })
        .collect();
    // Σ floor ≥ amount − (n − 1) and ≤ amount, so fewer than n yen are left over, and
    // at most as many as there are non-zero remainders (Σ rᵢ = leftover × W, rᵢ < W).
    let leftover = (a - given) as usize;
    if leftover > 0 {
        // `parties` is sorted by insurer number, so the index breaks ties in that order.
        let by_remainder =
            |x: &(usize, u128, u128), y: &(usize, u128, u128)| y.2.cmp(&x.2).then(x.0.cmp(&y.0));
        if leftover < quotas.len() {
            quotas.select_nth_unstable_by(leftover - 1, by_remainder);
        }
        for q in &mut quotas[..leftover] {
            q.1 += 1;
        }
    }

    let mut out = vec![(parties[0].0, Yen(0)); parties.len()];
    for (i, part, _) in quotas {
        // part ≤ amount < 2⁶³
        out[i] = (parties[i].0, Yen(part as i64));
    }
    Ok(out)
}

/// `(n / d, n % d)`, in `u64` when both fit (a 128-bit division is several times slower,
/// and real amounts and weights almost always fit).
fn div_rem(n: u128, d: u128) -> (u128, u128) {
    match (u64::try_from(n), u64::try_from(d)) {
        (Ok(n), Ok(d)) => (u128::from(n / d), u128::from(n % d)),
        _ => (n / d, n % d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> InsurerNumber {
        InsurerNumber::parse(s).unwrap()
    }

    #[test]
    fn equal_weights_give_the_odd_yen_to_the_lowest_numbers() {
        let w = [(n("39280003"), 1), (n("01130012"), 1), (n("131045"), 1)];
        let parts = largest_remainder(Yen(100), &w).unwrap();
        assert_eq!(
            parts,
            vec![
                (n("01130012"), Yen(34)),
                (n("131045"), Yen(33)),
                (n("39280003"), Yen(33)),
            ]
        );
    }

    #[test]
    fn largest_remainder_wins_before_the_tie_break() {
        // 10 × 1/6 = 1.67, 10 × 2/6 = 3.33, 10 × 3/6 = 5: the leftover yen goes to the
        // largest remainder (1.67), not to the lowest insurer number.
        let w = [(n("01130012"), 2), (n("01270016"), 1), (n("131045"), 3)];
        let parts = largest_remainder(Yen(10), &w).unwrap();
        assert_eq!(
            parts,
            vec![
                (n("01130012"), Yen(3)),
                (n("01270016"), Yen(2)),
                (n("131045"), Yen(5)),
            ]
        );
    }

    #[test]
    fn zero_weight_parties_are_kept_with_nothing() {
        let w = [(n("01130012"), 0), (n("131045"), 5)];
        let parts = largest_remainder(Yen(7), &w).unwrap();
        assert_eq!(parts, vec![(n("01130012"), Yen(0)), (n("131045"), Yen(7))]);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let one = [(n("01130012"), 1)];
        assert!(matches!(
            largest_remainder(Yen(-1), &one),
            Err(ApportionError::NegativeAmount { .. })
        ));
        assert!(matches!(
            largest_remainder(Yen(1), &[]),
            Err(ApportionError::NoParties { .. })
        ));
        assert!(matches!(
            largest_remainder(Yen(1), &[(n("01130012"), 0), (n("131045"), 0)]),
            Err(ApportionError::ZeroTotalWeight { parties: 2, .. })
        ));
        assert!(matches!(
            largest_remainder(Yen(1), &[(n("131045"), 1), (n("131045"), 2)]),
            Err(ApportionError::DuplicateInsurer { .. })
        ));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let w = [(n("01130012"), u64::MAX), (n("131045"), u64::MAX - 1)];
        let parts = largest_remainder(Yen(i64::MAX), &w).unwrap();
        assert_eq!(
            parts.iter().map(|p| p.1 .0 as i128).sum::<i128>(),
            i64::MAX as i128
        );
    }
}

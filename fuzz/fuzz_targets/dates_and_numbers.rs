//! The small parsers every reader leans on, fed the input as text (lossy UTF-8), with
//! cheap round-trip invariants:
//! - `InsurerNumber::parse`: an accepted number re-parses from `as_str()` to itself, is
//!   6 or 8 ASCII digits, never keeps a `00` 法別番号, and is its body plus check digit;
//! - `parse_iso_date` / `YearMonth::parse_iso`: accepted input is canonical, so it
//!   formats back to itself, and `parse_written_date` accepts it too;
//! - `parse_uke_date` / `parse_uke_month`: a Western date formats back to the input;
//!   an era date lies in the era its code names, in the year it names;
//! - `parse_written_date`: whatever it accepts is a date the ISO parser accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reseclear::domain::{
    parse_iso_date, parse_uke_date, parse_uke_month, parse_written_date, Era, InsurerNumber,
    YearMonth,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let s = text.as_ref();
    insurer_number(s);
    iso_forms(s);
    uke_forms(s);
    written_form(s);
});

fn insurer_number(s: &str) {
    let Ok(n) = InsurerNumber::parse(s) else {
        return;
    };
    let digits = n.as_str();
    assert!(
        matches!(digits.len(), 6 | 8) && digits.bytes().all(|b| b.is_ascii_digit()),
        "{s:?} parsed to {digits:?}"
    );
    assert_eq!(
        InsurerNumber::parse(digits),
        Ok(n),
        "{s:?} does not round-trip"
    );
    assert_ne!(n.law_code(), Some("00"), "{s:?}: 法別番号 00 kept");
    assert_eq!(n.is_kokuho(), digits.len() == 6);
    let _ = n.prefecture();
    let body = &digits[..digits.len() - 1];
    assert_eq!(
        InsurerNumber::from_body(body),
        Ok(n),
        "{s:?}: body + check digit"
    );
}

fn iso_forms(s: &str) {
    if let Ok(d) = parse_iso_date(s) {
        assert_eq!(d.to_string(), s, "ISO date is not canonical");
        assert_eq!(
            parse_written_date(s),
            Some(d),
            "{s:?}: written form rejects ISO"
        );
    }
    if let Ok(m) = YearMonth::parse_iso(s) {
        assert_eq!(m.to_string(), s, "ISO month is not canonical");
        assert!(m.first_day() <= m.last_day());
        assert_eq!(m.first_day().to_string()[..7], *s);
    }
}

fn uke_forms(s: &str) {
    if let Ok(d) = parse_uke_date(s) {
        match s.len() {
            8 => {
                assert_eq!(d.to_string().replace('-', ""), s, "Western UKE date");
                assert_eq!(
                    parse_written_date(s),
                    Some(d),
                    "{s:?}: written form rejects it"
                );
            }
            7 => {
                let era = Era::from_code(s.as_bytes()[0] - b'0');
                assert_eq!(Era::of(d), era, "{s:?} = {d} is not in its era");
                let era = era.expect("checked above");
                let n: i32 = s[1..3].parse().expect("digits");
                let year_of_era = d.to_string()[..4].parse::<i32>().expect("year")
                    - era.first_day().to_string()[..4]
                        .parse::<i32>()
                        .expect("year")
                    + 1;
                assert_eq!(year_of_era, n, "{s:?} = {d}: wrong era year");
                assert_eq!(
                    d.to_string().replace('-', "")[4..],
                    s[3..],
                    "{s:?}: month/day"
                );
            }
            _ => panic!("{s:?} accepted as a UKE date"),
        }
        assert_eq!(parse_iso_date(&d.to_string()), Ok(d));
    }
    if let Ok(m) = parse_uke_month(s) {
        match s.len() {
            6 => assert_eq!(m.to_string().replace('-', ""), s, "Western UKE month"),
            5 => assert_eq!(m.to_string()[5..], s[3..], "{s:?}: month"),
            _ => panic!("{s:?} accepted as a UKE month"),
        }
        assert_eq!(YearMonth::parse_iso(&m.to_string()), Ok(m));
    }
}

fn written_form(s: &str) {
    if let Some(d) = parse_written_date(s) {
        assert_eq!(parse_iso_date(&d.to_string()), Ok(d), "{s:?} gave {d}");
    }
}

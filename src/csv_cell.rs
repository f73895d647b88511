//! Cells of the CSV files a run writes, made safe to open in a spreadsheet.
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula (and a
//! leading tab or CR can hide one), so a value copied from an input — a file name, a
//! field of a bad row — could run a formula on the reviewer's machine. Every CSV
//! writer of the engine passes its cells through [`neutralize`]: such a cell is written
//! with a leading apostrophe (`'`), which spreadsheets show as text and which
//! `schemas/quarantine.md` documents. Numbers (`-300`, `+81`, `1.5`) and the
//! placeholder `-` cannot run anything and are written as they are.

use std::borrow::Cow;

/// `cell`, with a leading `'` when it begins with `=`, `+`, `-`, `@`, tab or CR and is
/// neither a number nor the lone placeholder `-`.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    let risky = matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if !risky || cell == "-" || is_number(cell) {
        Cow::Borrowed(cell)
    } else {
        Cow::Owned(format!("'{cell}"))
    }
}

/// An optionally signed decimal number: digits, with at most one `.` between digits.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_an_apostrophe_numbers_do_not() {
        for (cell, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-300", "-300"),
            ("+81", "+81"),
            ("1.5", "1.5"),
            ("-", "-"),
            ("", ""),
            ("uke/1/RECEIPTC.UKE", "uke/1/RECEIPTC.UKE"),
            ("-.5", "'-.5"),
        ] {
            assert_eq!(neutralize(cell), written, "{cell:?}");
        }
    }
}

//! CSV text inputs (roster, declarations, insurer master): their encoding and their
//! header row.
//!
//! Inputs arrive as UTF-8 or Shift_JIS (Windows tools write CP932, which encoding_rs's
//! WHATWG `Shift_JIS` covers). The encoding is never guessed silently: with
//! `csv_encoding = "auto"` a file is UTF-8 when every byte sequence is valid UTF-8, else
//! Shift_JIS when every byte sequence is valid Shift_JIS, and the choice is recorded
//! ([`EncodingInfo`]) so the run manifest can show it. Bytes that decode under neither
//! (or not under the configured one) make the whole file unreadable, with an error that
//! names the file, the line and the byte offset of the first bad byte.
//!
//! This module does not split records: the `csv` crate does that (quoting, CR LF).
//! It does map header names to column positions ([`Header`]), the same way for every
//! tabular input.

use std::fmt;
use std::path::Path;

use encoding_rs::{DecoderResult, SHIFT_JIS};
use serde::Serialize;

use super::IngestError;
use crate::config::CsvEncoding;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding a CSV input was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TextEncoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "shift_jis")]
    ShiftJis,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::ShiftJis => "shift_jis",
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an input was decoded, for the run manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct EncodingInfo {
    pub encoding: TextEncoding,
    /// `true` when `auto` chose the encoding, `false` when the configuration named it.
    pub detected: bool,
}

/// A CSV input's text, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    /// The text, without a UTF-8 byte order mark.
    pub text: String,
    pub encoding: TextEncoding,
    /// `true` when `auto` chose the encoding, `false` when the configuration named it.
    pub detected: bool,
}

impl DecodedText {
    pub fn info(&self) -> EncodingInfo {
        EncodingInfo {
            encoding: self.encoding,
            detected: self.detected,
        }
    }
}

/// Decodes the bytes of a CSV input as `wanted` says (see the module doc).
pub fn decode_csv(
    path: &Path,
    bytes: &[u8],
    wanted: CsvEncoding,
) -> Result<DecodedText, IngestError> {
    decode(path, Bytes::Borrowed(bytes), wanted)
}

/// The same as [`decode_csv`], taking the bytes by value so that a UTF-8 file (the
/// common case for a large roster) becomes its `String` without a second copy.
pub fn decode_csv_owned(
    path: &Path,
    bytes: Vec<u8>,
    wanted: CsvEncoding,
) -> Result<DecodedText, IngestError> {
    decode(path, Bytes::Owned(bytes), wanted)
}

/// Reads a whole CSV input and decodes it.
pub fn read_csv_text(path: &Path, wanted: CsvEncoding) -> Result<DecodedText, IngestError> {
    let bytes = read_bounded(path)?.map_err(|long| {
        IngestError::invalid(
            path,
            format!(
                "line {} is longer than {} bytes: no row of the contract is; the file is not read",
                long.line, MAX_LINE_BYTES
            ),
        )
    })?;
    decode_csv_owned(path, bytes, wanted)
}

/// The longest physical line any input may have (1 MiB): far above any UKE record or
/// CSV row of the contracts, and low enough that a file which is one gigantic line (a
/// corrupt export, a field of a billion characters) is refused after reading 1 MiB of
/// it, instead of filling memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The first line of a file longer than [`MAX_LINE_BYTES`] (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongLine {
    pub line: u64,
}

/// Reads a file whole, unless it has a line longer than [`MAX_LINE_BYTES`]: then it
/// stops there, having held at most what came before plus one chunk.
pub fn read_bounded(path: &Path) -> Result<Result<Vec<u8>, LongLine>, IngestError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 30));
    let mut chunk = vec![0u8; 1 << 20];
    let (mut line, mut current) = (1u64, 0usize);
    loop {
        let n = file
            .read(&mut chunk)
            .map_err(|e| IngestError::io(path, e))?;
        if n == 0 {
            return Ok(Ok(bytes));
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &chunk[..n]) {
            if current + (nl - start) > MAX_LINE_BYTES {
                return Ok(Err(LongLine { line }));
            }
            line += 1;
            current = 0;
            start = nl + 1;
        }
        current += n - start;
        if current > MAX_LINE_BYTES {
            return Ok(Err(LongLine { line }));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

enum Bytes<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Bytes<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(b) => b,
            Bytes::Owned(v) => v,
        }
    }
}

fn decode(path: &Path, bytes: Bytes<'_>, wanted: CsvEncoding) -> Result<DecodedText, IngestError> {
    let all = bytes.as_slice();
    let has_bom = all.starts_with(UTF8_BOM);
    match wanted {
        CsvEncoding::Utf8 | CsvEncoding::Auto => {
            let body = if has_bom { &all[UTF8_BOM.len()..] } else { all };
            let utf8_error = match std::str::from_utf8(body) {
                Ok(_) => None,
                Err(e) => Some(BadBytes::at(
                    all,
                    bom_len(has_bom) + e.valid_up_to(),
                    e.error_len(),
                )),
            };
            match (utf8_error, wanted) {
                (None, _) => Ok(DecodedText {
                    text: into_utf8_string(bytes, has_bom),
                    encoding: TextEncoding::Utf8,
                    detected: wanted == CsvEncoding::Auto,
                }),
                (Some(bad), CsvEncoding::Utf8) => Err(IngestError::invalid(
                    path,
                    format!(
                        "not valid UTF-8 at {bad} (ingest.csv_encoding is \"utf-8\"; \
                         use \"shift_jis\" or \"auto\" for Shift_JIS files)"
                    ),
                )),
                (Some(bad_utf8), _) => {
                    if has_bom {
                        // A byte order mark says UTF-8; the file contradicts itself.
                        return Err(IngestError::invalid(
                            path,
                            format!(
                                "starts with a UTF-8 byte order mark but is not valid \
                                 UTF-8 at {bad_utf8}"
                            ),
                        ));
                    }
                    if let Some(line) = utf8_japanese_line(all) {
                        return Err(IngestError::invalid(
                            path,
                            format!(
                                "mixed encodings: line {line} is UTF-8 text, but the file is \
                                 not valid UTF-8 at {bad_utf8}; a file is read in one encoding \
                                 or not at all (re-export it in UTF-8 or Shift_JIS)"
                            ),
                        ));
                    }
                    match decode_shift_jis(all) {
                        Ok(text) => Ok(DecodedText {
                            text,
                            encoding: TextEncoding::ShiftJis,
                            detected: true,
                        }),
                        Err(bad_sjis) => Err(IngestError::invalid(
                            path,
                            format!(
                                "expected UTF-8 or Shift_JIS text, but it is not valid \
                                 UTF-8 at {bad_utf8} nor valid Shift_JIS at {bad_sjis}"
                            ),
                        )),
                    }
                }
            }
        }
        CsvEncoding::ShiftJis => {
            if has_bom {
                return Err(IngestError::invalid(
                    path,
                    "starts with a UTF-8 byte order mark, but ingest.csv_encoding is \
                     \"shift_jis\" (use \"utf-8\" or \"auto\")",
                ));
            }
            if let Some(line) = utf8_japanese_line(all) {
                return Err(IngestError::invalid(
                    path,
                    format!(
                        "line {line} is UTF-8 text, but ingest.csv_encoding is \"shift_jis\": \
                         it would be read as mojibake (use \"utf-8\" or \"auto\"; a file of \
                         mixed encodings must be re-exported in one)"
                    ),
                ));
            }
            decode_shift_jis(all)
                .map(|text| DecodedText {
                    text,
                    encoding: TextEncoding::ShiftJis,
                    detected: false,
                })
                .map_err(|bad| {
                    IngestError::invalid(
                        path,
                        format!(
                            "not valid Shift_JIS at {bad} (ingest.csv_encoding is \
                             \"shift_jis\"; use \"utf-8\" or \"auto\" for UTF-8 files)"
                        ),
                    )
                })
        }
    }
}

/// The first line (1-based) that is UTF-8 text holding a character of U+3000 or
/// above (kana, kanji, full-width forms: Japanese written in UTF-8), if any. Shift_JIS
/// Japanese text is practically never valid UTF-8 holding such characters (its kana
/// lead bytes 0x82/0x83 are UTF-8 continuation bytes), so such a line in a file that
/// is otherwise Shift_JIS means the file mixes encodings.
pub fn utf8_japanese_line(bytes: &[u8]) -> Option<u64> {
    // Every UKE file passes here: ASCII is skipped at once up to the next line with other
    // bytes, and a Shift_JIS line fails UTF-8 within a byte or two of its first
    // non-ASCII byte.
    let mut at = 0;
    while at < bytes.len() {
        let first = at + encoding_rs::Encoding::ascii_valid_up_to(&bytes[at..]);
        let end = memchr::memchr(b'\n', &bytes[first..]).map_or(bytes.len(), |i| first + i);
        if let Ok(text) = std::str::from_utf8(&bytes[first..end]) {
            if text.chars().any(|c| c >= '\u{3000}') {
                return Some(memchr::memchr_iter(b'\n', &bytes[..first]).count() as u64 + 1);
            }
        }
        at = end + 1;
    }
    None
}

fn bom_len(has_bom: bool) -> usize {
    if has_bom {
        UTF8_BOM.len()
    } else {
        0
    }
}

/// Turns bytes already checked to be UTF-8 into a `String`, dropping the BOM.
fn into_utf8_string(bytes: Bytes<'_>, has_bom: bool) -> String {
    let skip = bom_len(has_bom);
    match bytes {
        Bytes::Borrowed(b) => String::from_utf8_lossy(&b[skip..]).into_owned(),
        Bytes::Owned(mut v) => {
            v.drain(..skip);
            // Checked by the caller; the lossy path never runs.
            String::from_utf8(v)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }
    }
}

/// Strict Shift_JIS decoding that, unlike `decode_without_bom_handling_and_without_replacement`,
/// says where the first undecodable byte sequence is.
fn decode_shift_jis(bytes: &[u8]) -> Result<String, BadBytes> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let mut consumed = 0;
    loop {
        let (result, read) =
            decoder.decode_to_string_without_replacement(&bytes[consumed..], &mut text, true);
        consumed += read;
        match result {
            DecoderResult::InputEmpty => return Ok(text),
            DecoderResult::OutputFull => text.reserve(bytes.len() - consumed + 16),
            DecoderResult::Malformed(bad_len, after) => {
                let start = consumed
                    .saturating_sub(usize::from(after))
                    .saturating_sub(usize::from(bad_len));
                return Err(BadBytes::at(bytes, start, Some(usize::from(bad_len))));
            }
        }
    }
}

/// Where a byte sequence failed to decode: 1-based line, byte offset in the file and
/// the bytes themselves (hex, at most four).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BadBytes {
    line: u64,
    offset: usize,
    bytes: [u8; 4],
    len: usize,
}

impl BadBytes {
    fn at(all: &[u8], offset: usize, len: Option<usize>) -> BadBytes {
        let offset = offset.min(all.len());
        let line = 1 + all[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        let rest = &all[offset..];
        let len = len.unwrap_or(rest.len()).clamp(1, 4).min(rest.len());
        let mut bytes = [0u8; 4];
        bytes[..len].copy_from_slice(&rest[..len]);
        BadBytes {
            line,
            offset,
            bytes,
            len,
        }
    }
}

impl fmt::Display for BadBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, byte offset {} (", self.line, self.offset)?;
        if self.len == 0 {
            f.write_str("the file ends in the middle of a character")?;
        } else {
            f.write_str("bytes")?;
            for b in &self.bytes[..self.len] {
                write!(f, " {b:02X}")?;
            }
        }
        f.write_str(")")
    }
}

/// The header row of a tabular input: column names (trimmed, ASCII case ignored) to
/// positions.
#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// Builds the map; a name given twice makes the file unreadable, since which of the
    /// two columns is meant cannot be known.
    pub fn new<'a>(
        path: &Path,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Header, IngestError> {
        let names: Vec<String> = names.into_iter().map(normalize_name).collect();
        for (i, n) in names.iter().enumerate() {
            if !n.is_empty() && names[..i].contains(n) {
                return Err(IngestError::invalid(
                    path,
                    format!("the header names column {n:?} twice"),
                ));
            }
        }
        Ok(Header { names })
    }

    /// Number of columns in the header.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Position of a column, if the header has it.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Positions of the required columns, or one error naming every missing one.
    pub fn require<const N: usize>(
        &self,
        path: &Path,
        required: [&str; N],
    ) -> Result<[usize; N], IngestError> {
        let found = required.map(|name| self.find(name));
        let missing: Vec<&str> = required
            .iter()
            .zip(found.iter())
            .filter(|(_, f)| f.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::invalid(
                path,
                format!(
                    "missing required column{} {} in the header (found: {})",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    if self.names.is_empty() {
                        "no header".to_string()
                    } else {
                        self.names.join(", ")
                    }
                ),
            ));
        }
        Ok(found.map(|f| f.unwrap_or(usize::MAX)))
    }
}

fn normalize_name(raw: &str) -> String {
    raw.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{feff}')
        .to_ascii_lowercase()
}

/// A `csv` reader over decoded text: header row expected, records of any length (a
/// record whose length differs from the header's is a quarantined row, not an error).
pub fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// Lines that cannot be a row, found before the `csv` crate splits records: a line
/// with an odd number of `"` (an unterminated quote, which would otherwise swallow
/// every row after it into one field — these inputs hold no line breaks inside a
/// field), or one holding a NUL byte. Each is a quarantined row naming its line, and
/// is blanked in `text` (a row of empty fields, which the caller passes over by its
/// line: see [`screened`]), so the rows after it are read. A header row with such a
/// fault makes the file unreadable. Returns the rows, in line order; the caller counts
/// them as rows read.
pub fn screen_rows(
    path: &Path,
    display: &str,
    record_kind: &str,
    text: &mut String,
) -> Result<Vec<crate::validate::QuarantineRow>, IngestError> {
    let fault = |line: &str| -> Option<&'static str> {
        if line.contains('\0') {
            Some("the row holds a NUL byte, which no field of the contract has; row skipped")
        } else if line.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            Some("the row has an unterminated quote (an odd number of '\"'; a field may not hold a line break); row skipped, and the rows after it are read")
        } else {
            None
        }
    };
    let quotes = memchr::memchr(b'"', text.as_bytes()).is_some();
    let nul = memchr::memchr(0, text.as_bytes()).is_some();
    if !nul && (!quotes || !text.lines().any(|l| fault(l).is_some())) {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    // A skipped line becomes a row of empty fields, one per header column: the csv
    // crate reads it where it stands (an empty line it would skip, and give the next
    // record the empty line's number), and the reader passes over it by its line.
    let header_fields = text
        .lines()
        .next()
        .filter(|l| fault(l).is_none())
        .map(|l| csv_reader(l).headers().map(|h| h.len()).unwrap_or(1))
        .unwrap_or(1);
    let blank = ",".repeat(header_fields.saturating_sub(1));
    let mut kept = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i as u64 + 1;
        match fault(line) {
            Some(reason) if n == 1 => {
                return Err(IngestError::invalid(
                    path,
                    format!("line 1 (the header row): {reason}"),
                ))
            }
            Some(reason) => {
                rows.push(crate::validate::QuarantineRow::new(
                    display,
                    n,
                    record_kind,
                    "-",
                    "",
                    reason,
                    crate::validate::Scope::Row,
                ));
                kept.push_str(&blank);
                if line.ends_with('\n') {
                    kept.push('\n');
                }
            }
            None => kept.push_str(line),
        }
    }
    *text = kept;
    Ok(rows)
}

/// Whether the record on `line` is one [`screen_rows`] blanked (its row is already in
/// the quarantine); `rows` are what it returned.
pub fn screened(rows: &[crate::validate::QuarantineRow], line: u64) -> bool {
    !rows.is_empty() && rows.binary_search_by_key(&line, |r| r.line).is_ok()
}

/// Reads the header row of `reader` into a [`Header`].
pub fn read_header(path: &Path, reader: &mut csv::Reader<&[u8]>) -> Result<Header, IngestError> {
    let record = reader
        .headers()
        .map_err(|e| IngestError::invalid(path, format!("cannot read the header row: {e}")))?;
    Header::new(path, record.iter())
}

/// Reads the next record into `record`; `Ok(false)` at the end. A CSV the csv crate
/// cannot read past this point is an error naming the file and how far it got.
pub fn next_record(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
    rows_read: u64,
) -> Result<bool, IngestError> {
    reader.read_record(record).map_err(|e| {
        IngestError::invalid(path, format!("cannot read CSV after {rows_read} rows: {e}"))
    })
}

/// A row whose number of fields differs from the header's: the quarantine row that
/// skips it, or `None` when the count is right.
pub fn field_count_problem(
    display: &str,
    record_kind: &str,
    record: &csv::StringRecord,
    header: &Header,
) -> Option<crate::validate::QuarantineRow> {
    (record.len() != header.len()).then(|| {
        crate::validate::QuarantineRow::new(
            display,
            record_line(record),
            record_kind,
            "-",
            &format!("{} fields", record.len()),
            format!(
                "expected {} fields (as the header), found {}; row skipped",
                header.len(),
                record.len()
            ),
            crate::validate::Scope::Row,
        )
    })
}

/// The 1-based line a record starts on (the header is line 1).
pub fn record_line(record: &csv::StringRecord) -> u64 {
    record.position().map(|p| p.line()).unwrap_or(0)
}

/// Trims ASCII whitespace (spaces, tabs, CR, LF) from a field; full-width spaces are
/// data and stay.
pub fn field(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("in/insurers.csv")
    }

    #[test]
    fn utf8_with_bom_is_utf8() {
        let d = decode_csv(p(), "\u{feff}a,b\n山田,1\n".as_bytes(), CsvEncoding::Auto).unwrap();
        assert_eq!(d.text, "a,b\n山田,1\n");
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert!(d.detected);
    }

    #[test]
    fn shift_jis_is_detected_and_recorded() {
        let (sjis, _, _) = SHIFT_JIS.encode("氏名,カナ\n山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ\n");
        let d = decode_csv(p(), &sjis, CsvEncoding::Auto).unwrap();
        assert_eq!(d.text, "氏名,カナ\n山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ\n");
        assert_eq!(d.info().encoding, TextEncoding::ShiftJis);
        assert!(d.detected);
        let forced = decode_csv_owned(p(), sjis.into_owned(), CsvEncoding::ShiftJis).unwrap();
        assert!(!forced.detected);
    }

    #[test]
    fn undecodable_bytes_name_line_and_offset() {
        // Line 2 starts at offset 4; 0x81 0x20 is neither UTF-8 nor Shift_JIS.
        let bytes = b"a,b\nx,\x81\x20\n";
        let e = decode_csv(p(), bytes, CsvEncoding::Auto)
            .unwrap_err()
            .to_string();
        assert!(e.contains("in/insurers.csv"), "{e}");
        assert!(e.contains("line 2, byte offset 6"), "{e}");
        assert!(e.contains("UTF-8") && e.contains("Shift_JIS"), "{e}");
        assert!(e.ends_with("(bytes 81)"), "{e}");
    }

    #[test]
    fn explicit_utf8_refuses_shift_jis() {
        let (sjis, _, _) = SHIFT_JIS.encode("a\n山田\n");
        let e = decode_csv(p(), &sjis, CsvEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, byte offset 2"), "{e}");
        assert!(e.contains("not valid UTF-8"), "{e}");
    }

    #[test]
    fn explicit_shift_jis_refuses_a_utf8_bom() {
        let e = decode_csv(p(), b"\xEF\xBB\xBFa\n", CsvEncoding::ShiftJis).unwrap_err();
        assert!(e.to_string().contains("byte order mark"));
    }

    #[test]
    fn truncated_shift_jis_at_end_of_file() {
        // A lead byte with no trail byte at the very end.
        let e = decode_csv(p(), b"a\n\x88", CsvEncoding::ShiftJis)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, byte offset 2"), "{e}");
    }

    #[test]
    fn a_utf8_line_in_a_shift_jis_file_is_mixed_encodings_not_mojibake() {
        let mut bytes = SHIFT_JIS
            .encode("氏名,カナ\n山田 太郎,ﾔﾏﾀﾞ\n")
            .0
            .into_owned();
        bytes.extend("鈴木 一郎,ｽｽﾞｷ\n".as_bytes());
        let e = decode_csv(p(), &bytes, CsvEncoding::Auto)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mixed encodings: line 3 is UTF-8"), "{e}");
        let e = decode_csv(p(), "a\n山田\n".as_bytes(), CsvEncoding::ShiftJis)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2 is UTF-8 text"), "{e}");
        // Shift_JIS Japanese is not taken for UTF-8.
        assert_eq!(
            utf8_japanese_line(&SHIFT_JIS.encode("ｱｲｳ,山田,カナ\n").0),
            None
        );
    }

    #[test]
    fn an_unterminated_quote_or_a_nul_is_a_row_and_the_rest_is_read() {
        let mut text = "a,b\n1,\"x\n2,y\n3,\0\n4,\"q\"\"\"\n".to_string();
        let rows = screen_rows(p(), "insurers.csv", "insurers", &mut text).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [2, 4],
            "{rows:?}"
        );
        assert!(rows[0].reason.contains("unterminated quote"));
        assert!(rows[1].reason.contains("NUL"));
        // The lines are blanked, so the others keep their line numbers.
        assert_eq!(text, "a,b\n,\n2,y\n,\n4,\"q\"\"\"\n");
        let mut lines = csv_reader(&text);
        let mut record = csv::StringRecord::new();
        let mut seen = Vec::new();
        while lines.read_record(&mut record).unwrap() {
            if !screened(&rows, record_line(&record)) {
                seen.push((record_line(&record), record[0].to_string()));
            }
        }
        assert_eq!(seen, [(3, "2".to_string()), (5, "4".to_string())]);
        let mut header = "a,\"b\n1,2\n".to_string();
        assert!(screen_rows(p(), "x", "x", &mut header).is_err());
    }

    #[test]
    fn header_finds_columns_and_names_the_missing_ones() {
        let h = Header::new(p(), [" Insurer_Number", "name", "extra"]).unwrap();
        assert_eq!(h.find("insurer_number"), Some(0));
        let e = h
            .require(p(), ["name", "kind", "prefecture"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing required columns kind, prefecture"),
            "{e}"
        );
        assert!(Header::new(p(), ["a", "A"]).is_err());
    }
}

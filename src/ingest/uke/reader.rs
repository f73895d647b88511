//! Reading one UKE file into typed receipts and quarantine rows.
//!
//! The reader is a small state machine over records: IR (or YK) opens the file, each RE
//! opens a receipt that the records after it (HO, KO, SN, CO, SY, SI …) belong to, and
//! GO closes the file with totals that are checked against what was read. What goes
//! wrong is scoped as narrowly as is safe:
//! - a record the engine uses (RE, HO, KO, SN, CO) that is malformed or undecodable
//!   quarantines its receipt;
//! - an unknown record id, or an undecodable record the engine only counts, is a
//!   record-level row and the receipt goes on;
//! - a bad IR, bad or missing GO (a truncated file), totals that do not match, or
//!   records after GO quarantine every receipt of the file.
//!
//! Reading allocates nothing per line (the hot path, measured by `benches/uke_parse.rs`):
//! lines of ASCII only (most lines: digits and commas) are text where they lie, checked
//! a run of lines at a time; a run of lines with other bytes is decoded from Shift_JIS
//! into one reused buffer, or line by line to find the lines at fault when it does not
//! decode. Only the records the engine reads are split into fields (`&str` slices of the
//! line, one reused offsets buffer); the rest are counted in tables indexed by their
//! two-letter id. Strings are made only for the values a receipt keeps (inline, with no
//! allocation, when short), quarantine text only for a problem, and GO's sums as each
//! receipt is closed.

use std::collections::BTreeMap;
use std::path::Path;

use compact_str::CompactString;
use encoding_rs::{DecoderResult, SHIFT_JIS};
use rayon::prelude::*;

use chrono::Datelike;

use super::layout::{DayFields, DayForm, Field, Layout, ReLayout, ReceiptKind, DPC, IKA};
use super::model::*;
use crate::config::IngestConfig;
use crate::domain::{
    parse_uke_date, parse_uke_month, CareDays, ClinicCode, InsurerNumber, Organization, Points,
    ReceiptKey, Sex, YearMonth, Yen,
};
use crate::ingest::IngestError;
use crate::validate::{QuarantineRow, Scope};

/// Record ids of the 医科, DPC, 歯科 and 調剤 specifications that the engine reads or
/// counts. Anything else is an unknown record.
const KNOWN_RECORDS: &[&str] = &[
    "IR", "UK", "YK", "RE", "HO", "KO", "KH", "SN", "JD", "MF", "SY", "SI", "IY", "TO", "CO", "NI",
    "SJ", "TI", "TK", "TR", "GR", "BU", "SB", "KK", "SK", "GA", "HH", "GT", "CD", "TS", "HS", "SS",
    "SH", "CZ", "KI", "ST", "GO",
];

/// EOF byte that ends a UKE file.
const EOF_BYTE: u8 = 0x1A;

/// Two-letter upper-case record ids (`AA` … `ZZ`) index tables of this size.
const ID_SLOTS: usize = 26 * 26;

/// The table slot of a two-letter upper-case record id; other ids have none.
fn id_slot(id: &[u8]) -> Option<usize> {
    match *id {
        [a @ b'A'..=b'Z', b @ b'A'..=b'Z'] => {
            Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
        }
        _ => None,
    }
}

/// What the parser does with a record, by its id.
#[derive(Clone, Copy)]
enum RecordKind {
    Header,
    Receipt,
    Insurance,
    PublicExpense,
    Confirmation,
    Comment,
    Totals,
    /// Known, only counted: the index in [`OtherRecords::IDS`].
    Counted(usize),
    Unknown,
}

/// `a == b`, at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The index of a counted record id in [`OtherRecords::IDS`], where every known id the
/// engine does not read must be (checked at compile time).
const fn counted_index(id: &str) -> usize {
    match OtherRecords::index_of(id) {
        Some(i) => i,
        None => panic!("a counted record id is missing from OtherRecords::IDS"),
    }
}

/// Index of SN in [`OtherRecords::IDS`]: a second SN of a receipt is only counted.
const SN_INDEX: usize = counted_index("SN");

/// Counted records, by their index in [`OtherRecords::IDS`].
const COUNTED: usize = OtherRecords::IDS.len();

/// Whether each counted record (by its index in [`OtherRecords::IDS`]) is one of
/// [`ReceiptKind::DPC_RECORDS`]: a table, as every detail record of a 医科 file asks.
const DPC_ONLY: [bool; COUNTED] = {
    let mut table = [false; COUNTED];
    let mut i = 0;
    while i < ReceiptKind::DPC_RECORDS.len() {
        table[counted_index(ReceiptKind::DPC_RECORDS[i])] = true;
        i += 1;
    }
    table
};

/// A layout's day fields by the index of their record in [`OtherRecords::IDS`], so that
/// a detail record finds its own without a search.
type DaysByRecord = [Option<&'static DayFields>; COUNTED];

fn days_by_record(layout: &'static Layout) -> DaysByRecord {
    std::array::from_fn(|i| layout.day_fields_of(OtherRecords::IDS[i]))
}

/// The kind of record of each two-letter id, by [`id_slot`].
const KIND_BY_SLOT: [RecordKind; ID_SLOTS] = {
    let mut table = [RecordKind::Unknown; ID_SLOTS];
    let mut i = 0;
    while i < KNOWN_RECORDS.len() {
        let id = KNOWN_RECORDS[i];
        let b = id.as_bytes();
        table[(b[0] - b'A') as usize * 26 + (b[1] - b'A') as usize] =
            if same(id, "IR") || same(id, "UK") || same(id, "YK") {
                RecordKind::Header
            } else if same(id, "RE") {
                RecordKind::Receipt
            } else if same(id, "HO") {
                RecordKind::Insurance
            } else if same(id, "KO") {
                RecordKind::PublicExpense
            } else if same(id, "SN") {
                RecordKind::Confirmation
            } else if same(id, "CO") {
                RecordKind::Comment
            } else if same(id, "GO") {
                RecordKind::Totals
            } else {
                RecordKind::Counted(counted_index(id))
            };
        i += 1;
    }
    table
};

/// A receipt taken out of the run, with what could be read of it (for the accounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedReceipt {
    /// The key, when IR and the receipt number could be read.
    pub key: Option<ReceiptKey>,
    pub receipt_number: Option<u32>,
    pub line: u64,
    /// 合計点数 when it could be read.
    pub points: Option<Points>,
    /// The first reason; every reason has its own quarantine row.
    pub reason: String,
}

/// Everything read from one UKE file.
#[derive(Debug, Clone, Default)]
pub struct UkeFile {
    /// Path as shown in outputs (relative to the input directory).
    pub path: String,
    pub bytes: u64,
    /// sha256 of the file's bytes (hex), for the manifest.
    pub sha256: String,
    pub lines: u64,
    /// The kind its header record (and, for DPC, its records) say it is.
    pub kind: Option<ReceiptKind>,
    pub header: Option<ClinicHeader>,
    /// Receipts that passed validation.
    pub receipts: Vec<Receipt>,
    /// Where each of `receipts` is in the file's bytes (same order): its RE line up to
    /// the next RE or GO. A receipt can be read again from there alone
    /// ([`reparse_receipt`]), so a run need not hold every parsed receipt.
    pub spans: Vec<ByteSpan>,
    /// Where the IR (or YK) line is, up to its line feed.
    pub header_span: Option<ByteSpan>,
    /// Receipts that did not, with their reasons.
    pub quarantined: Vec<QuarantinedReceipt>,
    pub totals: Option<Totals>,
    /// Records read, by record id (unknown ids included).
    pub record_counts: BTreeMap<String, u64>,
    pub quarantine: Vec<QuarantineRow>,
}

impl UkeFile {
    /// Whether every receipt of the file was quarantined as a unit.
    pub fn quarantined_whole(&self) -> bool {
        self.quarantine.iter().any(|r| r.scope == Scope::File)
    }
}

/// Byte offsets `start..end` in a file.
pub type ByteSpan = std::ops::Range<u64>;

/// One accepted receipt to read again: where it is in its file, and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptAt {
    pub span: ByteSpan,
    pub key: ReceiptKey,
    /// Line of its RE record.
    pub line: u64,
    pub points: Points,
}

/// Reads accepted receipts of a file again from their bytes alone: the file's IR line
/// and the receipts' spans (as [`UkeFile::spans`] gave them, in file order), closed by
/// a GO of their count and points, parsed once as a file of their own. A month is
/// millions of receipts: a run holds a compact form of most and reads again the few it
/// must write out whole (those left open, for the pending ledger). Each must parse as
/// it did, with its key and points (its lines are put back where they are in the
/// file); anything else means the file changed during the run, and is an error.
pub fn reparse_receipts(
    path: &Path,
    display: &str,
    header: &ByteSpan,
    receipts: &[ReceiptAt],
    config: &IngestConfig,
) -> Result<Vec<Receipt>, IngestError> {
    use std::io::{Read, Seek, SeekFrom};
    if receipts.is_empty() {
        return Ok(Vec::new());
    }
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut read = |span: &ByteSpan| -> Result<Vec<u8>, IngestError> {
        let len = usize::try_from(span.end.saturating_sub(span.start))
            .map_err(|_| IngestError::invalid(path, "a receipt's span does not fit in memory"))?;
        let mut buf = vec![0; len];
        file.seek(SeekFrom::Start(span.start))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|e| IngestError::io(path, e))?;
        Ok(buf)
    };
    let ir = read(header)?;
    let ir = ir.strip_suffix(b"\r").unwrap_or(&ir);
    let mut bytes = Vec::with_capacity(ir.len() + 64);
    bytes.extend_from_slice(ir);
    bytes.extend_from_slice(b"\r\n");
    let mut points = Points::default();
    for at in receipts {
        bytes.extend_from_slice(&read(&at.span)?);
        if bytes.last() != Some(&b'\n') {
            bytes.extend_from_slice(b"\r\n");
        }
        points += at.points;
    }
    bytes.extend_from_slice(format!("GO,{},{},99\r\n", receipts.len(), points.0).as_bytes());
    bytes.push(EOF_BYTE);
    let changed = |why: String| {
        IngestError::invalid(
            path,
            format!(
                "receipts read differently than when the run began ({why}): the file changed during the run"
            ),
        )
    };
    let again = parse_uke(display, &bytes, config);
    if let Some(problem) = again.quarantine.iter().find(|r| r.scope == Scope::File) {
        return Err(changed(problem.reason.clone()));
    }
    if again.receipts.len() != receipts.len() {
        return Err(changed(format!(
            "{} receipts where {} were",
            again.receipts.len(),
            receipts.len()
        )));
    }
    again
        .receipts
        .into_iter()
        .zip(receipts)
        .map(|(r, at)| {
            if r.key != at.key || r.points() != at.points {
                return Err(changed(format!(
                    "receipt {} (line {}) is not there",
                    at.key, at.line
                )));
            }
            let by = at.line - r.line.min(at.line);
            Ok(with_lines_moved(r, by))
        })
        .collect()
}

/// A receipt read again with the lines it has in its file: each `by` further on.
fn with_lines_moved(mut r: Receipt, by: u64) -> Receipt {
    let shift = |l: &mut u64| *l += by;
    shift(&mut r.line);
    if let Some(ho) = &mut r.insurance {
        shift(&mut ho.line);
    }
    for ko in &mut r.public_expenses {
        shift(&mut ko.line);
    }
    if let Some(sn) = &mut r.confirmation {
        shift(&mut sn.line);
    }
    for co in &mut r.comments {
        shift(&mut co.line);
    }
    r
}

/// Reads and parses one file. Only I/O failure is an error; everything about the
/// content is in the returned quarantine rows.
pub fn read_uke_file(
    path: &Path,
    display: &str,
    config: &IngestConfig,
) -> Result<UkeFile, IngestError> {
    let bytes = match crate::ingest::text::read_bounded(path)? {
        Ok(bytes) => bytes,
        Err(long) => return Ok(unreadable(path, display, long)),
    };
    let mut file = parse_uke(display, &bytes, config);
    file.sha256 = crate::manifest::sha256_bytes(&bytes);
    Ok(file)
}

/// A file with a line no UKE record could have: quarantined whole, unread (its
/// receipts cannot be counted, so the quarantine row says so).
fn unreadable(path: &Path, display: &str, long: crate::ingest::text::LongLine) -> UkeFile {
    let mut file = UkeFile {
        path: display.to_string(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        sha256: crate::manifest::sha256_file(path).unwrap_or_default(),
        lines: long.line,
        ..UkeFile::default()
    };
    file.quarantine.push(QuarantineRow::new(
        display,
        long.line,
        "-",
        "-",
        "",
        format!(
            "line {} is longer than {} bytes, which no UKE record is: the file is not read, and its receipts are not counted",
            long.line,
            crate::ingest::text::MAX_LINE_BYTES
        ),
        Scope::File,
    ));
    file
}

/// Reads many files in parallel; results come back in the order given, each file as
/// `keep` makes it (a run keeps a compact form of its receipts, while the threads
/// still have the file at hand). `progress` advances by one per file read.
pub fn read_uke_files<T: Send>(
    files: &[(std::path::PathBuf, String)],
    config: &IngestConfig,
    progress: &dyn crate::progress::Progress,
    keep: impl Fn(UkeFile, &Path) -> T + Sync,
) -> Vec<Result<T, IngestError>> {
    files
        .par_iter()
        .map(|(path, display)| {
            let file = read_uke_file(path, display, config).map(|f| keep(f, path));
            progress.advance(1);
            file
        })
        .collect()
}

/// Parses the bytes of one UKE file.
pub fn parse_uke(display: &str, bytes: &[u8], config: &IngestConfig) -> UkeFile {
    let mut file = UkeFile {
        path: display.to_string(),
        bytes: bytes.len() as u64,
        ..UkeFile::default()
    };
    // Records after the EOF byte: another file concatenated onto this one (the copy of
    // one clinic's file after another's). Read on through, the EOF bytes taken out, so
    // that its receipts are counted: the records after GO quarantine the file whole.
    let joined: Vec<u8>;
    let body = match memchr::memchr(EOF_BYTE, bytes) {
        Some(end) if holds_records(&bytes[end + 1..]) => {
            file.quarantine.push(QuarantineRow::new(
                display,
                0,
                "-",
                "-",
                "",
                format!(
                    "records after the EOF byte 0x1A (at byte {end}): another file concatenated onto this one; read on, so that its receipts are counted"
                ),
                Scope::Notice,
            ));
            joined = without_eof_bytes(bytes);
            &joined
        }
        Some(end) => {
            let rest = &bytes[end + 1..];
            if rest.iter().any(|b| !b.is_ascii_whitespace()) {
                file.quarantine.push(QuarantineRow::new(
                    display,
                    0,
                    "-",
                    "-",
                    "",
                    format!("{} bytes after the EOF byte 0x1A were ignored", rest.len()),
                    Scope::Notice,
                ));
            }
            &bytes[..end]
        }
        None => {
            if !bytes.is_empty() {
                file.quarantine.push(QuarantineRow::new(
                    display,
                    0,
                    "-",
                    "-",
                    "",
                    "file does not end with the EOF byte 0x1A",
                    Scope::Notice,
                ));
            }
            bytes
        }
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        file.quarantine.push(QuarantineRow::new(
            display,
            0,
            "-",
            "-",
            "",
            "file is empty: expected IR, receipts and GO",
            Scope::File,
        ));
        return file;
    }

    let foreign = foreign_encoding(body);
    let mut parser = Parser::new(&mut file, config);
    match foreign {
        Some(foreign) => {
            parser.file_problems.push(QuarantineRow::new(
                display,
                0,
                "-",
                "-",
                "",
                foreign.reason,
                Scope::File,
            ));
            parser.run(foreign.body.as_deref().unwrap_or(body));
        }
        // Lines ending in CR alone (an old convention, or a converter's slip) would read
        // as one endless record: say so, and read it at CR so every receipt is counted.
        None if memchr::memchr(b'\n', body).is_none() && memchr::memchr(b'\r', body).is_some() => {
            parser.file_problems.push(QuarantineRow::new(
                display,
                0,
                "-",
                "-",
                "",
                "lines end with CR alone, without LF, but UKE lines end with CR LF: every receipt is quarantined (counted as read at CR); re-export the file with CR LF line ends",
                Scope::File,
            ));
            let at_lf: Vec<u8> = body
                .iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect();
            parser.run(&at_lf);
        }
        None => parser.run(body),
    }
    file
}

/// Whether `rest` (the bytes after an EOF byte) begins with a record: a two-letter id
/// and a comma, after white space.
fn holds_records(rest: &[u8]) -> bool {
    matches!(rest.trim_ascii_start(), [a, b, b',', ..] if a.is_ascii_uppercase() && b.is_ascii_uppercase())
}

/// The bytes with every EOF byte taken out: one that ends a line goes, one that ends
/// a file without a line end becomes one.
fn without_eof_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    for &b in bytes {
        if b != EOF_BYTE {
            out.push(b);
        } else if out.last().is_some_and(|&l| l != b'\n') {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// UTF-8 byte order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file that is not Shift_JIS text throughout: why, in words, and (for UTF-8
/// text) its records in Shift_JIS, so that its receipts are counted as they are and
/// not as mojibake.
struct ForeignEncoding {
    reason: String,
    body: Option<Vec<u8>>,
}

/// The file-level verdict on a UKE file's encoding, before any record is read (the
/// contract is Shift_JIS, CP932 included, without a byte order mark): a UTF-8 file, a
/// file with a byte order mark, or one that mixes UTF-8 lines with Shift_JIS ones is
/// quarantined whole. `None` for a Shift_JIS (or ASCII) file.
fn foreign_encoding(body: &[u8]) -> Option<ForeignEncoding> {
    let (bom, rest) = match body.strip_prefix(UTF8_BOM) {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let fix = "re-export the file in Shift_JIS, without a byte order mark";
    if !rest.is_ascii() {
        if let Ok(text) = std::str::from_utf8(rest) {
            let line = 1 + rest
                .iter()
                .take_while(|b| b.is_ascii())
                .filter(|&&b| b == b'\n')
                .count();
            let (sjis, _, _) = SHIFT_JIS.encode(text);
            return Some(ForeignEncoding {
                reason: format!(
                    "the file is UTF-8 text{} (line {line} is its first beyond ASCII), but UKE files are Shift_JIS: every receipt is quarantined (counted as read in UTF-8); {fix}",
                    if bom { " with a byte order mark" } else { "" }
                ),
                body: Some(sjis.into_owned()),
            });
        }
        if let Some(line) = crate::ingest::text::utf8_japanese_line(rest) {
            return Some(ForeignEncoding {
                reason: format!(
                    "mixed encodings: line {line} is UTF-8 text and other lines are not; a file is read in one encoding or not at all: every receipt is quarantined; {fix}"
                ),
                body: bom.then(|| rest.to_vec()),
            });
        }
    }
    bom.then(|| ForeignEncoding {
        reason: format!(
            "the file starts with a UTF-8 byte order mark, which a Shift_JIS UKE file never has: every receipt is quarantined; {fix}"
        ),
        body: Some(rest.to_vec()),
    })
}

/// `body` up to the end of its last line that holds more than CRs: the empty lines at the
/// end of a file are not lines of it.
fn without_trailing_empty_lines(body: &[u8]) -> &[u8] {
    match body.iter().rposition(|&b| b != b'\r' && b != b'\n') {
        Some(last) => match memchr::memchr(b'\n', &body[last..]) {
            Some(nl) => &body[..last + nl],
            None => body,
        },
        None => &[],
    }
}

/// Receipts a file is likely to hold, from the RE records in its first 64 KiB (a
/// quarter more, so that the list of receipts seldom has to grow), and at most one per
/// 64 bytes (no receipt is shorter).
fn expected_receipts(body: &[u8]) -> usize {
    let sample = &body[..body.len().min(64 * 1024)];
    let seen = memchr::memmem::find_iter(sample, b"\nRE,").count() + 1;
    let expected = seen.saturating_mul(body.len()) / sample.len().max(1);
    (expected.saturating_mul(5) / 4).min(body.len() / 64 + 1)
}

/// The end of the line starting at `start` (its line feed, or the end of `bytes`), and
/// whether the line is ASCII only: one pass, eight bytes at a time (lines are short,
/// most under 64 bytes, where a call to memchr and another to check ASCII cost more).
fn line_end(bytes: &[u8], start: usize) -> (usize, bool) {
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut high = 0;
    let mut i = start;
    while let Some(eight) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(eight.try_into().unwrap_or_default());
        let feeds = byte_hits(word, b'\n');
        if feeds != 0 {
            // The bytes before the first line feed (the low ones, read little-endian).
            let before = feeds.trailing_zeros() / 8 * 8;
            let line = word & u64::MAX.checked_shr(64 - before).unwrap_or(0);
            return (i + before as usize / 8, (high | line) & HIGH == 0);
        }
        high |= word;
        i += 8;
    }
    let end = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |j| i + j);
    (end, high & HIGH == 0 && bytes[i..end].is_ascii())
}

/// Shift_JIS `raw` decoded into `buf`; `None` when it does not decode.
fn decode_sjis<'a>(raw: &[u8], buf: &'a mut String) -> Option<&'a str> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    buf.clear();
    let mut read = 0;
    loop {
        let need = decoder
            .max_utf8_buffer_length_without_replacement(raw.len() - read)
            .unwrap_or(raw.len() * 3 + 16);
        buf.reserve(need);
        let (result, n) = decoder.decode_to_string_without_replacement(&raw[read..], buf, true);
        read += n;
        match result {
            DecoderResult::InputEmpty => return Some(buf.as_str()),
            DecoderResult::Malformed(..) => return None,
            DecoderResult::OutputFull => {}
        }
    }
}

/// A record's fields, as slices of its line found in one pass.
struct Fields<'a> {
    text: &'a str,
    /// The byte offset at which each field starts, then `text.len() + 1`.
    starts: &'a [usize],
}

impl<'a> Fields<'a> {
    /// Splits `text` at its commas, reusing `starts`. Eight bytes at a time: records
    /// such as RE are mostly commas.
    fn split(text: &'a str, starts: &'a mut Vec<usize>) -> Fields<'a> {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        const COMMAS: u64 = u64::from_ne_bytes([b','; 8]);
        let bytes = text.as_bytes();
        // Room for a field per byte and the end mark, so that each start is one store.
        if starts.len() < bytes.len() + 2 {
            starts.resize(bytes.len() + 2, 0);
        }
        let mut count = 1;
        let mut chunks = bytes.chunks_exact(8);
        let mut at = 1;
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word) ^ COMMAS;
            // The high bit of each byte of `x` that is zero, i.e. of each comma.
            let mut hits = !(((x & LOW7) + LOW7) | x | LOW7);
            while hits != 0 {
                starts[count] = at + (hits.trailing_zeros() / 8) as usize;
                count += 1;
                hits &= hits - 1;
            }
            at += 8;
        }
        for &b in chunks.remainder() {
            if b == b',' {
                starts[count] = at;
                count += 1;
            }
            at += 1;
        }
        starts[count] = bytes.len() + 1;
        Fields {
            text,
            starts: &starts[..=count],
        }
    }

    /// Number of fields (the record id included).
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Field `pos` (1-based; field 1 is the record id), empty when the record is shorter.
    fn get(&self, pos: usize) -> &'a str {
        match (self.starts.get(pos - 1), self.starts.get(pos)) {
            (Some(&start), Some(&next)) => &self.text[start..next - 1],
            _ => "",
        }
    }

    /// Fields `pos` and after, commas and all; empty when the record is shorter.
    fn rest(&self, pos: usize) -> &'a str {
        if pos <= self.len() {
            &self.text[self.starts[pos - 1]..]
        } else {
            ""
        }
    }
}

/// Field names as shown in quarantine rows.
mod field {
    pub const GO_COUNT: &str = "GO.2 総件数";
    pub const GO_POINTS: &str = "GO.3 総合計点数";
}

/// A receipt being read: its fields so far and its problems.
struct Draft {
    line: u64,
    /// Where its RE line starts in the file's bytes.
    start: u64,
    receipt_number: Option<u32>,
    receipt_type: CompactString,
    care_month: Option<YearMonth>,
    name: CompactString,
    sex: Option<Sex>,
    birth_date: Option<chrono::NaiveDate>,
    benefit_ratio: Option<u8>,
    special_notes: CompactString,
    chart_number: CompactString,
    kana_name: CompactString,
    patient_state: CompactString,
    insurance: Option<HealthInsurance>,
    /// HO seen but unreadable: the receipt's points are unknown.
    insurance_broken: bool,
    public_expenses: Vec<PublicExpense>,
    confirmation: Option<EligibilityConfirmation>,
    comments: Vec<Comment>,
    /// The days its detail records mark so far.
    care_days: CareDays,
    /// A day field was not a count: the receipt's days are not used (the month rule).
    days_unreadable: bool,
    /// Records of the receipt the engine does not use.
    other_records: OtherRecords,
    /// Receipt-scope problems (field, value, reason, pii).
    problems: Vec<QuarantineRow>,
}

impl Draft {
    fn points(&self) -> Option<Points> {
        if self.insurance_broken {
            return None;
        }
        Some(billed_points(
            self.insurance.as_ref(),
            &self.public_expenses,
        ))
    }

    fn payer_count(&self) -> u64 {
        u64::from(self.insurance.is_some() || self.insurance_broken)
            + self.public_expenses.len() as u64
    }
}

/// Sums over the receipts read, kept as each is closed, while it is at hand: GO is
/// checked against them.
struct Tally {
    /// Payers (HO and each KO) of all receipts.
    payers: u64,
    /// The receipts' points; `None` once one is unreadable.
    points: Option<Points>,
    /// Every payer's points.
    per_payer: Points,
    /// The last receipt number read.
    last_number: Option<u32>,
    /// Whether the receipt numbers rise through the file (so none is there twice).
    rising: bool,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            payers: 0,
            points: Some(Points::default()),
            per_payer: Points::default(),
            last_number: None,
            rising: true,
        }
    }

    fn add(&mut self, d: &Draft) {
        self.payers += d.payer_count();
        // Checked: a sum that would overflow is unreadable (GO is then not checked and
        // says so), never a wrapped number.
        self.points = self
            .points
            .zip(d.points())
            .and_then(|(sum, p)| sum.checked_add(p));
        let payer_points = d.public_expenses.iter().filter_map(|k| k.points).try_fold(
            d.insurance.as_ref().map(|h| h.points).unwrap_or_default(),
            Points::checked_add,
        );
        self.per_payer = payer_points
            .and_then(|p| self.per_payer.checked_add(p))
            .unwrap_or(Points(i64::MAX));
        if let Some(number) = d.receipt_number {
            if self.last_number.is_some_and(|last| number <= last) {
                self.rising = false;
            }
            self.last_number = Some(number);
        }
    }
}

struct Parser<'f, 'c> {
    file: &'f mut UkeFile,
    config: &'c IngestConfig,
    header: Option<ClinicHeader>,
    /// The IR could not be read: receipts have no key and the file is quarantined.
    header_broken: bool,
    seen_ir: bool,
    /// Receipts read, in file order; the last is still being read while `open`.
    drafts: Vec<Draft>,
    open: bool,
    tally: Tally,
    after_go: Option<u64>,
    /// Whether the first record after GO has been quarantined (once per file).
    reported_after_go: bool,
    /// File-scope problems.
    file_problems: Vec<QuarantineRow>,
    /// Records read, by [`id_slot`]; ids without a slot are counted in the file's map.
    id_counts: Vec<u64>,
    /// The bytes of the line being recorded: from its first byte to its line feed.
    line_bytes: ByteSpan,
    /// Where GO starts, once read.
    go_start: Option<u64>,
    /// The length of the file's body (up to EOF, without empty lines at the end).
    body_len: u64,
    /// The layout of the file's kind, from its header record (医科 until one is read;
    /// DPC from the first DPC record on).
    layout: &'static Layout,
    /// The layout's day fields, by counted record.
    days: DaysByRecord,
    /// Where the 歯科 per-receipt IR just read starts: the next receipt's bytes do.
    receipt_start: Option<u64>,
    /// Records shorter than the layout already noticed (once per record id and file).
    short_noticed: Vec<&'static str>,
}

impl<'f, 'c> Parser<'f, 'c> {
    fn new(file: &'f mut UkeFile, config: &'c IngestConfig) -> Self {
        Parser {
            file,
            config,
            header: None,
            header_broken: false,
            seen_ir: false,
            drafts: Vec::new(),
            open: false,
            tally: Tally::new(),
            after_go: None,
            reported_after_go: false,
            file_problems: Vec::new(),
            id_counts: vec![0; ID_SLOTS],
            line_bytes: 0..0,
            go_start: None,
            body_len: 0,
            layout: &IKA,
            days: days_by_record(&IKA),
            receipt_start: None,
            short_noticed: Vec::new(),
        }
    }

    fn run(mut self, body: &[u8]) {
        let body = without_trailing_empty_lines(body);
        self.body_len = body.len() as u64;
        self.drafts.reserve(expected_receipts(body));
        let mut decoded = String::new();
        let mut starts = Vec::with_capacity(64);
        let mut ends = Vec::with_capacity(64);
        let mut n = 0;
        // An ASCII line (most lines: digits and commas) is text as it lies, read at once;
        // a run of lines with bytes beyond ASCII is decoded from Shift_JIS at once, or
        // line by line when it does not decode, to find the lines at fault. A line
        // decodes alone exactly as it does within the whole file, as a line feed is
        // never part of a two-byte character.
        let mut pos = 0;
        let mut next = line_end(body, 0);
        // `body` does not end with a line feed: its last line ends at its end.
        let mut more = !body.is_empty();
        while more {
            let start = pos;
            if next.1 {
                let end = next.0;
                self.line_bytes = start as u64..end as u64;
                n += 1;
                let line = &body[start..end];
                self.ascii_record(n, line.strip_suffix(b"\r").unwrap_or(line), &mut starts);
                more = end < body.len();
                if more {
                    pos = end + 1;
                    next = line_end(body, pos);
                }
                continue;
            }
            ends.clear();
            loop {
                ends.push(next.0);
                more = next.0 < body.len();
                if !more {
                    break;
                }
                pos = next.0 + 1;
                next = line_end(body, pos);
                if next.1 {
                    break;
                }
            }
            let run = &body[start..ends[ends.len() - 1]];
            match decode_sjis(run, &mut decoded) {
                Some(text) => {
                    // As many lines as in `run`: only a line feed decodes to one.
                    let mut from = 0;
                    let mut raw_from = start;
                    let feeds = memchr::memchr_iter(b'\n', text.as_bytes());
                    for (end, &raw_end) in feeds.chain([text.len()]).zip(&ends) {
                        let line = &text[from..end];
                        from = end + 1;
                        self.line_bytes = raw_from as u64..raw_end as u64;
                        raw_from = raw_end + 1;
                        n += 1;
                        self.record(n, line.strip_suffix('\r').unwrap_or(line), &mut starts);
                    }
                }
                None => {
                    let mut from = start;
                    for &end in &ends {
                        let raw = &body[from..end];
                        self.line_bytes = from as u64..end as u64;
                        from = end + 1;
                        n += 1;
                        match decode_sjis(raw, &mut decoded) {
                            Some(line) => {
                                self.record(n, line.strip_suffix('\r').unwrap_or(line), &mut starts)
                            }
                            None => self.undecodable(n, raw),
                        }
                    }
                }
            }
        }
        self.file.lines = n;
        for (slot, &count) in self.id_counts.iter().enumerate() {
            if count > 0 {
                let id = [slot / 26, slot % 26]
                    .into_iter()
                    .map(|letter| char::from(b'A' + letter as u8))
                    .collect();
                *self.file.record_counts.entry(id).or_insert(0) += count;
            }
        }
        self.finish();
    }

    /// Reads the file's records by `layout` from here on.
    fn set_layout(&mut self, layout: &'static Layout) {
        self.layout = layout;
        self.days = days_by_record(layout);
    }

    fn count(&mut self, id: &str) {
        if let Some(slot) = id_slot(id.as_bytes()) {
            self.id_counts[slot] += 1;
            return;
        }
        match self.file.record_counts.get_mut(id) {
            Some(c) => *c += 1,
            None => {
                self.file.record_counts.insert(id.to_string(), 1);
            }
        }
    }

    fn display(&self) -> &str {
        &self.file.path
    }

    /// A line that is not valid Shift_JIS.
    fn undecodable(&mut self, n: u64, raw: &[u8]) {
        let id = raw
            .get(..2)
            .filter(|b| b.iter().all(u8::is_ascii_uppercase))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| "??".to_string());
        self.count(&id);
        let offset = first_bad_byte(raw);
        let position = raw[..offset.min(raw.len())]
            .iter()
            .filter(|&&b| b == b',')
            .count()
            + 1;
        let field = format!("{id}.{position}");
        let reason = format!(
            "bytes at offset {offset} of the line (field {position}) are not valid Shift_JIS (JIS X 0208)"
        );
        let row =
            |scope| QuarantineRow::new(self.display(), n, &id, &field, "", reason.clone(), scope);
        match id.as_str() {
            "IR" | "YK" | "GO" => {
                let r = row(Scope::File);
                self.file_problems.push(r);
                if id != "GO" {
                    self.seen_ir = true;
                    self.header_broken = true;
                }
            }
            "RE" => {
                let r = row(Scope::Receipt);
                let d = self.open_draft(n);
                // レセプト番号 is ASCII: read it from the raw bytes so the quarantined
                // receipt keeps its key.
                d.receipt_number = raw
                    .split(|&b| b == b',')
                    .nth(1)
                    .and_then(|f| std::str::from_utf8(f).ok())
                    .and_then(parse_int::<u32>)
                    .filter(|&v| v > 0);
                d.problems.push(r);
            }
            "HO" | "KO" | "SN" | "CO" => {
                let r = row(Scope::Receipt);
                if id == "HO" {
                    if let Some(d) = self.draft() {
                        d.insurance_broken = true;
                    }
                }
                self.receipt_problem(n, r);
            }
            _ => {
                let r = row(Scope::Record);
                self.file.quarantine.push(r);
            }
        }
    }

    /// A problem that quarantines the current receipt; outside a receipt, the file.
    fn receipt_problem(&mut self, _n: u64, row: QuarantineRow) {
        match self.draft() {
            Some(d) => d.problems.push(row),
            None => {
                let mut row = row;
                row.scope = Scope::File;
                row.reason = format!("{} (before any RE)", row.reason);
                self.file_problems.push(row);
            }
        }
    }

    /// A line of ASCII only (its CR taken off), as it lies in the file: a detail record
    /// (most lines) is read from its bytes, any other as text.
    fn ascii_record(&mut self, n: u64, line: &[u8], starts: &mut Vec<usize>) {
        if let Some((slot, known)) = self.plain_detail(line) {
            self.id_counts[slot] += 1;
            self.counted(n, known, line);
            return;
        }
        match std::str::from_utf8(line) {
            Ok(text) => self.record(n, text, starts),
            Err(_) => self.undecodable(n, line),
        }
    }

    /// The slot and counted index of a detail record for which [`Self::record`] would do
    /// nothing but count it and read its days: its id is two letters and a comma, after
    /// the file's header and before GO (where the record itself is no problem).
    fn plain_detail(&self, line: &[u8]) -> Option<(usize, usize)> {
        if !self.seen_ir || self.after_go.is_some() {
            return None;
        }
        let [a, b, b',', ..] = *line else {
            return None;
        };
        let slot = id_slot(&[a, b])?;
        match KIND_BY_SLOT[slot] {
            RecordKind::Counted(known) => Some((slot, known)),
            _ => None,
        }
    }

    fn record(&mut self, n: u64, text: &str, starts: &mut Vec<usize>) {
        // Nearly every line starts with a two-letter id and a comma.
        let quick = text
            .get(..2)
            .filter(|_| text.as_bytes().get(2) == Some(&b','))
            .and_then(|id| Some((id, Some(id_slot(id.as_bytes())?))));
        let (id, slot) = match quick {
            Some(found) => found,
            None => {
                let id = trim(text.split_once(',').map_or(text, |(id, _)| id));
                (id, id_slot(id.as_bytes()))
            }
        };
        if id.is_empty() && trim(text).is_empty() {
            self.count("");
            let row = QuarantineRow::new(
                self.display(),
                n,
                "-",
                "-",
                "",
                "empty line inside the file",
                Scope::Record,
            );
            self.file.quarantine.push(row);
            return;
        }
        match slot {
            Some(slot) => self.id_counts[slot] += 1,
            None => self.count(id),
        }
        // Records after GO (a stray GO, or several clinics' files concatenated): the
        // file is quarantined once, with the first such record, and reading goes on so
        // that every receipt after GO is a quarantined receipt too (counted, with its
        // yen), never lost from the accounts.
        if let Some(go_line) = self.after_go.filter(|_| !self.reported_after_go) {
            self.reported_after_go = true;
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                format!(
                    "record after GO (line {go_line}): a stray GO, or several files in one; \
                     the file should end at GO — every receipt of the file is quarantined: \
                     split it into one IR … GO file per clinic and month and submit again"
                ),
                Scope::File,
            );
            self.file_problems.push(row);
        }
        if !self.seen_ir && ReceiptKind::of_header(id).is_none() {
            self.seen_ir = true;
            self.header_broken = true;
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                "the file must start with its header record: IR (医科, DPC), UK (歯科) or YK (調剤)",
                Scope::File,
            );
            self.file_problems.push(row);
        }
        // Only the records the engine reads are split into fields (one reused buffer);
        // the rest (most lines of a file: SY, SI, IY …) are only counted.
        match slot.map_or(RecordKind::Unknown, |slot| KIND_BY_SLOT[slot]) {
            RecordKind::Header => self.header(n, id, &Fields::split(text, starts)),
            RecordKind::Receipt => self.receipt(n, &Fields::split(text, starts)),
            RecordKind::Insurance => self.health_insurance(n, &Fields::split(text, starts)),
            RecordKind::PublicExpense => self.public_expense(n, &Fields::split(text, starts)),
            RecordKind::Confirmation => self.confirmation(n, &Fields::split(text, starts)),
            RecordKind::Comment => self.comment(n, &Fields::split(text, starts)),
            RecordKind::Totals => self.totals(n, &Fields::split(text, starts)),
            RecordKind::Counted(known) => self.counted(n, known, text.as_bytes()),
            RecordKind::Unknown => {
                let row = QuarantineRow::new(
                    self.display(),
                    n,
                    id,
                    "1 レコード識別",
                    id,
                    "unknown record id (expected IR, RE, HO, KO, SN, SY, SI, IY, CO, GO …)",
                    Scope::Record,
                );
                self.file.quarantine.push(row);
            }
        }
    }

    /// A known record the engine only counts (`known`, its index in
    /// [`OtherRecords::IDS`]), for the receipt being read; the days of care it marks,
    /// when its kind's layout gives it day fields. `line` is text (ASCII, or decoded).
    fn counted(&mut self, n: u64, known: usize, line: &[u8]) {
        if self.layout.kind == ReceiptKind::Ika && DPC_ONLY[known] {
            self.set_layout(ReceiptKind::Dpc.layout());
        }
        let id = OtherRecords::IDS[known];
        let days = self.days[known];
        let display = self.file.path.as_str();
        let Some(d) = self.drafts.last_mut().filter(|_| self.open) else {
            let row = QuarantineRow::new(
                display,
                n,
                id,
                "-",
                "",
                format!("{id} record before any RE"),
                Scope::Record,
            );
            self.file.quarantine.push(row);
            return;
        };
        d.other_records.add_one(known);
        let (Some(days), Some(month)) = (days, d.care_month) else {
            return;
        };
        match marked_days(line, days, month) {
            Ok(marked) => d.care_days = d.care_days.union(marked),
            Err(bad) => {
                d.days_unreadable = true;
                let field = match days.form {
                    DayForm::Columns => {
                        format!("{id}.{} {}日の情報", bad.field, bad.field + 1 - days.first)
                    }
                    DayForm::Date => days.label.to_string(),
                };
                let row = QuarantineRow::new(
                    display,
                    n,
                    id,
                    &field,
                    bad.value,
                    format!(
                        "{id} field {} {}: the receipt's days of care are not used, its card is checked on the care month {month} as a whole",
                        bad.field, bad.why
                    ),
                    Scope::Record,
                );
                self.file.quarantine.push(row);
            }
        }
    }

    /// A notice, once per record id and file, for a record shorter than its kind's
    /// layout but holding every field the engine reads.
    fn short_record(&mut self, n: u64, id: &'static str, fields: usize, layout_fields: usize) {
        if fields >= layout_fields || self.short_noticed.contains(&id) {
            return;
        }
        self.short_noticed.push(id);
        let row = QuarantineRow::new(
            self.display(),
            n,
            id,
            "-",
            "",
            format!(
                "{id} has {fields} fields, the {} layout {layout_fields}: read, the missing fields empty (first such {id} of the file)",
                self.layout.kind.as_str()
            ),
            Scope::Notice,
        );
        self.file.quarantine.push(row);
    }

    fn header(&mut self, n: u64, id: &str, f: &Fields) {
        if self.seen_ir && self.layout.receipt_header == Some(id) {
            // 歯科: the IR that opens each receipt; the next receipt's bytes start here.
            self.close_draft();
            self.receipt_start = Some(self.line_bytes.start);
            return;
        }
        if self.seen_ir {
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                format!("a second header record ({id}): one file holds one clinic's claims"),
                Scope::File,
            );
            self.file_problems.push(row);
            return;
        }
        self.seen_ir = true;
        self.set_layout(ReceiptKind::of_header(id).map_or(&IKA, ReceiptKind::layout));
        let h = self.layout.header;
        self.file.header_span = Some(self.line_bytes.clone());
        let mut bad = |field: &str, value: &str, reason: String| {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                n,
                id,
                field,
                value,
                reason,
                Scope::File,
            ));
        };
        let get = |field: Field| f.get(field.pos);
        let organization = Organization::parse(get(h.organization))
            .map_err(|e| bad(h.organization.label, get(h.organization), e.to_string()))
            .ok();
        let prefecture = parse_int::<u8>(get(h.prefecture))
            .filter(|p| (1..=47).contains(p))
            .or_else(|| {
                bad(
                    h.prefecture.label,
                    get(h.prefecture),
                    "expected a prefecture code 01–47".into(),
                );
                None
            });
        let clinic = ClinicCode::parse(get(h.clinic))
            .map_err(|e| bad(h.clinic.label, get(h.clinic), e.to_string()))
            .ok();
        let month = parse_uke_month(get(h.billing_month))
            .map_err(|e| bad(h.billing_month.label, get(h.billing_month), e.to_string()))
            .ok();
        match (organization, prefecture, clinic, month) {
            (Some(organization), Some(prefecture), Some(clinic_code), Some(billing_month)) => {
                self.header = Some(ClinicHeader {
                    kind: self.layout.kind,
                    organization,
                    prefecture,
                    fee_table: trim(get(h.fee_table)).to_string(),
                    clinic_code,
                    clinic_name: get(h.name).to_string(),
                    billing_month,
                })
            }
            _ => self.header_broken = true,
        }
    }

    /// A receipt's key as shown in quarantine rows, `?` for what is unknown.
    fn key_text(&self, number: Option<u32>) -> String {
        let number = number.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
        match self.header.as_ref().filter(|_| !self.header_broken) {
            Some(h) => format!(
                "{}:{}:{number}@{}",
                h.clinic_code,
                h.billing_month,
                h.organization.code()
            ),
            None => format!("?:?:{number}"),
        }
    }

    fn close_draft(&mut self) {
        if self.open {
            if let Some(d) = self.drafts.last() {
                self.tally.add(d);
            }
        }
        self.open = false;
    }

    /// Closes the current receipt and opens a new one, read in place.
    fn open_draft(&mut self, line: u64) -> &mut Draft {
        self.close_draft();
        self.drafts.push(Draft::new(line, self.line_bytes.start));
        self.open = true;
        let last = self.drafts.len() - 1;
        &mut self.drafts[last]
    }

    /// The receipt being read, if any.
    fn draft(&mut self) -> Option<&mut Draft> {
        self.drafts.last_mut().filter(|_| self.open)
    }

    fn receipt(&mut self, n: u64, f: &Fields) {
        let re: ReLayout = self.layout.re;
        if f.len() >= ReLayout::NEEDED {
            // An IR file may be DPC, told only by records after its first RE: until
            // then, an RE as long as DPC's is not short.
            let fields = match self.layout.kind {
                ReceiptKind::Ika => re.fields.min(DPC.re.fields),
                _ => re.fields,
            };
            self.short_record(n, "RE", f.len(), fields);
        }
        // `open_draft`, with the file's path borrowed alongside.
        self.close_draft();
        let start = self.receipt_start.take().unwrap_or(self.line_bytes.start);
        self.drafts.push(Draft::new(n, start));
        self.open = true;
        let last = self.drafts.len() - 1;
        let d = &mut self.drafts[last];
        let file = self.file.path.as_str();
        let bad = |d: &mut Draft, field: &str, value: &str, reason: String, pii: bool| {
            let row = if pii {
                QuarantineRow::new_pii(file, n, "RE", field, value, reason, Scope::Receipt)
            } else {
                QuarantineRow::new(file, n, "RE", field, value, reason, Scope::Receipt)
            };
            d.problems.push(row);
        };
        if f.len() < ReLayout::NEEDED {
            bad(
                d,
                "-",
                "",
                format!(
                    "RE has {} fields, expected {} ({} layout; at least {} to be read)",
                    f.len(),
                    re.fields,
                    self.layout.kind.as_str(),
                    ReLayout::NEEDED
                ),
                false,
            );
        }
        let get = |field: Field| f.get(field.pos);
        d.receipt_number = parse_int::<u32>(get(re.number)).filter(|&v| v > 0);
        if d.receipt_number.is_none() {
            bad(
                d,
                re.number.label,
                get(re.number),
                "expected a receipt number of 1 to 6 digits".into(),
                false,
            );
        }
        d.receipt_type = CompactString::from(trim(get(re.receipt_type)));
        if d.receipt_type.len() != 4 || !d.receipt_type.bytes().all(|b| b.is_ascii_digit()) {
            let v = d.receipt_type.clone();
            bad(
                d,
                re.receipt_type.label,
                &v,
                "expected a 4-digit レセプト種別".into(),
                false,
            );
        }
        match parse_uke_month(trim(get(re.care_month))) {
            Ok(m) => d.care_month = Some(m),
            Err(e) => bad(
                d,
                re.care_month.label,
                get(re.care_month),
                e.to_string(),
                false,
            ),
        }
        d.name = CompactString::from(trim(get(re.name)));
        if d.name.is_empty() {
            bad(d, re.name.label, "", "氏名 is empty".into(), false);
        }
        match Sex::parse(get(re.sex)) {
            Ok(s) => d.sex = Some(s),
            Err(e) => bad(d, re.sex.label, get(re.sex), e.to_string(), false),
        }
        match parse_uke_date(trim(get(re.birth_date))) {
            Ok(b) => d.birth_date = Some(b),
            Err(e) => bad(
                d,
                re.birth_date.label,
                get(re.birth_date),
                e.to_string(),
                true,
            ),
        }
        let ratio = trim(get(re.benefit_ratio));
        if !ratio.is_empty() {
            match parse_int::<u8>(ratio).filter(|&r| r <= 100) {
                Some(r) => d.benefit_ratio = Some(r),
                None => bad(
                    d,
                    re.benefit_ratio.label,
                    ratio,
                    "expected 給付割合 as a percentage 0–100 (e.g. 70) or empty".into(),
                    false,
                ),
            }
        }
        let optional = |field: Option<Field>| CompactString::from(trim(field.map_or("", get)));
        d.special_notes = CompactString::from(trim(get(re.special_notes)));
        d.chart_number = CompactString::from(trim(get(re.chart_number)));
        d.kana_name = optional(re.kana);
        d.patient_state = optional(re.patient_state);
        if let (Some(care), Some(birth)) = (d.care_month, d.birth_date) {
            // A slip a person should see, but no reason to hold the claim: the birth
            // date decides neither the card nor the money of tiers 1 and 2, and tier 3
            // matching tolerates slips.
            if YearMonth::of(birth) > care {
                let number = d.receipt_number;
                let row = QuarantineRow::new_pii(
                    &self.file.path,
                    n,
                    "RE",
                    re.birth_date.label,
                    get(re.birth_date),
                    format!("born after the care month {care}"),
                    Scope::Notice,
                )
                .with_receipt(self.key_text(number));
                self.file.quarantine.push(row);
            }
        }
    }

    /// The current receipt and the file's path, or a record-level row when a receipt
    /// record comes before RE.
    fn current(&mut self, n: u64, id: &str) -> Option<(&mut Draft, &str)> {
        if !self.open {
            let row = QuarantineRow::new(
                self.display(),
                n,
                id,
                "-",
                "",
                format!("{id} record before any RE"),
                Scope::File,
            );
            self.file_problems.push(row);
        }
        let draft = self.drafts.last_mut().filter(|_| self.open)?;
        Some((draft, &self.file.path))
    }

    fn health_insurance(&mut self, n: u64, f: &Fields) {
        let config = self.config;
        let ho = self.layout.ho;
        self.short_record(n, "HO", f.len(), ho.fields);
        let Some((d, file)) = self.current(n, "HO") else {
            return;
        };
        let bad = |d: &mut Draft, field: &str, value: &str, reason: String| {
            d.problems.push(QuarantineRow::new(
                file,
                n,
                "HO",
                field,
                value,
                reason,
                Scope::Receipt,
            ));
        };
        if d.insurance.is_some() || d.insurance_broken {
            bad(d, "-", "", "more than one HO in the receipt".into());
            return;
        }
        let get = |field: Field| f.get(field.pos);
        let raw = get(ho.insurer);
        let insurer = if config.is_filler_insurer(raw) {
            Some(InsurerField::Filler(CompactString::from(trim(raw))))
        } else {
            match InsurerNumber::parse(raw) {
                Ok(num) => Some(InsurerField::Known(num)),
                Err(e) => {
                    bad(d, ho.insurer.label, raw, e.to_string());
                    None
                }
            }
        };
        let days = optional_int::<u32>(get(ho.days));
        if days.is_err() {
            bad(
                d,
                ho.days.label,
                get(ho.days),
                "expected a whole number or empty".into(),
            );
        }
        let points = parse_int::<i64>(get(ho.points)).filter(|&p| p <= Points::MAX_PER_RECEIPT);
        if points.is_none() {
            bad(
                d,
                ho.points.label,
                get(ho.points),
                format!(
                    "expected 合計点数 as a whole number of points, 0 to {} (eight digits)",
                    Points::MAX_PER_RECEIPT
                ),
            );
        }
        // Bounded on its own: when 合計点数 is unreadable there is no cost to hold it to.
        let copay = optional_int_at_most(get(ho.copay), Yen::MAX_PER_RECEIPT);
        if copay.is_err() {
            bad(
                d,
                ho.copay.label,
                get(ho.copay),
                format!(
                    "expected the patient's part in whole yen, 0 to {}, or empty",
                    Yen::MAX_PER_RECEIPT
                ),
            );
        }
        // The patient's part cannot exceed the cost: the insurer's share would be
        // negative.
        if let (Some(p), Ok(Some(c))) = (points, &copay) {
            let cost = Points(p).to_yen();
            if *c > cost.0 {
                bad(
                    d,
                    ho.copay.label,
                    get(ho.copay),
                    format!(
                        "the patient's part {c} yen is more than the receipt's cost {cost} yen (合計点数 × 10): \
                         correct {} or 合計点数 and submit the receipt again",
                        ho.copay.label
                    ),
                );
            }
        }
        match (insurer, points) {
            (Some(insurer), Some(points)) => {
                d.insurance = Some(HealthInsurance {
                    line: n,
                    insurer,
                    symbol: CompactString::from(trim(get(ho.symbol))),
                    number: CompactString::from(trim(get(ho.number))),
                    days: days.ok().flatten(),
                    points: Points(points),
                    copay: copay.ok().flatten().map(Yen),
                })
            }
            (_, None) => d.insurance_broken = true,
            // Points are known; the receipt is quarantined for its insurer number but
            // its points still count towards the file's totals.
            (None, Some(points)) => {
                d.insurance = Some(HealthInsurance {
                    line: n,
                    insurer: InsurerField::Filler(CompactString::default()),
                    symbol: CompactString::default(),
                    number: CompactString::default(),
                    days: None,
                    points: Points(points),
                    copay: None,
                })
            }
        }
    }

    fn public_expense(&mut self, n: u64, f: &Fields) {
        let ko = self.layout.ko;
        self.short_record(n, "KO", f.len(), ko.fields);
        let get = |field: Field| f.get(field.pos);
        let Some((d, file)) = self.current(n, "KO") else {
            return;
        };
        let mut bad = |field: &str, value: &str, reason: &str| {
            d.problems.push(QuarantineRow::new(
                file,
                n,
                "KO",
                field,
                value,
                reason,
                Scope::Receipt,
            ))
        };
        let days = optional_int::<u32>(get(ko.days));
        if days.is_err() {
            bad(
                ko.days.label,
                get(ko.days),
                "expected a whole number or empty",
            );
        }
        let points = optional_int_at_most(get(ko.points), Points::MAX_PER_RECEIPT);
        if points.is_err() {
            bad(
                ko.points.label,
                get(ko.points),
                "expected 合計点数 as a whole number of points, 0 to 99999999 (eight digits), or empty",
            );
        }
        if d.public_expenses.len() == 4 {
            bad("-", "", "more than four KO records in the receipt");
        }
        // A receipt keeps this Vec, and most have one KO at most: room for one (a first
        // push would make room for four); the receipt is closed with no spare room.
        if d.public_expenses.is_empty() {
            d.public_expenses.reserve_exact(1);
        }
        let copay = optional_int_at_most(get(ko.copay), Yen::MAX_PER_RECEIPT);
        if copay.is_err() {
            bad(
                ko.copay.label,
                get(ko.copay),
                "expected the patient's part under this 公費 in whole yen, or empty",
            );
        }
        // As under HO: the patient's part under a 公費 cannot exceed what it covers.
        if let (Ok(Some(p)), Ok(Some(c))) = (points, copay) {
            let cost = Points(p).to_yen();
            if c > cost.0 {
                bad(
                    ko.copay.label,
                    get(ko.copay),
                    &format!(
                        "the patient's part {c} yen is more than this 公費's cost {cost} yen (its 合計点数 × 10): \
                         correct {} or 合計点数 and submit the receipt again",
                        ko.copay.label
                    ),
                );
            }
        }
        d.public_expenses.push(PublicExpense {
            line: n,
            payer_number: CompactString::from(trim(get(ko.payer))),
            recipient_number: CompactString::from(trim(get(ko.recipient))),
            days: days.ok().flatten(),
            points: points.ok().flatten().map(Points),
            copay: copay.ok().flatten().map(Yen),
        });
    }

    fn confirmation(&mut self, n: u64, f: &Fields) {
        let Some((d, _)) = self.current(n, "SN") else {
            return;
        };
        let payer_kind = trim(f.get(2));
        // One SN per payer: the medical-insurance one (負担者種別 1) is the one used.
        if d.confirmation.is_some() || (payer_kind != "1" && !payer_kind.is_empty()) {
            d.other_records.add_one(SN_INDEX);
            return;
        }
        d.confirmation = Some(EligibilityConfirmation {
            line: n,
            payer_kind: CompactString::from(payer_kind),
            confirmation_kind: CompactString::from(trim(f.get(3))),
            insurer_number: CompactString::from(trim(f.get(4))),
            symbol: CompactString::from(trim(f.get(5))),
            number: CompactString::from(trim(f.get(6))),
            branch: CompactString::from(trim(f.get(7))),
            recipient_number: CompactString::from(trim(f.get(8))),
        });
    }

    fn comment(&mut self, n: u64, f: &Fields) {
        let Some((d, _)) = self.current(n, "CO") else {
            return;
        };
        // Fields are never quoted, but a comma typed into free text would split it:
        // everything from field 5 on is the text.
        let text = f.rest(5);
        // As for KO.
        if d.comments.is_empty() {
            d.comments.reserve_exact(1);
        }
        d.comments.push(Comment {
            line: n,
            care_category: CompactString::from(trim(f.get(2))),
            burden_category: CompactString::from(trim(f.get(3))),
            code: CompactString::from(trim(f.get(4))),
            text: CompactString::from(trim(text)),
        });
    }

    fn totals(&mut self, n: u64, f: &Fields) {
        self.close_draft();
        self.after_go = Some(n);
        self.go_start = Some(self.line_bytes.start);
        let count = parse_int::<u64>(f.get(2));
        let points = parse_int::<i64>(f.get(3));
        let mut bad = |field: &str, value: &str, reason: &str| {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                n,
                "GO",
                field,
                value,
                reason,
                Scope::File,
            ))
        };
        if count.is_none() {
            bad(
                field::GO_COUNT,
                f.get(2),
                "expected 総件数 as a whole number",
            );
        }
        if points.is_none() {
            bad(
                field::GO_POINTS,
                f.get(3),
                "expected 総合計点数 as a whole number",
            );
        }
        if let (Some(receipt_count), Some(p)) = (count, points) {
            self.file.totals = Some(Totals {
                line: n,
                receipt_count,
                total_points: Points(p),
                volume: trim(f.get(4)).to_string(),
            });
        }
    }

    /// Checks the file's totals and builds the receipts.
    fn finish(mut self) {
        self.close_draft();
        self.file.kind = self.header.as_ref().map(|_| self.layout.kind);
        if !self.seen_ir {
            self.header_broken = true;
        }
        match &self.file.totals {
            None if self.after_go.is_none() => {
                let last = self.file.lines;
                self.file_problems.push(QuarantineRow::new(
                    &self.file.path,
                    last,
                    "GO",
                    "-",
                    "",
                    format!(
                        "file ends at line {last} without GO: truncated? ({} receipts read)",
                        self.drafts.len()
                    ),
                    Scope::File,
                ));
            }
            None => {}
            Some(t) => {
                let t = t.clone();
                self.check_totals(&t);
            }
        }
        self.duplicate_numbers();
        let file_reason = self
            .file_problems
            .iter()
            .find(|r| r.scope == Scope::File)
            .map(|r| r.reason.clone());
        let header = self.header.clone().filter(|_| !self.header_broken);
        self.file.receipts.reserve(self.drafts.len());
        self.file.spans.reserve(self.drafts.len());
        // A receipt's bytes end where the next receipt, or GO, or the file's body starts.
        let ends: Vec<u64> = self
            .drafts
            .iter()
            .skip(1)
            .map(|d| d.start)
            .chain([self.go_start.unwrap_or(self.body_len)])
            .collect();
        for (mut d, end) in std::mem::take(&mut self.drafts).into_iter().zip(ends) {
            let key = match (&header, d.receipt_number) {
                (Some(h), Some(number)) => Some(ReceiptKey {
                    organization: h.organization,
                    clinic_code: h.clinic_code,
                    billing_month: h.billing_month,
                    receipt_number: number,
                }),
                _ => None,
            };
            let points = d.points();
            // A care month after the billing month cannot be billed yet.
            let mut problems = std::mem::take(&mut d.problems);
            if let (Some(h), Some(care)) = (&header, d.care_month) {
                if care > h.billing_month {
                    problems.push(QuarantineRow::new(
                        &self.file.path,
                        d.line,
                        "RE",
                        self.layout.re.care_month.label,
                        &care.to_string(),
                        format!(
                            "care month {care} is after the billing month {}",
                            h.billing_month
                        ),
                        Scope::Receipt,
                    ));
                }
            }
            let reason = problems
                .first()
                .map(|r| r.reason.clone())
                .or_else(|| file_reason.clone());
            match (reason, key, d.care_month, d.sex, d.birth_date) {
                (None, Some(key), Some(care_month), Some(sex), Some(birth_date)) => {
                    d.public_expenses.shrink_to_fit();
                    d.comments.shrink_to_fit();
                    self.file.spans.push(d.start..end);
                    self.file.receipts.push(Receipt {
                        key,
                        line: d.line,
                        receipt_type: d.receipt_type,
                        care_month,
                        name: d.name,
                        sex,
                        birth_date,
                        benefit_ratio: d.benefit_ratio,
                        special_notes: d.special_notes,
                        chart_number: d.chart_number,
                        kana_name: d.kana_name,
                        patient_state: d.patient_state,
                        insurance: d.insurance,
                        public_expenses: d.public_expenses,
                        confirmation: d.confirmation,
                        comments: d.comments,
                        care_days: if d.days_unreadable {
                            CareDays::NONE
                        } else {
                            d.care_days
                        },
                        other_records: d.other_records,
                    })
                }
                (reason, ..) => {
                    let key_text = self.key_text(d.receipt_number);
                    for row in problems {
                        self.file.quarantine.push(row.with_receipt(&key_text));
                    }
                    self.file.quarantined.push(QuarantinedReceipt {
                        key,
                        receipt_number: d.receipt_number,
                        line: d.line,
                        points,
                        reason: reason.unwrap_or_else(|| "receipt incomplete".to_string()),
                    });
                }
            }
        }
        self.file.header = self.header.take();
        self.file.quarantine.append(&mut self.file_problems);
    }

    /// GO 総件数 may count receipts once, or once per payer (HO and each KO): either is
    /// accepted. 総合計点数 is the sum of the receipts' points.
    fn check_totals(&mut self, t: &Totals) {
        let receipts = self.drafts.len() as u64;
        let payers = self.tally.payers;
        if t.receipt_count != receipts && t.receipt_count != payers {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                t.line,
                "GO",
                field::GO_COUNT,
                &t.receipt_count.to_string(),
                format!(
                    "GO 総件数 {} does not match the {receipts} receipts read ({payers} counted per payer)",
                    t.receipt_count
                ),
                Scope::File,
            ));
        }
        match self.tally.points {
            Some(sum) => {
                let per_payer = self.tally.per_payer;
                if t.total_points != sum && t.total_points != per_payer {
                    self.file_problems.push(QuarantineRow::new(
                        &self.file.path,
                        t.line,
                        "GO",
                        field::GO_POINTS,
                        &t.total_points.to_string(),
                        format!(
                            "GO 総合計点数 {} does not match the {} points of the receipts read",
                            t.total_points, sum
                        ),
                        Scope::File,
                    ));
                }
            }
            None => self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                t.line,
                "GO",
                field::GO_POINTS,
                &t.total_points.to_string(),
                "GO 総合計点数 could not be checked: a receipt's 合計点数 is unreadable",
                Scope::Notice,
            )),
        }
        if t.volume != "99" && !t.volume.is_empty() {
            self.file_problems.push(QuarantineRow::new(
                &self.file.path,
                t.line,
                "GO",
                "GO.4 マルチボリューム識別",
                &t.volume,
                "not the last volume (99) of a multi-volume file: totals checked for this volume alone",
                Scope::Notice,
            ));
        }
    }

    /// The same receipt number twice in one file: both receipts are quarantined, as
    /// neither can be told to be the right one.
    fn duplicate_numbers(&mut self) {
        // Numbers rising through the file (as clinic software writes them) are unique.
        if self.tally.rising {
            return;
        }
        let mut first_line: BTreeMap<u32, u64> = BTreeMap::new();
        let mut lines_of: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for d in &self.drafts {
            if let Some(num) = d.receipt_number {
                first_line.entry(num).or_insert(d.line);
                lines_of.entry(num).or_default().push(d.line);
            }
        }
        let file = self.file.path.clone();
        for d in &mut self.drafts {
            let Some(num) = d.receipt_number else {
                continue;
            };
            let lines = &lines_of[&num];
            if lines.len() > 1 {
                let list = lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                d.problems.push(QuarantineRow::new(
                    &file,
                    d.line,
                    "RE",
                    self.layout.re.number.label,
                    &num.to_string(),
                    format!(
                        "receipt number {num} appears {} times in the file (lines {list})",
                        lines.len()
                    ),
                    Scope::Receipt,
                ));
            }
        }
    }
}

impl Draft {
    fn new(line: u64, start: u64) -> Draft {
        Draft {
            line,
            start,
            receipt_number: None,
            receipt_type: CompactString::default(),
            care_month: None,
            name: CompactString::default(),
            sex: None,
            birth_date: None,
            benefit_ratio: None,
            special_notes: CompactString::default(),
            chart_number: CompactString::default(),
            kana_name: CompactString::default(),
            patient_state: CompactString::default(),
            insurance: None,
            insurance_broken: false,
            public_expenses: Vec::new(),
            confirmation: None,
            comments: Vec::new(),
            care_days: CareDays::NONE,
            days_unreadable: false,
            other_records: OtherRecords::new(),
            problems: Vec::new(),
        }
    }
}

/// A day field that does not say a day of care.
#[derive(Debug, PartialEq, Eq)]
struct BadDay<'a> {
    /// Its position in the record (1-based, the id being 1).
    field: usize,
    value: &'a str,
    why: &'static str,
}

/// The days of `month` a detail record marks, read as its layout says (`line` is the
/// record's line, text). A field the record does not have (a short record) is empty.
fn marked_days<'t>(
    line: &'t [u8],
    days: &DayFields,
    month: YearMonth,
) -> Result<CareDays, BadDay<'t>> {
    match days.form {
        DayForm::Columns => day_columns(line, days.first, month),
        DayForm::Date => {
            let field = line.split(|&b| b == b',').nth(days.first - 1);
            let value = trim(as_text(field.unwrap_or_default()));
            day_of_date(value, month).map_err(|why| BadDay {
                field: days.first,
                value,
                why,
            })
        }
    }
}

/// 31 fields 1日の情報 … 31日の情報 from field `first` of the record `text`: a day with
/// a count above 0 (a 受診等区分 code in JD) is a day of care; empty fields and 0 are
/// not. These records are most lines of a file and most of their day fields are empty,
/// so one pass goes over the bytes (of a line that is text), eight commas (eight empty
/// days) at a time where it can.
fn day_columns(bytes: &[u8], first: usize, month: YearMonth) -> Result<CareDays, BadDay<'_>> {
    const COMMAS: u64 = u64::from_ne_bytes([b','; 8]);
    let last = first + DayFields::DAYS - 1;
    let mut marked = CareDays::NONE;
    // Up to the day fields, commas are only counted, eight bytes at a time.
    let (mut field, mut i) = (1, 0);
    while let Some(eight) = bytes.get(i..i + 8) {
        let commas = byte_hits(
            u64::from_ne_bytes(eight.try_into().unwrap_or_default()),
            b',',
        );
        if field + commas.count_ones() as usize >= first {
            break;
        }
        field += commas.count_ones() as usize;
        i += 8;
    }
    while field < first && i < bytes.len() {
        if bytes[i] == b',' {
            field += 1;
        }
        i += 1;
    }
    if field < first {
        return Ok(marked);
    }
    let mut start = i;
    while i < bytes.len() {
        if i == start {
            if let Some(eight) = bytes.get(i..i + 8) {
                if u64::from_ne_bytes(eight.try_into().unwrap_or_default()) == COMMAS {
                    field += 8;
                    if field > last {
                        return Ok(marked);
                    }
                    i += 8;
                    start = i;
                    continue;
                }
            }
        }
        if bytes[i] == b',' {
            if i > start {
                marked = marked_day(&bytes[start..i], field, first, month, marked)?;
            }
            if field == last {
                return Ok(marked);
            }
            field += 1;
            start = i + 1;
        }
        i += 1;
    }
    if bytes.len() > start {
        marked = marked_day(&bytes[start..], field, first, month, marked)?;
    }
    Ok(marked)
}

/// The high bit of each byte of `word` that is `byte`, and no other bit.
fn byte_hits(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = word ^ u64::from_ne_bytes([byte; 8]);
    // A byte of x is zero exactly where word has `byte`; no carry crosses bytes.
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// `marked`, with the day of `field` added when `value` (the field, non-empty) counts
/// care that day.
fn marked_day<'t>(
    value: &'t [u8],
    field: usize,
    first: usize,
    month: YearMonth,
    marked: CareDays,
) -> Result<CareDays, BadDay<'t>> {
    let day = (field + 1 - first) as u32;
    // A count of up to 3 digits (nearly every one) has nothing to trim.
    if value.len() <= 3 && value.iter().all(u8::is_ascii_digit) {
        if value.iter().all(|&b| b == b'0') {
            return Ok(marked);
        }
        if day <= month.days() {
            return Ok(marked.with(day).unwrap_or(marked));
        }
    }
    let value = trim(as_text(value));
    let bad = |why| BadDay { field, value, why };
    if value.is_empty() || value.bytes().all(|b| b == b'0') {
        return Ok(marked);
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 3 {
        return Err(bad("is not a count of that day (up to 3 digits)"));
    }
    if day > month.days() {
        return Err(bad("marks a day the care month does not have"));
    }
    Ok(marked.with(day).unwrap_or(marked))
}

/// A date field: `YYYYMMDD` or `GYYMMDD` of the care month, `MMDD` of its month, or a
/// day `DD`; empty is no day.
fn day_of_date(value: &str, month: YearMonth) -> Result<CareDays, &'static str> {
    if value.is_empty() {
        return Ok(CareDays::NONE);
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a date (YYYYMMDD, GYYMMDD, MMDD or DD)");
    }
    let number = |s: &str| s.parse::<u32>().unwrap_or(0);
    // YYYYMMDD of a day of the care month (nearly every one): no date to make.
    if value.len() == 8
        && month.year() >= 1868
        && i64::from(number(&value[..4])) == i64::from(month.year())
        && number(&value[4..6]) == month.month()
        && (1..=month.days()).contains(&number(&value[6..]))
    {
        return CareDays::NONE
            .with(number(&value[6..]))
            .ok_or("is not a day of the care month");
    }
    let day = match value.len() {
        7 | 8 => {
            let date = parse_uke_date(value).map_err(|_| "is not a date")?;
            if YearMonth::of(date) != month {
                return Err("is a date outside the care month");
            }
            date.day()
        }
        4 => {
            if number(&value[..2]) != month.month() {
                return Err("is a date outside the care month");
            }
            number(&value[2..])
        }
        1 | 2 => number(value),
        _ => return Err("is not a date (YYYYMMDD, GYYMMDD, MMDD or DD)"),
    };
    if day == 0 || day > month.days() {
        return Err("is not a day of the care month");
    }
    CareDays::NONE
        .with(day)
        .ok_or("is not a day of the care month")
}

/// A field of a line that is text (ASCII, or decoded from Shift_JIS) as `&str`: cut at
/// its commas, it is text too (a comma is never part of a character), and checking it
/// again is quick for the few bytes of a field.
fn as_text(field: &[u8]) -> &str {
    std::str::from_utf8(field).unwrap_or_default()
}

/// `str::trim` (Unicode white space at both ends), quick when the ends are printable
/// ASCII, as they nearly always are.
#[inline(always)]
fn trim(s: &str) -> &str {
    let printable = |b: u8| (0x21..0x7f).contains(&b);
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&first), Some(&last)) if printable(first) && printable(last) => s,
        (None, _) => s,
        _ => trim_other(s),
    }
}

/// [`trim`] when an end is not printable ASCII: an end past U+3000 (ideographic space,
/// the last white space character), as kanji and kana are, is not trimmed either.
fn trim_other(s: &str) -> &str {
    let space = |c: char| c <= '\u{3000}' && c.is_whitespace();
    let mut chars = s.chars();
    match (chars.next(), chars.next_back()) {
        (Some(first), Some(last)) if !space(first) && !space(last) => s,
        (Some(only), None) if !space(only) => s,
        _ => s.trim(),
    }
}

/// A whole number of ASCII digits (surrounding spaces allowed) that fits `T`.
fn parse_int<T: TryFrom<u64>>(s: &str) -> Option<T> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    T::try_from(n).ok()
}

/// Empty → `Ok(None)`; digits → `Ok(Some)`; anything else → `Err`.
fn optional_int<T: TryFrom<u64>>(s: &str) -> Result<Option<T>, ()> {
    if trim(s).is_empty() {
        Ok(None)
    } else {
        parse_int(s).map(Some).ok_or(())
    }
}

/// [`optional_int`] held to `max`: a larger number is as unreadable as letters.
fn optional_int_at_most(s: &str, max: i64) -> Result<Option<i64>, ()> {
    match optional_int::<i64>(s)? {
        Some(v) if v > max => Err(()),
        v => Ok(v),
    }
}

/// Offset of the first byte at which Shift_JIS decoding fails.
fn first_bad_byte(raw: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(raw.len() * 3 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(raw, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(len, consumed) => {
            read.saturating_sub(usize::from(len) + usize::from(consumed))
        }
        _ => read,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\r",
            "\u{b}a\u{c}",
            "\u{3000}山田\u{3000}",
            "山田",
            "山",
            "\u{3000}",
            " \u{3000} ",
            "\u{85}x",
            "x\u{a0}",
            "\u{1}x",
            "x\u{7f}",
            "ｱ",
            "　ヤマダ　タロウ",
            "1 2",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn fields_are_the_comma_separated_parts() {
        let mut starts = Vec::new();
        for text in [
            "",
            ",",
            "RE",
            "RE,",
            "RE,1,,2",
            ",,,,,,,,,,,,,,,,,,,",
            "CO,,1,810000001,a,b,,c",
            "HO,01130012,１２３,４５６７,2,1234,,,,,,,,,",
            "a,bcdefghij,klmnopqrstu,vwx,y,z,",
        ] {
            let parts: Vec<&str> = text.split(',').collect();
            let f = Fields::split(text, &mut starts);
            assert_eq!(f.len(), parts.len(), "{text:?}");
            for pos in 1..=parts.len() + 2 {
                assert_eq!(
                    f.get(pos),
                    parts.get(pos - 1).copied().unwrap_or(""),
                    "{text:?}"
                );
                let rest = if pos <= parts.len() {
                    parts[pos - 1..].join(",")
                } else {
                    String::new()
                };
                assert_eq!(f.rest(pos), rest, "{text:?} from {pos}");
            }
        }
    }

    #[test]
    fn parse_int_is_digits_that_fit() {
        assert_eq!(parse_int::<u8>(" 70 "), Some(70));
        assert_eq!(parse_int::<u8>("256"), None);
        assert_eq!(parse_int::<u32>("007"), Some(7));
        assert_eq!(parse_int::<i64>("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int::<i64>("9223372036854775808"), None);
        assert_eq!(parse_int::<u64>("18446744073709551616"), None);
        for bad in ["", " ", "+1", "-1", "1 2", "１", "1.0"] {
            assert_eq!(parse_int::<u64>(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn record_kinds_follow_the_known_ids() {
        assert_eq!(OtherRecords::IDS[SN_INDEX], "SN");
        for id in KNOWN_RECORDS {
            let kind = KIND_BY_SLOT[id_slot(id.as_bytes()).expect("two letters")];
            let read = ["IR", "UK", "YK", "RE", "HO", "KO", "SN", "CO", "GO"].contains(id);
            match kind {
                RecordKind::Counted(k) => assert!(OtherRecords::IDS[k] == *id && !read, "{id}"),
                RecordKind::Unknown => panic!("{id} is known"),
                _ => assert!(read, "{id}"),
            }
        }
        // A receipt counts exactly the known records the engine does not read, and SN.
        for id in OtherRecords::IDS {
            let counted = matches!(
                KIND_BY_SLOT[id_slot(id.as_bytes()).expect("two letters")],
                RecordKind::Counted(_)
            );
            assert!(
                KNOWN_RECORDS.contains(&id) && (counted || id == "SN"),
                "{id}"
            );
        }
        assert!(matches!(
            KIND_BY_SLOT[id_slot(b"XX").expect("two letters")],
            RecordKind::Unknown
        ));
        assert_eq!(id_slot(b"re"), None);
        assert_eq!(id_slot(b"REX"), None);
    }

    /// The days the 31 fields from `first` mark, read the plain way (split, trim,
    /// parse), against which the byte-wise reader is checked.
    fn days_the_plain_way(text: &str, first: usize) -> CareDays {
        text.split(',')
            .skip(first - 1)
            .take(DayFields::DAYS)
            .zip(1u32..)
            .filter(|(v, _)| trim(v).parse::<u32>().is_ok_and(|n| n > 0))
            .fold(CareDays::NONE, |s, (_, d)| s.with(d).unwrap_or(s))
    }

    proptest::proptest! {
        /// Any record of counts and empty fields, of any length and with its day
        /// fields anywhere: the byte-wise walk finds the days the plain reading does.
        #[test]
        fn day_columns_read_as_splitting_the_fields_does(
            // Mostly empty, as day fields are: long runs of commas.
            fields in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => proptest::strategy::Just(""),
                    1 => proptest::sample::select(vec!["1", "0", "12", "007", "620000001", " 2"]),
                ],
                0..60,
            ),
            first in 2usize..20,
        ) {
            let text = std::iter::once("SI").chain(fields.iter().copied()).collect::<Vec<_>>().join(",");
            let month = YearMonth::new(2026, 5).expect("month");
            let plain = days_the_plain_way(&text, first);
            match day_columns(text.as_bytes(), first, month) {
                Ok(days) => proptest::prop_assert_eq!(days, plain),
                // Only a value of more than 3 digits among the day fields is refused.
                Err(bad) => proptest::prop_assert_eq!(bad.value, "620000001"),
            }
        }
    }

    #[test]
    fn trailing_empty_lines_are_not_lines() {
        assert_eq!(without_trailing_empty_lines(b"GO,1\r\n\r\n\n"), b"GO,1\r");
        assert_eq!(without_trailing_empty_lines(b"GO,1\r\r"), b"GO,1\r\r");
        assert_eq!(without_trailing_empty_lines(b"A\n\nB"), b"A\n\nB");
        assert_eq!(without_trailing_empty_lines(b"\r\n\r\n"), b"");
    }

    proptest::proptest! {
        /// Line ends and ASCII found eight bytes at a time, from any start, are the plain
        /// scan's.
        #[test]
        fn line_ends_are_the_plain_scans(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', b',', b'\n', b'\r', 0x82, 0xff]), 0..80),
            start in 0usize..80,
        ) {
            let start = start.min(bytes.len());
            let end = bytes[start..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| start + i);
            proptest::prop_assert_eq!(line_end(&bytes, start), (end, bytes[start..end].is_ascii()));
        }
    }

    #[test]
    fn a_run_of_lines_decodes_as_its_lines_do() {
        let (bytes, _, _) = SHIFT_JIS.encode("RE,1,山田\r\nHO,１２３\r\nCO,ｱｲｳ");
        let mut whole = String::new();
        let mut line = String::new();
        let text = decode_sjis(&bytes, &mut whole)
            .expect("decodes")
            .to_string();
        let lines: Vec<String> = bytes
            .split(|&b| b == b'\n')
            .map(|l| decode_sjis(l, &mut line).expect("decodes").to_string())
            .collect();
        assert_eq!(text, lines.join("\n"));
        assert_eq!(decode_sjis(b"RE,\x81\n", &mut whole), None);
        assert_eq!(decode_sjis(b"RE,\x81", &mut whole), None);
    }
}

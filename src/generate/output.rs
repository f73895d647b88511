//! Writing the roster (Parquet or CSV, DOMAIN §6) and the insurer master (CSV, §7).
//!
//! Roster rows are ordered the way insurers hand them over: by insurer, then 記号,
//! 番号, 枝番 and period start — so one person's periods are scattered across the file,
//! as in real data.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Builder, RecordBatch, StringBuilder, UInt8Builder};
use arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;

use super::insurers::Registry;
use super::kana::to_halfwidth_kana;
use super::people::{World, NO_BRANCH, NO_EMPLOYER, NO_SYMBOL};
use super::truth::parquet_props;
use super::GenerateError;

pub const ROSTER_COLUMNS: [&str; 15] = [
    "person_id",
    "insurer_number",
    "symbol",
    "number",
    "branch",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "employer",
    "valid_from",
    "valid_to",
    "copay_percent",
];

pub fn roster_schema() -> SchemaRef {
    let text = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        text("person_id", false),
        text("insurer_number", false),
        text("symbol", true),
        text("number", false),
        text("branch", true),
        text("name", false),
        text("name_kana", true),
        Field::new("birth_date", DataType::Date32, false),
        Field::new("sex", DataType::UInt8, false),
        text("postal_code", true),
        text("address", true),
        text("employer", true),
        Field::new("valid_from", DataType::Date32, false),
        Field::new("valid_to", DataType::Date32, true),
        Field::new("copay_percent", DataType::UInt8, true),
    ]))
}

/// One roster row as values.
struct Row {
    person_id: String,
    insurer: String,
    symbol: Option<String>,
    number: String,
    branch: Option<String>,
    name: String,
    kana: String,
    birth: NaiveDate,
    sex: u8,
    postal: String,
    address: String,
    employer: Option<String>,
    from: NaiveDate,
    to: Option<NaiveDate>,
    copay: u8,
}

/// Rows of the roster in output order: (person, period index).
fn roster_order(world: &World) -> Vec<(u32, u32)> {
    let mut refs: Vec<(u16, u32, u32, u8, NaiveDate, u32, u32)> = Vec::new();
    for p in 0..world.persons.len() {
        let start = world.persons[p].periods_start;
        for (i, q) in world.periods_of(p).iter().enumerate() {
            if q.on_roster {
                refs.push((
                    q.insurer,
                    q.symbol,
                    q.number,
                    q.branch,
                    q.from,
                    p as u32,
                    start + i as u32,
                ));
            }
        }
    }
    refs.sort_unstable();
    refs.into_iter().map(|r| (r.5, r.6)).collect()
}

fn row(world: &World, reg: &Registry, p: u32, q: u32) -> Row {
    let p = p as usize;
    let person = &world.persons[p];
    let period = &world.periods[q as usize];
    let ins = &reg.insurers[usize::from(period.insurer)];
    let (last, first) = world.name(p);
    let (kl, kf) = world.kana(p);
    let space = if ins.style.half_space { " " } else { "　" };
    let kana = format!("{kl}　{kf}");
    let kana = if ins.style.kana_halfwidth {
        to_halfwidth_kana(&kana)
    } else {
        kana
    };
    let addr = &world.addresses[period.address as usize];
    Row {
        person_id: world.person_id(p),
        insurer: ins.number.as_str().to_string(),
        symbol: (period.symbol != NO_SYMBOL)
            .then(|| reg.symbols[period.symbol as usize].clone())
            .filter(|s| !s.is_empty()),
        number: ins.format_number(period.number),
        branch: (period.branch != NO_BRANCH).then(|| format!("{:02}", period.branch)),
        name: format!("{last}{space}{first}"),
        kana,
        birth: person.birth,
        sex: person.sex.code(),
        postal: addr.postal_text(),
        address: addr.roster_text(ins.style.address_style),
        employer: (period.employer != NO_EMPLOYER)
            .then(|| reg.employers[period.employer as usize].name.clone()),
        from: period.from,
        to: period.to,
        copay: period.copay,
    }
}

const BATCH: usize = 65_536;

/// Writes `roster.parquet`; returns the number of rows.
pub fn write_roster_parquet(
    path: &Path,
    world: &World,
    reg: &Registry,
) -> Result<usize, GenerateError> {
    let order = roster_order(world);
    let file = File::create(path).map_err(|e| GenerateError::io(path, e))?;
    let schema = roster_schema();
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(parquet_props()))
        .map_err(|e| GenerateError::parquet(path, e))?;
    for chunk in order.chunks(BATCH) {
        let n = chunk.len();
        let mut b: Vec<StringBuilder> = (0..12).map(|_| StringBuilder::new()).collect();
        let mut birth = Date32Builder::with_capacity(n);
        let mut sex = UInt8Builder::with_capacity(n);
        let mut from = Date32Builder::with_capacity(n);
        let mut to = Date32Builder::with_capacity(n);
        let mut copay = UInt8Builder::with_capacity(n);
        for &(p, q) in chunk {
            let r = row(world, reg, p, q);
            b[0].append_value(&r.person_id);
            b[1].append_value(&r.insurer);
            b[2].append_option(r.symbol.as_deref());
            b[3].append_value(&r.number);
            b[4].append_option(r.branch.as_deref());
            b[5].append_value(&r.name);
            b[6].append_value(&r.kana);
            birth.append_value(Date32Type::from_naive_date(r.birth));
            sex.append_value(r.sex);
            b[7].append_value(&r.postal);
            b[8].append_value(&r.address);
            b[9].append_option(r.employer.as_deref());
            from.append_value(Date32Type::from_naive_date(r.from));
            to.append_option(r.to.map(Date32Type::from_naive_date));
            copay.append_value(r.copay);
        }
        let mut s = b.into_iter().map(|mut x| Arc::new(x.finish()) as ArrayRef);
        let mut next = || s.next().unwrap_or_else(|| unreachable!());
        let columns: Vec<ArrayRef> = vec![
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            Arc::new(birth.finish()),
            Arc::new(sex.finish()),
            next(),
            next(),
            next(),
            Arc::new(from.finish()),
            Arc::new(to.finish()),
            Arc::new(copay.finish()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| GenerateError::arrow(path, e))?;
        w.write(&batch)
            .map_err(|e| GenerateError::parquet(path, e))?;
    }
    w.close().map_err(|e| GenerateError::parquet(path, e))?;
    Ok(order.len())
}

/// Writes `roster.csv` (UTF-8, header; dates YYYY-MM-DD; empty = null).
pub fn write_roster_csv(
    path: &Path,
    world: &World,
    reg: &Registry,
) -> Result<usize, GenerateError> {
    let order = roster_order(world);
    let file = File::create(path).map_err(|e| GenerateError::io(path, e))?;
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
    w.write_record(ROSTER_COLUMNS)
        .map_err(|e| GenerateError::csv(path, e))?;
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    for &(p, q) in &order {
        let r = row(world, reg, p, q);
        w.write_record([
            r.person_id.as_str(),
            &r.insurer,
            r.symbol.as_deref().unwrap_or(""),
            &r.number,
            r.branch.as_deref().unwrap_or(""),
            &r.name,
            &r.kana,
            &date(r.birth),
            &r.sex.to_string(),
            &r.postal,
            &r.address,
            r.employer.as_deref().unwrap_or(""),
            &date(r.from),
            &r.to.map(date).unwrap_or_default(),
            &r.copay.to_string(),
        ])
        .map_err(|e| GenerateError::csv(path, e))?;
    }
    w.flush().map_err(|e| GenerateError::io(path, e))?;
    Ok(order.len())
}

/// Writes `insurers.csv`, sorted by insurer number. `insured_count` is the number of
/// persons with a roster period at the insurer valid on the first day of the care month.
pub fn write_insurers(path: &Path, world: &World, reg: &Registry) -> Result<usize, GenerateError> {
    let mut counts = vec![0u64; reg.insurers.len()];
    let d = world.dates.care_start;
    for q in &world.periods {
        if q.on_roster && q.covers(d) {
            counts[usize::from(q.insurer)] += 1;
        }
    }
    let mut order: Vec<usize> = (0..reg.insurers.len()).collect();
    order.sort_by_key(|&i| reg.insurers[i].number);
    let file = File::create(path).map_err(|e| GenerateError::io(path, e))?;
    let mut w = csv::Writer::from_writer(BufWriter::new(file));
    w.write_record([
        "insurer_number",
        "name",
        "kind",
        "prefecture",
        "insured_count",
    ])
    .map_err(|e| GenerateError::csv(path, e))?;
    for i in order {
        let ins = &reg.insurers[i];
        w.write_record([
            ins.number.as_str(),
            &ins.name,
            ins.kind().as_str(),
            &format!("{:02}", ins.prefecture),
            &counts[i].to_string(),
        ])
        .map_err(|e| GenerateError::csv(path, e))?;
    }
    w.flush().map_err(|e| GenerateError::io(path, e))?;
    Ok(reg.insurers.len())
}

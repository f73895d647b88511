//! Reading back reseclear's own Parquet outputs — the pending ledger of an earlier run,
//! a finished run's `receipts.parquet` and `apportionment.parquet` — by column name.
//! Each column is checked for the type the schema documents, and an error names the
//! file, the column and what was expected, as for any other input.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use arrow::array::{
    Array, BooleanArray, Int64Array, RecordBatch, StringArray, UInt32Array, UInt64Array, UInt8Array,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::IngestError;
use crate::domain::Yen;

/// A Parquet file read whole, as record batches.
#[derive(Debug, Clone)]
pub struct Table {
    path: PathBuf,
    batches: Vec<RecordBatch>,
}

impl Table {
    /// Reads `path`; every column of `required` must be present.
    pub fn read(path: &Path, required: &[&str]) -> Result<Table, IngestError> {
        super::parquet_guard(path, || Table::read_unguarded(path, required))
    }

    fn read_unguarded(path: &Path, required: &[&str]) -> Result<Table, IngestError> {
        let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
        let parquet_err = |source| IngestError::Parquet {
            path: path.to_path_buf(),
            source,
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
        let schema = builder.schema().clone();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| schema.field_with_name(c).is_err())
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::invalid(
                path,
                format!("missing column(s): {}", missing.join(", ")),
            ));
        }
        let batches = builder
            .build()
            .map_err(parquet_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| IngestError::Arrow {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Table {
            path: path.to_path_buf(),
            batches,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Refuses a run's output of more rows than any run holds, so that sums over its
    /// bounded yen columns cannot overflow.
    pub fn check_rows_within_a_run(&self) -> Result<(), IngestError> {
        Yen::check_rows(self.num_rows() as u64)
            .map_err(|e| IngestError::invalid(&self.path, e.to_string()))
    }

    /// The batches in file order, each with typed column access.
    pub fn batches(&self) -> impl Iterator<Item = Batch<'_>> {
        let mut first_row = 1;
        self.batches.iter().map(move |batch| {
            let b = Batch {
                path: &self.path,
                batch,
                first_row,
            };
            first_row += batch.num_rows();
            b
        })
    }
}

/// One record batch of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
    /// The file's row number (1-based) of this batch's first row.
    first_row: usize,
}

impl<'a> Batch<'a> {
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn record_batch(&self) -> &'a RecordBatch {
        self.batch
    }

    fn column<T: Array + 'static>(&self, name: &str, expected: &str) -> Result<&'a T, IngestError> {
        let column = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| IngestError::invalid(self.path, format!("missing column {name}")))?;
        column.as_any().downcast_ref::<T>().ok_or_else(|| {
            IngestError::invalid(
                self.path,
                format!(
                    "column {name} is {}, expected {expected}",
                    column.data_type()
                ),
            )
        })
    }

    pub fn utf8(&self, name: &str) -> Result<&'a StringArray, IngestError> {
        self.column(name, "Utf8")
    }

    /// A text column that files written by earlier versions lack: `None` when absent,
    /// an error when present with another type.
    pub fn utf8_if_present(&self, name: &str) -> Result<Option<&'a StringArray>, IngestError> {
        match self.batch.column_by_name(name) {
            Some(_) => self.utf8(name).map(Some),
            None => Ok(None),
        }
    }

    pub fn u8(&self, name: &str) -> Result<&'a UInt8Array, IngestError> {
        self.column(name, "UInt8")
    }

    pub fn u32(&self, name: &str) -> Result<&'a UInt32Array, IngestError> {
        self.column(name, "UInt32")
    }

    pub fn u64(&self, name: &str) -> Result<&'a UInt64Array, IngestError> {
        self.column(name, "UInt64")
    }

    pub fn i64(&self, name: &str) -> Result<&'a Int64Array, IngestError> {
        self.column(name, "Int64")
    }

    pub fn boolean(&self, name: &str) -> Result<&'a BooleanArray, IngestError> {
        self.column(name, "Boolean")
    }

    /// The Int64 yen column `name`, whose values must lie in `range` (an output edited
    /// after its run may hold any number; the sums over it must not overflow).
    pub fn yen(
        &self,
        name: &'static str,
        range: RangeInclusive<i64>,
    ) -> Result<YenColumn<'a>, IngestError> {
        Ok(YenColumn {
            path: self.path,
            name,
            values: self.i64(name)?,
            range,
            first_row: self.first_row,
        })
    }
}

/// A yen column of a [`Batch`], read value by value within its documented range.
#[derive(Debug, Clone)]
pub struct YenColumn<'a> {
    path: &'a Path,
    name: &'static str,
    values: &'a Int64Array,
    range: RangeInclusive<i64>,
    first_row: usize,
}

impl YenColumn<'_> {
    /// The value of batch row `i`, `None` when null; an error naming the file, the row
    /// and the column when it lies outside the range.
    pub fn get(&self, i: usize) -> Result<Option<Yen>, IngestError> {
        if self.values.is_null(i) {
            return Ok(None);
        }
        let row = (self.first_row + i) as u64;
        Yen::read_back(row, self.name, self.values.value(i), &self.range)
            .map(Some)
            .map_err(|e| IngestError::invalid(self.path, e.to_string()))
    }

    /// [`YenColumn::get`] with null read as zero.
    pub fn or_zero(&self, i: usize) -> Result<Yen, IngestError> {
        Ok(self.get(i)?.unwrap_or_default())
    }
}

/// The value at `row`, `None` when null.
pub fn opt_str(a: &StringArray, row: usize) -> Option<&str> {
    a.is_valid(row).then(|| a.value(row))
}

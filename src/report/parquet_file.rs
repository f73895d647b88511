//! Writing the run's Parquet files: a small table as one batch, or millions of rows
//! built and encoded in parallel.
//!
//! Both ways write the same bytes for the same rows (Snappy, the writer's default row
//! groups and pages), whatever the number of threads: the parallel writer cuts row
//! groups where the plain one does (at the writer's row count), hands each column
//! writer its row group's values in one piece as the plain one does (where pages end
//! depends on how values come in), and puts the encoded column chunks back in order.

use std::fs::File;
use std::ops::Range;
use std::path::Path;

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::compute::concat;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::ReportError;

/// Rows built into one batch by one task.
const CHUNK_ROWS: usize = 64 * 1024;

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build()
}

fn create(path: &Path) -> Result<File, ReportError> {
    File::create(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parquet_error(path: &Path) -> impl Fn(ParquetError) -> ReportError + '_ {
    move |source| ReportError::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes one batch as a Snappy-compressed Parquet file.
pub(crate) fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), ReportError> {
    let parquet = parquet_error(path);
    let mut writer = ArrowWriter::try_new(create(path)?, batch.schema(), Some(properties()))
        .map_err(&parquet)?;
    writer.write(batch).map_err(&parquet)?;
    writer.close().map_err(&parquet)?;
    Ok(())
}

/// Writes `rows` rows as `schema` (flat: one Parquet column per field), the same file
/// [`write_parquet`] writes for the batch of all of them. `columns` builds the columns
/// of a range of rows; ranges of [`CHUNK_ROWS`] are built in parallel, and each row
/// group's columns are encoded in parallel.
pub(crate) fn write_parquet_parallel(
    path: &Path,
    schema: SchemaRef,
    rows: usize,
    columns: impl Fn(Range<usize>) -> Vec<ArrayRef> + Sync,
) -> Result<(), ReportError> {
    write_in_parallel(path, schema, rows, &columns, properties(), CHUNK_ROWS)
}

/// [`write_parquet_parallel`] with the writer's properties and the rows per batch
/// given.
fn write_in_parallel(
    path: &Path,
    schema: SchemaRef,
    rows: usize,
    columns: &(impl Fn(Range<usize>) -> Vec<ArrayRef> + Sync),
    props: WriterProperties,
    chunk_rows: usize,
) -> Result<(), ReportError> {
    let parquet = parquet_error(path);
    let group_rows = props.max_row_group_row_count().unwrap_or(rows).max(1);
    let writer =
        ArrowWriter::try_new(create(path)?, schema.clone(), Some(props)).map_err(&parquet)?;
    let (mut file, factory) = writer.into_serialized_writer().map_err(&parquet)?;
    let groups: Vec<Vec<ArrowColumnChunk>> = ranges(0..rows, group_rows)
        .into_par_iter()
        .enumerate()
        .map(|(index, group)| {
            let batches = ranges(group, chunk_rows)
                .into_par_iter()
                .map(|run| RecordBatch::try_new(schema.clone(), columns(run)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| ReportError::Arrow {
                    path: path.to_path_buf(),
                    source,
                })?;
            encode_group(&schema, &factory, index, &batches).map_err(&parquet)
        })
        .collect::<Result<_, _>>()?;
    for chunks in groups {
        let mut group = file.next_row_group().map_err(&parquet)?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group).map_err(&parquet)?;
        }
        group.close().map_err(&parquet)?;
    }
    file.close().map_err(&parquet)?;
    Ok(())
}

/// `all` cut into consecutive ranges of `size` (the last one shorter).
fn ranges(all: Range<usize>, size: usize) -> Vec<Range<usize>> {
    (all.start..all.end)
        .step_by(size.max(1))
        .map(|start| start..(start + size).min(all.end))
        .collect()
}

/// Encodes the batches of one row group, one task per column; each column's pieces
/// are joined first, to be written in one call.
fn encode_group(
    schema: &SchemaRef,
    factory: &ArrowRowGroupWriterFactory,
    index: usize,
    batches: &[RecordBatch],
) -> Result<Vec<ArrowColumnChunk>, ParquetError> {
    let writers = factory.create_column_writers(index)?;
    if writers.len() != schema.fields().len() {
        return Err(ParquetError::General(
            "nested columns are not written in parallel".into(),
        ));
    }
    writers
        .into_par_iter()
        .zip(schema.fields().par_iter())
        .enumerate()
        .map(|(i, (mut writer, field))| {
            let column = match batches {
                [one] => one.column(i).clone(),
                _ => {
                    let pieces: Vec<&dyn Array> =
                        batches.iter().map(|b| b.column(i).as_ref()).collect();
                    concat(&pieces)?
                }
            };
            for leaf in compute_leaves(field, &column)? {
                writer.write(&leaf)?;
            }
            writer.close()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("n", DataType::UInt64, false),
            Field::new("s", DataType::Utf8, true),
            // Nullable without nulls: written in larger mini-batches.
            Field::new("t", DataType::Utf8, true),
        ]))
    }

    fn columns(rows: Range<usize>) -> Vec<ArrayRef> {
        let n = rows.clone().map(|i| (i * 7919 % 1000) as u64);
        let s = rows
            .clone()
            .map(|i| (i % 3 != 0).then(|| format!("value {}", i % 500)));
        let t = rows.map(|i| Some(format!("{}", i * 31 % 2000)));
        vec![
            Arc::new(UInt64Array::from_iter_values(n)),
            Arc::new(StringArray::from_iter(s)),
            Arc::new(StringArray::from_iter(t)),
        ]
    }

    /// Row groups of 4096 rows, batches of 1024: several of each, the last ones short.
    /// Small pages, so that where a page ends shows in the bytes.
    fn props() -> WriterProperties {
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(4096))
            .set_data_page_size_limit(700)
            .set_dictionary_page_size_limit(2000)
            .set_data_page_row_count_limit(300)
            .build()
    }

    fn one_batch(path: &Path, rows: usize) -> Vec<u8> {
        let batch = RecordBatch::try_new(schema(), columns(0..rows)).expect("batch");
        let mut writer =
            ArrowWriter::try_new(File::create(path).expect("create"), schema(), Some(props()))
                .expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        std::fs::read(path).expect("read")
    }

    fn parallel(path: &Path, rows: usize, threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| write_in_parallel(path, schema(), rows, &columns, props(), 1024))
            .expect("parallel write");
        std::fs::read(path).expect("read")
    }

    #[test]
    fn parallel_writes_the_bytes_of_one_batch_whatever_the_threads() {
        let dir = tempfile::tempdir().expect("tempdir");
        for rows in [0, 1, 1024, 10_000] {
            let want = one_batch(&dir.path().join("one.parquet"), rows);
            for threads in [1, 3] {
                let got = parallel(&dir.path().join("parallel.parquet"), rows, threads);
                assert!(got == want, "{rows} rows, {threads} threads");
            }
        }
    }
}

//! Helpers shared by the end-to-end test binaries: the binary, the sample month, a copy
//! of a directory. Each binary uses some of them, hence `dead_code` allowed here.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `reseclear` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reseclear"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled sample month.
pub fn sample() -> PathBuf {
    root().join("fixtures/sample")
}

/// Runs `cmd`, which must succeed; its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run reseclear");
    assert!(
        out.status.success(),
        "reseclear failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("list") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// A copy of the sample month in a temporary directory.
pub fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&sample(), dir.path());
    dir
}

/// Rewrites one column of a Parquet file in place, `edit` making the new column from
/// the old (the file read whole, as one batch).
pub fn edit_column(
    path: &Path,
    column: &str,
    edit: impl Fn(&arrow::array::ArrayRef) -> arrow::array::ArrayRef,
) {
    let file = std::fs::File::open(path).expect("open");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<_> = reader.map(|b| b.expect("batch")).collect();
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
    let schema = batch.schema();
    let at = schema.index_of(column).expect("column");
    let mut columns = batch.columns().to_vec();
    columns[at] = edit(&columns[at]);
    let batch = arrow::array::RecordBatch::try_new(schema.clone(), columns).expect("batch");
    let file = std::fs::File::create(path).expect("create");
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

/// Rewrites the Int64 column `column` of the Parquet file at `path` in place: each row's
/// value becomes `edit(row, value)`. Stands for an output edited after its run.
pub fn edit_i64_column(path: &Path, column: &str, edit: impl Fn(usize, i64) -> i64) {
    use arrow::array::{Array, AsArray, Int64Array};
    use arrow::datatypes::Int64Type;
    edit_column(path, column, |old| {
        let values = old.as_primitive::<Int64Type>();
        let edited: Int64Array = (0..values.len())
            .map(|i| values.is_valid(i).then(|| edit(i, values.value(i))))
            .collect();
        std::sync::Arc::new(edited)
    });
}

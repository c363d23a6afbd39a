//! Tables as Parquet (issue 17), for both front ends: `anxin simulate --out DIR` and
//! `anxin batch` write them beside (or instead of) CSV, `/analyst/tables/NAME.parquet`
//! offers them beside CSV and .xlsx, and `anxin batch` reads a population file as Parquet.
//!
//! A table here is what the CSV holds: a header and rows of text. A column whose every
//! non-empty cell is an integer written canonically ("42", "-7") is stored as Int64; one whose
//! every non-empty cell is a decimal with the same number of decimals, written canonically
//! ("4812.40", "-0.05"), as Decimal128 with that scale — exact, never a float; anything else
//! as UTF-8 text. An empty cell of a number column is a null. So reading a written file back
//! gives the CSV's cells exactly, and the same table gives the same bytes.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Builder, Int64Builder, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Decimal128Type, Field, Int64Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

pub type Result<T> = std::result::Result<T, ParquetError>;

/// Rows buffered before they are written as one record batch.
const BATCH_ROWS: usize = 64 * 1024;

/// How a column is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    /// Decimal128 with this many decimals (1–9).
    Decimal(u8),
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Integer => DataType::Int64,
            Kind::Decimal(s) => DataType::Decimal128(38, s as i8),
        }
    }
}

/// A canonical integer or decimal: its digits as an integer and its number of decimals.
fn number(s: &str) -> Option<(i128, u8)> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return None,
        None => (body, ""),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 18 || frac.len() > 9 || !digits(whole) || !digits(frac) {
        return None;
    }
    let mut v: i128 = 0;
    for b in whole.bytes().chain(frac.bytes()) {
        v = v * 10 + i128::from(b - b'0');
    }
    if body.len() != s.len() {
        v = -v;
    }
    let scale = frac.len() as u8;
    (decimal_text(v, scale) == s).then_some((v, scale))
}

/// `v` with `scale` decimals, as the tables write it.
fn decimal_text(v: i128, scale: u8) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let p = 10u128.pow(u32::from(scale));
    format!("{sign}{}.{:0w$}", a / p, a % p, w = scale as usize)
}

/// The kind of every column of a table (see the module's note).
pub fn infer<R: AsRef<[String]>>(columns: usize, rows: &[R]) -> Vec<Kind> {
    (0..columns)
        .map(|c| {
            let mut kind = None;
            for r in rows {
                let cell = r.as_ref().get(c).map(String::as_str).unwrap_or("");
                if cell.is_empty() {
                    continue;
                }
                let k = match number(cell) {
                    Some((_, 0)) => Kind::Integer,
                    Some((_, s)) => Kind::Decimal(s),
                    None => return Kind::Text,
                };
                if kind.is_some_and(|seen| seen != k) {
                    return Kind::Text;
                }
                kind = Some(k);
            }
            kind.unwrap_or(Kind::Text)
        })
        .collect()
}

enum Column {
    Text(StringBuilder),
    Integer(Int64Builder),
    Decimal(Decimal128Builder, u8),
}

/// Writes a table row by row, one record batch every `BATCH_ROWS` rows.
pub struct TableWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    columns: Vec<Column>,
    pending: usize,
}

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build()
}

impl<W: Write + Send> TableWriter<W> {
    pub fn new(out: W, header: &[&str], kinds: &[Kind]) -> Result<Self> {
        let schema: SchemaRef = Arc::new(Schema::new(
            header
                .iter()
                .zip(kinds)
                .map(|(h, k)| Field::new(*h, k.data_type(), *k != Kind::Text))
                .collect::<Vec<_>>(),
        ));
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props()))?;
        let mut me = TableWriter {
            writer,
            schema,
            columns: Vec::new(),
            pending: 0,
        };
        me.columns = me.fresh()?;
        Ok(me)
    }

    fn fresh(&self) -> Result<Vec<Column>> {
        self.schema
            .fields()
            .iter()
            .map(|f| {
                Ok(match f.data_type() {
                    DataType::Int64 => Column::Integer(Int64Builder::new()),
                    DataType::Decimal128(p, s) => Column::Decimal(
                        Decimal128Builder::new().with_precision_and_scale(*p, *s)?,
                        *s as u8,
                    ),
                    _ => Column::Text(StringBuilder::new()),
                })
            })
            .collect()
    }

    /// One row; a cell that does not fit its column's kind is an error (the table changed
    /// shape after its kinds were chosen).
    pub fn push<S: AsRef<str>>(&mut self, row: &[S]) -> Result<()> {
        for (c, col) in self.columns.iter_mut().enumerate() {
            let cell = row.get(c).map(AsRef::as_ref).unwrap_or("");
            let misfit = || {
                ParquetError::General(format!(
                    "column {} does not take the cell {cell:?}",
                    self.schema.field(c).name()
                ))
            };
            match col {
                Column::Text(b) => b.append_value(cell),
                Column::Integer(b) if cell.is_empty() => b.append_null(),
                Column::Decimal(b, _) if cell.is_empty() => b.append_null(),
                Column::Integer(b) => match number(cell) {
                    Some((v, 0)) => b.append_value(i64::try_from(v).map_err(|_| misfit())?),
                    _ => return Err(misfit()),
                },
                Column::Decimal(b, scale) => match number(cell) {
                    Some((v, s)) if s == *scale => b.append_value(v),
                    _ => return Err(misfit()),
                },
            }
        }
        self.pending += 1;
        if self.pending >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Column::Text(b) => Arc::new(b.finish()),
                    Column::Integer(b) => Arc::new(b.finish()),
                    Column::Decimal(b, _) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.writer.write(&batch)?;
        self.columns = self.fresh()?;
        self.pending = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer.
    pub fn finish(mut self) -> Result<W> {
        self.flush_batch()?;
        self.writer.into_inner()
    }
}

/// A whole table as the bytes of a Parquet file, each column's kind inferred.
pub fn table_bytes<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> Result<Vec<u8>> {
    let kinds = infer(header.len(), rows);
    let mut w = TableWriter::new(Vec::new(), header, &kinds)?;
    for r in rows {
        w.push(r.as_ref())?;
    }
    w.finish()
}

/// A record batch's columns as text, the way the tables write them.
pub struct TextBatch {
    columns: Vec<StringArray>,
    rows: usize,
}

impl TextBatch {
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// The cell (empty for a null).
    pub fn cell(&self, column: usize, row: usize) -> &str {
        match self.columns.get(column) {
            Some(c) if row < c.len() && !c.is_null(row) => c.value(row),
            _ => "",
        }
    }
}

fn as_text(a: &ArrayRef) -> Result<StringArray> {
    Ok(match a.data_type() {
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        DataType::Decimal128(_, s) if (0..=38).contains(s) => a
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|v| v.map(|v| decimal_text(v, *s as u8)))
            .collect(),
        DataType::Utf8 => a.as_string::<i32>().clone(),
        _ => {
            let c = arrow::compute::cast(a, &DataType::Utf8)?;
            c.as_string::<i32>().clone()
        }
    })
}

/// A Parquet file opened for reading as text, batch by batch.
pub struct TableReader {
    names: Vec<String>,
    reader: ParquetRecordBatchReader,
}

impl TableReader {
    pub fn open(file: std::fs::File) -> Result<Self> {
        let b = ParquetRecordBatchReaderBuilder::try_new(file)?;
        let names = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Ok(TableReader {
            names,
            reader: b.with_batch_size(8192).build()?,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The next batch, only the columns at `columns` (in that order).
    pub fn next_batch(&mut self, columns: &[usize]) -> Option<Result<TextBatch>> {
        let batch = match self.reader.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(e.into())),
        };
        let cols: Result<Vec<StringArray>> = columns
            .iter()
            .map(|&i| {
                if i < batch.num_columns() {
                    as_text(batch.column(i))
                } else {
                    Err(ParquetError::General(format!("no column {i}")))
                }
            })
            .collect();
        Some(cols.map(|columns| TextBatch {
            columns,
            rows: batch.num_rows(),
        }))
    }

    /// The whole file: its header and every row as text.
    pub fn read_all(mut self) -> Result<(Vec<String>, Vec<Vec<String>>)> {
        let all: Vec<usize> = (0..self.names.len()).collect();
        let mut rows = Vec::new();
        while let Some(b) = self.next_batch(&all) {
            let b = b?;
            for r in 0..b.rows() {
                rows.push((0..all.len()).map(|c| b.cell(c, r).to_string()).collect());
            }
        }
        Ok((self.names, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(r: &[&[&str]]) -> Vec<Vec<String>> {
        r.iter()
            .map(|x| x.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn kinds_are_exact_or_text() {
        let t = rows(&[
            &["a", "1", "4812.40", "", "0.05", "007", "1.5"],
            &["b", "-2", "-0.50", "", "12.345", "7", "2.50"],
        ]);
        assert_eq!(
            infer(7, &t),
            vec![
                Kind::Text,
                Kind::Integer,
                Kind::Decimal(2),
                Kind::Text,
                Kind::Text,
                Kind::Text,
                Kind::Text
            ]
        );
    }

    #[test]
    fn a_table_reads_back_as_written_and_the_same_table_gives_the_same_bytes() {
        let header = ["scenario", "year", "yuan", "share", "blank"];
        let t = rows(&[
            &["现行规定", "2026", "4812.40", "", ""],
            &["income-band-rate", "2027", "-0.05", "12.34", ""],
            &["x,\"y\"", "", "0.00", "100.00", ""],
        ]);
        let bytes = table_bytes(&header, &t).unwrap();
        assert_eq!(bytes, table_bytes(&header, &t).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        std::fs::write(&p, &bytes).unwrap();
        let (names, back) = TableReader::open(std::fs::File::open(&p).unwrap())
            .unwrap()
            .read_all()
            .unwrap();
        assert_eq!(names, header);
        assert_eq!(back, t);
    }

    #[test]
    fn a_cell_that_does_not_fit_its_column_is_an_error() {
        let mut w = TableWriter::new(Vec::new(), &["n"], &[Kind::Integer]).unwrap();
        assert!(w.push(&["12"]).is_ok());
        assert!(w.push(&["1.5"]).is_err());
        assert!(w.push(&["99999999999999999999"]).is_err());
    }
}

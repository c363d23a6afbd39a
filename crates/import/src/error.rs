//! Whole-file errors and row rejections. Every message exists in Chinese (the default, for
//! the clerk) and English, and says what is wrong and what is allowed.

use std::fmt;

use serde::Serialize;

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Msg {
    pub zh: String,
    pub en: String,
}

impl Msg {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Msg {
        Msg {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// One data row that was not imported.
///
/// `row` is the number a clerk sees: for CSV and xlsx the spreadsheet row (the header is
/// row 1, so the first data row is 2; a CSV value spanning several lines counts as one
/// row); for a JSON array the element's position (the first element is 1); for NDJSON the
/// line number (the first line is 1).
///
/// `value` never holds a resident ID in clear: a valid ID is masked as
/// `1101**********002X`, anything else in an ID column shows only its first six characters
/// followed by `****`; names show only their first character; every other value is cut
/// to 64 characters and any long run of digits in it is masked the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub row: u64,
    /// The column's header as written in the file (for JSON the key), or the English
    /// column name when the column is absent; empty when the whole row is at fault.
    pub column: String,
    /// The English column name (`person_id`, `month`, …); empty when the whole row is at fault.
    pub field: String,
    /// The offending value, masked as described above.
    pub value: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl Rejection {
    pub(crate) fn new(row: u64, column: &str, field: &str, value: String, msg: Msg) -> Rejection {
        Rejection {
            row,
            column: column.to_string(),
            field: field.to_string(),
            value,
            reason_zh: msg.zh,
            reason_en: msg.en,
        }
    }

    /// The reason in Chinese (the default language).
    pub fn reason(&self) -> &str {
        &self.reason_zh
    }

    /// One English line: "row 3, month: …".
    pub fn to_english(&self) -> String {
        if self.column.is_empty() {
            format!("row {}: {}", self.row, self.reason_en)
        } else {
            format!("row {}, {}: {}", self.row, self.column, self.reason_en)
        }
    }
}

/// One Chinese line: 「第 3 行，所属期：……」.
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "第 {} 行：{}", self.row, self.reason_zh)
        } else {
            write!(f, "第 {} 行，{}：{}", self.row, self.column, self.reason_zh)
        }
    }
}

/// A column, named in both languages (used to list missing and allowed columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnName {
    pub en: &'static str,
    pub zh: &'static str,
    pub required: bool,
}

impl fmt::Display for ColumnName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.en, self.zh)
    }
}

/// A problem with the whole file: nothing of it is imported. `Display` gives the Chinese
/// text, [`FileError::en`] the English.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be opened or read.
    Io {
        path: String,
        message: String,
    },
    /// Neither the extension nor the content says which format the file is in.
    UnknownFormat {
        name: String,
    },
    /// A legacy binary Excel workbook (.xls), or an encrypted workbook.
    LegacyExcel,
    /// UTF-16 text (Excel's "Unicode text" export).
    Utf16,
    /// Neither valid UTF-8 nor valid GBK/GB18030; `offset` is the first undecodable byte.
    Encoding {
        offset: u64,
    },
    /// The text contains NUL characters: it is a binary file.
    Binary,
    /// No header row (or no first JSON object) was found.
    Empty,
    MissingColumns {
        missing: Vec<ColumnName>,
        allowed: Vec<ColumnName>,
    },
    /// Two columns of the header mean the same thing (e.g. `name` and `姓名`).
    DuplicateColumn {
        first: String,
        second: String,
        column: ColumnName,
    },
    TooManyColumns {
        found: usize,
        max: usize,
    },
    /// More data rows than `Options::max_rows`; `found` is a lower bound when counting stopped early.
    TooManyRows {
        found: u64,
        max: usize,
    },
    /// The xlsx container or its XML cannot be read.
    Xlsx {
        message: String,
    },
    /// The workbook has no worksheet.
    NoSheet,
    /// A part of the .xlsx container unpacks to more than `max` bytes (`part` is `*` when
    /// all parts together do).
    XlsxPartTooLarge {
        part: String,
        max: u64,
    },
    /// A single cell, tag or run of text of the .xlsx XML is longer than `max` bytes.
    XlsxCellTooLarge {
        part: String,
        max: u64,
    },
    /// The .xlsx container has more than `max` parts.
    XlsxTooManyParts {
        max: usize,
    },
    /// The shared-strings table of the .xlsx holds more than `max` strings.
    XlsxTooManyStrings {
        max: u64,
    },
    /// A CSV row (a record, with all its fields) longer than `max` bytes.
    RowTooLong {
        max: u64,
    },
    /// A JSON array file larger than `max` bytes (JSON arrays are read whole).
    JsonTooLarge {
        max: u64,
    },
    /// JSON that does not parse at all, at a line and column.
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// Valid JSON of the wrong shape (neither an array of objects nor one object per line).
    JsonShape,
}

fn list(cols: &[ColumnName], zh: bool) -> String {
    cols.iter()
        .map(|c| {
            let mark = if c.required { "*" } else { "" };
            if zh {
                format!("{}{mark}（{}）", c.zh, c.en)
            } else {
                format!("{}{mark} ({})", c.en, c.zh)
            }
        })
        .collect::<Vec<_>>()
        .join(if zh { "、" } else { ", " })
}

impl FileError {
    fn msg(&self) -> Msg {
        match self {
            FileError::Io { path, message } => {
                let (zh_at, en_at) = if path.is_empty() {
                    (String::new(), String::new())
                } else {
                    (format!(" {path}"), format!(" {path}"))
                };
                Msg::new(
                    format!("无法读取文件{zh_at}：{message}；请确认文件存在、有读取权限且未被改动"),
                    format!(
                        "cannot read the file{en_at}: {message}; check that it exists, is readable and is not being changed"
                    ),
                )
            }
            FileError::UnknownFormat { name } => Msg::new(
                format!(
                    "无法识别文件 {name} 的格式：请用 .csv、.xlsx、.json 或 .ndjson（每行一个 JSON 对象）文件"
                ),
                format!(
                    "cannot tell the format of {name}: use a .csv, .xlsx, .json or .ndjson (one JSON object per line) file"
                ),
            ),
            FileError::LegacyExcel => Msg::new(
                "这是旧版 Excel（.xls）或加密的工作簿：请在 Excel 中取消密码并另存为 .xlsx 或“CSV UTF-8”",
                "this is a legacy Excel (.xls) or password-protected workbook: remove the password and save it as .xlsx or \"CSV UTF-8\"",
            ),
            FileError::Utf16 => Msg::new(
                "文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8”或 .xlsx",
                "the file is UTF-16 text (Excel's \"Unicode text\"): save it as \"CSV UTF-8\" or .xlsx",
            ),
            FileError::Encoding { offset } => Msg::new(
                format!(
                    "文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本（第 {offset} 字节起无法识别）：请另存为“CSV UTF-8”或 .xlsx"
                ),
                format!(
                    "the file is neither UTF-8 nor GBK/GB18030 text (undecodable from byte {offset}): save it as \"CSV UTF-8\" or .xlsx"
                ),
            ),
            FileError::Binary => Msg::new(
                "文件含有空字符（0x00），不是文本文件：请导出为 CSV、.xlsx 或 JSON",
                "the file contains NUL characters and is not text: export it as CSV, .xlsx or JSON",
            ),
            FileError::Empty => Msg::new(
                "文件没有内容：第一行须是表头（列名），之后每行一条记录",
                "the file has no content: the first row must be the header (column names), then one record per row",
            ),
            FileError::MissingColumns { missing, allowed } => Msg::new(
                format!(
                    "缺少必填列：{}。可用的列（* 为必填）：{}；列名可用中文或英文，不分大小写",
                    list(missing, true),
                    list(allowed, true)
                ),
                format!(
                    "missing required columns: {}. Allowed columns (* = required): {}; headers may be English or Chinese, in any case",
                    list(missing, false),
                    list(allowed, false)
                ),
            ),
            FileError::DuplicateColumn {
                first,
                second,
                column,
            } => Msg::new(
                format!(
                    "列「{first}」和「{second}」都是{}（{}）：每一列只能出现一次，请删去其中一列",
                    column.zh, column.en
                ),
                format!(
                    "columns '{first}' and '{second}' both mean {} ({}): each column may appear only once, delete one of them",
                    column.en, column.zh
                ),
            ),
            FileError::TooManyColumns { found, max } => Msg::new(
                format!("表头有 {found} 列，最多允许 {max} 列：请删去多余的列"),
                format!(
                    "the header has {found} columns; at most {max} are allowed: delete the extra columns"
                ),
            ),
            FileError::TooManyRows { found, max } => Msg::new(
                format!("文件至少有 {found} 行数据，超过每个文件 {max} 行的上限：请拆分成多个文件"),
                format!(
                    "the file has at least {found} data rows, more than the limit of {max} per file: split it into several files"
                ),
            ),
            FileError::Xlsx { message } => Msg::new(
                format!(
                    "无法读取 Excel 文件（{message}）：请确认是有效的 .xlsx 文件，或另存为“CSV UTF-8”"
                ),
                format!(
                    "cannot read the Excel file ({message}): check that it is a valid .xlsx file, or save it as \"CSV UTF-8\""
                ),
            ),
            FileError::NoSheet => Msg::new(
                "Excel 文件没有工作表：数据须在第一个工作表中，第一行是表头",
                "the Excel file has no worksheet: the data must be on the first sheet, with the header in the first row",
            ),
            FileError::XlsxPartTooLarge { part, max } => {
                let (zh, en) = if part == "*" {
                    ("全部内容".to_string(), "all its parts together".to_string())
                } else {
                    (format!("其中的 {part}"), format!("its part {part}"))
                };
                Msg::new(
                    format!(
                        "Excel 文件解压后过大：{zh}超过 {} MiB 的上限。请删去多余的工作表、格式和图片后另存，或拆分成多个文件，或另存为“CSV UTF-8”",
                        max >> 20
                    ),
                    format!(
                        "the Excel file is too large once unpacked: {en} exceeds the limit of {} MiB. Delete extra sheets, formatting and pictures and save again, split it into several files, or save it as \"CSV UTF-8\"",
                        max >> 20
                    ),
                )
            }
            FileError::XlsxCellTooLarge { part, max } => Msg::new(
                format!(
                    "Excel 文件（{part}）中有一个单元格或一段内容超过 {} KiB 的上限：每个值最长 4 KiB，请检查文件",
                    max >> 10
                ),
                format!(
                    "the Excel file ({part}) holds a cell or a piece of content longer than the limit of {} KiB: each value may be at most 4 KiB, check the file",
                    max >> 10
                ),
            ),
            FileError::XlsxTooManyParts { max } => Msg::new(
                format!(
                    "Excel 文件内部的部件超过 {max} 个的上限：这不是普通的工作簿，请另存为 .xlsx 或“CSV UTF-8”"
                ),
                format!(
                    "the Excel file has more than {max} internal parts, the limit: this is not an ordinary workbook, save it again as .xlsx or \"CSV UTF-8\""
                ),
            ),
            FileError::XlsxTooManyStrings { max } => Msg::new(
                format!(
                    "Excel 文件的共享字符串超过 {max} 个的上限：请拆分成多个文件，或另存为“CSV UTF-8”"
                ),
                format!(
                    "the Excel file has more than {max} shared strings, the limit: split it into several files, or save it as \"CSV UTF-8\""
                ),
            ),
            FileError::RowTooLong { max } => Msg::new(
                format!(
                    "文件中有一行超过 {} MiB 的上限（每行最多 256 列，每个值最长 4 KiB）：请检查文件，含逗号或换行的值须用英文双引号括起来，且引号须成对",
                    max >> 20
                ),
                format!(
                    "the file has a row longer than the limit of {} MiB (at most 256 columns of at most 4 KiB each): check the file; values with commas or line breaks must be in double quotes, and quotes must pair up",
                    max >> 20
                ),
            ),
            FileError::JsonTooLarge { max } => Msg::new(
                format!(
                    "JSON 数组文件超过 {} MiB 的上限（数组须整个读入）：更大的文件请写成每行一个对象（NDJSON），或拆分成多个文件",
                    max >> 20
                ),
                format!(
                    "the JSON array file is larger than the limit of {} MiB (an array is read whole): write larger files as one object per line (NDJSON), or split them",
                    max >> 20
                ),
            ),
            FileError::Json {
                line,
                column,
                message,
            } => Msg::new(
                format!(
                    "JSON 格式错误，位于第 {line} 行第 {column} 列（{message}）：文件须是对象数组 [{{…}}, …] 或每行一个对象（NDJSON）"
                ),
                format!(
                    "JSON syntax error at line {line}, column {column} ({message}): the file must be an array of objects [{{…}}, …] or one object per line (NDJSON)"
                ),
            ),
            FileError::JsonShape => Msg::new(
                "JSON 文件的结构不对：须是对象数组 [{\"列名\": 值, …}, …] 或每行一个对象（NDJSON）",
                "the JSON has the wrong shape: it must be an array of objects [{\"column\": value, …}, …] or one object per line (NDJSON)",
            ),
        }
    }

    /// The Chinese text (also what `Display` shows).
    pub fn zh(&self) -> String {
        self.msg().zh
    }

    /// The English text.
    pub fn en(&self) -> String {
        self.msg().en
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.zh())
    }
}

impl std::error::Error for FileError {}

//! A file uploaded with a form (`multipart/form-data`): its text fields and the one file,
//! with the file's format told from its name and first bytes. Shared by the clerk's import and
//! the school office's review.

use std::collections::HashMap;
use std::path::Path;

use anxin_import::Format;
use axum::body::Bytes;
use axum::extract::Multipart;

use crate::ApiError;

pub struct Upload {
    /// Text fields by name (a ticked checkbox is present, an unticked one absent).
    pub fields: HashMap<String, String>,
    file: Option<(String, Bytes)>,
}

/// The uploaded file.
pub struct File {
    pub name: String,
    pub bytes: Bytes,
    pub format: Format,
}

impl File {
    /// A file sent as a request's whole body (the API's way): its format from `name`'s
    /// extension, else from `Content-Type`, else from its first bytes. Refused when empty, when
    /// it is a format anxin does not read, or when it is declared JSON and is not an array or
    /// object.
    pub fn from_body(
        name: Option<String>,
        headers: &axum::http::HeaderMap,
        body: Bytes,
    ) -> Result<File, ApiError> {
        if body.is_empty() {
            return Err(ApiError::bad_input(
                "请求体是空的：把文件内容作为请求体发送",
                "the body is empty: send the file's bytes as the request body",
            ));
        }
        let media = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let declared_json = matches!(media.as_str(), "application/json" | "application/x-ndjson");
        if let Some(n) = &name
            && (n.chars().count() > 200 || n.chars().any(|c| c.is_control()))
        {
            return Err(ApiError::bad_input(
                "name（文件名）须为 1–200 个字符，不含控制字符",
                "name (the file's name) must be 1–200 characters, none a control character",
            ));
        }
        let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
            let ext = match media.as_str() {
                "text/csv" | "text/plain" => "csv",
                _ if declared_json => "json",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
                _ => "",
            };
            format!("upload.{ext}")
        });
        let format = Format::detect(Path::new(&name), &body[..body.len().min(8)])
            .map_err(|e| ApiError::bad_input(e.zh(), e.en()))?;
        let first = body
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(&body)
            .iter()
            .find(|b| !b.is_ascii_whitespace());
        if (declared_json || format == Format::Json) && !matches!(first, Some(b'[' | b'{')) {
            return Err(ApiError::bad_input(
                "JSON 文件须是对象数组，或每行一个对象（NDJSON）",
                "a JSON file is an array of objects, or one object per line (NDJSON)",
            ));
        }
        Ok(File {
            name,
            bytes: body,
            format,
        })
    }
}

impl Upload {
    /// Reads every part; the file part is named `file`. `limit` is the route's body limit, for
    /// the message when a file is cut off.
    pub async fn read(mut multipart: Multipart, limit: usize) -> Result<Upload, ApiError> {
        let mut fields = HashMap::new();
        let mut file = None;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            ApiError::bad_input(
                format!("上传的表单不完整：{}", e.body_text()),
                format!("the upload is malformed: {}", e.body_text()),
            )
        })? {
            let Some(name) = field.name().map(str::to_string) else {
                continue;
            };
            if name == "file" {
                let file_name = field.file_name().unwrap_or("upload.csv").to_string();
                let bytes = field.bytes().await.map_err(|e| {
                    ApiError::bad_input(
                        format!("文件没有传完或超过 {} MiB：{}", limit >> 20, e.body_text()),
                        format!(
                            "the file did not arrive whole or is over {} MiB: {}",
                            limit >> 20,
                            e.body_text()
                        ),
                    )
                })?;
                file = Some((file_name, bytes));
            } else if let Ok(text) = field.text().await {
                fields.insert(name, text);
            }
        }
        Ok(Upload { fields, file })
    }

    /// A text field, empty when absent.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The file, once the fields have been checked: refused when none was chosen, when it is
    /// empty, or when its format is not one anxin reads.
    pub fn take_file(&mut self) -> Result<File, ApiError> {
        let (name, bytes) = self
            .file
            .take()
            .filter(|(_, b)| !b.is_empty())
            .ok_or_else(|| {
                ApiError::bad_input(
                    "没有选择文件，或文件是空的",
                    "no file was chosen, or it is empty",
                )
            })?;
        let format = Format::detect(Path::new(&name), &bytes[..bytes.len().min(8)])
            .map_err(|e| ApiError::bad_input(e.zh(), e.en()))?;
        Ok(File {
            name,
            bytes,
            format,
        })
    }
}

//! Text encodings: UTF-8 (with or without BOM) or, failing that, GB18030 (a superset of
//! GBK, which is what Chinese Excel writes as "CSV").

use std::io::{self, Read};

use encoding_rs::{DecoderResult, GB18030};

use crate::error::FileError;

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Gb18030,
}

/// Refuses UTF-16 (a BOM of FF FE or FE FF) early with a message of its own.
pub(crate) fn check_utf16(start: &[u8]) -> Result<(), FileError> {
    if start.starts_with(b"\xFF\xFE") || start.starts_with(b"\xFE\xFF") {
        return Err(FileError::Utf16);
    }
    Ok(())
}

/// Decodes a whole input: UTF-8 if it is valid UTF-8 (a BOM is dropped), else GB18030.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, FileError> {
    check_utf16(bytes)?;
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let text = match std::str::from_utf8(body) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut check = Gb18030Check::new();
            let mut out = String::new();
            check.feed(body, true, Some(&mut out))?;
            out
        }
    };
    if text.contains('\0') {
        return Err(FileError::Binary);
    }
    Ok(text)
}

/// Streaming GB18030 validation (and optionally decoding).
pub(crate) struct Gb18030Check {
    decoder: encoding_rs::Decoder,
    offset: u64,
    scratch: String,
}

impl Gb18030Check {
    pub fn new() -> Gb18030Check {
        Gb18030Check {
            decoder: GB18030.new_decoder_without_bom_handling(),
            offset: 0,
            scratch: String::new(),
        }
    }

    /// Feeds the next chunk; `last` for the final one. Appends the text to `out` if given.
    pub fn feed(
        &mut self,
        mut chunk: &[u8],
        last: bool,
        mut out: Option<&mut String>,
    ) -> Result<(), FileError> {
        loop {
            self.scratch.clear();
            let want = self
                .decoder
                .max_utf8_buffer_length_without_replacement(chunk.len().min(64 * 1024))
                .unwrap_or(256 * 1024)
                .max(16);
            self.scratch.reserve(want);
            let (result, read) =
                self.decoder
                    .decode_to_string_without_replacement(chunk, &mut self.scratch, last);
            if self.scratch.contains('\0') {
                return Err(FileError::Binary);
            }
            if let Some(out) = out.as_deref_mut() {
                out.push_str(&self.scratch);
            }
            self.offset = self.offset.saturating_add(read as u64);
            chunk = chunk.get(read..).unwrap_or(&[]);
            match result {
                DecoderResult::InputEmpty => return Ok(()),
                DecoderResult::OutputFull => continue,
                DecoderResult::Malformed(bad, extra) => {
                    let at = self
                        .offset
                        .saturating_sub(u64::from(bad))
                        .saturating_sub(u64::from(extra));
                    return Err(FileError::Encoding { offset: at });
                }
            }
        }
    }
}

/// Passes bytes through unchanged while checking that they are UTF-8 without NUL.
pub(crate) struct Utf8Probe<R> {
    inner: R,
    pending: Vec<u8>,
    valid: bool,
    nul: bool,
}

impl<R: Read> Utf8Probe<R> {
    pub fn new(inner: R) -> Utf8Probe<R> {
        Utf8Probe {
            inner,
            pending: Vec::new(),
            valid: true,
            nul: false,
        }
    }

    fn check(&mut self, bytes: &[u8]) {
        if bytes.contains(&0) {
            self.nul = true;
        }
        if !self.valid {
            return;
        }
        let joined;
        let data: &[u8] = if self.pending.is_empty() {
            bytes
        } else {
            joined = [self.pending.as_slice(), bytes].concat();
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.pending.clear(),
            Err(e) if e.error_len().is_none() => {
                // A character cut at the end of this chunk: keep its start for the next one.
                self.pending = data.get(e.valid_up_to()..).unwrap_or(&[]).to_vec();
                if self.pending.len() > 3 {
                    self.valid = false;
                }
            }
            Err(_) => self.valid = false,
        }
    }

    /// Whether everything read was UTF-8 (to the end), and whether a NUL was seen.
    pub fn finish(&self) -> (bool, bool) {
        (self.valid && self.pending.is_empty(), self.nul)
    }
}

impl<R: Read> Read for Utf8Probe<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(got) = buf.get(..n) {
            self.check(got);
        }
        Ok(n)
    }
}

/// Validates a whole stream as GB18030, chunk by chunk.
pub(crate) fn check_gb18030_stream<R: Read>(mut r: R) -> Result<(), FileError> {
    let mut check = Gb18030Check::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| FileError::Io {
            path: String::new(),
            message: e.to_string(),
        })?;
        let chunk = buf.get(..n).unwrap_or(&[]);
        check.feed(chunk, n == 0, None)?;
        if n == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(
            decode("\u{feff}姓名".as_bytes()).ok().as_deref(),
            Some("姓名")
        );
        let (gbk, _, _) = GB18030.encode("身份证号,姓名");
        assert_eq!(decode(&gbk).ok().as_deref(), Some("身份证号,姓名"));
        assert!(matches!(decode(b"\xFF\xFEa\0"), Err(FileError::Utf16)));
        assert!(matches!(
            decode(b"\xFF\xFF\xFF"),
            Err(FileError::Encoding { offset: 0 })
        ));
        assert!(matches!(
            decode(b"ab\x81\x20cd"),
            Err(FileError::Encoding { offset: 2 })
        ));
        assert!(matches!(decode(b"a\0b"), Err(FileError::Binary)));
    }

    #[test]
    fn probe_handles_split_characters() {
        let text = "身份证号,姓名\n".repeat(10);
        let mut probe = Utf8Probe::new(text.as_bytes());
        let mut buf = [0u8; 7]; // cuts characters in the middle
        while probe.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
        assert_eq!(probe.finish(), (true, false));
        let (gbk, _, _) = GB18030.encode(&text);
        let mut probe = Utf8Probe::new(&gbk[..]);
        while probe.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
        assert!(!probe.finish().0);
        assert!(check_gb18030_stream(&gbk[..]).is_ok());
    }
}

//! Checks an .xlsx container before calamine opens it, so that no file — a zip bomb, a
//! 1 GiB cell, millions of shared strings or of zip entries — makes the import hold more
//! than a bounded amount of memory.
//!
//! calamine reads the shared-strings table, the styles, the workbook and its relationships
//! whole, and holds each piece of XML markup (a tag, a run of text, a comment) and each
//! cell's value whole while it reads it. So before it runs, every part of the zip is
//! inflated once here, counting (never keeping) its bytes:
//!
//! - the container may have at most [`MAX_PARTS`] entries (counted from the central
//!   directory's signatures before the zip is even opened);
//! - `xl/sharedStrings.xml` may unpack to at most [`MAX_SHARED_STRINGS_XML`] bytes and
//!   hold at most [`MAX_SHARED_STRINGS`] strings (its `uniqueCount` too);
//! - the other parts read whole may unpack to at most [`MAX_WHOLE_PART`] bytes each;
//! - all parts together may unpack to at most [`MAX_UNPACKED`] bytes;
//! - no tag, run of text, comment, CDATA section, cell (`<c>`) or string (`<si>`, `<is>`)
//!   may be longer than [`MAX_CELL_XML`] bytes, and no DTD is allowed.
//!
//! The declared sizes are checked first, then the real ones while inflating, so a lying
//! header does not help.

use std::io::{Read, Seek, SeekFrom};

use crate::error::FileError;

/// Entries of the zip container (an Excel workbook has a few dozen).
pub(crate) const MAX_PARTS: usize = 10_000;
/// One tag, text run or cell of the XML, in bytes (a cell's value is refused by its column
/// above 4 KiB anyway; this only bounds what the parser holds).
pub(crate) const MAX_CELL_XML: u64 = 1 << 20;
/// The shared-strings table, unpacked.
pub(crate) const MAX_SHARED_STRINGS_XML: u64 = 64 << 20;
/// Strings in the shared-strings table.
pub(crate) const MAX_SHARED_STRINGS: u64 = 2_000_000;
/// The styles, the workbook and the relationships, unpacked, each.
pub(crate) const MAX_WHOLE_PART: u64 = 16 << 20;
/// All parts together, unpacked (bounds the time a zip bomb costs).
pub(crate) const MAX_UNPACKED: u64 = 4 << 30;

/// The bytes of an element's tag kept to read its name and attributes.
const TAG_KEEP: usize = 4096;

const SHARED_STRINGS: &str = "xl/sharedstrings.xml";
/// Parts calamine reads whole (names as its path cache normalizes them).
const WHOLE_PARTS: [&str; 4] = [
    "xl/styles.xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "_rels/.rels",
];

fn damaged(e: impl std::fmt::Display) -> FileError {
    FileError::Xlsx {
        message: e.to_string(),
    }
}

/// Runs every check; the reader may be anywhere and is left anywhere.
pub(crate) fn check<R: Read + Seek>(rs: &mut R) -> Result<(), FileError> {
    count_directory_entries(rs)?;
    rs.seek(SeekFrom::Start(0)).map_err(damaged)?;
    let mut zip = zip::ZipArchive::new(&mut *rs).map_err(damaged)?;
    if zip.len() > MAX_PARTS {
        return Err(FileError::XlsxTooManyParts { max: MAX_PARTS });
    }
    let mut unpacked: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        // A part that cannot even be opened cannot be read by calamine either.
        let Ok(mut part) = zip.by_index(i) else {
            continue;
        };
        let name = part.name().replace('\\', "/").to_ascii_lowercase();
        let shared = name == SHARED_STRINGS;
        let limit = if shared {
            MAX_SHARED_STRINGS_XML
        } else if WHOLE_PARTS.contains(&name.as_str()) {
            MAX_WHOLE_PART
        } else {
            MAX_UNPACKED
        };
        let too_large = || FileError::XlsxPartTooLarge {
            part: part_name(&name),
            max: limit,
        };
        if part.size() > limit {
            return Err(too_large());
        }
        let mut scanner = Scanner::new(shared);
        let mut size: u64 = 0;
        // An unreadable part: calamine fails on it as well, if it reads it at all.
        while let Ok(n) = part.read(&mut buf) {
            if n == 0 {
                break;
            }
            size = size.saturating_add(n as u64);
            unpacked = unpacked.saturating_add(n as u64);
            if size > limit {
                return Err(too_large());
            }
            if unpacked > MAX_UNPACKED {
                return Err(FileError::XlsxPartTooLarge {
                    part: "*".into(),
                    max: MAX_UNPACKED,
                });
            }
            scanner.feed(buf.get(..n).unwrap_or(&[]), &name)?;
        }
    }
    Ok(())
}

/// A part's name as shown in a message: printable ASCII, at most 80 characters.
fn part_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(80)
        .collect()
}

/// Counts the central directory's entry signatures in the whole file before the zip
/// reader builds its table of them (its memory grows with their number).
fn count_directory_entries<R: Read + Seek>(rs: &mut R) -> Result<(), FileError> {
    const SIG: [u8; 4] = *b"PK\x01\x02";
    rs.seek(SeekFrom::Start(0)).map_err(damaged)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry: Vec<u8> = Vec::with_capacity(3);
    let mut found: usize = 0;
    loop {
        let n = rs.read(&mut buf).map_err(damaged)?;
        if n == 0 {
            return Ok(());
        }
        let chunk = buf.get(..n).unwrap_or(&[]);
        // Signatures straddling two reads.
        let mut joint = carry.clone();
        joint.extend(chunk.iter().take(3));
        found = found.saturating_add(joint.windows(4).filter(|w| *w == SIG).count());
        found = found.saturating_add(chunk.windows(4).filter(|w| *w == SIG).count());
        if found > MAX_PARTS {
            return Err(FileError::XlsxTooManyParts { max: MAX_PARTS });
        }
        carry.clear();
        carry.extend(chunk.iter().skip(n.saturating_sub(3)));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Inside `<…>`; the quote byte when inside an attribute value.
    Tag {
        quote: u8,
    },
    Comment,
    Cdata,
    Pi,
}

/// A streaming look at one part's XML: lengths only, nothing kept but a tag's start.
struct Scanner {
    state: State,
    /// Bytes of the current tag, text run, comment, CDATA or processing instruction.
    run: u64,
    tag: Vec<u8>,
    last: [u8; 2],
    /// Open `<c>`, `<si>` and `<is>` elements, and the bytes since the outermost began.
    depth: u32,
    element: u64,
    shared: bool,
    strings: u64,
}

fn too_long(part: &str) -> FileError {
    FileError::XlsxCellTooLarge {
        part: part_name(part),
        max: MAX_CELL_XML,
    }
}

impl Scanner {
    fn new(shared: bool) -> Scanner {
        Scanner {
            state: State::Text,
            run: 0,
            tag: Vec::with_capacity(64),
            last: [0; 2],
            depth: 0,
            element: 0,
            shared,
            strings: 0,
        }
    }

    fn feed(&mut self, bytes: &[u8], part: &str) -> Result<(), FileError> {
        for &b in bytes {
            self.run = self.run.saturating_add(1);
            if self.depth > 0 {
                self.element = self.element.saturating_add(1);
                if self.element > MAX_CELL_XML {
                    return Err(too_long(part));
                }
            }
            match self.state {
                State::Text => {
                    if b == b'<' {
                        self.state = State::Tag { quote: 0 };
                        self.tag.clear();
                        self.run = 1;
                    }
                }
                State::Tag { quote } => {
                    if self.tag.len() < TAG_KEEP {
                        self.tag.push(b);
                    }
                    if quote != 0 {
                        if b == quote {
                            self.state = State::Tag { quote: 0 };
                        }
                    } else if self.tag == b"!--" {
                        self.state = State::Comment;
                    } else if self.tag == b"![CDATA[" {
                        self.state = State::Cdata;
                    } else if self.tag == b"?" {
                        self.state = State::Pi;
                    } else if self.tag.first() == Some(&b'!')
                        && !b"!--".starts_with(&self.tag)
                        && !b"![CDATA[".starts_with(&self.tag)
                    {
                        // A DTD (or anything else after `<!`): never in a workbook, and
                        // the one place entities could expand.
                        return Err(damaged(format!("{}: DTD", part_name(part))));
                    } else if b == b'"' || b == b'\'' {
                        self.state = State::Tag { quote: b };
                    } else if b == b'>' {
                        self.end_tag(part)?;
                        self.state = State::Text;
                        self.run = 0;
                    }
                }
                State::Comment => {
                    if b == b'>' && self.last == *b"--" {
                        self.state = State::Text;
                        self.run = 0;
                    }
                }
                State::Cdata => {
                    if b == b'>' && self.last == *b"]]" {
                        self.state = State::Text;
                        self.run = 0;
                    }
                }
                State::Pi => {
                    if b == b'>' && self.last[1] == b'?' {
                        self.state = State::Text;
                        self.run = 0;
                    }
                }
            }
            if self.run > MAX_CELL_XML {
                return Err(too_long(part));
            }
            self.last = [self.last[1], b];
        }
        Ok(())
    }

    /// A tag just ended (`self.tag` holds its start, up to and with the `>`).
    fn end_tag(&mut self, part: &str) -> Result<(), FileError> {
        let tag = self.tag.strip_suffix(b">").unwrap_or(&self.tag);
        let (closing, body) = match tag.strip_prefix(b"/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let name_end = body
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(body.len());
        let name = body.get(..name_end).unwrap_or(&[]);
        let local = match name.iter().rposition(|b| *b == b':') {
            Some(i) => name.get(i.saturating_add(1)..).unwrap_or(&[]),
            None => name,
        };
        let tracked = matches!(local, b"c" | b"si" | b"is");
        let self_closing = body.last() == Some(&b'/');
        if closing {
            if tracked && self.depth > 0 {
                self.depth -= 1;
                if self.depth == 0 {
                    self.element = 0;
                }
            }
            return Ok(());
        }
        if self.shared && local == b"si" {
            self.strings = self.strings.saturating_add(1);
            if self.strings > MAX_SHARED_STRINGS {
                return Err(FileError::XlsxTooManyStrings {
                    max: MAX_SHARED_STRINGS,
                });
            }
        }
        if self.shared && local == b"sst" {
            // calamine reserves room for `uniqueCount` strings before reading one.
            if self.run > TAG_KEEP as u64 {
                return Err(too_long(part));
            }
            if let Some(count) = attribute(body.get(name_end..).unwrap_or(&[]), b"uniqueCount") {
                let digits = count.strip_prefix(b"+").unwrap_or(count);
                let n = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok());
                let too_many = match n {
                    Some(n) => n > MAX_SHARED_STRINGS,
                    // Not a number calamine can read, unless it is all digits (an overflow).
                    None => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
                };
                if too_many {
                    return Err(FileError::XlsxTooManyStrings {
                        max: MAX_SHARED_STRINGS,
                    });
                }
            }
        }
        if tracked && !self_closing {
            if self.depth == 0 {
                self.element = self.run;
            }
            self.depth = self.depth.saturating_add(1);
        }
        Ok(())
    }
}

/// The value of the first attribute called `key` in a tag's attribute text.
fn attribute<'a>(mut attrs: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    loop {
        attrs = attrs.trim_ascii_start();
        let eq = attrs.iter().position(|b| *b == b'=')?;
        let name = attrs.get(..eq)?.trim_ascii();
        let rest = attrs.get(eq.saturating_add(1)..)?.trim_ascii_start();
        let quote = *rest.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_and_more = rest.get(1..)?;
        let end = value_and_more.iter().position(|b| *b == quote)?;
        let value = value_and_more.get(..end)?;
        if name == key {
            return Some(value);
        }
        attrs = value_and_more.get(end.saturating_add(1)..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(xml: &[u8], shared: bool) -> Result<(), FileError> {
        let mut s = Scanner::new(shared);
        // In odd pieces, as inflating hands them out.
        for chunk in xml.chunks(7) {
            s.feed(chunk, "x.xml")?;
        }
        Ok(())
    }

    #[test]
    fn ordinary_xml_passes() {
        let xml = br#"<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a&gt;b</t></is></c><c r="B1"/><!-- x --><![CDATA[<<]]></row></sheetData></worksheet>"#;
        assert!(scan(xml, false).is_ok());
    }

    #[test]
    fn a_long_text_run_a_long_cell_and_a_dtd_are_refused() {
        let mut text = b"<t>".to_vec();
        text.extend(std::iter::repeat_n(b'a', MAX_CELL_XML as usize + 1));
        assert!(matches!(
            scan(&text, false),
            Err(FileError::XlsxCellTooLarge { .. })
        ));
        // Many short runs inside one cell add up.
        let mut cell = b"<c t=\"inlineStr\"><is>".to_vec();
        for _ in 0..(MAX_CELL_XML / 16) {
            cell.extend_from_slice(b"<r><t>aaaa</t></r>");
        }
        assert!(matches!(
            scan(&cell, false),
            Err(FileError::XlsxCellTooLarge { .. })
        ));
        assert!(scan(b"<!DOCTYPE x [<!ENTITY a \"b\">]><x/>", false).is_err());
        // A quoted '>' does not end a tag.
        let mut tag = b"<c r=\">".to_vec();
        tag.extend(std::iter::repeat_n(b'a', MAX_CELL_XML as usize + 1));
        assert!(scan(&tag, false).is_err());
    }

    #[test]
    fn the_shared_string_count_is_bounded() {
        assert!(
            scan(
                br#"<sst count="3" uniqueCount="3"><si><t>a</t></si></sst>"#,
                true
            )
            .is_ok()
        );
        assert!(matches!(
            scan(br#"<sst uniqueCount = '99999999999'>"#, true),
            Err(FileError::XlsxTooManyStrings { .. })
        ));
        assert!(matches!(
            scan(br#"<x:sst uniqueCount="184467440737095516150">"#, true),
            Err(FileError::XlsxTooManyStrings { .. })
        ));
    }
}

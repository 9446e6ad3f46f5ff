//! Java `.properties` files, the syntax of WebSphere's `ltpa.keys`.
//!
//! WebSphere and Liberty write key files with `java.util.Properties.store`
//! and read them with `Properties.load` (ISO-8859-1, `\`-escapes, `\:`
//! and `\=` inside values). This module implements both directions with
//! the same semantics, so that a value such as
//! `Tue Jul 30 08\:45\:34 CDT 2013` reads back as written by Java and
//! Simul's files read back identically in Java.

use std::fmt::Write as _;

/// A syntax error in a properties file, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SyntaxError {
    /// Line number (1-based) of the logical line that failed.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a properties file into its entries, in file order.
///
/// Bytes are read as ISO-8859-1, like `Properties.load(InputStream)`.
/// A key that appears twice keeps both entries; [`get`] returns the last
/// one, which is the value Java would keep.
pub fn parse(bytes: &[u8]) -> Result<Vec<(String, String)>, SyntaxError> {
    let text: Vec<char> = bytes.iter().map(|&b| char::from(b)).collect();
    let mut entries = Vec::new();
    for (line, logical) in logical_lines(&text) {
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|message| SyntaxError { line, message })?;
        let value = unescape(value).map_err(|message| SyntaxError { line, message })?;
        entries.push((key, value));
    }
    Ok(entries)
}

/// The value of `key` in parsed entries (the last one, as in Java).
pub fn get<'a>(entries: &'a [(String, String)], key: &str) -> Option<&'a str> {
    entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Joins physical lines into logical lines (continuations with a trailing
/// odd number of backslashes), dropping blank and comment lines. Each item
/// carries the 1-based number of its first physical line.
fn logical_lines(text: &[char]) -> Vec<(usize, Vec<char>)> {
    let physical = split_physical(text);
    let mut out = Vec::new();
    let mut index = 0;
    while index < physical.len() {
        let first_line = index + 1;
        let line = skip_leading_whitespace(physical[index]);
        index += 1;
        if line.is_empty() || line[0] == '#' || line[0] == '!' {
            continue;
        }
        let mut logical = Vec::new();
        let mut current = line;
        loop {
            if ends_with_odd_backslashes(current) {
                logical.extend_from_slice(&current[..current.len() - 1]);
                if index < physical.len() {
                    current = skip_leading_whitespace(physical[index]);
                    index += 1;
                    continue;
                }
            } else {
                logical.extend_from_slice(current);
            }
            break;
        }
        out.push((first_line, logical));
    }
    out
}

fn split_physical(text: &[char]) -> Vec<&[char]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            '\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            '\r' => {
                lines.push(&text[start..i]);
                if text.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

fn skip_leading_whitespace(line: &[char]) -> &[char] {
    let skip = line.iter().take_while(|c| is_whitespace(**c)).count();
    &line[skip..]
}

fn ends_with_odd_backslashes(line: &[char]) -> bool {
    line.iter().rev().take_while(|c| **c == '\\').count() % 2 == 1
}

/// Splits a logical line at the first unescaped `=`, `:` or whitespace,
/// skipping the whitespace (and one `=` or `:`) that separates the value.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let mut key_end = line.len();
    let mut escaped = false;
    for (i, &c) in line.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_whitespace(c) {
            key_end = i;
            break;
        }
    }
    let mut value_start = key_end;
    while value_start < line.len() && is_whitespace(line[value_start]) {
        value_start += 1;
    }
    if value_start < line.len() && matches!(line[value_start], '=' | ':') {
        value_start += 1;
        while value_start < line.len() && is_whitespace(line[value_start]) {
            value_start += 1;
        }
    }
    (&line[..key_end], &line[value_start..])
}

fn unescape(chars: &[char]) -> Result<String, String> {
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&next) = chars.get(i) else {
            break;
        };
        i += 1;
        match next {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'u' => {
                let digits: String = chars.iter().skip(i).take(4).collect();
                let code = (digits.len() == 4)
                    .then(|| u32::from_str_radix(&digits, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("malformed \\uxxxx escape \"\\u{digits}\""))?;
                i += 4;
                // Java strings are UTF-16; a lone surrogate has no Rust char.
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Writes entries as `Properties.store` does: comment lines first, then
/// `key=value` lines with Java's escaping, `\n` line ends, pure ASCII.
pub fn store(comments: &[&str], entries: &[(String, String)]) -> String {
    let mut out = String::new();
    for comment in comments {
        out.push('#');
        out.push_str(comment);
        out.push('\n');
    }
    for (key, value) in entries {
        escape_into(&mut out, key, true);
        out.push('=');
        escape_into(&mut out, value, false);
        out.push('\n');
    }
    out
}

fn escape_into(out: &mut String, text: &str, is_key: bool) {
    for (index, c) in text.chars().enumerate() {
        match c {
            ' ' if index == 0 || is_key => out.push_str("\\ "),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_java_escapes_and_separators() {
        let text = b"# comment\n! other\n  a=1\nb : 2\nc 3\nd\\:e=f\\=g\nh=line\\\n    continued\nu=\\u00e9\\t\r\nlast";
        let entries = parse(text).unwrap();
        assert_eq!(get(&entries, "a"), Some("1"));
        assert_eq!(get(&entries, "b"), Some("2"));
        assert_eq!(get(&entries, "c"), Some("3"));
        assert_eq!(get(&entries, "d:e"), Some("f=g"));
        assert_eq!(get(&entries, "h"), Some("linecontinued"));
        assert_eq!(get(&entries, "u"), Some("\u{e9}\t"));
        assert_eq!(get(&entries, "last"), Some(""));
    }

    #[test]
    fn last_duplicate_wins() {
        let entries = parse(b"k=1\nk=2\n").unwrap();
        assert_eq!(get(&entries, "k"), Some("2"));
    }

    #[test]
    fn malformed_unicode_escape_names_the_line() {
        let error = parse(b"ok=1\nbad=\\u12G4\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("\\u"), "{error}");
    }

    #[test]
    fn store_round_trips_awkward_values() {
        let entries = vec![
            (
                "com.ibm.websphere.CreationDate".to_string(),
                "Tue Jul 30 08:45:34 CDT 2013".to_string(),
            ),
            ("key with space".to_string(), " leading space = : # ! \\ é\n".to_string()),
            ("b64".to_string(), "QeVYdNvQbz7jyqbF+/mR4=".to_string()),
        ];
        let text = store(&["header"], &entries);
        assert!(text.contains("CreationDate=Tue Jul 30 08\\:45\\:34 CDT 2013\n"));
        assert!(text.contains("b64=QeVYdNvQbz7jyqbF+/mR4\\=\n"));
        assert!(text.is_ascii());
        assert_eq!(parse(text.as_bytes()).unwrap(), entries);
    }
}

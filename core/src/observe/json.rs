//! The bit of JSON writing the stream needs: string escaping (RFC 8259).

use std::fmt::Write;

/// Appends `s` as a JSON string literal: quotes, backslashes and control
/// characters escaped; everything else (non-ASCII included) kept as UTF-8.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Line and paragraph separators are valid raw JSON, but not in
            // JavaScript source before ES2019: escaped for old consumers.
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

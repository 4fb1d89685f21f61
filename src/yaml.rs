//! YAML quoting: which strings print plain and how the rest are JSON-quoted so that YAML 1.1 and
//! 1.2 read them back unchanged; the template printer and the read-back reader share these rules.

/// serde_json's compact output, but with every character that YAML 1.1 and YAML 1.2 would
/// read differently (or not at all) written as a `\u` escape: DEL, the C1 controls (NEL is a
/// line break to YAML 1.1), the line and paragraph separators, the byte order mark and the
/// non-characters U+FFFE and U+FFFF. serde_json already escapes the C0 controls. Both YAML
/// versions read `\uXXXX` in a double-quoted string as that character.
struct YamlSafe;

/// Whether a character is written as an escape by [`YamlSafe`].
pub fn needs_yaml_escape(ch: char) -> bool {
    matches!(
        ch,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

impl serde_json::ser::Formatter for YamlSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if needs_yaml_escape(ch) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(ch))?;
                start = i + ch.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// A value as one line of JSON that reads back as the same value under YAML 1.1 and 1.2.
pub(crate) fn yaml_json<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(64);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, YamlSafe);
    value.serialize(&mut ser)?;
    // serde_json writes only UTF-8, and the escapes are ASCII.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Whether a string reads back as the same string when printed as a plain YAML scalar, under
/// YAML 1.2 and under the YAML 1.1 rules kubectl's parser still applies (yes/no/on/off, octal,
/// sexagesimal). Anything else is printed JSON-quoted by the auto-escaper. The reader of the
/// templates' output (readback/reader.rs) applies the same rules, from the same helpers.
pub(crate) fn plain_is_safe(text: &str) -> bool {
    const UNITS: &[&str] = &[
        "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    match text.as_bytes().first() {
        Some(first) if first.is_ascii_alphabetic() || *first == b'/' => {
            is_name(text) && !is_keyword(text)
        }
        _ => is_quantity(text, UNITS),
    }
}

/// The characters of plain names, paths, label keys and quantities: letters, digits, `._/-`.
pub(crate) fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

/// [`is_name_byte`] of every byte, looked up once per character of every key and word read back.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-');
        b += 1;
    }
    table
};

/// Non-empty, and only [`is_name_byte`] characters.
pub(crate) fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_name_byte)
}

/// A word YAML 1.1 or 1.2 reads as a boolean or null, in any case.
pub(crate) fn is_keyword(text: &str) -> bool {
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word))
}

/// A Kubernetes quantity such as 500m, 1Gi or 0.5: digits, at most one inner dot, one of `units`.
pub(crate) fn is_quantity(text: &str, units: &[&str]) -> bool {
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    text.starts_with(|c: char| c.is_ascii_digit())
        && number.matches('.').count() <= 1
        && !number.ends_with('.')
        && units.contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unambiguous_strings_are_printed_plain() {
        for plain in [
            "postgresql",
            "ReadWriteOnce",
            "1Gi",
            "500m",
            "/var/lib/postgresql/data",
            "app.kubernetes.io/name",
            "PG_HOST",
        ] {
            assert!(plain_is_safe(plain), "{plain}");
        }
        for quoted in [
            "", "yes", "No", "ON", "off", "y", "true", "null", "~", "0755", "1e3", "1:20", "2",
            "1.5", "1_000", "a: b", "a #c", "-x", ".inf", "*a", "&a", "!x", "@d", "%x", "a b", "é",
            "1.Gi", "5432",
        ] {
            assert!(!plain_is_safe(quoted), "{quoted}");
        }
    }
}

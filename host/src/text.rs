//! Free-text names people give things (display names, enterprise names): printable only. Control
//! characters, and the invisible formatting characters that make one name look like another or
//! reorder what is shown around it (bidirectional overrides, zero-width characters), are refused.

use crate::error::Error;

/// Unicode format characters (general category Cf) and other invisible code points.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

/// A trimmed name of at most `max` printable characters; `None` when empty.
pub fn name(raw: &str, field: &str, max: usize) -> Result<Option<String>, Error> {
    let name = raw.trim();
    let bad = name.chars().count() > max || name.chars().any(|c| c.is_control() || is_invisible(c));
    if bad {
        return Err(Error::InvalidRequest(format!(
            "{field}: at most {max} printable characters (no control, bidirectional or zero-width characters)"
        )));
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_pass_and_invisible_ones_are_refused() {
        assert_eq!(
            name("  Ada Lovelace ", "n", 100).unwrap().as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(name("Zoë 李", "n", 100).unwrap().as_deref(), Some("Zoë 李"));
        assert_eq!(name("  ", "n", 100).unwrap(), None);
        for bad in [
            "evil\u{202E}txt.exe",
            "ad\u{200B}min",
            "a\u{2066}b",
            "a\u{FEFF}",
            "line\nbreak",
            "tab\there",
            "\u{E0041}tag",
        ] {
            assert!(
                matches!(name(bad, "n", 100), Err(Error::InvalidRequest(_))),
                "{bad:?}"
            );
        }
        assert!(name(&"x".repeat(101), "n", 100).is_err());
    }
}

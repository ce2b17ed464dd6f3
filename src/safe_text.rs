//! The one escape function for untrusted text: every string from the store
//! passes through it before it reaches a terminal cell, in the TUI and in plain
//! CLI output alike. Control characters, escape sequences, bidi overrides and
//! invisible characters are made visible instead of being obeyed.

use std::borrow::Cow;
use std::fmt::Write;

/// True for characters that a terminal would obey or hide rather than show.
fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1, ESC and CSI among them
        || matches!(c,
            '\\'
            | '\u{00AD}'                // soft hyphen
            | '\u{034F}'                // combining grapheme joiner
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'   // line and paragraph separators
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, bidi isolates
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{FEFF}'                // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters
            | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

/// `s` with every character a terminal could act on shown as an escape:
/// `\e` for ESC, `\n`, `\r`, `\t`, `\\`, and `\u{…}` for the rest.
/// Text with nothing to escape is borrowed, not copied.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        for s in ["billing sync", "Zoë's café ☕", "東京 instance", "e\u{301}"] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn escape_sequences_are_made_visible() {
        assert_eq!(escape("\u{1b}[31mred\u{1b}[0m"), "\\e[31mred\\e[0m");
        assert_eq!(
            escape("\u{1b}]52;c;aGk=\u{7}"),
            "\\e]52;c;aGk=\\u{7}",
            "OSC 52 must not reach the terminal"
        );
        assert_eq!(escape("\u{9b}2J"), "\\u{9b}2J", "C1 CSI");
    }

    #[test]
    fn bidi_and_zero_width_characters_are_made_visible() {
        assert_eq!(escape("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(escape("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(
            escape("\u{feff}x\u{2066}y\u{2069}"),
            "\\u{feff}x\\u{2066}y\\u{2069}"
        );
    }

    #[test]
    fn line_breaks_tabs_nul_and_backslashes_are_escaped() {
        assert_eq!(escape("a\nb\rc\td\0"), "a\\nb\\rc\\td\\u{0}");
        assert_eq!(
            escape("C:\\keys"),
            "C:\\\\keys",
            "so an escape cannot be forged"
        );
    }

    #[test]
    fn no_output_contains_a_control_character() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = escape(&all);
        assert!(
            !out.chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
        );
    }
}

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
            | '\u{0600}'..='\u{0605}'   // Arabic number signs (format characters)
            | '\u{061C}'                // Arabic letter mark
            | '\u{06DD}' | '\u{070F}' | '\u{0890}' | '\u{0891}' | '\u{08E2}' // more format characters
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'   // line and paragraph separators
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, bidi isolates
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{FEFF}'                // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{110BD}' | '\u{110CD}' // Kaithi number signs
            | '\u{13430}'..='\u{1343F}' // Egyptian hieroglyph format controls
            | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
            | '\u{1D173}'..='\u{1D17A}' // musical symbol format controls
            | '\u{E0000}'..='\u{E007F}' // tag characters
            | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

/// `s` with every character a terminal could act on shown as an escape:
/// `\e` for ESC, `\n`, `\r`, `\t`, `\\`, and `\u{…}` for the rest.
/// Text with nothing to escape is borrowed, not copied.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, needs_escape)
}

/// An error message made safe for the terminal, as [`escape`] does, but with its
/// backslashes left alone: a message is read, not parsed back, and the values it
/// quotes may already be escaped (`"\u{1b}"`), which doubling would garble.
pub fn escape_message(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c != '\\' && needs_escape(c))
}

fn escape_with(s: &str, needs_escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !needs_escape(c) => out.push(c),
            '\\' => out.push_str("\\\\"),
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
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
    fn every_c1_control_bidi_isolate_zero_width_and_separator_is_escaped() {
        let hostile = ('\u{80}'..='\u{9f}')
            .chain('\u{202a}'..='\u{202e}')
            .chain('\u{2066}'..='\u{2069}')
            .chain('\u{200b}'..='\u{200f}')
            .chain([
                '\u{feff}',
                '\u{2028}',
                '\u{2029}',
                '\u{61c}',
                '\u{1bca0}',
                '\u{1d173}',
            ]);
        for c in hostile {
            let shown = escape(&format!("a{c}b")).into_owned();
            assert_eq!(
                shown,
                format!("a\\u{{{:x}}}b", u32::from(c)),
                "U+{:04X}",
                u32::from(c)
            );
            assert_eq!(escape_message(&format!("a{c}b")), shown);
        }
    }

    #[test]
    fn combining_marks_and_emoji_are_kept_but_their_joiners_are_shown() {
        assert!(matches!(
            escape("Z\u{336}a\u{301}\u{302}"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(escape("🔑 🇫🇷"), Cow::Borrowed(_)));
        assert_eq!(escape("👩\u{200d}💻"), "👩\\u{200d}💻");
        assert_eq!(escape("✈\u{fe0f}"), "✈\\u{fe0f}");
    }

    #[test]
    fn a_message_keeps_its_backslashes_and_escapes_everything_else() {
        let message = "no team named \"\\u{1b}[2J\"\u{202e}\u{1b}]50;?\u{7}";
        assert_eq!(
            escape_message(message),
            "no team named \"\\u{1b}[2J\"\\u{202e}\\e]50;?\\u{7}"
        );
        assert!(matches!(escape_message("C:\\keys"), Cow::Borrowed(_)));
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

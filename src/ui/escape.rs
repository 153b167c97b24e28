//! Text from outside (a compare file from another machine, a probe's
//! output) may hold control characters: an escape sequence that recolours or
//! clears the terminal, a bell, a newline that forges a table row, a
//! bidirectional override that reorders what is shown. Such text is shown
//! through [`printable`], which spells those characters out (`\u{1b}`);
//! the same text is then valid in an SVG too (XML forbids most controls).

/// `text` with every control and bidirectional-formatting character written
/// as `\u{…}`; other text unchanged.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_spelled_out() {
        assert_eq!(
            printable("Ubuntu\u{1b}[31mRED\u{7}\nx"),
            "Ubuntu\\u{1b}[31mRED\\u{7}\\u{a}x"
        );
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(
            printable("macOS 14.5, Apple M1 Max · CPU"),
            "macOS 14.5, Apple M1 Max · CPU"
        );
    }

    proptest::proptest! {
        #[test]
        fn nothing_printable_is_left_unsafe(s in ".*") {
            let p = printable(&s);
            proptest::prop_assert!(!p.chars().any(|c| c.is_control() || is_bidi_control(c)));
        }
    }
}

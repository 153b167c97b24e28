//! Paths under HOME as `~/…`: shorter, the same on every machine, and
//! still what a shell understands (`~` at the start of a word).

use std::path::Path;

/// `text` with HOME's path shown as `~` wherever it starts a path.
pub fn tilde(text: &str, home: Option<&Path>) -> String {
    let Some(home) = home else {
        return text.to_owned();
    };
    let home_s = home.display().to_string();
    let home_s = home_s.trim_end_matches('/');
    if home_s.len() <= 1 {
        return text.to_owned();
    }
    // Inside quotes a shell does not expand `~`: a quoted path stays whole.
    let mut out = String::with_capacity(text.len());
    for (i, piece) in text.split(home_s).enumerate() {
        if i > 0 {
            let quoted = out.ends_with('\'') || out.ends_with('"');
            let goes_on = piece
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
            out.push_str(if quoted || goes_on { home_s } else { "~" });
        }
        out.push_str(piece);
    }
    out
}

/// `word` replaced where no name goes on after it (`/Users/ada` in
/// `/Users/ada/x` but not in `/Users/adam`), nor, with `both_sides`, before it.
pub fn replace_bounded(text: &str, word: &str, with: &str, both_sides: bool) -> String {
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = if i == 0 {
            out.chars().next_back()
        } else {
            rest[..i].chars().next_back()
        };
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if (both_sides && before.is_some_and(is_name)) || after.is_some_and(is_name) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_becomes_a_tilde_only_as_a_whole_folder() {
        let home = Path::new("/Users/ada");
        assert_eq!(
            tilde(
                "/Users/ada/torch_to_the_metal and /Users/adam/x",
                Some(home)
            ),
            "~/torch_to_the_metal and /Users/adam/x"
        );
        assert_eq!(tilde("/x", None), "/x");
        assert_eq!(
            tilde("rm -rf '/Users/ada/a b'", Some(home)),
            "rm -rf '/Users/ada/a b'"
        );
    }
}

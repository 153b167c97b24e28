//! Lines that fit the terminal: a long line breaks at spaces and goes on
//! under its own text (a hanging indent), the way `flutter doctor` and
//! `brew` lay out their lists, instead of running on at column 0.

/// The terminal's width: `COLUMNS` when set (tests, `COLUMNS=80 ttm …`),
/// else the terminal's own size, else none (a pipe: no wrapping).
pub fn width_from(columns: Option<&str>, terminal: Option<usize>) -> Option<usize> {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
        .or(terminal)
}

/// The width to wrap `ttm`'s own lines to (see [`width_from`]).
pub fn terminal_width(sys: &crate::system::System) -> Option<usize> {
    let terminal = if sys.stdout_is_terminal() {
        console::Term::stdout()
            .size_checked()
            .map(|(_, cols)| cols as usize)
    } else {
        None
    };
    width_from(sys.var(crate::env_vars::COLUMNS).as_deref(), terminal)
}

/// The visible width of `s`: characters, not counting ANSI colour codes.
pub fn visible_width(s: &str) -> usize {
    console::measure_text_width(s)
}

/// `text` broken at spaces to fit `width` columns: the first line as it
/// starts, the next ones indented by `indent` columns. A word longer than a
/// line stays whole (a path or a URL is never cut). Without a width, as is.
pub fn hanging(text: &str, indent: usize, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_owned();
    };
    if visible_width(text) <= width || width <= indent + 10 {
        return text.to_owned();
    }
    let pad = " ".repeat(indent);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut line_w = 0;
    // The leading spaces and marks of the first line stay as they are.
    let lead_len = text.len() - text.trim_start().len();
    let (lead, rest) = text.split_at(lead_len);
    line.push_str(lead);
    line_w += visible_width(lead);
    let mut first_word = true;
    for word in rest.split(' ') {
        let w = visible_width(word);
        if !first_word && line_w + 1 + w > width {
            lines.push(std::mem::take(&mut line));
            line.push_str(&pad);
            line.push_str(word);
            line_w = indent + w;
        } else {
            if !first_word {
                line.push(' ');
                line_w += 1;
            }
            line.push_str(word);
            line_w += w;
        }
        first_word = false;
    }
    lines.push(line);
    lines
        .into_iter()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_hang_under_their_text() {
        let text =
            "✗ Environment       the venv /Users/ada/torch_to_the_metal/.venv does not exist yet";
        let wrapped = hanging(text, 20, Some(66));
        assert_eq!(
            wrapped,
            "✗ Environment       the venv /Users/ada/torch_to_the_metal/.venv\n                    does not exist yet"
        );
        for l in wrapped.lines() {
            assert!(visible_width(l) <= 66, "{l}");
        }
    }

    #[test]
    fn short_lines_pipes_and_long_words_stay_whole() {
        assert_eq!(hanging("a b c", 2, Some(80)), "a b c");
        let long = "x ".repeat(60);
        assert_eq!(hanging(&long, 2, None), long);
        let url = format!("fix: {}", "u".repeat(90));
        assert_eq!(
            hanging(&url, 5, Some(40)),
            format!("fix:\n     {}", "u".repeat(90))
        );
    }

    #[test]
    fn the_width_comes_from_columns_then_the_terminal() {
        assert_eq!(width_from(Some("80"), Some(120)), Some(80));
        assert_eq!(width_from(Some("junk"), Some(120)), Some(120));
        assert_eq!(width_from(None, None), None);
    }
}

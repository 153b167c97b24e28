//! What a project name may be, and what follows from it (title, chapter
//! number). The name becomes three folder names (`notebooks/NAME`,
//! `data/NAME`, `models/NAME`), so it must be one safe path component on
//! every file system a reader may copy the workspace to: no separators, no
//! dots, no upper case (macOS folders ignore case), no names Windows reserves.

/// What a valid name looks like, for every refusal message.
pub const NAME_RULE: &str = "a name is 1 to 64 characters: lower-case letters a-z, digits, '-' and '_', starting with a letter or digit (e.g. chapter-4)";

pub const MAX_LEN: usize = 64;

/// Names Windows will not accept as a file or folder name.
const WINDOWS_RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// `Ok` when `name` matches `^[a-z0-9][a-z0-9_-]{0,63}$` and is not reserved;
/// otherwise what is wrong with it, in one line that ends with [`NAME_RULE`].
pub fn validate_name(name: &str) -> Result<(), String> {
    let problem = name_problem(name);
    match problem {
        None => Ok(()),
        Some(p) => Err(format!("invalid name {}: {p}; {NAME_RULE}", quoted(name))),
    }
}

fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if WINDOWS_RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Some("Windows reserves it for a device".into());
    }
    let chars = name.chars().count();
    if chars > MAX_LEN {
        return Some(format!("it has {chars} characters"));
    }
    if name.contains('/') || name.contains('\\') {
        return Some("it contains a path separator".into());
    }
    if name.starts_with('.') {
        return Some("it starts with a dot".into());
    }
    if let Some(c) = name.chars().find(|c| !c.is_ascii()) {
        return Some(format!("{c:?} is not ASCII"));
    }
    if name.chars().any(char::is_whitespace) {
        return Some("it contains a space".into());
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        let lower = name.to_ascii_lowercase();
        return Some(if name_problem(&lower).is_none() {
            format!("it has upper-case letters (try {lower})")
        } else {
            "it has upper-case letters".into()
        });
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Some(format!("{c:?} is not allowed"));
    }
    if name.starts_with(['-', '_']) {
        return Some("it starts with a dash or an underscore".into());
    }
    None
}

/// The name as it goes into a message: visible even when empty or spaced.
fn quoted(name: &str) -> String {
    format!("{name:?}")
}

/// "chapter-4" → "Chapter 4", "my_first-net" → "My First Net".
pub fn title_from_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The chapter number in a name: the first run of digits ("chapter-4" → "4",
/// "ch04-tensors" → "4"), or "" when it has none.
pub fn chapter_number(name: &str) -> String {
    let digits: String = name
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.trim_start_matches('0') {
        "" if digits.is_empty() => String::new(),
        "" => "0".into(),
        n => n.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_book_names() {
        for n in ["chapter-4", "ch04", "4", "my_first-net", &"a".repeat(64)] {
            assert_eq!(validate_name(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn refuses_each_bad_name_with_the_rule() {
        let long = "a".repeat(65);
        let cases = [
            ("../x", "separator"),
            ("/abs", "separator"),
            (".hidden", "dot"),
            ("", "empty"),
            (long.as_str(), "65 characters"),
            ("a/b", "separator"),
            ("CON", "Windows"),
            ("lpt9", "Windows"),
            ("chapter 4", "space"),
            ("kapitel-ü", "not ASCII"),
            ("Chapter-4", "try chapter-4"),
            ("-x", "dash"),
            ("a.b", "'.' is not allowed"),
        ];
        for (name, why) in cases {
            let err = validate_name(name).unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
            assert!(err.ends_with(NAME_RULE), "{name}: {err}");
            assert!(!err.contains('\n'), "{name}: {err}");
        }
    }

    #[test]
    fn titles_and_numbers() {
        assert_eq!(title_from_name("chapter-4"), "Chapter 4");
        assert_eq!(title_from_name("my_first-net"), "My First Net");
        assert_eq!(chapter_number("chapter-4"), "4");
        assert_eq!(chapter_number("ch04-tensors-2"), "4");
        assert_eq!(chapter_number("ch00"), "0");
        assert_eq!(chapter_number("tensors"), "");
    }

    proptest! {
        #[test]
        fn valid_exactly_when_the_pattern_matches(name in "\\PC{0,70}") {
            let pattern = name.len() <= MAX_LEN
                && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            let reserved = WINDOWS_RESERVED.contains(&name.as_str());
            prop_assert_eq!(validate_name(&name).is_ok(), pattern && !reserved);
        }

        #[test]
        fn names_from_the_alphabet(name in "[a-z0-9][a-z0-9_-]{0,63}") {
            let reserved = WINDOWS_RESERVED.contains(&name.as_str());
            prop_assert_eq!(validate_name(&name).is_ok(), !reserved);
        }
    }
}

//! The variables a template is rendered with. Built-in ones come from the
//! name, the manifest, git and the clock; a template declares its own in
//! `template.toml`; `-d key=value` sets any of them. A required variable that
//! is still empty is asked for at a terminal, and otherwise refused with the
//! `-d` to pass (cargo-generate's order: defines first, then prompts).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::scaffold::name::{chapter_number, title_from_name};
use crate::scaffold::template::Template;
use crate::system::{Cmd, System};
use crate::ui::Prompter;

/// The variables every template gets, with what each holds.
pub const BUILT_IN_VARIABLES: [(&str, &str); 9] = [
    ("name", "the project's name (the NAME argument)"),
    (
        "title",
        "a title from the name: chapter-4 gives \"Chapter 4\"",
    ),
    ("chapter", "the number in the name (\"4\"), or empty"),
    (
        "topic",
        "what main.py and the notebook teach: tensors for chapter 4, else fit (section 3.5)",
    ),
    (
        "device",
        "the device main.py uses: auto (mps, then cuda, then cpu), mps, cuda or cpu",
    ),
    ("python", "the environment's Python version, from ttm.toml"),
    ("author", "`git config user.name`, or empty"),
    ("date", "today, YYYY-MM-DD"),
    ("template", "the template's name"),
];

pub const DEVICES: [&str; 4] = ["auto", "mps", "cuda", "cpu"];

/// What the chapter template holds, by topic: `tensors` (the book's chapter
/// 4), `fit` (the Linear(1, 1) fit of section 3.5, a chapter's starting point).
pub const TOPICS: [&str; 2] = ["fit", "tensors"];

/// The topic of a chapter, from its number: the book's chapter 4 is tensors
/// (its chapter 3 ends "beginning with the most fundamental concept of all —
/// tensors"); any other starts from the fit.
pub fn topic_of_chapter(chapter: &str) -> &'static str {
    match chapter {
        "4" => "tensors",
        _ => "fit",
    }
}

/// `-d key=value` arguments, checked: each has `=` and a key of
/// lower-case letters, digits and `_`. A later one wins.
pub fn parse_defines(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut defines = BTreeMap::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(Error::bad_input(format!(
                "-d {arg:?} has no '=': write -d key=value, e.g. -d author=\"Ada Lovelace\""
            )));
        };
        let key = key.trim();
        let key_ok = key
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(Error::bad_input(format!(
                "-d {arg:?}: {key:?} is not a variable name (lower-case letters, digits and '_'): write -d key=value"
            )));
        }
        if key == "name" {
            return Err(Error::bad_input(
                "-d name=…: the name is the NAME argument, `ttm scaffold new NAME`",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::bad_input(format!(
                "-d {key}=…: the value holds a control character (a newline, a tab, an escape…); a value is one line of text"
            )));
        }
        defines.insert(key.to_owned(), value.to_owned());
    }
    Ok(defines)
}

/// Facts from outside the command line that variables default to.
#[derive(Debug, Clone)]
pub struct Sources {
    pub python: String,
    pub today: String,
}

/// Every variable for rendering `template` as `name`: defaults, then the
/// defines, then answers to prompts for required values still empty.
pub fn collect(
    sys: &System,
    prompter: &Prompter,
    template: &Template,
    name: &str,
    defines: &BTreeMap<String, String>,
    sources: &Sources,
) -> Result<BTreeMap<String, String>> {
    let spec = &template.metadata;
    for key in defines.keys() {
        let known =
            BUILT_IN_VARIABLES.iter().any(|(k, _)| k == key) || spec.variables.contains_key(key);
        if !known {
            let mut names: Vec<&str> = BUILT_IN_VARIABLES.iter().map(|(k, _)| *k).collect();
            names.extend(spec.variables.keys().map(String::as_str));
            return Err(Error::bad_input(format!(
                "-d {key}=…: the template {} has no variable {key:?}; its variables are {} (a template declares its own under [variables] in template.toml)",
                template.name,
                names.join(", ")
            )));
        }
    }

    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    vars.insert("name".into(), name.into());
    vars.insert("title".into(), title_from_name(name));
    let chapter = chapter_number(name);
    vars.insert("topic".into(), topic_of_chapter(&chapter).into());
    vars.insert("chapter".into(), chapter);
    vars.insert("device".into(), "auto".into());
    vars.insert("python".into(), sources.python.clone());
    vars.insert("date".into(), sources.today.clone());
    vars.insert("template".into(), template.name.clone());
    if !defines.contains_key("author") {
        vars.insert("author".into(), git_user_name(sys));
    }
    for (key, v) in &spec.variables {
        vars.insert(key.clone(), v.default.clone().unwrap_or_default());
    }
    for (key, value) in defines {
        vars.insert(key.clone(), value.clone());
    }

    let device = &vars["device"];
    if !DEVICES.contains(&device.as_str()) {
        return Err(Error::bad_input(format!(
            "-d device={device}: the device is one of {}",
            DEVICES.join(", ")
        )));
    }
    let topic = &vars["topic"];
    if !TOPICS.contains(&topic.as_str()) {
        return Err(Error::bad_input(format!(
            "-d topic={topic}: the topic is one of {}",
            TOPICS.join(", ")
        )));
    }
    check_kinds(template, &vars)?;

    let mut required: Vec<&str> = spec.required.iter().map(String::as_str).collect();
    required.extend(
        spec.variables
            .iter()
            .filter(|(_, v)| v.default.is_none())
            .map(|(k, _)| k.as_str()),
    );
    for key in required {
        if vars.get(key).is_none_or(|v| v.trim().is_empty()) {
            let value = ask(prompter, template, key)?;
            vars.insert(key.to_owned(), value);
        }
    }
    check_kinds(template, &vars)?;
    Ok(vars)
}

fn check_kinds(template: &Template, vars: &BTreeMap<String, String>) -> Result<()> {
    for (key, spec) in &template.metadata.variables {
        let value = vars.get(key).map(String::as_str).unwrap_or_default();
        if value.is_empty() {
            continue;
        }
        if let Err(why) = spec.check(value) {
            return Err(Error::bad_input(format!(
                "-d {key}={value}: {why} (template {})",
                template.name
            )));
        }
    }
    Ok(())
}

/// A required value: from the person at the terminal, or a refusal that says
/// which `-d` to pass.
fn ask(prompter: &Prompter, template: &Template, key: &str) -> Result<String> {
    let what = template
        .metadata
        .variables
        .get(key)
        .map(|v| v.description.clone())
        .filter(|d| !d.is_empty())
        .or_else(|| {
            BUILT_IN_VARIABLES
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, d)| (*d).to_owned())
        })
        .unwrap_or_default();
    if !prompter.interactive {
        let why = if prompter.assume_yes {
            "and --yes has no answer for it"
        } else {
            "and there is no terminal to ask on"
        };
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" ({what})")
        };
        return Err(Error::bad_input(format!(
            "the template {} needs a value for {key}{what} {why}: pass -d {key}=VALUE",
            template.name
        )));
    }
    let kind = template
        .metadata
        .variables
        .get(key)
        .map(|v| v.kind)
        .unwrap_or_default();
    let prompt = if what.is_empty() {
        key.to_owned()
    } else {
        format!("{key} ({what})")
    };
    prompter.input(&prompt, "", move |s: &str| {
        if s.trim().is_empty() {
            return Err("a value is needed".into());
        }
        kind.check(s)
    })
}

/// `git config user.name`, or "" when git is missing or the name unset.
fn git_user_name(sys: &System) -> String {
    sys.run(
        &Cmd::new("git")
            .args(["config", "user.name"])
            .timeout(Duration::from_secs(5)),
    )
    .ok()
    .filter(|o| o.success())
    .map(|o| o.stdout_text().trim().to_owned())
    .unwrap_or_default()
}

/// Today's date, YYYY-MM-DD, in local time from `date +%F`, else in UTC
/// from the system clock.
pub fn today(sys: &System) -> String {
    let local = sys
        .run(&Cmd::new("date").arg("+%F").timeout(Duration::from_secs(5)))
        .ok()
        .filter(|o| o.success())
        .map(|o| o.stdout_text().trim().to_owned())
        .filter(|d| is_iso_date(d));
    local.unwrap_or_else(|| crate::calendar::utc_date(crate::calendar::unix_now()))
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defines_need_an_equals_sign_and_a_name() {
        let d = parse_defines(&["author=Ada = L".into(), "device=cpu".into()]).unwrap();
        assert_eq!(d["author"], "Ada = L");
        assert!(parse_defines(&["author".into()])
            .unwrap_err()
            .to_string()
            .contains("no '='"));
        assert!(parse_defines(&["=x".into()]).is_err());
        assert!(parse_defines(&["Bad-Key=x".into()]).is_err());
        assert!(parse_defines(&["name=x".into()]).is_err());
    }

    #[test]
    fn chapter_4_is_tensors_as_in_the_book() {
        assert_eq!(topic_of_chapter(&chapter_number("chapter-4")), "tensors");
        assert_eq!(topic_of_chapter(&chapter_number("ch04-tensors")), "tensors");
        assert_eq!(topic_of_chapter(&chapter_number("chapter-3")), "fit");
        assert_eq!(topic_of_chapter(&chapter_number("chapter-14")), "fit");
        assert_eq!(topic_of_chapter(&chapter_number("mnist")), "fit");
        assert!(TOPICS.iter().all(|t| BUILT_IN_VARIABLES[3].1.contains(t)));
    }

    #[test]
    fn civil_dates() {
        assert!(is_iso_date("2026-11-25"));
        assert!(!is_iso_date("25/11/2026"));
    }
}

//! The packages: names the user gives (checked before anything runs, since
//! they end up as arguments of pip), `requirements.txt` rendered from its
//! Tera template, and `requirements.lock` read back for `--from`.
//!
//! A name follows PEP 508 (letters, digits, `.`, `_`, `-`, starting and
//! ending with a letter or digit), optionally with extras and a version
//! specifier: `numpy`, `pandas>=2.1`, `torch==2.5.1`, `black[jupyter]~=24.1`.
//! Anything else, shell metacharacters above all, is refused with exit 2.

use std::path::Path;

use crate::error::{Error, Result};

const TEMPLATE: &str = include_str!("../../templates/requirements.txt.tera");

/// Render `requirements.txt` (Tera, autoescape off). `torch`: the PyTorch
/// lines, pinned for a Mac (`torch==2.2.2`, …, `numpy<2`) or bare names.
pub fn render_requirements(torch: &[String], extra: &[String], notebook: bool) -> Result<String> {
    let mut context = tera::Context::new();
    context.insert("torch", torch);
    context.insert("torch_pinned", &torch.iter().any(|l| l.contains("==")));
    context.insert("extra", extra);
    context.insert("notebook", &notebook);
    let mut text = tera::Tera::one_off(TEMPLATE, &context, false)
        .map_err(|e| Error::failed(format!("cannot render requirements.txt: {e}")))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Split `--packages "a b"` into checked requirement strings.
pub fn parse_packages(list: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for word in list.split_whitespace() {
        check_requirement(word).map_err(|why| {
            Error::bad_input(format!(
                "--packages: {word:?} is not a package: {why} (give names like `numpy` or `pandas>=2.1`, separated by spaces)"
            ))
        })?;
        if !out.iter().any(|p| p == word) {
            out.push(word.to_owned());
        }
    }
    Ok(out)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if let Some(bad) = name.chars().find(|&c| !is_name_char(c)) {
        return Err(format!("{bad:?} cannot appear in a package name"));
    }
    let first = name.chars().next().unwrap_or('-');
    let last = name.chars().last().unwrap_or('-');
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err("a name starts and ends with a letter or digit".into());
    }
    Ok(())
}

/// One requirement: NAME, NAME[extra,...], then optional `OP VERSION` clauses
/// joined by commas. No spaces, no markers, no URLs.
pub fn check_requirement(spec: &str) -> std::result::Result<(), String> {
    if let Some(bad) = spec
        .chars()
        .find(|&c| !(is_name_char(c) || "[],<>=!~*+".contains(c)))
    {
        return Err(format!("{bad:?} is not allowed in a package requirement"));
    }
    let name_end = spec.find(|c: char| !is_name_char(c)).unwrap_or(spec.len());
    check_name(&spec[..name_end])?;
    let mut rest = &spec[name_end..];
    if let Some(after) = rest.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| "an extras list `[` is not closed".to_owned())?;
        for extra in after[..close].split(',') {
            check_name(extra)?;
        }
        rest = &after[close + 1..];
    }
    if rest.is_empty() {
        return Ok(());
    }
    for clause in rest.split(',') {
        let op_len = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"]
            .iter()
            .find(|op| clause.starts_with(*op))
            .map(|op| op.len())
            .ok_or_else(|| {
                format!("{clause:?} is not a version clause such as >=2.1 or ==2.5.1")
            })?;
        let version = &clause[op_len..];
        if version.is_empty()
            || !version.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '_' | '-')
            })
        {
            return Err(format!("{version:?} is not a version"));
        }
    }
    Ok(())
}

/// Read a lock file (`pip freeze` output): every line is `name==version`,
/// `name @ url` (a package installed from a file or VCS), a comment or blank.
/// Returns the requirement lines; a broken line is exit 2 naming its number.
pub fn parse_lock(text: &str, path: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        check_lock_line(line).map_err(|why| Error::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "line {}: {line:?} is not a locked package ({why}); a lock line is `name==version`, as `pip freeze` writes it",
                i + 1
            ),
        })?;
        out.push(line.to_owned());
    }
    Ok(out)
}

fn check_lock_line(line: &str) -> std::result::Result<(), String> {
    if let Some((name, url)) = line.split_once(" @ ") {
        check_name(name.trim())?;
        let url = url.trim();
        if url.is_empty() || url.contains(char::is_whitespace) || !url.contains("://") {
            return Err("the URL after `@` is not a URL".into());
        }
        return Ok(());
    }
    let (name, version) = line
        .split_once("==")
        .ok_or_else(|| "no `==version`".to_owned())?;
    check_name(name)?;
    if version.is_empty()
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '_' | '-'))
    {
        return Err(format!("{version:?} is not a version"));
    }
    Ok(())
}

/// `--python`: `3.N` or `3.N.P`, a Python some PyTorch in ttm's
/// compatibility table has wheels for.
pub fn check_python_version(v: &str) -> Result<()> {
    python_version_problem(v).map_or(Ok(()), |why| {
        Err(Error::bad_input(format!("--python {why}")))
    })
}

/// What is wrong with `v` as a Python version, said without naming a flag
/// (a prompt asks for it too); None when it is fine.
pub fn python_version_problem(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()));
    if !(numeric && (parts.len() == 2 || parts.len() == 3) && parts[0] == "3") {
        return Some(format!("{v:?} is not a Python version: give one like 3.11"));
    }
    let (lo, hi) = crate::compat::python_minors();
    let minor: u32 = parts[1].parse().unwrap_or(0);
    if !(lo..=hi).contains(&minor) {
        return Some(format!(
            "PyTorch has no wheels for Python 3.{minor}: give one from 3.{lo} to 3.{hi}"
        ));
    }
    None
}

/// The major.minor part of a version ("3.11.7" -> "3.11").
pub fn minor_version(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// `--env-name`: what conda accepts as an environment name.
pub fn check_env_name(name: &str) -> Result<()> {
    env_name_problem(name).map_or(Ok(()), |why| {
        Err(Error::bad_input(format!("--env-name {why}")))
    })
}

/// What is wrong with `name` as an environment name, said without naming
/// a flag (a prompt asks for it too); None when it is fine.
pub fn env_name_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    (!ok).then(|| {
        format!(
            "{name:?} is not an environment name: use letters, digits, `.`, `_` and `-`, e.g. torch_metal"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_and_bad_requirements() {
        for ok in [
            "numpy",
            "pandas>=2.1",
            "torch==2.5.1",
            "black[jupyter]~=24.1",
            "a",
            "x>=1,<2",
            "scikit-learn",
        ] {
            assert!(check_requirement(ok).is_ok(), "{ok}");
        }
        for bad in [
            "numpy;rm",
            "$(reboot)",
            "a|b",
            "-e",
            "numpy>",
            "`x`",
            "a&&b",
            "pkg>=1 2",
            "[x]",
            "n[x",
            "x==1;y",
        ] {
            assert!(check_requirement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packages_are_split_and_checked() {
        assert_eq!(
            parse_packages(" numpy  pandas>=2 numpy").unwrap(),
            ["numpy", "pandas>=2"]
        );
        let err = parse_packages("numpy rm;-rf").unwrap_err();
        assert_eq!(err.code(), 2);
        assert!(err.to_string().contains("rm;-rf"), "{err}");
    }

    #[test]
    fn lock_lines() {
        let text = "# frozen\ntorch==2.5.1\n\nmy-pkg @ file:///tmp/my_pkg\nnumpy==2.1.0\n";
        assert_eq!(
            parse_lock(text, Path::new("requirements.lock")).unwrap(),
            [
                "torch==2.5.1",
                "my-pkg @ file:///tmp/my_pkg",
                "numpy==2.1.0"
            ]
        );
        let err = parse_lock("torch==2.5.1\nnumpy>=2\n", Path::new("r.lock")).unwrap_err();
        assert_eq!(err.code(), 2);
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(parse_lock("-e git+https://x/y#egg=y\n", Path::new("r")).is_err());
        assert!(parse_lock("torch==2.5; rm -rf /\n", Path::new("r")).is_err());
    }

    #[test]
    fn python_versions_and_env_names() {
        for ok in ["3.10", "3.12.4", "3.9"] {
            assert!(check_python_version(ok).is_ok(), "{ok}");
        }
        for bad in ["three", "3", "2.7", "3.x", "3.10.1.2", "", "3..1"] {
            assert!(check_python_version(bad).is_err(), "{bad}");
        }
        assert_eq!(minor_version("3.11.7"), "3.11");
        assert!(check_env_name("torch_metal").is_ok());
        assert!(check_env_name("a b").is_err());
        assert!(check_env_name("-n").is_err());
    }

    #[test]
    fn versions_outside_the_compatibility_table_are_refused_without_a_flag_named() {
        for bad in ["3.99", "3.7", "3.15.0"] {
            let why = python_version_problem(bad).unwrap();
            assert!(why.contains("PyTorch has no wheels"), "{why}");
            assert!(!why.contains("--"), "{why}");
        }
        let err = check_python_version("3.99").unwrap_err().to_string();
        assert!(err.starts_with("--python "), "{err}");
        assert_eq!(python_version_problem("3.14"), None);
        assert!(!env_name_problem("bad name!")
            .unwrap()
            .contains("--env-name"));
    }

    #[test]
    fn template_renders_the_choices() {
        let names: Vec<String> = crate::manifest::BASE_PACKAGES
            .iter()
            .map(|p| p.to_string())
            .collect();
        let plain = render_requirements(&names, &[], false).unwrap();
        assert!(
            plain.contains("\ntorch\ntorchvision\ntorchaudio\n"),
            "{plain}"
        );
        assert!(!plain.contains("jupyterlab"));
        let full = render_requirements(&names, &["pandas>=2".to_owned()], true).unwrap();
        let intel = render_requirements(&crate::compat::INTEL_MAC.pins(), &[], false).unwrap();
        assert!(
            intel.contains("\ntorch==2.2.2\n") && intel.contains("\nnumpy<2\n"),
            "{intel}"
        );
        assert!(full.contains("jupyterlab\nipykernel\n"), "{full}");
        assert!(full.ends_with("pandas>=2\n"), "{full}");
        assert!(!full.contains("&gt;"), "autoescape must be off: {full}");
    }

    proptest! {
        #[test]
        fn checks_never_panic(s in "\\PC*") {
            let _ = check_requirement(&s);
            let _ = parse_lock(&s, Path::new("r"));
            let _ = check_python_version(&s);
            let _ = parse_packages(&s);
        }

        #[test]
        fn accepted_requirements_have_no_shell_metacharacters(s in "[ -~]{0,20}") {
            if check_requirement(&s).is_ok() {
                let shell = |c: char| ";&|$`'\"\\ (){}".contains(c);
                prop_assert!(!s.chars().any(shell), "accepted {:?}", s);
            }
        }
    }
}

//! Templates: the built-in ones, embedded in the binary, and the user's own in
//! `<workspace>/templates/<name>/`. A user folder with a built-in's name
//! overrides that template file by file (its `template.toml`, if any, replaces
//! the metadata); any other user folder is a new template.
//!
//! A template is a folder of files plus `template.toml` (description, required
//! variables, the template's own variables). Where each file goes is decided
//! in `render`; this module only gathers them, refusing symbolic links so a
//! template cannot pull in files from elsewhere on the disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::scaffold::name::validate_name;
use crate::system::System;
use crate::workspace::Workspace;

/// The metadata file of every template.
pub const METADATA_FILE: &str = "template.toml";
pub const DEFAULT_TEMPLATE: &str = "chapter";

/// A file of a built-in template: (template, path inside it, contents).
struct BuiltInFile(&'static str, &'static str, &'static str);

macro_rules! built_in {
    ($template:literal, $path:literal) => {
        BuiltInFile(
            $template,
            $path,
            include_str!(concat!("../../templates/", $template, "/", $path)),
        )
    };
}

/// Every file under `templates/` (a unit test checks the list is complete).
const BUILT_IN: &[BuiltInFile] = &[
    built_in!("chapter", "template.toml"),
    built_in!("chapter", "README.md"),
    built_in!("chapter", "main.py"),
    built_in!("chapter", "notebook.cells"),
    built_in!("training", "template.toml"),
    built_in!("training", "README.md"),
    built_in!("training", "main.py"),
    built_in!("training", "notebook.cells"),
    built_in!("training", "data/README.md"),
];

/// `template.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// One line for `ttm scaffold list`.
    #[serde(default)]
    pub description: String,
    /// Variables that must not be empty.
    #[serde(default)]
    pub required: Vec<String>,
    /// The template's own variables, beside the built-in ones.
    #[serde(default)]
    pub variables: BTreeMap<String, VariableSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    #[serde(default)]
    pub description: String,
    /// Without a default, the variable is required.
    pub default: Option<String>,
    #[serde(default)]
    pub kind: VariableKind,
    /// The smallest value an integer or number may take.
    pub min: Option<f64>,
    /// The largest value an integer or number may take.
    pub max: Option<f64>,
}

impl VariableSpec {
    /// Why `value` does not fit this variable (its kind, then its range), if it does not.
    pub fn check(&self, value: &str) -> std::result::Result<(), String> {
        self.kind.check(value)?;
        if self.kind == VariableKind::Text {
            return Ok(());
        }
        let Ok(v) = value.parse::<f64>() else {
            return Ok(());
        };
        match (self.min, self.max) {
            (Some(min), Some(max)) if v < min || v > max => {
                Err(format!("expected a value from {min} to {max}"))
            }
            (Some(min), _) if v < min => Err(format!("expected at least {min}")),
            (_, Some(max)) if v > max => Err(format!("expected at most {max}")),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    #[default]
    Text,
    Integer,
    Number,
}

impl VariableKind {
    /// Why `value` is not of this kind, if it is not.
    pub fn check(self, value: &str) -> std::result::Result<(), String> {
        match self {
            VariableKind::Text => Ok(()),
            VariableKind::Integer => value
                .parse::<i64>()
                .map(drop)
                .map_err(|_| "expected a whole number, e.g. 10".into()),
            VariableKind::Number => match value.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(()),
                _ => Err("expected a number, e.g. 0.001".into()),
            },
        }
    }
}

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    BuiltIn,
    User,
    /// Built in, with some files (or the metadata) replaced by the user's.
    Overridden,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::BuiltIn => "built-in",
            Source::User => "user",
            Source::Overridden => "built-in, overridden",
        }
    }
}

/// One file of a template, read into memory.
#[derive(Debug, Clone)]
pub struct TemplateFile {
    /// Its path inside the template, with `/` separators.
    pub path: String,
    pub contents: Vec<u8>,
    /// Where it came from, for messages: a real path, or `built-in:…`.
    pub origin: PathBuf,
    pub from_user: bool,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub metadata: Metadata,
    /// Sorted by path; `template.toml` is not among them.
    pub files: Vec<TemplateFile>,
    pub source: Source,
    /// The user's `template.toml` replaced the built-in one.
    pub metadata_from_user: bool,
}

impl Template {
    /// Paths whose user file replaced a built-in file.
    pub fn overridden_files(&self) -> Vec<String> {
        if self.source != Source::Overridden {
            return Vec::new();
        }
        let built_in: Vec<&str> = BUILT_IN
            .iter()
            .filter(|f| f.0 == self.name)
            .map(|f| f.1)
            .collect();
        let mut paths: Vec<String> = self
            .files
            .iter()
            .filter(|f| f.from_user && built_in.contains(&f.path.as_str()))
            .map(|f| f.path.clone())
            .collect();
        if built_in.contains(&METADATA_FILE) && self.metadata_from_user {
            paths.push(METADATA_FILE.into());
        }
        paths.sort();
        paths
    }
}

/// The names of the built-in templates, sorted.
pub fn built_in_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = BUILT_IN.iter().map(|f| f.0).collect();
    names.sort();
    names.dedup();
    names
}

/// The names of the user's template folders (valid names only), sorted.
fn user_names(sys: &System, ws: &Workspace) -> Result<Vec<String>> {
    Ok(user_folders(sys, ws)?.0)
}

/// Entries of the user's templates folder that are not templates, each
/// with the reason (for a warning from `ttm scaffold list`).
pub fn ignored_user_folders(sys: &System, ws: &Workspace) -> Result<Vec<(String, &'static str)>> {
    Ok(user_folders(sys, ws)?.1)
}

/// (valid template folder names, other entries with why), each sorted.
#[allow(clippy::type_complexity)]
fn user_folders(
    sys: &System,
    ws: &Workspace,
) -> Result<(Vec<String>, Vec<(String, &'static str)>)> {
    refuse_linked_folder(sys, ws)?;
    let dir = ws.templates();
    let entries = match sys.read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::io("cannot read", dir, e)),
    };
    let (mut names, mut ignored) = (Vec::new(), Vec::new());
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot read", &dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = sys.symlink_metadata(&entry.path()) else {
            continue;
        };
        if name.starts_with('.') || meta.is_file() {
            continue;
        }
        if meta.file_type().is_symlink() {
            ignored.push((name, "it is a symbolic link, and ttm does not follow links in templates: copy the folder in instead"));
        } else if validate_name(&name).is_err() {
            ignored.push((name, "its folder name must follow the rule for project names (lower-case letters, digits, '-' and '_')"));
        } else {
            names.push(name);
        }
    }
    names.sort();
    ignored.sort();
    Ok((names, ignored))
}

/// `<workspace>/templates` itself a symbolic link: refused, as setup and
/// the workspace lock refuse it (ttm reads templates only from inside).
fn refuse_linked_folder(sys: &System, ws: &Workspace) -> Result<()> {
    let dir = ws.templates();
    if sys.is_link(&dir) {
        return Err(Error::BadWorkspace {
            path: ws.root().to_path_buf(),
            reason: format!(
                "templates is a symbolic link; ttm does not follow links in templates: make {} a folder",
                dir.display()
            ),
        });
    }
    Ok(())
}

/// A template that does not load or parse: its name and why.
pub type Broken = (String, Error);

/// Every template, built-in and the user's, sorted by name, each loaded
/// and its files parsed; the broken ones apart, each with its error (one
/// broken template does not hide the others from `ttm scaffold list`).
pub fn load_all(sys: &System, ws: &Workspace) -> Result<(Vec<Template>, Vec<Broken>)> {
    let mut names: Vec<String> = built_in_names().into_iter().map(String::from).collect();
    names.extend(user_names(sys, ws)?);
    names.sort();
    names.dedup();
    let (mut good, mut broken) = (Vec::new(), Vec::new());
    for name in names {
        match load(sys, ws, &name).and_then(|t| super::render::check(&t).map(|()| t)) {
            Ok(t) => good.push(t),
            Err(e) => broken.push((name, e)),
        }
    }
    Ok((good, broken))
}

/// The template `name`, with the user's files over the built-in ones.
/// An unknown name is bad input that lists the known ones.
pub fn load(sys: &System, ws: &Workspace, name: &str) -> Result<Template> {
    refuse_linked_folder(sys, ws)?;
    let user_dir = ws.templates().join(name);
    let user_meta = sys.symlink_metadata(&user_dir).ok();
    if validate_name(name).is_ok()
        && user_meta
            .as_ref()
            .is_some_and(|m| m.file_type().is_symlink())
    {
        return Err(Error::BadFile {
            path: user_dir,
            message: "is a symbolic link; ttm does not follow links in templates: copy the folder in instead".into(),
        });
    }
    let has_user = validate_name(name).is_ok() && user_meta.is_some_and(|m| m.is_dir());
    let built_in: Vec<&BuiltInFile> = BUILT_IN.iter().filter(|f| f.0 == name).collect();
    if built_in.is_empty() && !has_user {
        let mut known: Vec<String> = built_in_names().into_iter().map(String::from).collect();
        known.extend(user_names(sys, ws)?);
        known.sort();
        known.dedup();
        return Err(Error::bad_input(format!(
            "unknown template {name:?}: the templates are {} (see `ttm scaffold list`)",
            known.join(", ")
        )));
    }

    let mut files: BTreeMap<String, TemplateFile> = BTreeMap::new();
    let mut metadata_text: Option<(String, PathBuf)> = None;
    for f in &built_in {
        let origin = PathBuf::from(format!("built-in:{}/{}", f.0, f.1));
        if f.1 == METADATA_FILE {
            metadata_text = Some((f.2.to_owned(), origin));
            continue;
        }
        files.insert(
            f.1.to_owned(),
            TemplateFile {
                path: f.1.to_owned(),
                contents: f.2.as_bytes().to_vec(),
                origin,
                from_user: false,
            },
        );
    }
    let mut metadata_from_user = false;
    if has_user {
        for (path, origin) in walk_user_template(sys, &user_dir)? {
            let contents = sys.read(&origin)?;
            if path == METADATA_FILE {
                let text = String::from_utf8(contents).map_err(|_| Error::BadFile {
                    path: origin.clone(),
                    message: "is not UTF-8 text".into(),
                })?;
                metadata_text = Some((text, origin));
                metadata_from_user = true;
                continue;
            }
            files.insert(
                path.clone(),
                TemplateFile {
                    path,
                    contents,
                    origin,
                    from_user: true,
                },
            );
        }
    }
    let metadata = match metadata_text {
        Some((text, origin)) => parse_metadata(&text, &origin)?,
        None => Metadata::default(),
    };
    let source = match (built_in.is_empty(), has_user) {
        (false, false) => Source::BuiltIn,
        (true, _) => Source::User,
        (false, true) => Source::Overridden,
    };
    Ok(Template {
        name: name.to_owned(),
        metadata,
        files: files.into_values().collect(),
        source,
        metadata_from_user,
    })
}

pub fn parse_metadata(text: &str, origin: &Path) -> Result<Metadata> {
    toml::from_str::<Metadata>(text).map_err(|e| Error::BadFile {
        path: origin.to_path_buf(),
        message: format!(
            "not a valid {METADATA_FILE}: {}",
            e.message().lines().next().unwrap_or_default()
        ),
    })
}

/// Every file under a user's template folder: (path with `/`, real path).
/// Symbolic links are refused, not followed; `.DS_Store` is skipped.
fn walk_user_template(sys: &System, root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = sys
            .read_dir(&dir)
            .map_err(|e| Error::io("cannot read", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot read", &dir, e))?;
            let path = entry.path();
            let meta = sys
                .symlink_metadata(&path)
                .map_err(|e| Error::io("cannot read", &path, e))?;
            if entry.file_name() == ".DS_Store" || (entry.file_name() == ".git" && meta.is_dir()) {
                continue;
            }
            if meta.file_type().is_symlink() {
                return Err(Error::BadFile {
                    path,
                    message: "is a symbolic link; a template holds plain files only (copy the file in instead)".into(),
                });
            }
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let parts: Option<Vec<&str>> = relative
                    .components()
                    .map(|c| c.as_os_str().to_str())
                    .collect();
                let Some(parts) = parts else {
                    return Err(Error::BadFile {
                        path,
                        message: "has a name that is not UTF-8; rename it".into(),
                    });
                };
                found.push((parts.join("/"), path));
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys() -> System {
        System::from_parts(
            [("PATH", "/usr/bin:/bin"), ("HOME", "/nonexistent-home")],
            std::env::temp_dir(),
        )
    }

    #[test]
    fn the_built_in_table_lists_every_file_under_templates() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk = Vec::new();
        for name in std::fs::read_dir(&root).unwrap() {
            let name = name.unwrap().file_name().into_string().unwrap();
            // Files beside the folders are not chapter templates
            // (requirements.txt.tera is setup's).
            if !root.join(&name).is_dir() {
                continue;
            }
            for (path, _) in walk_user_template(&sys(), &root.join(&name)).unwrap() {
                on_disk.push(format!("{name}/{path}"));
            }
        }
        on_disk.sort();
        let mut table: Vec<String> = BUILT_IN
            .iter()
            .map(|f| format!("{}/{}", f.0, f.1))
            .collect();
        table.sort();
        assert_eq!(on_disk, table);
    }

    #[test]
    fn every_built_in_template_has_metadata_with_a_description() {
        let ws = Workspace::at("/nonexistent-ttm-workspace");
        for name in built_in_names() {
            let t = load(&sys(), &ws, name).unwrap();
            assert!(!t.metadata.description.is_empty(), "{name}");
            assert!(!t.metadata.description.contains('\n'), "{name}");
            assert_eq!(t.source, Source::BuiltIn);
            assert!(t.files.iter().any(|f| f.path == "notebook.cells"), "{name}");
        }
        assert!(built_in_names().contains(&DEFAULT_TEMPLATE));
    }

    #[test]
    fn kinds_check_values() {
        assert!(VariableKind::Integer.check("10").is_ok());
        assert!(VariableKind::Integer.check("ten").is_err());
        assert!(VariableKind::Number.check("1e-3").is_ok());
        assert!(VariableKind::Number.check("inf").is_err());
        assert!(VariableKind::Text.check("").is_ok());
    }

    #[test]
    fn metadata_with_unknown_keys_is_refused() {
        let err = parse_metadata("descripton = \"x\"", Path::new("t.toml")).unwrap_err();
        assert!(err.to_string().contains("descripton"), "{err}");
    }

    proptest::proptest! {
        /// A user's template.toml, any bytes: parsed or refused, never a panic.
        #[test]
        fn any_metadata_parses_or_is_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_metadata(&String::from_utf8_lossy(&bytes), Path::new("template.toml"));
        }
    }
}

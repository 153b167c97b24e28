//! Rendering, all in memory: every template file through Tera (autoescaping
//! off: these are Python, Markdown and notebooks, not HTML), then placed at
//! its destination in the workspace. Nothing touches the disk here; the
//! writer (`write`) takes the result or nothing.
//!
//! Where files go, for a project NAME:
//! - `notebook.cells` → `notebooks/NAME/NAME.ipynb`, a notebook built as JSON
//!   whose cell sources come from the rendered file (cells begin at lines
//!   `# %%` for code and `# %% [markdown]` for Markdown, as in jupytext);
//! - `data/…` → `data/NAME/…` and `models/…` → `models/NAME/…`;
//! - everything else → `notebooks/NAME/…`.
//!
//! Files that are not UTF-8 text are copied as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::scaffold::template::{Template, TemplateFile};

pub const NOTEBOOK_CELLS: &str = "notebook.cells";

/// The three folders a project gets, in the order they are written.
pub const PROJECT_FOLDERS: [&str; 3] = ["notebooks", "data", "models"];

/// A file ready to write: where (relative to the workspace) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedFile {
    pub dest: PathBuf,
    pub contents: Vec<u8>,
}

/// The most one file of a template may render to.
pub const MAX_FILE_BYTES: usize = 16 << 20;
/// The most all files of a template may render to together.
pub const MAX_TOTAL_BYTES: usize = 32 << 20;

/// The most memory a render may hold at once (`crate::alloc_budget`).
pub const MAX_RENDER_MEMORY: usize = 256 << 20;
/// How long a render may take, unless `TTM_RENDER_TIMEOUT` says otherwise.
pub const DEFAULT_RENDER_TIMEOUT: Duration = Duration::from_secs(30);

/// `TTM_RENDER_TIMEOUT` as a duration: a positive number of seconds.
pub fn render_timeout(sys: &crate::system::System) -> Result<Duration> {
    let var = crate::env_vars::TTM_RENDER_TIMEOUT;
    match sys.var_non_empty(var) {
        None => Ok(DEFAULT_RENDER_TIMEOUT),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
            _ => Err(Error::bad_input(format!(
                "{var}={v:?} is not a number of seconds between 0 and 3600: set it to e.g. 30, or unset it"
            ))),
        },
    }
}

/// The fix of a render past its bounds, in the `--json` error document.
const FIX: &str = "fix the template: bound its loops and the values it builds";

/// [`render_project`], bounded in memory ([`MAX_RENDER_MEMORY`]) and in time:
/// past either, ttm stops at once with one line naming `shown` (the
/// template's folder), exit 2. Nothing is written before the render ends,
/// so nothing is left half-written.
pub fn render_bounded(
    template: &Template,
    name: &str,
    vars: &BTreeMap<String, String>,
    shown: &Path,
    timeout: Duration,
) -> Result<Vec<RenderedFile>> {
    let done = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let slow = format!(
        "{}: took more than {} s to render (a loop that runs too often?): fix the template",
        shown.display(),
        timeout.as_secs_f64()
    );
    std::thread::scope(|scope| {
        let watch = done.clone();
        scope.spawn(move || {
            let (lock, cvar) = &*watch;
            let Ok(guard) = lock.lock() else { return };
            let Ok((finished, _)) = cvar.wait_timeout_while(guard, timeout, |d| !*d) else {
                return;
            };
            if !*finished {
                if let Some(doc) = crate::ui::pipe::fatal_doc(&slow, FIX) {
                    crate::ui::pipe::out_line(doc);
                }
                crate::ui::pipe::err_line(format!("error: {slow}"));
                std::process::exit(2);
            }
        });
        let result = {
            let big = format!(
                "{}: needs more than {} MiB of memory to render (a value that grows \
                 without end?): fix the template",
                shown.display(),
                MAX_RENDER_MEMORY >> 20
            );
            let doc = crate::ui::pipe::fatal_doc(&big, FIX);
            let _budget = crate::alloc_budget::Budget::arm(MAX_RENDER_MEMORY, &big, doc);
            render_project(template, name, vars)
        };
        let (lock, cvar) = &*done;
        if let Ok(mut d) = lock.lock() {
            *d = true;
        }
        cvar.notify_all();
        result
    })
}

/// Parse every file of `template` (syntax, includes, recursion), render nothing.
pub fn check(template: &Template) -> Result<()> {
    compile(template).map(|_| ())
}

/// Every text file of `template` parsed into one sandboxed Tera, with the
/// texts it was made from.
fn compile(template: &Template) -> Result<(tera::Tera, Vec<(&TemplateFile, &str)>)> {
    let mut tera = super::sandbox::tera();
    let texts: Vec<(&TemplateFile, &str)> = template
        .files
        .iter()
        .filter_map(|f| std::str::from_utf8(&f.contents).ok().map(|t| (f, t)))
        .collect();
    // All at once, so that files may include or extend each other.
    tera.add_raw_templates(texts.iter().map(|(f, t)| (f.path.as_str(), *t)))
        .map_err(|e| {
            let top = e.to_string();
            let culprit = texts
                .iter()
                .find(|(f, _)| top.contains(&format!("'{}'", f.path)))
                .or(texts.first())
                .map(|(f, _)| *f);
            match culprit {
                Some(f) => template_error(f, &e),
                None => Error::failed(top),
            }
        })?;
    if let Some((name, cycle)) = super::sandbox::find_recursion(&tera) {
        let origin = texts
            .iter()
            .find(|(f, _)| f.path == name)
            .map(|(f, _)| f.origin.clone())
            .unwrap_or_else(|| PathBuf::from(&name));
        return Err(Error::BadFile {
            path: origin,
            message: format!(
                "recursion, which would never end: {cycle}; ttm refuses templates that include, import or call themselves"
            ),
        });
    }
    Ok((tera, texts))
}

/// A writer that takes at most `left` bytes, then fails (Tera stops there).
struct Bounded {
    buf: Vec<u8>,
    left: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.len() > self.left {
            return Err(std::io::Error::other("over the size limit"));
        }
        self.left -= data.len();
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Render every file of `template` for the project `name`; refused when a
/// file renders to more than [`MAX_FILE_BYTES`] or all to more than
/// [`MAX_TOTAL_BYTES`] (stopped as it passes the bound, nothing written).
pub fn render_project(
    template: &Template,
    name: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Vec<RenderedFile>> {
    let (tera, texts) = compile(template)?;
    let mut context = tera::Context::new();
    for (k, v) in vars {
        context.insert(k.as_str(), v);
    }

    let python = vars.get("python").map(String::as_str).unwrap_or_default();
    let mut rendered: Vec<RenderedFile> = Vec::new();
    let mut total = 0usize;
    let too_big = |file: &TemplateFile, what: String| Error::BadFile {
        path: file.origin.clone(),
        message: format!("{what}: a loop that runs too often? ttm writes no file that large"),
    };
    for file in &template.files {
        let left = MAX_FILE_BYTES.min(MAX_TOTAL_BYTES - total);
        let contents = if texts.iter().any(|(f, _)| f.path == file.path) {
            let mut out = Bounded {
                buf: Vec::new(),
                left,
            };
            if let Err(e) = tera.render_to(&file.path, &context, &mut out) {
                if out.left == 0 || is_over_limit(&e) {
                    return Err(if left == MAX_FILE_BYTES {
                        too_big(
                            file,
                            format!("renders to more than {} MiB", MAX_FILE_BYTES >> 20),
                        )
                    } else {
                        too_big(
                            file,
                            format!(
                                "the template's files together render to more than {} MiB",
                                MAX_TOTAL_BYTES >> 20
                            ),
                        )
                    });
                }
                return Err(template_error(file, &e));
            }
            let text = String::from_utf8(out.buf).map_err(|_| Error::BadFile {
                path: file.origin.clone(),
                message: "renders to text that is not UTF-8".into(),
            })?;
            if file.path == NOTEBOOK_CELLS {
                notebook_json(&split_cells(&text), python).into_bytes()
            } else {
                text.into_bytes()
            }
        } else {
            file.contents.clone()
        };
        if contents.len() > left {
            return Err(too_big(
                file,
                format!(
                    "the template's files together are more than {} MiB",
                    MAX_TOTAL_BYTES >> 20
                ),
            ));
        }
        total += contents.len();
        let dest = destination(&file.path, name);
        if let Some(earlier) = rendered.iter().find(|r| r.dest == dest) {
            return Err(Error::BadFile {
                path: file.origin.clone(),
                message: format!(
                    "would be written to {}, as another file of the template already is: rename one",
                    earlier.dest.display()
                ),
            });
        }
        rendered.push(RenderedFile { dest, contents });
    }
    rendered.sort_by(|a, b| a.dest.cmp(&b.dest));
    Ok(rendered)
}

/// Whether Tera stopped because [`Bounded`] refused more.
fn is_over_limit(err: &tera::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(s) = source {
        if s.to_string().contains("over the size limit") {
            return true;
        }
        source = s.source();
    }
    false
}

/// Where a template file goes, relative to the workspace.
pub fn destination(path: &str, name: &str) -> PathBuf {
    if path == NOTEBOOK_CELLS {
        return Path::new("notebooks")
            .join(name)
            .join(format!("{name}.ipynb"));
    }
    for folder in ["data", "models"] {
        if let Some(rest) = path.strip_prefix(folder).and_then(|r| r.strip_prefix('/')) {
            return Path::new(folder).join(name).join(rest);
        }
    }
    Path::new("notebooks").join(name).join(path)
}

/// A Tera error as one line naming the template file: an undefined variable
/// by its name, a syntax error by its position.
fn template_error(file: &TemplateFile, err: &tera::Error) -> Error {
    let mut chain = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    let undefined = chain.iter().find_map(|m| {
        let rest = m.strip_prefix("Variable `")?;
        let (var, tail) = rest.split_once('`')?;
        tail.starts_with(" not found in context")
            .then(|| var.to_owned())
    });
    let message = match undefined {
        Some(var) => format!(
            "the template uses the variable `{var}`, which is not defined: pass -d {var}=VALUE, or declare it under [variables] in template.toml"
        ),
        None => {
            let last = chain.last().map(String::as_str).unwrap_or_default();
            match syntax_error(last) {
                Some(syntax) => format!("syntax error {syntax}"),
                None => format!("cannot render: {}", last.lines().next().unwrap_or_default()),
            }
        }
    };
    Error::BadFile {
        path: file.origin.clone(),
        message,
    }
}

/// A parser message (`--> 1:12`, a drawing, `= expected …`) as
/// "at line 1, column 12: expected …".
fn syntax_error(message: &str) -> Option<String> {
    let position = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))?;
    let (line, column) = position.trim().split_once(':')?;
    let expected = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("unexpected text");
    Some(format!("at line {line}, column {column}: {expected}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellKind {
    Code,
    Markdown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub kind: CellKind,
    pub source: String,
}

/// Split rendered `notebook.cells` text into cells. Text before the first
/// marker is a code cell if it is not blank; blank lines around each cell's
/// text are dropped.
pub fn split_cells(text: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut kind = CellKind::Code;
    let mut lines: Vec<&str> = Vec::new();
    let mut started = false;
    let mut flush = |kind: &CellKind, lines: &mut Vec<&str>, started: bool| {
        let body = lines.join("\n");
        let body = body.trim_matches('\n').trim_end().to_owned();
        if started || !body.trim().is_empty() {
            cells.push(Cell {
                kind: kind.clone(),
                source: body,
            });
        }
        lines.clear();
    };
    for line in text.lines() {
        let marker = match line.trim_end() {
            "# %%" => Some(CellKind::Code),
            "# %% [markdown]" => Some(CellKind::Markdown),
            _ => None,
        };
        match marker {
            Some(next) => {
                flush(&kind, &mut lines, started);
                kind = next;
                started = true;
            }
            None => lines.push(line),
        }
    }
    flush(&kind, &mut lines, started);
    cells
}

/// An nbformat 4.5 notebook: cell ids, `outputs: []` and
/// `execution_count: null` on code cells, kernelspec and language_info.
/// Keys are in Jupyter's (sorted) order, indented by one space as Jupyter
/// writes them, so the file diffs cleanly after a save.
pub fn notebook_json(cells: &[Cell], python_version: &str) -> String {
    let cells: Vec<Value> = cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let mut c = Map::new();
            c.insert(
                "cell_type".into(),
                json!(match cell.kind {
                    CellKind::Code => "code",
                    CellKind::Markdown => "markdown",
                }),
            );
            if cell.kind == CellKind::Code {
                c.insert("execution_count".into(), Value::Null);
            }
            c.insert("id".into(), json!(format!("cell-{}", i + 1)));
            c.insert("metadata".into(), json!({}));
            if cell.kind == CellKind::Code {
                c.insert("outputs".into(), json!([]));
            }
            c.insert("source".into(), json!(source_lines(&cell.source)));
            Value::Object(c)
        })
        .collect();
    let notebook = json!({
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3"
            },
            "language_info": {
                "codemirror_mode": {"name": "ipython", "version": 3},
                "file_extension": ".py",
                "mimetype": "text/x-python",
                "name": "python",
                "nbconvert_exporter": "python",
                "pygments_lexer": "ipython3",
                "version": python_version
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5
    });
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&notebook, &mut ser).expect("a JSON value always serialises");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// Jupyter's form of a source: lines, each but the last keeping its "\n".
fn source_lines(source: &str) -> Vec<String> {
    source.split_inclusive('\n').map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_at_markers() {
        let cells = split_cells("# %% [markdown]\n# Title\n\ntext\n\n# %%\nx = 1\ny = 2\n\n# %%\n");
        assert_eq!(
            cells,
            vec![
                Cell {
                    kind: CellKind::Markdown,
                    source: "# Title\n\ntext".into()
                },
                Cell {
                    kind: CellKind::Code,
                    source: "x = 1\ny = 2".into()
                },
                Cell {
                    kind: CellKind::Code,
                    source: "".into()
                },
            ]
        );
        assert_eq!(split_cells("print(1)\n")[0].source, "print(1)");
        assert!(split_cells("\n\n").is_empty());
    }

    #[test]
    fn notebook_has_the_keys_of_nbformat_4_5() {
        let cells = split_cells("# %% [markdown]\nhi\n# %%\nx = 1\ny = 2\n");
        let nb: Value = serde_json::from_str(&notebook_json(&cells, "3.11")).unwrap();
        assert_eq!(nb["nbformat"], 4);
        assert_eq!(nb["nbformat_minor"], 5);
        assert_eq!(nb["metadata"]["language_info"]["version"], "3.11");
        let code = &nb["cells"][1];
        assert_eq!(code["outputs"], json!([]));
        assert!(code["execution_count"].is_null());
        assert_eq!(code["source"], json!(["x = 1\n", "y = 2"]));
        assert!(nb["cells"][0].get("outputs").is_none());
        assert_ne!(nb["cells"][0]["id"], code["id"]);
    }

    proptest::proptest! {
        /// Any text makes a notebook that parses, whose sources join back
        /// to the cell texts, and never a panic.
        #[test]
        fn any_cells_text_makes_a_valid_notebook(text in "(# %%( \\[markdown\\])?\n|[^\r]{0,20}\n){0,12}") {
            let cells = split_cells(&text);
            let nb: Value = serde_json::from_str(&notebook_json(&cells, "3.10")).unwrap();
            let back = nb["cells"].as_array().unwrap();
            proptest::prop_assert_eq!(back.len(), cells.len());
            for (cell, json) in cells.iter().zip(back) {
                let joined: String = json["source"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
                    .collect();
                proptest::prop_assert_eq!(&joined, &cell.source);
            }
        }
    }

    #[test]
    fn destinations() {
        assert_eq!(
            destination("notebook.cells", "ch4"),
            Path::new("notebooks/ch4/ch4.ipynb")
        );
        assert_eq!(
            destination("main.py", "ch4"),
            Path::new("notebooks/ch4/main.py")
        );
        assert_eq!(
            destination("data/README.md", "ch4"),
            Path::new("data/ch4/README.md")
        );
        assert_eq!(
            destination("models/x/y.txt", "ch4"),
            Path::new("models/ch4/x/y.txt")
        );
        assert_eq!(
            destination("database.py", "ch4"),
            Path::new("notebooks/ch4/database.py")
        );
    }

    proptest::proptest! {
        /// However a render writes (chunks of any size), what is kept never
        /// passes the bound, and the writer refuses exactly when it would.
        #[test]
        fn the_bounded_writer_keeps_at_most_its_bound(
            chunks in proptest::collection::vec(0usize..64, 0..40),
            left in 0usize..600,
        ) {
            use std::io::Write;
            let mut out = Bounded { buf: Vec::new(), left };
            let mut sent = 0usize;
            for n in chunks {
                let data = vec![b'x'; n];
                match out.write(&data) {
                    Ok(k) => { proptest::prop_assert_eq!(k, n); sent += n; }
                    Err(_) => { proptest::prop_assert!(sent + n > left); break; }
                }
            }
            proptest::prop_assert!(out.buf.len() <= left);
            proptest::prop_assert_eq!(out.buf.len(), sent);
        }
    }

    #[test]
    fn a_render_past_the_bound_is_refused() {
        let file = |path: &str, text: &str| TemplateFile {
            path: path.into(),
            contents: text.as_bytes().to_vec(),
            origin: PathBuf::from(format!("t/{path}")),
            from_user: true,
        };
        let template = Template {
            name: "t".into(),
            metadata: Default::default(),
            files: vec![file(
                "main.py",
                "{% for i in range(end=10000) %}{% for j in range(end=2000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
            )],
            source: crate::scaffold::template::Source::User,
            metadata_from_user: false,
        };
        let err = render_project(&template, "p", &BTreeMap::new()).unwrap_err();
        assert!(
            err.to_string().contains("renders to more than 16 MiB"),
            "{err}"
        );
        assert_eq!(err.code(), 2);
    }
}

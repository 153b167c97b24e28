//! `ttm scaffold`: a chapter project from a template, all or nothing.
//!
//! The recipe (cargo-generate's order), in [`plan_project`] then [`write_plan`]:
//! 1. check the name and the `-d` values (bad input: exit 2, nothing written);
//! 2. read `ttm.toml` (the Python version; a broken one is refused) and make
//!    sure the name is free, ignoring case, and every destination is inside
//!    the workspace;
//! 3. load the template (built-in, overridden by the user's files);
//! 4. gather the variables, asking for missing required ones at a terminal;
//! 5. render every file in memory (`render`);
//! 6. write it all through the one writer (`write`), which also records the
//!    chapter in `ttm.toml` as its last step, or removes everything it made.
//!
//! A workspace that does not exist yet is created with the book's folders as
//! part of the same write, since the folders are all a project needs.

pub mod name;
pub mod render;
pub mod sandbox;
pub mod template;
pub mod vars;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::EnvKind;
use crate::error::{Error, Result};
use crate::manifest::{self, Chapter, Environment, Manifest, DEFAULT_ENV_NAME, DEFAULT_PYTHON};
use crate::system::System;
use crate::ui::Prompter;
use crate::workspace::Workspace;

pub use render::RenderedFile;
pub use template::Template;

/// What `ttm scaffold new` was asked for.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: String,
    pub template: String,
    pub defines: Vec<String>,
}

/// Everything decided and rendered, nothing written yet.
#[derive(Debug, Clone)]
pub struct ChapterPlan {
    pub name: String,
    pub template: Template,
    pub variables: BTreeMap<String, String>,
    /// Relative to the workspace, sorted.
    pub files: Vec<RenderedFile>,
    /// Folders the write will create (the workspace itself, `data`…), absolute.
    pub new_folders: Vec<PathBuf>,
    /// The manifest as it will be saved, and whether one exists now.
    pub manifest: Manifest,
    pub manifest_exists: bool,
    /// The user edited `ttm.toml` since ttm wrote it: theirs is kept and
    /// ttm's version (the chapter recorded) goes beside it, `ttm.toml.new`,
    /// as setup does.
    pub manifest_kept: bool,
}

/// Where ttm's version of `ttm.toml` goes when the user's is kept.
pub fn manifest_beside(ws: &Workspace) -> PathBuf {
    ws.root().join("ttm.toml.new")
}

impl ChapterPlan {
    /// The three project folders, relative to the workspace.
    pub fn project_folders(&self) -> Vec<PathBuf> {
        render::PROJECT_FOLDERS
            .iter()
            .map(|f| Path::new(f).join(&self.name))
            .collect()
    }
}

/// Steps 1 to 5: check, gather, render. Writes nothing.
pub fn plan_project(
    sys: &System,
    prompter: &Prompter,
    ws: &Workspace,
    request: &NewProject,
) -> Result<ChapterPlan> {
    name::validate_name(&request.name).map_err(Error::bad_input)?;
    let defines = vars::parse_defines(&request.defines)?;
    ws.check_usable()?;

    let existing = Manifest::load(sys, &ws.manifest())?;
    let manifest_exists = existing.is_some();
    // A record ttm cannot read (a folder in its way) tells nothing: the
    // write, which rewrites it too, fails then and puts everything back.
    let manifest_kept = manifest_exists && manifest::user_changed(sys, ws).unwrap_or(false);
    if let Some(taken) = find_taken(sys, ws, &request.name)? {
        return Err(Error::bad_input(format!(
            "the name {} is taken: {taken} exists (names are compared ignoring case); choose another name",
            request.name
        )));
    }
    write::check_destinations(sys, ws.root(), &request.name)?;

    let template = template::load(sys, ws, &request.template)?;
    let today = vars::today(sys);
    let mut manifest = existing.unwrap_or_else(|| {
        Manifest::new(Environment {
            kind: EnvKind::Venv,
            name: DEFAULT_ENV_NAME.to_owned(),
            python: DEFAULT_PYTHON.to_owned(),
        })
    });
    let sources = vars::Sources {
        python: manifest.environment.python.clone(),
        today: today.clone(),
    };
    let variables = vars::collect(sys, prompter, &template, &request.name, &defines, &sources)?;
    let timeout = render::render_timeout(sys)?;
    let shown = match template.source {
        template::Source::BuiltIn => {
            PathBuf::from(format!("the built-in template {}", template.name))
        }
        _ => ws.templates().join(&template.name),
    };
    let files = render::render_bounded(&template, &request.name, &variables, &shown, timeout)?;

    if manifest_kept {
        // The chapters an earlier run put in ttm.toml.new stay recorded there.
        if let Ok(Some(beside)) = Manifest::load(sys, &manifest_beside(ws)) {
            for (name, chapter) in beside.chapters {
                manifest.chapters.entry(name).or_insert(chapter);
            }
        }
    }
    manifest.ttm_version = env!("CARGO_PKG_VERSION").to_owned();
    manifest.chapters.insert(
        request.name.clone(),
        Chapter {
            template: template.name.clone(),
            created: today,
        },
    );
    Ok(ChapterPlan {
        name: request.name.clone(),
        template,
        variables,
        files,
        new_folders: write::folders_to_create(sys, ws.root()),
        manifest,
        manifest_exists,
        manifest_kept,
    })
}

/// An entry of `notebooks`, `data` or `models` that is `name` ignoring case.
fn find_taken(sys: &System, ws: &Workspace, name: &str) -> Result<Option<String>> {
    for folder in render::PROJECT_FOLDERS {
        let dir = ws.root().join(folder);
        let entries = match sys.read_dir(&dir) {
            Ok(e) => e,
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            let entry_name = entry.file_name();
            if entry_name.to_string_lossy().eq_ignore_ascii_case(name) {
                return Ok(Some(format!("{folder}/{}", entry_name.to_string_lossy())));
            }
        }
    }
    Ok(None)
}

/// Step 6: write the plan, then record the chapter in `ttm.toml`; on any
/// failure, the workspace is left as it was.
pub fn write_plan(sys: &System, ws: &Workspace, plan: &ChapterPlan) -> Result<()> {
    let save_manifest = || {
        if plan.manifest_kept {
            let beside = manifest_beside(ws);
            let before = Before::read(sys, &beside);
            return sys
                .write_atomic(&beside, plan.manifest.to_toml().as_bytes())
                .inspect_err(|_| before.restore(sys, &beside));
        }
        let before = ManifestFiles::read(sys, ws);
        plan.manifest
            .save(sys, ws)
            .inspect_err(|_| before.restore(sys, ws))
    };
    write::write_project(sys, ws.root(), &plan.name, &plan.files, save_manifest)
}

/// `ttm.toml` and ttm's record of it as they were, to put back on failure.
struct ManifestFiles {
    manifest: Before,
    record: Before,
    missing_dirs: Vec<PathBuf>,
}

/// A file as it was before the write.
enum Before {
    Absent,
    Bytes(Vec<u8>),
    /// It could not be read (a folder in its place…): leave it alone.
    Unreadable,
}

impl Before {
    fn read(sys: &System, path: &Path) -> Before {
        match sys.read_optional(path) {
            Ok(None) => Before::Absent,
            Ok(Some(bytes)) => Before::Bytes(bytes),
            Err(_) => Before::Unreadable,
        }
    }

    fn restore(&self, sys: &System, path: &Path) {
        let _ = match self {
            Before::Bytes(bytes) => sys.write_atomic(path, bytes),
            Before::Absent => sys.remove_file(path),
            Before::Unreadable => Ok(()),
        };
    }
}

impl ManifestFiles {
    fn read(sys: &System, ws: &Workspace) -> ManifestFiles {
        let record = manifest::written_record(ws);
        let mut missing_dirs = Vec::new();
        let mut dir = record.parent();
        while let Some(d) = dir {
            if d == ws.root() || sys.symlink_metadata(d).is_ok() {
                break;
            }
            missing_dirs.push(d.to_path_buf());
            dir = d.parent();
        }
        ManifestFiles {
            manifest: Before::read(sys, &ws.manifest()),
            record: Before::read(sys, &record),
            missing_dirs,
        }
    }

    fn restore(&self, sys: &System, ws: &Workspace) {
        self.manifest.restore(sys, &ws.manifest());
        self.record.restore(sys, &manifest::written_record(ws));
        for dir in &self.missing_dirs {
            let _ = sys.remove_dir(dir);
        }
    }
}

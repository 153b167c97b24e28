//! `ttm bench compare FILE…`: files saved by `ttm bench --save`, one label
//! per machine, the rows in the book's section 3.7 layout, and the
//! `--json` document of the comparison.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::results::BenchDoc;
use super::table::{book_rows, compare_rows, platform_label, CompareRow};
use crate::error::{Error, Result};
use crate::system::System;

/// Saved results, each with the name it was given on the command line.
#[derive(Debug, Clone)]
pub struct SavedResults {
    pub file: PathBuf,
    pub doc: BenchDoc,
    /// The platform's label in the table.
    pub label: String,
}

/// Read every file first: one that is not ours, or from a newer ttm, is an
/// error with the name it was given.
pub fn load_all(sys: &System, files: &[PathBuf]) -> Result<Vec<SavedResults>> {
    let mut docs: Vec<(PathBuf, BenchDoc)> = Vec::new();
    for file in files {
        let path = sys.resolve_path(file)?;
        let doc = BenchDoc::load(sys, &path).map_err(|e| match e {
            Error::BadFile { message, .. } => Error::BadFile {
                path: file.clone(),
                message,
            },
            other => other,
        })?;
        docs.push((file.clone(), doc));
    }
    let labels = platform_labels(&docs);
    Ok(docs
        .into_iter()
        .zip(labels)
        .map(|((file, doc), label)| SavedResults { file, doc, label })
        .collect())
}

/// Every file's rows, then the book's.
pub fn comparison_rows(saved: &[SavedResults]) -> Vec<CompareRow> {
    let mut rows: Vec<CompareRow> = Vec::new();
    for s in saved {
        rows.extend(compare_rows(&s.label, &s.doc));
    }
    rows.extend(book_rows());
    rows
}

/// What `ttm bench compare --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport<'a> {
    pub schema: u32,
    pub generator: &'static str,
    pub files: Vec<CompareFile<'a>>,
    pub rows: &'a [CompareRow],
}

/// One file of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CompareFile<'a> {
    pub file: &'a Path,
    pub platform: &'a str,
    pub ttm_version: &'a str,
    pub torch_version: Option<&'a str>,
    pub train_step: &'a str,
    pub machine: &'a Value,
}

impl<'a> CompareReport<'a> {
    pub fn new(saved: &'a [SavedResults], rows: &'a [CompareRow]) -> CompareReport<'a> {
        CompareReport {
            schema: 1,
            generator: "ttm bench compare",
            files: saved
                .iter()
                .map(|s| CompareFile {
                    file: &s.file,
                    platform: &s.label,
                    ttm_version: &s.doc.ttm_version,
                    torch_version: s.doc.torch_version.as_deref(),
                    train_step: &s.doc.train_step,
                    machine: &s.doc.machine,
                })
                .collect(),
            rows,
        }
    }
}

/// One label per file, from its machine facts; the file name tells apart
/// two files with the same label.
fn platform_labels(docs: &[(PathBuf, BenchDoc)]) -> Vec<String> {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    let base: Vec<String> = docs
        .iter()
        .map(|(p, d)| platform_label(&d.machine, &stem(p)))
        .collect();
    base.iter()
        .zip(docs)
        .map(|(label, (p, _))| {
            let fallback = stem(p);
            if base.iter().filter(|l| *l == label).count() > 1 && !label.contains(&fallback) {
                format!("{label} ({fallback})")
            } else {
                label.clone()
            }
        })
        .collect()
}

//! `ttm scaffold new`: the request for the scaffold domain, and whether to write.

use crate::cli::ScaffoldNewArgs;
use crate::scaffold::NewProject;

/// `ttm scaffold new NAME [--template T] [-d key=value]… [--dry-run]`.
#[derive(Debug, Clone)]
pub struct ScaffoldNewOptions {
    pub project: NewProject,
    /// List what would be written and write nothing.
    pub dry_run: bool,
}

impl ScaffoldNewOptions {
    pub fn from_args(args: &ScaffoldNewArgs) -> ScaffoldNewOptions {
        ScaffoldNewOptions {
            project: NewProject {
                name: args.name.clone(),
                template: args.template.clone(),
                defines: args.define.clone(),
            },
            dry_run: args.dry_run,
        }
    }
}

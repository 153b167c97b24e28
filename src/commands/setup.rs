//! `ttm setup`. (Being built: see its issue.)

use super::{Context, Status};
use crate::cli::SetupArgs;
use crate::error::{Error, Result};

pub fn run(_ctx: &Context, _args: &SetupArgs) -> Result<Status> {
    Err(Error::failed("`ttm setup` is not built yet"))
}

//! `ttm scaffold`. (Being built: see its issue.)

use super::{Context, Status};
use crate::cli::ScaffoldCommand;
use crate::error::{Error, Result};

pub fn run(_ctx: &Context, _args: &ScaffoldCommand) -> Result<Status> {
    Err(Error::failed("`ttm scaffold` is not built yet"))
}

//! `ttm selftest`. (Being built: see its issue.)

use super::{Context, Status};
use crate::cli::SelftestArgs;
use crate::error::{Error, Result};

pub fn run(_ctx: &Context, _args: &SelftestArgs) -> Result<Status> {
    Err(Error::failed("`ttm selftest` is not built yet"))
}

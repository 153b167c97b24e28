//! `ttm bench`. (Being built: see its issue.)

use super::{Context, Status};
use crate::cli::BenchArgs;
use crate::error::{Error, Result};

pub fn run(_ctx: &Context, _args: &BenchArgs) -> Result<Status> {
    Err(Error::failed("`ttm bench` is not built yet"))
}

//! `ttm doctor`. (Being built: see its issue.)

use super::{Context, Status};
use crate::cli::DoctorArgs;
use crate::error::{Error, Result};

pub fn run(_ctx: &Context, _args: &DoctorArgs) -> Result<Status> {
    Err(Error::failed("`ttm doctor` is not built yet"))
}

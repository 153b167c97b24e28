//! `ttm setup` end to end.

#[allow(unused_imports)]
use crate::common::*;

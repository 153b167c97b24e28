//! One integration-test binary (as just's `tests/`): each command's tests in
//! their own module, all built on the harness in `common`.

mod common;

mod agree;
mod bench;
mod doctor;
mod fleet;
mod general;
mod install;
mod packaging;
mod probe_cache;
mod scaffold;
mod selftest;
mod setup;
mod tools;
mod user;

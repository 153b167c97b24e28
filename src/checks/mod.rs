//! The doctor's checks: facts in, one `CheckResult` per check id out.

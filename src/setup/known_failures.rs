//! Failures whose last words say the fix better than the step does: a Python
//! that refuses `pip install --user`, a Debian without `python3-venv`, a full disk.

/// A fix better than the step's own, recognised from the program's last words.
pub fn known_fix(tail: &str) -> Option<&'static str> {
    [
        (
            "externally-managed-environment",
            "this Python refuses pip install --user: ttm setup --env venv",
        ),
        (
            "ensurepip is not available",
            "sudo apt-get install -y python3-venv, then ttm setup",
        ),
        (
            "No module named venv",
            "sudo apt-get install -y python3-venv, then ttm setup",
        ),
        (
            "No space left on device",
            "free some disk space, then ttm setup",
        ),
    ]
    .iter()
    .find(|(needle, _)| tail.contains(needle))
    .map(|(_, fix)| *fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_failures_get_their_own_fix() {
        let tail =
            "error: externally-managed-environment\n× This environment is externally managed";
        assert!(known_fix(tail).unwrap().contains("--env venv"));
        assert!(known_fix("The virtual environment was not created successfully because ensurepip is not available.").unwrap().contains("python3-venv"));
        assert_eq!(known_fix("ERROR: network down"), None);
    }
}

//! Reading what the programs setup runs print: what pip (or brew, conda) is
//! at, for the spinner, and the JSON object a check script ends with.

use serde_json::Value;

use crate::system::last_json_line;

/// What pip (or brew, conda) is doing now, from the end of its output.
pub fn current_activity(text: &str) -> Option<String> {
    for line in text.lines().rev() {
        let l = line.trim();
        for prefix in [
            "Collecting ",
            "Downloading ",
            "Using cached ",
            "Building wheel for ",
            "Installing collected packages: ",
            "==> Pouring ",
            "==> Downloading ",
        ] {
            if let Some(rest) = l.strip_prefix(prefix) {
                let what = rest.split_whitespace().next().unwrap_or(rest);
                let what = what.rsplit('/').next().unwrap_or(what);
                let verb = match prefix.trim() {
                    "Installing collected packages:" => "installing",
                    "Collecting" => "collecting",
                    "Building wheel for" => "building",
                    _ => "downloading",
                };
                return Some(format!("{verb} {what}"));
            }
        }
    }
    None
}

/// The JSON object a program printed: its last one-line object, or the whole
/// text (`ttm selftest --json` prints pretty JSON).
pub fn last_json(text: &str) -> Option<Value> {
    last_json_line(text)
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .or_else(|| serde_json::from_str::<Value>(text.trim()).ok())
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_activity() {
        let log = "Collecting torch\n  Downloading torch-2.5.1-cp311-none-macosx_11_0_arm64.whl (63.9 MB)\n";
        assert_eq!(
            current_activity(log).unwrap(),
            "downloading torch-2.5.1-cp311-none-macosx_11_0_arm64.whl"
        );
        assert_eq!(
            current_activity("Installing collected packages: numpy, torch").unwrap(),
            "installing numpy,"
        );
        assert_eq!(current_activity("nothing"), None);
    }

    #[test]
    fn json_from_noisy_output() {
        assert_eq!(last_json("warning\n{\"ok\": true}\n").unwrap()["ok"], true);
        assert!(last_json("no json").is_none());
        assert!(last_json("[1]").is_none());
    }
}

//! The Python a new environment would be made from: the first `python3` on
//! PATH that runs. Each candidate is asked about itself with one embedded
//! script (`scripts/python_info.py`, run with `-I -B -c`, uv's way) that
//! prints one JSON object. Apple's `/usr/bin/python3` is a stub that fails
//! with the xcrun error until the command line tools exist.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::probe::{Detected, Probe, ProbeFailure};
use super::Python;
use crate::system::{last_json_line, Cmd};

pub const PYTHON_INFO_SCRIPT: &str = include_str!("../../scripts/python_info.py");

/// What `scripts/python_info.py` prints.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PythonInfo {
    pub ok: bool,
    pub version: String,
    pub machine: String,
    #[serde(default)]
    pub executable: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub base_prefix: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub conda: bool,
}

/// Parse the script's JSON: the last line that holds a JSON object (a
/// sitecustomize may print before it).
pub fn parse_python_info(text: &str) -> Result<PythonInfo, String> {
    last_json_line(text)
        .ok_or_else(|| "printed no JSON".to_owned())
        .and_then(|line| {
            serde_json::from_str(line).map_err(|e| format!("printed unreadable JSON ({e})"))
        })
}

/// Run an embedded script with `python -I -B -c`. A failure names the
/// probe by its marker (`# ttm:torch-probe`), never with the script's text.
pub(crate) fn run_script(
    probe: &Probe,
    python: &Path,
    script: &str,
) -> Result<String, ProbeFailure> {
    let label = format!(
        "{} -I -B -c <the {} probe>",
        python.display(),
        script_name(script)
    );
    probe.text_as(Cmd::new(python).args(["-I", "-B", "-c", script]), &label)
}

/// "torch-probe" for a script whose first line is `# ttm:torch-probe`.
pub(crate) fn script_name(script: &str) -> &str {
    script
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# ttm:"))
        .map(str::trim)
        .unwrap_or("embedded")
}

/// Ask one interpreter about itself.
pub(crate) fn query(probe: &Probe, python: &Path) -> Result<PythonInfo, ProbeFailure> {
    let text = run_script(probe, python, PYTHON_INFO_SCRIPT)?;
    parse_python_info(&text).map_err(ProbeFailure::Failed)
}

/// `apple_stub` is judged as if on a Mac; `detect` clears it elsewhere.
pub fn detect(probe: &Probe) -> Detected<Python> {
    let mut d = Detected::none();
    // One interpreter reached through two PATH entries (/usr/bin and a /bin
    // linked to it) is asked once.
    let mut asked: Vec<PathBuf> = Vec::new();
    for path in probe.sys.which_all("python3") {
        let file = probe
            .sys
            .canonicalize(&path)
            .unwrap_or_else(|_| path.clone());
        if asked.contains(&file) {
            continue;
        }
        asked.push(file);
        if probe.is_apple_stub_not_to_run(&path) {
            d.note("python", "python3", ProbeFailure::XcrunStub);
            continue;
        }
        match query(probe, &path) {
            Ok(info) => {
                d.value = Some(to_python(path, info));
                return d;
            }
            Err(f) => d.note("python", "python3", f),
        }
    }
    d
}

fn to_python(path: PathBuf, info: PythonInfo) -> Python {
    let exe = info.executable.clone().unwrap_or_default();
    let apple_stub = path == Path::new("/usr/bin/python3")
        || exe.starts_with("/Library/Developer/CommandLineTools/")
        || exe.starts_with("/Applications/Xcode");
    let in_env = info.conda || info.prefix != info.base_prefix;
    Python {
        path,
        version: info.version,
        machine: info.machine,
        apple_stub,
        in_env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_scripts_json() {
        let text = "{\"ok\": true, \"version\": \"3.12.4\", \"machine\": \"x86_64\", \"executable\": \"/usr/local/bin/python3\", \"prefix\": \"/usr/local\", \"base_prefix\": \"/usr/local\", \"platform\": \"macOS-14.5-x86_64-i386-64bit\", \"conda\": false}\n";
        let info = parse_python_info(text).unwrap();
        assert_eq!(
            (info.version.as_str(), info.machine.as_str()),
            ("3.12.4", "x86_64")
        );
        assert!(parse_python_info("Python 2.7").is_err());
        assert!(parse_python_info("{\"ok\": 1}").is_err());
    }

    #[test]
    fn the_script_is_marked_for_fixtures() {
        assert!(PYTHON_INFO_SCRIPT.starts_with("# ttm:python-info"));
        assert_eq!(script_name(PYTHON_INFO_SCRIPT), "python-info");
        // It must run on Pythons whose sys.version carries a vendor tag.
        let code: String = PYTHON_INFO_SCRIPT
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        assert!(!code.contains("python_version()") && !code.contains("sys.version,"));
        assert!(code.contains("sys.version_info"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse_python_info(&s); }
    }
}

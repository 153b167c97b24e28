//! `ttm doctor --report`: the checks and the facts as Markdown, to paste
//! into a bug report. Pure: the command runs `collect_env` and prints.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::{CheckResult, Tally};
use crate::platform::{EnvFlavor, Facts, Os, Probe};
use crate::system::Cmd;

/// What `python -m torch.utils.collect_env` printed, or why there is nothing.
pub fn run_collect_env(probe: &Probe, facts: &Facts) -> std::result::Result<String, String> {
    if facts
        .torch
        .as_ref()
        .and_then(|t| t.version.as_ref())
        .is_none()
    {
        return Err("not run: PyTorch does not import in the project environment".into());
    }
    let python = match &facts.env {
        Some(e) => e.python.clone(),
        None => probe
            .sys
            .which("python3")
            .ok_or("not run: no python3 on PATH")?,
    };
    let timeout = (probe.timeout * 3).max(Duration::from_secs(30));
    let cmd = Cmd::new(&python)
        .args(["-m", "torch.utils.collect_env"])
        .timeout(timeout);
    match probe.sys.run(&cmd) {
        Ok(out) if out.success() => Ok(out.stdout_text()),
        Ok(out) => Err(format!("failed: {}", out.tail(3))),
        Err(e) => Err(e.to_string()),
    }
}

/// The report, from the facts, the verdicts and what
/// `python -m torch.utils.collect_env` printed (or why it did not run).
pub fn render_report(
    facts: &Facts,
    results: &[CheckResult],
    collect_env: &std::result::Result<String, String>,
) -> String {
    let mut md = String::new();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "True",
        Some(false) => "False",
        None => "unknown",
    };
    let _ = writeln!(md, "# ttm doctor report\n");
    let _ = writeln!(
        md,
        "ttm {} · {}\n",
        env!("CARGO_PKG_VERSION"),
        Tally::of(results)
    );
    let _ = writeln!(md, "## Checks\n");
    let _ = writeln!(md, "| check | status | summary |\n| --- | --- | --- |");
    for r in results {
        let status = r.status.as_str();
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            r.id,
            status,
            r.summary.replace('|', "\\|")
        );
    }
    let _ = writeln!(md, "\n## Machine\n");
    let os = match facts.os {
        Os::Macos => "macOS",
        Os::Linux => "Linux",
        Os::Other => "other",
    };
    let _ = writeln!(
        md,
        "- OS: {os} {} ({})",
        opt(&facts.os_version),
        opt(&facts.os_build)
    );
    let _ = writeln!(
        md,
        "- Architecture: {} (this process: {})",
        opt(&facts.arch),
        opt(&facts.process_arch)
    );
    let rosetta = match facts.rosetta {
        Some(true) => "yes, this process is translated",
        Some(false) => "no",
        None => "not applicable",
    };
    let _ = writeln!(
        md,
        "- Apple Silicon: {}; Rosetta: {rosetta}",
        facts.apple_silicon
    );
    let _ = writeln!(md, "- Chip: {}", opt(&facts.chip));
    let _ = writeln!(
        md,
        "- Memory: {}",
        facts
            .memory_bytes
            .map(|m| format!("{m} bytes ({:.1} GiB)", m as f64 / (1u64 << 30) as f64))
            .unwrap_or_else(|| "unknown".into())
    );
    let cores = match (
        facts.cpu_cores,
        facts.performance_cores,
        facts.efficiency_cores,
    ) {
        (Some(c), Some(p), Some(e)) => format!("{c} ({p} performance, {e} efficiency)"),
        (Some(c), _, _) => c.to_string(),
        _ => "unknown".into(),
    };
    let _ = writeln!(md, "- CPU cores: {cores}");
    for g in &facts.gpus {
        let _ = writeln!(
            md,
            "- GPU: {} ({}){}{}",
            g.name,
            g.vendor,
            g.cores.map(|c| format!(", {c} cores")).unwrap_or_default(),
            g.driver
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default()
        );
    }
    if let Some(p) = &facts.python {
        let _ = writeln!(
            md,
            "- python3: {} {} ({})",
            p.path.display(),
            p.version,
            p.machine
        );
    }
    if let Some(c) = &facts.conda {
        let _ = writeln!(md, "- conda: {} ({})", opt(&c.version), opt(&c.platform));
    }
    if let Some(e) = &facts.env {
        let flavor = match e.flavor {
            EnvFlavor::Venv => "venv",
            EnvFlavor::Conda => "conda env",
        };
        let _ = writeln!(
            md,
            "- Environment: {flavor} {} at {} (Python {}, {})",
            e.name,
            e.prefix.display(),
            opt(&e.python_version),
            opt(&e.python_machine)
        );
    }
    let _ = writeln!(md, "\n## MPS (not in collect_env)\n");
    match &facts.torch {
        Some(t) => {
            let _ = writeln!(
                md,
                "- torch: {}",
                t.version.clone().unwrap_or_else(|| format!(
                    "does not import ({})",
                    t.error.clone().unwrap_or_default()
                ))
            );
            let _ = writeln!(
                md,
                "- torch.backends.mps.is_built(): {}",
                yes_no(t.mps_built)
            );
            let _ = writeln!(
                md,
                "- torch.backends.mps.is_available(): {}",
                yes_no(t.mps_available)
            );
        }
        None => {
            let _ = writeln!(md, "- torch: not probed");
        }
    }
    if facts.torch_env_vars.is_empty() {
        let _ = writeln!(
            md,
            "- PYTORCH_MPS_* / PYTORCH_ENABLE_MPS_FALLBACK: none set"
        );
    } else {
        for (k, v) in &facts.torch_env_vars {
            let _ = writeln!(md, "- {k}={v}");
        }
    }
    let _ = writeln!(md, "\n## python -m torch.utils.collect_env\n");
    match collect_env {
        Ok(text) => {
            let _ = writeln!(md, "```\n{}\n```", text.trim_end());
        }
        Err(why) => {
            let _ = writeln!(md, "{why}");
        }
    }
    if !facts.problems.is_empty() {
        let _ = writeln!(md, "\n## Probe problems\n");
        for p in &facts.problems {
            let _ = writeln!(md, "- {p}");
        }
    }
    md.trim_end().to_owned()
}

/// The report without who wrote it: HOME's path becomes `~`, and the user
/// name (HOME's last component, as a whole word: in other paths, prompts,
/// collect_env's output) becomes `<user>`, the way collect_env itself drops
/// GPU UUIDs. `--no-redact` keeps both.
pub fn redact(text: &str, home: &Path) -> String {
    let home_s = home.display().to_string();
    let home_s = home_s.trim_end_matches('/');
    let mut out = if home_s.len() > 1 {
        crate::ui::tilde::replace_bounded(text, home_s, "~", false)
    } else {
        text.to_owned()
    };
    let user = home
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|u| u.len() >= 2 && !matches!(*u, "root" | "home" | "Users"));
    if let Some(user) = user {
        out = crate::ui::tilde::replace_bounded(&out, user, "<user>", true);
    }
    out
}

#[cfg(test)]
mod redact_tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn home_and_user_name_are_redacted() {
        let text = "- python3: /Users/ada/miniforge3/bin/python3\n| workspace | ok | /Users/ada/torch_to_the_metal |\nowner ada, adam stays, /Users/adams stays";
        let r = redact(text, Path::new("/Users/ada"));
        assert_eq!(
            r,
            "- python3: ~/miniforge3/bin/python3\n| workspace | ok | ~/torch_to_the_metal |\nowner <user>, adam stays, /Users/adams stays"
        );
    }
}

//! The program setup is running, written down in `<workspace>/.ttm/child`
//! while it runs, so that a run that was killed outright (SIGKILL, a crash:
//! nothing of ttm is left to stop it) leaves a trace. Its programs live in
//! their own process groups, so such a program (pip, conda) runs on and
//! keeps writing into the environment. The next `ttm setup` reads the
//! record before it starts anything, and when that very process still runs
//! (the same pid *and* the same start time, so a reused pid is not taken for
//! it) stops its process group, and says so.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::system::{Cmd, System};

/// Write the record of the running child `pid` (the leader of its own
/// process group) and its command line.
pub fn write(sys: &System, path: &Path, pid: u32, line: &str) {
    let Some(start) = start_time(sys, pid) else {
        return;
    };
    let line: String = line.chars().filter(|c| !c.is_control()).take(400).collect();
    let text = format!("pid={pid}\nstart={start}\ncommand={line}\n");
    // Best effort: without it only a killed run's child goes unnoticed.
    let _ = sys.write_atomic(path, text.as_bytes());
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    pub start: String,
    pub command: String,
}

/// Parse a record; `None` for anything else (then it is only removed).
pub fn parse(text: &str) -> Option<Record> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    Some(Record {
        pid: field("pid")?.parse().ok().filter(|p| *p > 1)?,
        start: field("start").filter(|s| !s.is_empty())?.to_owned(),
        command: field("command").unwrap_or("").to_owned(),
    })
}

/// When `pid` started, as the OS says it (`/proc/PID/stat`'s start time in
/// clock ticks where there is a /proc, else `ps -o lstart=`); `None` when
/// there is no such process, or it is a zombie (it has ended).
pub fn start_time(sys: &System, pid: u32) -> Option<String> {
    if let Ok(Some(bytes)) =
        sys.read_optional(&Path::new("/proc").join(pid.to_string()).join("stat"))
    {
        let text = String::from_utf8_lossy(&bytes);
        // After the command name (in parentheses, which may hold anything):
        // field 3 the state, ..., field 22 the start time.
        let rest = text.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
            return None;
        }
        return fields.get(19).map(|s| (*s).to_owned());
    }
    if sys.is_dir(Path::new("/proc/self")) {
        return None;
    }
    let out = sys
        .run(&Cmd::new("ps").args(["-o", "stat=,lstart=", "-p", &pid.to_string()]))
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.success() || text.is_empty() || text.starts_with('Z') {
        return None;
    }
    Some(text.split_once(char::is_whitespace)?.1.trim().to_owned())
}

/// Before a run starts a program: the child a killed run left (recorded at
/// `path`), stopped with its process group when it still runs. Returns the
/// line that says so. The record is removed either way.
pub fn stop_left_over(sys: &System, path: &Path) -> Result<Option<String>> {
    let Some(bytes) = sys.read_optional(path)? else {
        return Ok(None);
    };
    let _ = sys.remove_file(path);
    let Some(record) = parse(&String::from_utf8_lossy(&bytes)) else {
        return Ok(None);
    };
    if start_time(sys, record.pid).as_deref() != Some(record.start.as_str()) {
        // Ended (or the pid now belongs to another process): nothing to stop.
        return Ok(None);
    }
    let signal = |sig: libc::c_int| {
        // SAFETY: kill(2) on the process group the recorded child leads
        // (its pid and start time checked just now); no memory effects.
        unsafe { libc::kill(-(record.pid as libc::pid_t), sig) };
    };
    signal(libc::SIGTERM);
    let asked = Instant::now();
    while start_time(sys, record.pid).as_deref() == Some(record.start.as_str()) {
        if asked.elapsed() > Duration::from_secs(5) {
            signal(libc::SIGKILL);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let shown: String = record.command.chars().take(24).collect();
    let more = if record.command.chars().count() > 24 {
        "…"
    } else {
        ""
    };
    Ok(Some(format!(
        "stopped pid {}, left running by a ttm setup that was killed: `{shown}{more}`",
        record.pid
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse() {
        let r = parse("pid=42\nstart=1234\ncommand=pip install\n").unwrap();
        assert_eq!(
            (r.pid, r.start.as_str(), r.command.as_str()),
            (42, "1234", "pip install")
        );
        assert_eq!(parse("pid=1\nstart=5\n"), None, "never init");
        assert_eq!(parse("pid=x\nstart=5\n"), None);
        assert_eq!(parse("start=5\n"), None);
    }

    #[test]
    fn this_process_has_a_start_time_and_a_record_of_it_stops_nothing_gone() {
        let sys = System::from_parts([("PATH", "/usr/bin:/bin")], "/");
        let me = start_time(&sys, std::process::id());
        assert!(me.is_some());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child");
        // A record of a process that is gone (start time not matching).
        std::fs::write(
            &path,
            format!("pid={}\nstart=never\ncommand=x\n", std::process::id()),
        )
        .unwrap();
        assert_eq!(stop_left_over(&sys, &path).unwrap(), None);
        assert!(!path.exists());
    }

    proptest::proptest! {
        #[test]
        fn any_record_parses_or_not(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }
    }
}

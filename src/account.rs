//! `--user NAME`: run as that account when started as root (an MDM script,
//! Ansible's `become`), so that nothing root-owned is left in their HOME.
//!
//! Homebrew's installer solves the same problem with `HOMEBREW_PKG_USER`;
//! we do what `sudo -u NAME -H` would: look the account up in the user
//! database, take its groups, group and user id (in that order, so the drop
//! cannot be undone), and give every program we run its HOME, USER, LOGNAME
//! and SHELL. After the switch not one file is written as root.

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// An account of the user database, as `getpwnam(3)` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: Option<PathBuf>,
}

/// The account named `name`, or a one-line error naming it.
pub fn lookup(name: &str) -> Result<Account> {
    let bad = |why: String| Error::BadInput { message: why };
    if name.is_empty() || name.contains('\0') {
        return Err(bad(format!(
            "--user {name:?} is not a user name: give the short name, as `id -un` prints it"
        )));
    }
    let c_name = CString::new(name).expect("no NUL: checked above");
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids); it is
    // only read after getpwnam_r filled it in.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives `entry`'s
    // borrowed strings, which are copied out before it is dropped.
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &mut entry,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 {
        return Err(bad(format!(
            "--user {name}: the user database could not be read ({})",
            std::io::Error::from_raw_os_error(rc)
        )));
    }
    if found.is_null() {
        return Err(bad(format!(
            "--user {name}: there is no user named {name:?} on this machine; check it with `id {name}`"
        )));
    }
    // SAFETY: getpwnam_r returned this entry, so its strings point into `buf`.
    let text = |p: *const libc::c_char| -> Option<String> {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    let home = text(entry.pw_dir).filter(|h| h.starts_with('/')).ok_or_else(|| {
        bad(format!(
            "--user {name}: the account has no home folder to set up; give it one, or run ttm as that user"
        ))
    })?;
    Ok(Account {
        name: name.to_owned(),
        uid: entry.pw_uid,
        gid: entry.pw_gid,
        home: PathBuf::from(home),
        shell: text(entry.pw_shell)
            .filter(|s| s.starts_with('/'))
            .map(PathBuf::from),
    })
}

/// The effective user id of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// Whether this process would have to change identity to be `account`.
pub fn needs_switch(account: &Account) -> bool {
    effective_uid() != account.uid
}

/// Become `account` for good: its supplementary groups, its group, then its
/// user id. Only root may; anyone else gets a one-line error and exit 2.
pub fn drop_to(account: &Account) -> Result<()> {
    let me = effective_uid();
    if me == account.uid {
        return Ok(());
    }
    if me != 0 {
        return Err(Error::BadInput {
            message: format!(
                "--user {} needs root (it is for MDM scripts and Ansible's become); run ttm as {} without --user",
                account.name, account.name
            ),
        });
    }
    let failed = |what: &str| Error::Failed {
        message: format!(
            "--user {}: could not {what}: {}",
            account.name,
            std::io::Error::last_os_error()
        ),
        fix: None,
    };
    let c_name = CString::new(account.name.as_str()).expect("looked up, so no NUL");
    // SAFETY: plain system calls on values we own; each result is checked.
    // initgroups takes the group as gid_t on Linux and int on macOS.
    unsafe {
        if libc::initgroups(c_name.as_ptr(), account.gid as _) != 0 {
            return Err(failed("take the account's groups"));
        }
        if libc::setgid(account.gid) != 0 {
            return Err(failed("take the account's group id"));
        }
        if libc::setuid(account.uid) != 0 {
            return Err(failed("take the account's user id"));
        }
        // The drop must be for good: getting root back has to fail.
        if account.uid != 0 && libc::setuid(0) == 0 {
            return Err(Error::Failed {
                message: format!(
                    "--user {}: root could be taken back after the switch; refusing to go on",
                    account.name
                ),
                fix: None,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_in_every_user_database() {
        let root = lookup("root").unwrap();
        assert_eq!(root.uid, 0);
        assert_eq!(root.gid, 0);
        assert!(root.home.is_absolute(), "{root:?}");
    }

    #[test]
    fn an_unknown_name_says_so_and_how_to_check() {
        let err = lookup("ttm-no-such-user-here").unwrap_err().to_string();
        assert!(
            err.contains("there is no user named \"ttm-no-such-user-here\"")
                && err.contains("`id ttm-no-such-user-here`"),
            "{err}"
        );
        assert_eq!(
            lookup("").unwrap_err().code(),
            2,
            "an empty name is bad input"
        );
        assert!(lookup("a\0b").is_err());
    }

    #[test]
    fn becoming_yourself_changes_nothing() {
        let me = Account {
            name: "me".into(),
            uid: effective_uid(),
            gid: 0,
            home: "/".into(),
            shell: None,
        };
        assert!(!needs_switch(&me));
        drop_to(&me).unwrap();
        assert_eq!(effective_uid(), me.uid);
    }
}

//! What setup leaves for the next machine: `requirements.lock` (pip freeze)
//! and `ttm.toml` (`ttm setup --from ttm.toml` reproduces the environment).

use super::*;

/// `pip freeze` into `requirements.lock`, once the packages are in.
pub(super) fn lock(cx: &Cx, env_python: &EnvPython, pip_fp: &str) -> Step {
    let (seen, ws) = (cx.seen, &cx.ws);
    let lock_fp = fingerprint(&["lock", pip_fp]);
    let mut s = step(
        StepId::Lock,
        "requirements.lock (pip freeze)",
        seen.lock_exists && seen.state.done(StepId::Lock.as_str(), &lock_fp),
        vec![Action::Freeze {
            python: env_python.clone(),
            path: ws.lock(),
        }],
    );
    s.fingerprint = lock_fp;
    s
}

/// `ttm.toml`: the choices made, the chapters kept; the user's own kept too.
/// The manifest itself comes back beside its step (the plan shows it).
pub(super) fn manifest(
    cx: &Cx,
    python_recorded: &str,
    notes: &mut Vec<String>,
) -> (Step, Manifest) {
    let (opts, seen, ws) = (cx.opts, cx.seen, &cx.ws);
    // ttm.toml
    let mut m = Manifest::new(Environment {
        kind: opts.env,
        name: opts.env_name.clone(),
        python: python_recorded.to_owned(),
    });
    m.packages = Packages {
        extra: opts.extra.clone(),
        notebook: opts.notebook,
        selftest: opts.selftest,
    };
    m.chapters = seen.chapters.clone();
    let text = m.to_toml();
    let mpath = ws.manifest();
    let manifest_write = write_or_keep(&seen.manifest, ws, &mpath, &text);
    let mkept = manifest_write.kept;
    if let Some(beside) = &manifest_write.beside {
        notes.push(format!(
            "ttm.toml: you changed it, so yours is kept; ttm's version goes to {}",
            beside.display()
        ));
    }
    let mut s = step(
        StepId::Manifest,
        "ttm.toml (reproduce it with ttm setup --from ttm.toml)",
        manifest_write.done,
        vec![manifest_write.action],
    );
    s.note = Some(if mkept {
        "yours, kept".into()
    } else {
        "the manifest".into()
    });
    (s, m)
}

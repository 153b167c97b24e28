//! Setup plans from the doctor's verdicts: every check that fails is either
//! answered by a step that will run, or it blocks the plan. Nothing doctor
//! fails is reused as done.
//!
//! Each step lists the checks it answers (`Step::checks`); [`reconcile`]
//! runs over the verdicts once the steps exist, turns each failure no step
//! repairs into a [`Blocker`] (in the doctor's order, so a Rosetta terminal
//! comes first), and takes "done" away from a step whose check fails.

use super::plan::{Blocker, Step};
use crate::checks::{CheckId, CheckResult, CheckStatus};

/// Whether the doctor's check `id` failed.
pub fn fails(verdicts: &[CheckResult], id: CheckId) -> bool {
    verdict(verdicts, id).is_some_and(|r| r.status == CheckStatus::Fail)
}

pub fn verdict(verdicts: &[CheckResult], id: CheckId) -> Option<&CheckResult> {
    verdicts.iter().find(|r| r.id == id)
}

/// Make the plan agree with the verdicts (module docs).
pub fn reconcile(verdicts: &[CheckResult], steps: &mut [Step], blockers: &mut Vec<Blocker>) {
    let mut found = Vec::new();
    for r in verdicts.iter().filter(|r| r.status == CheckStatus::Fail) {
        let repaired = steps
            .iter()
            .any(|s| !s.satisfied && s.checks.contains(&r.id));
        if !repaired && !blockers.iter().any(|b| b.check == Some(r.id)) {
            found.push(Blocker {
                message: r.summary.clone(),
                fix: r
                    .fix
                    .clone()
                    .unwrap_or_else(|| "ttm doctor -v (it says why)".into()),
                check: Some(r.id),
            });
        }
        for s in steps.iter_mut().filter(|s| s.checks.contains(&r.id)) {
            if s.satisfied {
                s.satisfied = false;
                s.note = Some(format!("doctor's `{}` check fails: {}", r.id, r.summary));
            }
        }
    }
    // The doctor's blockers first, in its order; setup's own after them.
    found.append(blockers);
    *blockers = found;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::plan::StepId;

    fn check(id: CheckId, status: CheckStatus) -> CheckResult {
        CheckResult {
            id,
            status,
            summary: format!("{id} summary"),
            detail: None,
            fix: Some(format!("fix {id}")),
        }
    }

    fn step(checks: Vec<CheckId>, satisfied: bool) -> Step {
        Step {
            id: StepId::Homebrew,
            title: "t".into(),
            satisfied,
            note: None,
            actions: vec![],
            fingerprint: String::new(),
            confirm: None,
            fix: String::new(),
            checks,
        }
    }

    #[test]
    fn a_failure_no_step_repairs_blocks_and_nothing_failing_is_done() {
        let verdicts = [
            check(CheckId::Rosetta, CheckStatus::Fail),
            check(CheckId::Homebrew, CheckStatus::Fail),
            check(CheckId::Git, CheckStatus::Ok),
            check(CheckId::Python, CheckStatus::Fail),
        ];
        let mut steps = vec![
            step(vec![CheckId::Homebrew], false),
            step(vec![CheckId::Python, CheckId::Git], true),
        ];
        let mut blockers = vec![];
        reconcile(&verdicts, &mut steps, &mut blockers);
        let ids: Vec<_> = blockers.iter().map(|b| b.check).collect();
        assert_eq!(ids, [Some(CheckId::Rosetta), Some(CheckId::Python)]);
        assert_eq!(blockers[0].fix, "fix rosetta");
        assert!(!steps[1].satisfied);
        assert!(steps[1].note.as_deref().unwrap().contains("`python`"));
        assert!(fails(&verdicts, CheckId::Homebrew) && !fails(&verdicts, CheckId::Git));
    }
}

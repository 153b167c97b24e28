#!/usr/bin/python
# -*- coding: utf-8 -*-
# ttm_setup: `ttm setup` as an Ansible module. ttm does the work and decides
# what changed (`"changed"` in `ttm setup --json`); this module passes the
# options through, runs check mode as `--dry-run`, and reports ttm's own
# failure and fix. Licensed as ttm is: MIT OR Apache-2.0.

from __future__ import annotations

DOCUMENTATION = r"""
module: ttm_setup
short_description: Set a Mac (or a Linux box) up for PyTorch with ttm
description:
  - Runs C(ttm setup --yes --json) on the host, in check mode C(ttm setup --dry-run --json).
  - Idempotent by ttm's own contract, a second run with the same options changes nothing and
    reports C(changed=false).
  - After the run it asks C(ttm doctor --json) for the verdict and returns it.
options:
  ttm:
    description: Path of the ttm binary on the host.
    type: path
    default: ~/.local/bin/ttm
  manifest:
    description:
      - A C(ttm.toml) on the host, with its C(requirements.lock) beside it (C(ttm setup --from)).
        The environment it describes is reproduced with the locked versions.
    type: path
  workspace:
    description: The workspace (C(--workspace)); default C(~/torch_to_the_metal).
    type: path
  env:
    description: The environment kind (C(--env)).
    type: str
    choices: [venv, conda, none]
  env_name:
    description: The environment's name (C(--env-name)).
    type: str
  packages:
    description: Packages beside torch, torchvision and torchaudio (C(--packages)).
    type: list
    elements: str
  selftest:
    description: Run ttm's GPU self-test at the end (C(--no-selftest) when false).
    type: bool
    default: true
  user:
    description:
      - Run as root for this user (C(--user)), as an MDM or C(become) does, ttm plans and writes
        as that user and leaves no root-owned file in their HOME.
    type: str
"""

RETURN = r"""
changed: {description: A step ran (or, in check mode, would run)., type: bool}
rc: {description: ttm's exit code (0 done, 1 a step failed, 2 bad input)., type: int}
msg: {description: What happened, in one line (on failure, ttm's error)., type: str}
fix: {description: On failure, the command or action ttm says fixes it., type: str}
status: {description: ttm's status (done, nothing-to-do, planned, blocked, failed)., type: str}
steps: {description: ttm's steps, each with id, result and whether it changed something., type: list}
doctor: {description: "After the run: ready, and the ids of failed and warned checks.", type: dict}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def json_document(text):
    """The JSON document ttm printed (its stdout is one document)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def stderr_error(text):
    """ttm's plain error: `error: …` then `  fix: …`."""
    msg, fix = first_line(text), None
    for line in (text or "").splitlines():
        if line.strip().startswith("fix:"):
            fix = line.strip()[len("fix:"):].strip()
    if msg.startswith("error: "):
        msg = msg[len("error: "):]
    return msg, fix


def common_args(params):
    args = []
    if params["workspace"]:
        args += ["--workspace", params["workspace"]]
    if params["user"]:
        args += ["--user", params["user"]]
    return args


def doctor_verdict(module, ttm, params):
    rc, out, err = module.run_command([ttm, "doctor", "--json"] + common_args(params))
    doc = json_document(out)
    if doc is None or "checks" not in doc:
        return {"ready": None, "rc": rc, "error": first_line(err)}
    by_status = {}
    for check in doc["checks"]:
        by_status.setdefault(check.get("status"), []).append(check.get("id"))
    return {
        "ready": doc.get("ready"),
        "rc": rc,
        "failed": by_status.get("fail", []),
        "warnings": by_status.get("warn", []),
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ttm=dict(type="path", default="~/.local/bin/ttm"),
            manifest=dict(type="path"),
            workspace=dict(type="path"),
            env=dict(type="str", choices=["venv", "conda", "none"]),
            env_name=dict(type="str"),
            packages=dict(type="list", elements="str"),
            selftest=dict(type="bool", default=True),
            user=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    ttm = os.path.expanduser(params["ttm"])

    if not os.path.isfile(ttm) or not os.access(ttm, os.X_OK):
        if module.check_mode:
            module.exit_json(changed=True, rc=0, status="planned", steps=[],
                             msg="ttm is not installed at %s yet; setup would run" % ttm)
        module.fail_json(msg="ttm is not installed at %s" % ttm,
                         fix="install ttm first (the ttm role puts it there)", rc=127)
    if params["manifest"] and not os.path.isfile(params["manifest"]):
        module.fail_json(msg="the manifest %s does not exist" % params["manifest"],
                         fix="copy ttm.toml and requirements.lock to the host first", rc=2)

    argv = [ttm, "setup", "--yes", "--json"] + common_args(params)
    if module.check_mode:
        argv.append("--dry-run")
    if params["manifest"]:
        argv += ["--from", params["manifest"]]
    if params["env"]:
        argv += ["--env", params["env"]]
    if params["env_name"]:
        argv += ["--env-name", params["env_name"]]
    if params["packages"]:
        argv += ["--packages", " ".join(params["packages"])]
    if not params["selftest"]:
        argv.append("--no-selftest")

    rc, out, err = module.run_command(argv)
    doc = json_document(out)
    result = dict(rc=rc, cmd=argv)

    if doc is None or "error" in doc:
        error = (doc or {}).get("error") or {}
        msg, fix = stderr_error(err)
        module.fail_json(msg=error.get("message") or msg or "ttm setup printed nothing",
                         fix=error.get("fix") or fix, changed=False, stderr=err, **result)

    result.update(
        changed=bool(doc.get("changed")),
        status=doc.get("status"),
        steps=[
            {k: s.get(k) for k in ("id", "title", "result", "changed", "note")}
            for s in doc.get("steps", [])
        ],
        blockers=doc.get("blockers", []),
    )
    if rc != 0:
        failure = doc.get("failure") or {}
        blocker = (doc.get("blockers") or [{}])[0]
        if failure:
            msg = "step `%s` (%s) failed: %s" % (
                failure.get("step"), failure.get("title"), failure.get("reason"))
        else:
            msg = blocker.get("message") or stderr_error(err)[0]
        fix = failure.get("fix") or blocker.get("fix") or stderr_error(err)[1]
        module.fail_json(msg=msg or "ttm setup failed", fix=fix, stderr=err, **result)

    if not module.check_mode:
        result["doctor"] = doctor_verdict(module, ttm, params)
    if doc.get("changed"):
        ran = [s["id"] for s in result["steps"] if s.get("changed")]
        result["msg"] = "ttm setup %s: %s" % (
            "would run" if module.check_mode else "ran", ", ".join(ran) or "steps")
    else:
        result["msg"] = "ttm setup: nothing to do"
    module.exit_json(**result)


if __name__ == "__main__":
    main()

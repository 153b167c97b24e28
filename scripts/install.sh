#!/bin/sh
# Install ttm (torch to the metal) on a Mac, then run `ttm setup`.
#
#   /bin/sh -c "$(curl -fsSL --proto '=https' --tlsv1.2 https://raw.githubusercontent.com/torch-to-the-metal/ttm/main/scripts/install.sh)"
#
# What it does, in order:
#   1. refuses a Rosetta shell on Apple Silicon (ttm and PyTorch must run as arm64);
#   2. makes sure Apple's command line tools exist (starts their installer and
#      waits for it, as `ttm setup` does);
#   3. installs ttm: the prebuilt binary from the project's releases when one
#      matches this machine, checked against its published SHA-256; otherwise
#      Rust's minimal toolchain (rustup-init, itself checked against its
#      SHA-256) and `cargo install --locked` of the repository;
#   4. puts ttm's folder on PATH, editing the shell profile once, in a marked
#      block (~/.local/bin for the prebuilt binary, ~/.cargo/bin for cargo's);
#   5. says what it did and the next command: `ttm setup`.
# Safe to run twice: a ttm that is already the release's is left alone.
#
# Every download is HTTPS only (curl --proto '=https' --tlsv1.2). Nothing
# downloaded runs before its checksum matched.
#
# Settings (environment):
#   NONINTERACTIVE=1    never ask (also when CI is set or stdin is not a terminal)
#   TTM_VERSION         a release tag (default: the latest release)
#   TTM_RELEASES        where releases are published
#   TTM_GIT             the repository cargo installs from
#   TTM_INSTALL_DIR     where the prebuilt binary goes (default ~/.local/bin)
#   TTM_CLT_WAIT        seconds to wait for the command line tools (default 2700)
#   TTM_NO_MODIFY_PATH=1  leave shell profiles alone
set -u

repo_url=https://github.com/torch-to-the-metal/ttm
releases=${TTM_RELEASES:-$repo_url/releases}
git_url=${TTM_GIT:-$repo_url}
version=${TTM_VERSION:-latest}
rustup_dist=${TTM_RUSTUP_DIST:-https://static.rust-lang.org/rustup/dist}
clt_wait=${TTM_CLT_WAIT:-2700}

# ---- output -----------------------------------------------------------------
if [ -t 1 ] && [ -z "${NO_COLOR-}" ]; then
  bold=$(printf '\033[1m'); red=$(printf '\033[31m'); reset=$(printf '\033[0m')
else
  bold=; red=; reset=
fi
say() { printf '%s==>%s %s\n' "$bold" "$reset" "$*"; }
warn() { printf '%sWarning%s: %s\n' "$red" "$reset" "$*" >&2; }
abort() {
  printf '%sError%s: %s\n' "$red" "$reset" "$1" >&2
  [ $# -gt 1 ] && printf '  fix: %s\n' "$2" >&2
  exit 1
}

tmp=
cleanup() { [ -n "$tmp" ] && rm -rf "$tmp"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

# ---- interactive or not (as Homebrew's installer decides) ------------------
if [ -z "${NONINTERACTIVE-}" ]; then
  if [ -n "${CI-}" ]; then
    warn "running in non-interactive mode because \$CI is set."
    NONINTERACTIVE=1
  elif ! [ -t 0 ]; then
    warn 'running in non-interactive mode because stdin is not a terminal.'
    NONINTERACTIVE=1
  fi
fi

if [ -z "${HOME-}" ] || ! [ -d "$HOME" ]; then
  abort "HOME is not set to a folder." "export HOME=\"/Users/\$(id -un)\""
fi

# ---- the machine --------------------------------------------------------------
os=$(uname -s 2>/dev/null)
case "$os" in
  Darwin)
    if [ "$(sysctl -n hw.optional.arm64 2>/dev/null)" = 1 ]; then
      arch=aarch64
      if [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
        abort "this shell runs under Rosetta 2 (as x86_64) on Apple Silicon: ttm and PyTorch would be installed for Intel, without the GPU." \
          "quit Terminal, choose Finder > Applications > Utilities > Terminal > Get Info, untick \"Open using Rosetta\", open a new Terminal and run this again (or run it under: arch -arm64 /bin/zsh)"
      fi
    else
      arch=x86_64
    fi
    target=$arch-apple-darwin
    ;;
  Linux)
    case "$(uname -m)" in
      x86_64 | amd64) target=x86_64-unknown-linux-gnu ;;
      *) target= ;;
    esac
    ;;
  *) abort "ttm installs on macOS (and Linux); this is ${os:-an unknown system}." ;;
esac

for tool in curl tar mkdir chmod mv cmp; do
  command -v "$tool" >/dev/null 2>&1 || abort "$tool is not on PATH." "use a standard shell: /bin/zsh -l"
done
if command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | { read -r sum _ && printf '%s' "$sum"; }; }
elif command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | { read -r sum _ && printf '%s' "$sum"; }; }
else
  abort "neither shasum nor sha256sum is on PATH: downloads cannot be checked."
fi

download() { # URL FILE: HTTPS only, fail on HTTP errors
  curl -fsSL --proto '=https' --tlsv1.2 --retry 2 -o "$2" "$1"
}

# FILE SUMFILE: the first word of SUMFILE is FILE's SHA-256
verify() {
  read -r want _ <"$2" || want=
  got=$(sha256 "$1")
  [ -n "$want" ] && [ "$got" = "$want" ]
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ttm-install.XXXXXX") || abort "cannot make a temporary folder."

say "ttm installer: ${os} ${target:-$(uname -m)}"
if [ -z "${NONINTERACTIVE-}" ]; then
  printf 'This installs ttm (and, where needed, Apple'"'"'s command line tools). Press RETURN to continue or any other key to abort: '
  read -r answer || answer=x
  [ -z "$answer" ] || abort "cancelled; nothing was changed."
fi

# ---- Apple's command line tools ------------------------------------------------
if [ "$os" = Darwin ]; then
  if xcode-select -p >/dev/null 2>&1; then
    say "command line tools: at $(xcode-select -p)"
  else
    say "installing Apple's command line tools: click Install in the window that opens"
    xcode-select --install >/dev/null 2>&1 || true
    waited=0
    until xcode-select -p >/dev/null 2>&1; do
      [ "$waited" -ge "$clt_wait" ] &&
        abort "the command line tools are still missing after $((clt_wait / 60)) minutes." \
          "xcode-select --install, finish the installer, then run this again"
      sleep 5
      waited=$((waited + 5))
    done
    say "command line tools: installed"
  fi
fi

# ---- ttm ------------------------------------------------------------------------
asset_url() { # FILE
  if [ "$version" = latest ]; then
    printf '%s/latest/download/%s' "$releases" "$1"
  else
    printf '%s/download/%s/%s' "$releases" "$version" "$1"
  fi
}

bin_dir=
installed=
changed=0

install_prebuilt() {
  [ -n "$target" ] || return 1
  archive=ttm-$target.tar.gz
  download "$(asset_url "$archive.sha256")" "$tmp/$archive.sha256" 2>/dev/null || return 1
  download "$(asset_url "$archive")" "$tmp/$archive" ||
    abort "the release lists $archive but it could not be downloaded." "run this again later"
  verify "$tmp/$archive" "$tmp/$archive.sha256" ||
    abort "$archive does not match its published SHA-256 (got $(sha256 "$tmp/$archive")): nothing was installed." \
      "run this again; if it fails again, report it at $repo_url/issues"
  mkdir -p "$tmp/unpacked" || abort "cannot make a temporary folder."
  tar -xzf "$tmp/$archive" -C "$tmp/unpacked" ttm 2>/dev/null ||
    abort "$archive holds no ttm binary: nothing was installed."
  bin_dir=${TTM_INSTALL_DIR:-$HOME/.local/bin}
  if [ -f "$bin_dir/ttm" ] && cmp -s "$tmp/unpacked/ttm" "$bin_dir/ttm"; then
    installed="already installed: $bin_dir/ttm"
    return 0
  fi
  mkdir -p "$bin_dir" || abort "cannot create $bin_dir."
  chmod 755 "$tmp/unpacked/ttm"
  # Into place in one rename, never a half-written ttm.
  cp "$tmp/unpacked/ttm" "$bin_dir/.ttm.new" || abort "cannot write $bin_dir."
  mv -f "$bin_dir/.ttm.new" "$bin_dir/ttm" || abort "cannot write $bin_dir/ttm."
  installed="installed the $target release: $bin_dir/ttm"
  changed=1
}

rust_target() {
  case "$os-$(uname -m)" in
    Darwin-*) printf '%s-apple-darwin' "$arch" ;;
    Linux-x86_64 | Linux-amd64) printf 'x86_64-unknown-linux-gnu' ;;
    Linux-aarch64 | Linux-arm64) printf 'aarch64-unknown-linux-gnu' ;;
    *) return 1 ;;
  esac
}

install_from_source() {
  cargo=$(command -v cargo 2>/dev/null || true)
  [ -z "$cargo" ] && [ -x "$HOME/.cargo/bin/cargo" ] && cargo=$HOME/.cargo/bin/cargo
  if [ -z "$cargo" ]; then
    triple=$(rust_target) || abort "no Rust toolchain is published for this machine."
    say "no release for this machine: installing Rust's minimal toolchain to build ttm"
    for f in rustup-init rustup-init.sha256; do
      download "$rustup_dist/$triple/$f" "$tmp/$f" ||
        abort "cannot download $f for $triple." "check the network, then run this again"
    done
    verify "$tmp/rustup-init" "$tmp/rustup-init.sha256" ||
      abort "rustup-init does not match its published SHA-256: nothing was run."
    chmod +x "$tmp/rustup-init"
    "$tmp/rustup-init" -y --profile minimal --no-modify-path >/dev/null ||
      abort "rustup-init failed." "see https://rustup.rs"
    cargo=$HOME/.cargo/bin/cargo
  fi
  say "building ttm with $("$cargo" --version 2>/dev/null || echo cargo) (a few minutes)"
  if [ "$version" = latest ]; then
    "$cargo" install --locked --git "$git_url" torch-to-the-metal ||
      abort "cargo install failed." "read the error above; then run this again"
  else
    "$cargo" install --locked --git "$git_url" --tag "$version" torch-to-the-metal ||
      abort "cargo install failed." "read the error above; then run this again"
  fi
  bin_dir=$HOME/.cargo/bin
  installed="built and installed: $bin_dir/ttm"
  changed=1
}

install_prebuilt || install_from_source
"$bin_dir/ttm" --version >/dev/null 2>&1 || abort "$bin_dir/ttm does not run."
say "$installed ($("$bin_dir/ttm" --version))"

# ---- PATH -------------------------------------------------------------------------
profile() {
  case "${SHELL-}" in
    */zsh) printf '%s/.zprofile' "$HOME" ;;
    */bash) printf '%s/.bash_profile' "$HOME" ;;
    *) printf '%s/.profile' "$HOME" ;;
  esac
}

on_path() {
  case ":${PATH}:" in *":$1:"*) return 0 ;; esac
  return 1
}

path_note=
if ! on_path "$bin_dir"; then
  file=$(profile)
  if [ -n "${TTM_NO_MODIFY_PATH-}" ]; then
    path_note="$bin_dir is not on PATH; add it: export PATH=\"$bin_dir:\$PATH\""
  elif [ -f "$file" ] && grep -qF '# >>> ttm >>>' "$file"; then
    path_note="open a new terminal (or run: export PATH=\"$bin_dir:\$PATH\")"
  else
    {
      printf '\n# >>> ttm >>> (added by ttm'"'"'s installer)\n'
      printf 'export PATH="%s:%sPATH"\n' "$bin_dir" '$'
      printf '# <<< ttm <<<\n'
    } >>"$file" || abort "cannot edit $file." "add $bin_dir to PATH by hand"
    say "added $bin_dir to PATH in $file"
    path_note="open a new terminal (or run: export PATH=\"$bin_dir:\$PATH\")"
    changed=1
  fi
fi

# ---- done -------------------------------------------------------------------------
if [ "$changed" = 0 ]; then
  say "nothing to do: ttm is installed and on PATH"
fi
[ -n "$path_note" ] && say "$path_note"
say "next: ttm setup"

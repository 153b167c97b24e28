#!/usr/bin/env bash
# Type-check ttm for macOS on a Linux machine: `cargo check` and
# `cargo clippy -D warnings`, all targets, for aarch64-apple-darwin and
# x86_64-apple-darwin.
#
# There is no macOS SDK here and rustup ships no standard library for the
# Apple targets to this machine, so the check runs in a Debian sid chroot
# whose rustc comes with its standard library's source (rust-src): cargo's
# -Zbuild-std builds std for the Apple target from that source, then checks
# the whole tree (ttm's lib, bin, tests and examples, the macOS-only
# dependency tree: wgpu's Metal HAL, objc2, candle-metal). Nothing is linked,
# so a stand-in for the Apple C compiler, which only creates the file it is
# asked for, satisfies the one build script that compiles C (onig_sys).
#
# Needs root (debootstrap and chroot) and Debian's package mirror.
#   sudo scripts/check-macos.sh            both targets
#   sudo scripts/check-macos.sh aarch64-apple-darwin
# The chroot and the build cache live in $TTM_MACOS_CHECK_CACHE
# (default /var/cache/ttm-macos-check); a chroot that is missing or broken
# is made again. Exit 0 when every target is clean, 1 on any error, 2 when
# it cannot run here.
set -euo pipefail

cache=${TTM_MACOS_CHECK_CACHE:-/var/cache/ttm-macos-check}
root="$cache/sid"
mirror=${TTM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages="rustc cargo rust-src rust-clippy gcc libc6-dev pkg-config ca-certificates"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-apple-darwin x86_64-apple-darwin)
repo=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'check-macos: %s\n' "$*"; }
die() { printf 'check-macos: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap and chroot); run it as: sudo $0"
for t in "${targets[@]}"; do
  case "$t" in
    aarch64-apple-darwin | x86_64-apple-darwin) ;;
    *) die "unknown target '$t'; use aarch64-apple-darwin or x86_64-apple-darwin" ;;
  esac
done

mounted=()
cleanup() {
  local m
  for m in "${mounted[@]+"${mounted[@]}"}"; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }

healthy() {
  [ -f "$root/.ttm-ready" ] &&
    [ "$(cat "$root/.ttm-ready")" = "$packages" ] &&
    in_root rustc --version >/dev/null 2>&1 &&
    in_root cargo clippy --version >/dev/null 2>&1 &&
    [ -d "$root$(in_root rustc --print sysroot)/lib/rustlib/src/rust/library" ]
}

mount_into_root() {
  local what
  for what in proc dev sys; do
    mkdir -p "$root/$what"
    if ! mountpoint -q "$root/$what"; then
      case "$what" in
        proc) mount -t proc proc "$root/proc" ;;
        *) mount --rbind "/$what" "$root/$what" && mount --make-rslave "$root/$what" ;;
      esac
      mounted=("$root/$what" "${mounted[@]+"${mounted[@]}"}")
    fi
  done
}

# The host's CA certificates and resolver, so apt and cargo in the chroot reach
# their registries through whatever this machine's network needs.
copy_host_network() {
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  if [ -d /usr/local/share/ca-certificates ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp -L /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  fi
}

make_root() {
  say "making a Debian sid chroot in $root (about 2 minutes)"
  if ! command -v debootstrap >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; } ||
      die "cannot install debootstrap; install it (apt-get install debootstrap) and run again"
  fi
  cleanup
  mounted=()
  rm -rf "$root"
  mkdir -p "$cache"
  debootstrap --variant=minbase sid "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed (log: $cache/debootstrap.log)"
  copy_host_network
  # The mirror may serve a snapshot older than its Release file's Valid-Until
  # (seen here: "Release file ... is expired"). Signatures are still checked.
  echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99ttm-snapshot"
  mount_into_root
  in_root sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages" \
    >"$cache/apt.log" 2>&1 || die "installing the toolchain in the chroot failed (log: $cache/apt.log)"
  in_root update-ca-certificates >/dev/null 2>&1 || true
  # The Apple C toolchain's stand-in: `cargo check` links nothing, so an empty
  # object or archive where one is asked for is enough.
  cat >"$root/usr/local/bin/apple-cc-standin" <<'EOF'
#!/bin/sh
out=
prev=
for a in "$@"; do
  [ "$prev" = "-o" ] && out=$a
  case "$a" in -o?*) out=${a#-o} ;; *.a) [ -z "$out" ] && out=$a ;; esac
  prev=$a
done
[ -n "$out" ] && : >"$out"
exit 0
EOF
  chmod +x "$root/usr/local/bin/apple-cc-standin"
  printf '%s' "$packages" >"$root/.ttm-ready"
}

if healthy; then
  copy_host_network
  mount_into_root
  in_root update-ca-certificates >/dev/null 2>&1 || true
else
  [ -d "$root" ] && say "the chroot in $root is missing parts; making it again"
  make_root
  healthy || die "the chroot in $root does not work after making it (logs in $cache)"
fi
say "$(in_root rustc --version), $(in_root cargo --version)"

# The working tree (tracked and untracked files that git does not ignore),
# without target/. Build artifacts stay in /build between runs.
rm -rf "$root/src/ttm"
mkdir -p "$root/src/ttm" "$root/build"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$root/src/ttm"

status=0
for t in "${targets[@]}"; do
  triple=${t//-/_}
  log="$cache/$t.log"
  started=$(date +%s)
  if in_root sh -c "cd /src/ttm &&
      export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=/build/target CARGO_TERM_COLOR=never \
        CC_$triple=apple-cc-standin CXX_$triple=apple-cc-standin AR_$triple=apple-cc-standin &&
      cargo check --locked --all-targets --target $t -Zbuild-std &&
      cargo clippy --locked --all-targets --target $t -Zbuild-std -- -D warnings" >"$log" 2>&1; then
    say "$t: check and clippy clean ($(($(date +%s) - started)) s)"
  else
    status=1
    say "$t: FAILED ($(($(date +%s) - started)) s); the errors (whole log: $log):"
    grep -E -A12 '^(error|warning)(\[|:)' "$log" | head -n 80 || tail -n 40 "$log"
  fi
done
exit "$status"

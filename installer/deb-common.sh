# Shared by build-deb.sh and test-deb.sh (sourced, from the repository root):
# where cargo is, the package's version and architecture, and where the .deb goes.
# shellcheck shell=bash

# rustup's cargo when it is not on PATH yet (dev.sh may have just installed it).
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# The workspace version (Cargo.toml [workspace.package]) as cargo sees it:
# `cargo pkgid` prints …#pishkhan@0.1.0 (or …#0.1.0).
cargo_version() {
  local id
  id=$(cargo pkgid --locked -p pishkhan)
  id=${id##*#}
  id=${id##*@}
  [[ $id =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || {
    echo "cannot read the version from cargo pkgid: $id" >&2
    return 1
  }
  printf '%s\n' "$id"
}

# The same as a Debian version: a SemVer pre-release (0.2.0-rc.1) sorts
# before its release in Debian only with a tilde (0.2.0~rc.1).
deb_version() {
  local v
  v=$(cargo_version) || return 1
  printf '%s\n' "${v/-/\~}"
}

# cargo's target directory (CARGO_TARGET_DIR, .cargo/config or target/).
target_dir() {
  local dir
  dir=$(cargo metadata --locked --no-deps --format-version 1 |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  [ -n "$dir" ] || {
    echo "cannot read the target directory from cargo metadata" >&2
    return 1
  }
  printf '%s\n' "$dir"
}

# target/debian/pishkhan_<version>_<arch>.deb
deb_path() {
  local dir version arch
  dir=$(target_dir) || return 1
  version=$(deb_version) || return 1
  arch=$(dpkg --print-architecture) || return 1
  printf '%s\n' "$dir/debian/pishkhan_${version}_${arch}.deb"
}

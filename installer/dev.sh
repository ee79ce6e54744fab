#!/usr/bin/env bash
# Sets up what a Debian/Ubuntu machine is missing to build Pishkhan, then
#   run   [ARGS…]  starts the station (demo mode with virtual devices when no
#                  hardware is attached); ARGS go to `pishkhan`
#   test           runs every check: formatting, clippy -D warnings, all tests
#   setup          only sets up (installer/build-deb.sh starts with it)
# Usage (from anywhere): bash installer/dev.sh run | test | setup
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: a C toolchain, libclang for the camera bindings (nokhwa/v4l2) and
# libudev for serial port enumeration (USB VID/PID of scanner bridges).
# Run: the X11/xkb/Wayland client libraries the window loads at run time.
build_pkgs=(build-essential pkg-config libclang-dev libudev-dev)
run_pkgs=(libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon0 libxkbcommon-x11-0 libwayland-client0)

# Installs those of the Debian packages "$@" that are missing (when run as
# root), or says how to and stops. $1: what needs them.
ensure_packages() {
  local why="$1"
  shift
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "Installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "$why needs these Debian packages. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

ensure_packages "Pishkhan" "${build_pkgs[@]}" "${run_pkgs[@]}"

if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    echo "Installing the Rust toolchain with rustup (https://rustup.rs)…"
    command -v curl >/dev/null || {
      echo "curl is missing: sudo apt-get install -y curl" >&2
      exit 1
    }
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  }
  export PATH="$HOME/.cargo/bin:$PATH"
fi

case "${1:-run}" in
  run)
    shift || true
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      echo "No display found (DISPLAY/WAYLAND_DISPLAY unset). For a headless check run:" >&2
      echo "  cargo run -- self-test" >&2
      exit 1
    fi
    exec cargo run --locked --bin pishkhan -- "$@"
    ;;
  test)
    # The reference implementations the tests check against (NIST NBIS's
    # WSQ codec and NFIQ 2, IDEMIA's ANSI/NIST-ITL reader) and an
    # S3-compatible server (moto), in a venv of their own.
    # The receipt tests render the PDF (poppler) and decode its QR code and
    # barcode (zbar), as a person checking a printed receipt would.
    ensure_packages "The receipt tests" poppler-utils zbar-tools
    venv="$PWD/target/reference-venv"
    if ! "$venv/bin/python" -c "import wsq, nbis, numpy, PIL, nistitl, moto" 2>/dev/null; then
      python3 -c "import ensurepip, venv" 2>/dev/null ||
        ensure_packages "The tests' reference venv" python3 python3-venv
      echo "Setting up the reference venv (tests/reference/requirements.txt)…"
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q --disable-pip-version-check -r tests/reference/requirements.txt
    fi
    export PISHKHAN_REFERENCE_PYTHON="$venv/bin/python"
    # The reference tus server (tus.io's @tus/server over @tus/file-store,
    # tests/reference/node) that the tus client's interoperability test
    # uploads to, installed from the committed lockfile under
    # target/reference-node; npm ci runs again only when the lockfile changed.
    # (Debian's nodejs comes without npm; NodeSource's bundles it, and
    # conflicts with Debian's npm package.)
    command -v node >/dev/null || ensure_packages "The tests' reference tus server" nodejs
    command -v npm >/dev/null || ensure_packages "The tests' reference tus server" npm
    # @tus/server 1.x runs on Node.js 16 and later (Debian 12 has 18).
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 16 ? 0 : 1)' || {
      echo "The tests' reference tus server needs Node.js 16 or later; node is $(node --version)" >&2
      exit 1
    }
    node_ref="$PWD/target/reference-node"
    if ! cmp -s tests/reference/node/package-lock.json "$node_ref/installed-lock.json"; then
      echo "Setting up the reference tus server (tests/reference/node)…"
      rm -rf "$node_ref"
      mkdir -p "$node_ref"
      cp tests/reference/node/{package.json,package-lock.json,.npmrc} "$node_ref/"
      npm ci --prefix "$node_ref" --no-audit --no-fund --loglevel=error >/dev/null
      # The lockfile this install was made from, copied last: an install
      # that failed half-way is made again next time.
      cp tests/reference/node/package-lock.json "$node_ref/installed-lock.json"
    fi
    cp tests/reference/node/tus-server.mjs "$node_ref/"
    export PISHKHAN_REFERENCE_TUS_SERVER="$node_ref/tus-server.mjs"
    export PISHKHAN_REQUIRE_REFERENCE=1
    cargo fmt --all -- --check
    cargo clippy --locked --workspace --all-targets -- -D warnings
    if cargo nextest --version >/dev/null 2>&1; then
      cargo nextest run --locked --workspace --no-fail-fast --config-file tests/nextest.toml
    else
      cargo test --locked --workspace --no-fail-fast
    fi
    ;;
  setup) ;;
  *)
    echo "usage: bash installer/dev.sh run [ARGS…] | test | setup" >&2
    exit 2
    ;;
esac

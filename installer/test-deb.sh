#!/usr/bin/env bash
# Installs the package installer/build-deb.sh built, checks it, upgrades
# it over itself, removes it and purges it, checking after each step:
#   bash installer/test-deb.sh [PACKAGE.deb]
# (default: target/debian/pishkhan_<version>_<arch>.deb, as build-deb.sh
# names it). Needs root; otherwise it says what it would do and stops
# with success. It refuses to run where Pishkhan is installed or its
# accounts or data directories exist: the purge at the end would delete
# them. The machine is left as it was, except for Debian packages the
# install had to add (apt-get install -f, when dpkg -i lacks dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=installer/deb-common.sh
source installer/deb-common.sh

version=$(cargo_version)
deb=${1:-$(deb_path)}
[ -f "$deb" ] || {
  echo "no package at $deb: run bash installer/build-deb.sh first" >&2
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  cat <<EOF
test-deb.sh: not root, so the package is not installed. As root it would:
  dpkg -i $deb   (apt-get install -f -y if dependencies are missing)
  check /usr/bin/pishkhan --version prints "pishkhan $version", the accounts,
        directories and installed files; run the station and the intake
        once as their accounts
  dpkg -i the same file again (the upgrade path), check the data stayed
  dpkg -r pishkhan (files gone, data and accounts kept)
  dpkg -P pishkhan (data and accounts gone)
EOF
  exit 0
fi

for path in /var/lib/pishkhan /var/lib/pishkhan-intake; do
  [ ! -e "$path" ] || {
    echo "$path exists: this test purges the package, which would delete it. Not testing here." >&2
    exit 1
  }
done
for account in pishkhan pishkhan-intake; do
  ! getent passwd "$account" >/dev/null || {
    echo "the account $account exists: this test would delete it. Not testing here." >&2
    exit 1
  }
done
if dpkg-query -W -f='${Status}' pishkhan 2>/dev/null | grep -q "ok installed\|config-files"; then
  echo "pishkhan is installed: this test would remove it. Not testing here." >&2
  exit 1
fi

installed=
cleanup() {
  if [ -n "$installed" ] && [ -z "${PISHKHAN_TEST_KEEP:-}" ]; then
    echo "test-deb.sh: failed; purging the package (PISHKHAN_TEST_KEEP=1 keeps it)" >&2
    dpkg -P pishkhan >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }

files=(
  /usr/bin/pishkhan
  /usr/share/applications/pishkhan.desktop
  /usr/share/icons/hicolor/scalable/apps/pishkhan.svg
  /usr/lib/udev/rules.d/60-pishkhan.rules
  /usr/lib/systemd/system/pishkhan-upload.service
  /usr/lib/systemd/system/pishkhan-intake.service
  /usr/share/doc/pishkhan/copyright
  /usr/share/doc/pishkhan/README.Debian
  /usr/share/doc/pishkhan/changelog.gz
)

# owner:group mode of a path
stat_of() { stat -c '%U:%G %a' "$1"; }

check_installed() {
  dpkg-query -W -f='${Status} ${Version}\n' pishkhan | grep -q "^install ok installed " ||
    fail "dpkg does not list pishkhan as installed"
  local f out
  for f in "${files[@]}"; do
    [ -f "$f" ] || fail "$f is missing"
  done
  ok "the package's files are in place"
  [ "$(command -v pishkhan)" = /usr/bin/pishkhan ] || fail "pishkhan on PATH is $(command -v pishkhan)"
  out=$(/usr/bin/pishkhan --version)
  [ "$out" = "pishkhan $version" ] || fail "/usr/bin/pishkhan --version printed '$out', expected 'pishkhan $version'"
  ok "/usr/bin/pishkhan --version: $out"
  for account in pishkhan pishkhan-intake; do
    local entry
    entry=$(getent passwd "$account") || fail "no account $account"
    [ "$(cut -d: -f6 <<<"$entry")" = "/var/lib/$account" ] || fail "$account's home: $entry"
    [ "$(cut -d: -f7 <<<"$entry")" = /usr/sbin/nologin ] || fail "$account's shell: $entry"
    [ "$(cut -d: -f3 <<<"$entry")" -lt 1000 ] || fail "$account is not a system account: $entry"
    [ "$(stat_of "/var/lib/$account")" = "$account:$account 700" ] ||
      fail "/var/lib/$account is $(stat_of "/var/lib/$account")"
  done
  ok "accounts pishkhan and pishkhan-intake, /var/lib/pishkhan and /var/lib/pishkhan-intake (0700)"
  local groups group
  groups=" $(id -nG pishkhan) "
  for group in dialout video; do
    if getent group "$group" >/dev/null; then
      [[ $groups == *" $group "* ]] || fail "pishkhan is not in the group $group: $groups"
    fi
  done
  [[ $groups != *" pishkhan-intake "* ]] || fail "pishkhan is in pishkhan-intake's group"
  ok "pishkhan's groups:$groups"
}

echo "== dpkg -i $deb"
installed=1
if ! dpkg -i "$deb"; then
  echo "dpkg -i failed (missing dependencies?); apt-get install -f -y"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq
fi
check_installed

# The accounts can use their directories: the station opens (and creates
# its configuration, database and key), the intake makes its keys.
# (From /: the accounts may not be able to enter the current directory.)
(cd / && runuser -u pishkhan -- env PISHKHAN_DATA_DIR=/var/lib/pishkhan /usr/bin/pishkhan queue list >/dev/null) ||
  fail "pishkhan queue list as the account pishkhan"
if [ ! -f /var/lib/pishkhan/station.key ] ||
  [ "$(stat_of /var/lib/pishkhan/station.key)" != "pishkhan:pishkhan 600" ]; then
  fail "no station key owned by pishkhan (0600) after opening the station"
fi
ok "the station opens as pishkhan in /var/lib/pishkhan"
key=$(cd / && runuser -u pishkhan-intake -- /usr/bin/pishkhan intake --dir /var/lib/pishkhan-intake key) ||
  fail "pishkhan intake key as pishkhan-intake"
[[ $key =~ ^[0-9a-f]{64}$ ]] || fail "the intake's key: $key"
ok "the intake opens as pishkhan-intake in /var/lib/pishkhan-intake (receipt key ${key:0:16}…)"

if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/pishkhan.desktop || fail "desktop-file-validate"
  ok "desktop-file-validate"
fi
if command -v systemd-analyze >/dev/null; then
  # `verify` loads the units (and checks ExecStart= exists) without starting them.
  systemd-analyze verify /usr/lib/systemd/system/pishkhan-upload.service \
    /usr/lib/systemd/system/pishkhan-intake.service || fail "systemd-analyze verify"
  ok "systemd-analyze verify"
fi

echo "== dpkg -i again (the upgrade path)"
dpkg -i "$deb"
check_installed
[ -f /var/lib/pishkhan/station.key ] || fail "the upgrade lost the station key"
ok "the upgrade kept the data"

echo "== dpkg -r pishkhan"
dpkg -r pishkhan
for f in "${files[@]}"; do
  [ ! -e "$f" ] || fail "$f is still there after dpkg -r"
done
[ -f /var/lib/pishkhan/station.key ] || fail "dpkg -r deleted the station's data"
getent passwd pishkhan >/dev/null || fail "dpkg -r deleted the account pishkhan"
ok "dpkg -r: files gone; /var/lib/pishkhan and the accounts kept"

echo "== dpkg -P pishkhan"
dpkg -P pishkhan
installed=
for path in /var/lib/pishkhan /var/lib/pishkhan-intake; do
  [ ! -e "$path" ] || fail "$path is still there after dpkg -P"
done
for account in pishkhan pishkhan-intake; do
  ! getent passwd "$account" >/dev/null || fail "the account $account is still there after dpkg -P"
  ! getent group "$account" >/dev/null || fail "the group $account is still there after dpkg -P"
done
! dpkg-query -W pishkhan >/dev/null 2>&1 || fail "dpkg still knows pishkhan after dpkg -P"
ok "dpkg -P: data directories and accounts gone"
echo "test-deb.sh: all checks passed"

#!/usr/bin/env bash
# Builds the Debian package of Pishkhan:
#   target/debian/pishkhan_<version>_<arch>.deb
# (under CARGO_TARGET_DIR when it is set). Run from anywhere:
#   bash installer/build-deb.sh
# It sets up what the build needs (installer/dev.sh setup), builds the
# release binary (cargo build --release --locked --bin pishkhan), stages the
# package tree in target/debian/pishkhan/, packs it with dpkg-deb, checks
# the result and prints its path. Running it again rebuilds the same file.
# installer/README.md says what the package installs; installer/test-deb.sh
# installs it, checks it and removes it again.
#
# Plain dpkg-deb rather than cargo-deb: the few files are listed here, the
# maintainer scripts are in installer/debian/, and CI need not compile and
# install another tool first.
set -euo pipefail
cd "$(dirname "$0")/.."
installer=installer

bash "$installer/dev.sh" setup
# shellcheck source=installer/deb-common.sh
source "$installer/deb-common.sh"
for tool in dpkg-deb dpkg-shlibdeps objdump gzip; do
  command -v "$tool" >/dev/null || {
    echo "build-deb.sh needs $tool (sudo apt-get install -y dpkg-dev binutils gzip)" >&2
    exit 1
  }
done

version=$(deb_version)
maintainer="The Pishkhan developers <pishkhan@example.invalid>"
arch=$(dpkg --print-architecture)
target=$(target_dir)
deb=$(deb_path)
stage="$target/debian/pishkhan"
binary="$target/release/pishkhan"

echo "Building pishkhan $version ($arch) in release mode…"
cargo build --release --locked --bin pishkhan
"$binary" --version

# Dates inside the package: the last commit's, so that building the same
# commit again gives the same files (dpkg-deb clamps mtimes to it).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
  export SOURCE_DATE_EPOCH
fi

# --- Depends -----------------------------------------------------------------
# The libraries the binary is linked with, with the versions their symbols
# need (dpkg-shlibdeps reads the ELF NEEDED entries: libc6, libgcc-s1 and
# libudev1 for serial port enumeration)…
shlibs_dir="$target/debian/shlibs"
rm -rf "$shlibs_dir"
mkdir -p "$shlibs_dir/debian"
printf 'Source: pishkhan\n\nPackage: pishkhan\nArchitecture: any\n' >"$shlibs_dir/debian/control"
linked=$(cd "$shlibs_dir" && dpkg-shlibdeps -O -e "$binary" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$linked" ] || {
  echo "dpkg-shlibdeps found no libraries in $binary" >&2
  exit 1
}
rm -rf "$shlibs_dir"
# …and those the window loads at run time with dlopen, which no ELF entry
# names (installer/dev.sh, run_pkgs): winit's X11 backend opens libX11,
# libX11-xcb, libXcursor and libXi (x11-dl) and libxcb (x11rb), the
# keyboard needs libxkbcommon(-x11), Wayland libwayland-client. (Wayland
# cursors are read by pure Rust: no libwayland-cursor.) adduser makes the
# accounts in postinst; cups-client's `lp` prints receipts.
runtime="libx11-6, libx11-xcb1, libxcb1, libxcursor1, libxi6, libxkbcommon0, libxkbcommon-x11-0, libwayland-client0"
depends="$linked, $runtime, adduser"
recommends="cups-client"

# --- The package tree --------------------------------------------------------
rm -rf "$stage"
umask 022
install -D -m 0755 "$binary" "$stage/usr/bin/pishkhan"
install -D -m 0644 "$installer/pishkhan.desktop" "$stage/usr/share/applications/pishkhan.desktop"
install -D -m 0644 "$installer/pishkhan.svg" "$stage/usr/share/icons/hicolor/scalable/apps/pishkhan.svg"
install -D -m 0644 "$installer/60-pishkhan.rules" "$stage/usr/lib/udev/rules.d/60-pishkhan.rules"
install -D -m 0644 "$installer/pishkhan-upload.service" "$stage/usr/lib/systemd/system/pishkhan-upload.service"
install -D -m 0644 "$installer/pishkhan-intake.service" "$stage/usr/lib/systemd/system/pishkhan-intake.service"

doc="$stage/usr/share/doc/pishkhan"
install -D -m 0644 "$installer/debian/copyright" "$doc/copyright"
install -D -m 0644 "$installer/README.md" "$doc/README.Debian"
install -D -m 0644 assets/fonts/OFL.txt "$doc/OFL.txt"
# Debian compresses the changelog and the longer documents (gzip -9n: no
# name or date inside, the same bytes every time). A native package's
# changelog.gz is in Debian's format: one entry pointing to the project's.
printf '%s\n' "pishkhan ($version) unstable; urgency=medium" "" \
  "  * Pishkhan $version. What changed is in CHANGELOG.md.gz beside this file." "" \
  " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")" |
  gzip -9nc >"$doc/changelog.gz"
gzip -9nc CHANGELOG.md >"$doc/CHANGELOG.md.gz"
gzip -9nc README.md >"$doc/README.md.gz"
gzip -9nc docs/operations.md >"$doc/operations.md.gz"
chmod 0644 "$doc"/*.gz

install -d -m 0755 "$stage/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$installer/debian/$script" "$stage/DEBIAN/$script"
done
installed_size=$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: pishkhan
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: $recommends
Section: misc
Priority: optional
Homepage: https://example.invalid/pishkhan
Description: Enrolment station for smart national ID cards
 Pishkhan is the desktop station that registration offices and mobile
 teams use to enrol applicants for the smart national ID card: applicant
 details checked against the pre-registration, an ICAO-checked portrait,
 ten fingerprints from a slap scanner or a single-finger module, sealed
 into an encrypted ANSI/NIST-ITL packet and uploaded to the authority's
 intake.
 .
 The package installs the station (one binary with its fonts, translations
 and face model built in), a desktop entry, udev rules for USB-serial
 fingerprint modules and cameras, the upload daemon's systemd unit and the
 optional reference intake's. Nothing is started: see
 /usr/share/doc/pishkhan/README.Debian.
EOF
(cd "$stage" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

mkdir -p "$(dirname "$deb")"
rm -f "$deb"
dpkg-deb --root-owner-group --build "$stage" "$deb"

# --- Check what was built ----------------------------------------------------
dpkg-deb --info "$deb"
contents=$(dpkg-deb --contents "$deb")
printf '%s\n' "$contents"
expect() { # FILE MODE: in the package, owned by root, with that mode
  local line
  line=$(printf '%s\n' "$contents" | awk -v f="./$1" '$6 == f')
  [ -n "$line" ] || {
    echo "missing from the package: /$1" >&2
    exit 1
  }
  [[ $line == "$2 root/root "* ]] || {
    echo "wrong mode or owner for /$1: $line (expected $2 root/root)" >&2
    exit 1
  }
}
expect usr/bin/pishkhan -rwxr-xr-x
expect usr/share/applications/pishkhan.desktop -rw-r--r--
expect usr/share/icons/hicolor/scalable/apps/pishkhan.svg -rw-r--r--
expect usr/lib/udev/rules.d/60-pishkhan.rules -rw-r--r--
expect usr/lib/systemd/system/pishkhan-upload.service -rw-r--r--
expect usr/lib/systemd/system/pishkhan-intake.service -rw-r--r--
for f in copyright README.Debian OFL.txt changelog.gz CHANGELOG.md.gz README.md.gz operations.md.gz; do
  expect "usr/share/doc/pishkhan/$f" -rw-r--r--
done
[ "$(dpkg-deb --field "$deb" Version)" = "$version" ] || {
  echo "the package's version is not $version" >&2
  exit 1
}
for script in postinst prerm postrm; do
  dpkg-deb --info "$deb" "$script" >/dev/null
done
echo
echo "Built $deb"

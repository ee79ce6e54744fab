#!/usr/bin/env bash
# Regenerates the screenshots in docs/screens/: every wizard step, in Persian
# and English, from the real station window under Xvfb.
# Usage: bash docs/screens/make.sh        (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/screens

need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v import >/dev/null || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "Missing: ${need[*]}. Run: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

cargo build --quiet --bin pishkhan
bin=${CARGO_TARGET_DIR:-target}/debug/pishkhan
display=:${SCREENS_DISPLAY:-97}
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1

shot() { # name, data dir, extra args...
  local name=$1 dir=$2
  shift 2
  DISPLAY=$display PISHKHAN_LOG=warn "$bin" --data-dir "$dir" "$@" &
  local pid=$!
  sleep "${WAIT:-${SCREENS_WAIT:-10}}"
  DISPLAY=$display import -window root "$out/$name.png"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "wrote $out/$name.png"
}

for lang in fa en; do
  fresh=$(mktemp -d)
  shot "$lang-0-setup" "$fresh" --lang "$lang"
  rm -rf "$fresh"
  data=$(mktemp -d)
  n=1
  for step in applicant documents portrait fingerprints review done; do
    shot "$lang-$n-$step" "$data" --lang "$lang" --demo-step "$step"
    n=$((n + 1))
  done
  rm -rf "$data"
  # A slap scanner behind the virtual SBI service: the demo accepts both
  # slaps (5 s each), then the thumbs are being placed, with the live
  # preview.
  sbi=$(mktemp -d)
  printf '[devices]\nscanner = "sbi"\nsbi_service = "virtual"\nvirtual_scanner_delay_ms = 5000\n' >"$sbi/pishkhan.toml"
  WAIT=13 shot "$lang-4b-fingerprints-sbi" "$sbi" --lang "$lang" --demo-step fingerprints
  rm -rf "$sbi"
done

# The exception form (a headless render of the same interface, since a
# demo step cannot open a form): docs/screens/{fa,en}-4c-exception-tiny-skia.png
cargo test --quiet --test enrolment_ui -- --ignored write_exception_form_screens
cargo test --quiet --test enrolment_ui -- --ignored write_applicant_screens
cargo test --quiet --test enrolment_ui -- --ignored write_portrait_screens
# The accommodations strip on the portrait step and a screen in high
# contrast (drawn at the window's larger scale).
cargo test --quiet --test enrolment_ui -- --ignored write_accommodation_screens
# A mobile team's route and a card handover that matched.
cargo test --quiet --test enrolment_ui -- --ignored write_route_and_handover_screens
# The applicant's receipt (Persian and English on one A5 page), rendered by
# the receipt crate itself: docs/screens/receipt-fa-en.png
cargo test --quiet -p pishkhan-receipt --test render -- --ignored write_receipt_screen
# The provisioning form and the registration QR code, the settings screen.
cargo test --quiet --test enrolment_ui -- --ignored write_provision_screens
cargo test --quiet --test enrolment_ui -- --ignored write_settings_screens

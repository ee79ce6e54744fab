//! The applicant's receipt end to end: saved (and offered to the print
//! service) at the done step, reprinted from the queue screen with a
//! supervisor's approval, and from the command line; the PDF's QR code
//! decodes to the tracking code.

use pishkhan::store::audit;
use pishkhan::text::Text;

use super::*;

/// Runs a tool the checks need; `None` (with a note) when it is missing
/// and the reference tools are not required.
fn tool(name: &str, args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new(name).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if std::env::var("PISHKHAN_REQUIRE_REFERENCE").is_ok_and(|v| v == "1") => {
            panic!("{name} is required (PISHKHAN_REQUIRE_REFERENCE=1): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: {name} cannot be run ({e})");
            None
        }
    }
}

/// What the QR code and the barcode of the PDF's page decode to.
fn decoded_codes(pdf: &Path) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("page");
    let out = tool(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-png",
            "-singlefile",
            &pdf.display().to_string(),
            &png.display().to_string(),
        ],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tool(
        "zbarimg",
        &[
            "--quiet",
            "--raw",
            &png.with_extension("png").display().to_string(),
        ],
    )?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// `pishkhan receipt save CODE --out OUT --supervisor sara` on the station
/// in `dir`, the password given in the environment.
fn receipt_save(dir: &Path, code: &str, out: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn")
        .env("PISHKHAN_SUPERVISOR_PASSWORD", PASSWORD)
        .args(["receipt", "save", code, "--out"])
        .arg(out)
        .args(["--supervisor", "sara"])
        .output()
        .expect("pishkhan runs")
}

#[test]
fn the_receipt_is_saved_at_the_end_and_reprinted_with_a_supervisor() {
    let mut h = enrol();
    let code = h.outbox()[0]
        .tracking_code
        .clone()
        .expect("a local packet has its code");

    // Saved at the done step.
    h.click(&h.tr("ui-receipt-save"));
    let saved = h.dir.path().join("receipts").join(format!("{code}.pdf"));
    let line = h
        .app
        .i18n
        .text(&Text::new("ui-receipt-saved").arg("path", saved.display().to_string()));
    assert!(h.sees(&line), "{line}");
    let pdf = std::fs::read(&saved).expect("the receipt file");
    assert!(pdf.starts_with(b"%PDF"));
    if let Some(codes) = decoded_codes(&saved) {
        assert_eq!(
            codes,
            [code.clone(), code.clone()],
            "the QR code and the barcode"
        );
    }
    // Printing without a print service says so and keeps the file.
    h.click(&h.tr("ui-receipt-print"));
    if std::process::Command::new("lp").arg("-h").output().is_err() {
        assert!(
            h.sees(&h.tr("err-print-service")),
            "no print service here: the station says so"
        );
    }
    assert!(saved.exists(), "the saved receipt stays");

    // Reprinted from the queue: a wrong password first, then the supervisor.
    h.click(&h.tr("ui-queue"));
    h.type_into("reprint-query", &h.app.i18n.digits(NATIONAL_CODE));
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", "not the password");
    h.click(&h.tr("ui-reprint"));
    assert!(h.sees(&h.tr("err-wrong-credentials")));
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-reprint"));
    let reprint = h
        .dir
        .path()
        .join("receipts")
        .join(format!("{code}-reprint-1.pdf"));
    assert!(
        reprint.exists(),
        "the reprint is saved as {}",
        reprint.display()
    );
    let events = h.station.with_db(audit::list).expect("audit");
    let reprinted = events
        .iter()
        .find(|e| e.action == "receipt-reprinted")
        .expect("the reprint is audited");
    assert_eq!(reprinted.actor, "sara");
    assert_eq!(reprinted.detail.as_deref(), Some("reprint 1"));

    // From the command line, by tracking code: the second reprint.
    let out_file = h.dir.path().join("cli-reprint.pdf");
    let out = receipt_save(h.dir.path(), &code, &out_file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reprint 2"));
    if let Some(codes) = decoded_codes(&out_file) {
        assert!(codes.contains(&code), "{codes:?}");
    }
    // An unknown code is refused by name.
    let out = receipt_save(h.dir.path(), "0790419905", &out_file);
    assert_eq!(out.status.code(), Some(1));
}

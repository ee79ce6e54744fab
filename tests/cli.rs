//! The `pishkhan` binary as a technician uses it.

use std::process::Command;

fn pishkhan(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

/// A fresh station with the synthetic camera and a quick virtual scanner
/// that has run `self-test --count COUNT`; the run must succeed. Returns
/// the data directory and what the self-test printed.
fn self_tested(count: u32) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nvirtual_scanner_delay_ms = 5\n",
    )
    .expect("config");
    let out = pishkhan(dir.path())
        .args(["self-test", "--count", &count.to_string()])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, stdout)
}

#[test]
fn self_test_seals_test_packets_that_queue_list_shows() {
    let (dir, stdout) = self_tested(3);
    for step in ["applicant", "documents", "portrait", "fingerprints", "seal"] {
        assert!(
            stdout.contains(&format!("{step} ")),
            "timing of {step} in {stdout}"
        );
    }
    assert!(
        stdout.contains("self-test passed: 3 enrolment(s)"),
        "{stdout}"
    );

    let out = pishkhan(dir.path())
        .args(["queue", "list", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 3);
    for entry in list {
        assert_eq!(entry["test"], true);
        assert_eq!(entry["status"], "pending");
        assert!(entry["size"].as_u64().expect("size") > 1000);
        let code = entry["tracking_code"].as_str().expect("code");
        assert!(
            pishkhan::enrolment::TrackingCode::parse(code).is_some(),
            "{code}"
        );
        for key in ["id", "created_at", "sha256"] {
            assert!(entry[key].is_string(), "{key}");
        }
    }
}

#[test]
fn self_test_works_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh = dir.path().join("new-station");
    let out = pishkhan(&fresh).arg("self-test").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fresh.join("pishkhan.toml").exists());
    assert!(fresh.join("station.key").exists());
}

#[test]
fn a_bad_configuration_is_reported_not_crashed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pishkhan.toml"), "language = \"de\"\n").expect("write");
    let out = pishkhan(dir.path())
        .args(["queue", "list"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pishkhan.toml is not valid"), "{stderr}");
}

#[test]
fn version_is_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .arg("--version")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("pishkhan {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn devices_finds_both_virtual_devices_and_captures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("test-capture.png");
    let out = pishkhan(dir.path())
        .args([
            "devices",
            "--json",
            "--virtual",
            "zfm",
            "--virtual",
            "sbi",
            "--capture",
        ])
        .arg(&png)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let module = doc["serial_ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["virtual"] == true)
        .expect("the virtual ZhianTec module is listed");
    assert_eq!(module["module"]["system_id"], "0x0009", "{module}");
    let sbi = doc["sbi_services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["virtual"] == true)
        .expect("the virtual SBI service is found by discovery");
    assert_eq!(sbi["device_sub_ids"], serde_json::json!([1, 2, 3]));
    assert_eq!(doc["capture"]["fingers"], 1, "{}", doc["capture"]);
    let image = image::open(&png).expect("the test capture is a PNG");
    assert_eq!((image.width(), image.height()), (256, 288));
}

/// A synthetic finger saved as PNG, for the technicians' tools.
fn finger_png(dir: &std::path::Path, name: &str, seed: u64) -> std::path::PathBuf {
    let (w, h) = (400, 500);
    let pixels = pishkhan_scanner::ridge_pattern(pishkhan_scanner::Finger::LeftIndex, seed, w, h);
    let path = dir.join(name);
    image::GrayImage::from_raw(w, h, pixels)
        .expect("size")
        .save(&path)
        .expect("png");
    path
}

#[test]
fn wsq_encode_and_decode_round_trip_a_finger_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = finger_png(dir.path(), "finger.png", 4);
    let wsq = dir.path().join("finger.wsq");
    let back = dir.path().join("back.png");
    let out = pishkhan(dir.path())
        .args(["wsq", "encode"])
        .args([&png, &wsq])
        .args(["--bitrate", "2.25"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("400×500"));
    let bytes = std::fs::read(&wsq).expect("written");
    assert_eq!(&bytes[..2], &[0xFF, 0xA0], "a WSQ file");
    assert!(
        bytes.windows(8).any(|w| w == b"NIST_COM"),
        "the NISTCOM comment"
    );
    let out = pishkhan(dir.path())
        .args(["wsq", "decode"])
        .args([&wsq, &back])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("500 ppi"));
    let a = image::open(&png).expect("png").to_luma8();
    let b = image::open(&back).expect("decoded").to_luma8();
    assert_eq!(a.dimensions(), b.dimensions());
    let rmse = (a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / f64::from(400 * 500))
    .sqrt();
    assert!(rmse < 8.0, "RMSE at 2.25 bpp: {rmse}");
}

#[test]
fn wsq_tools_explain_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").expect("write");
    let out = pishkhan(dir.path())
        .args(["wsq", "encode"])
        .args([&text, &dir.path().join("x.wsq")])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notes.txt") && err.contains("not an image"),
        "{err}"
    );

    let out = pishkhan(dir.path())
        .args(["wsq", "decode"])
        .args([&text, &dir.path().join("x.png")])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));

    let png = finger_png(dir.path(), "f.png", 1);
    let out = pishkhan(dir.path())
        .args(["wsq", "encode"])
        .args([&png, &dir.path().join("x.wsq")])
        .args(["--bitrate", "0"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bit rate"));
}

#[test]
fn finger_quality_scores_images_and_names_the_failing_measures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = finger_png(dir.path(), "good.png", 2);
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(300, 300, image::Luma([255]))
        .save(&blank)
        .expect("png");
    let missing = dir.path().join("missing.png");
    let out = pishkhan(dir.path())
        .args(["finger", "quality", "--json"])
        .args([&good, &blank, &missing])
        .output()
        .expect("runs");
    assert!(
        !out.status.success(),
        "an unreadable file fails the command"
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let reports = reports.as_array().expect("array");
    assert_eq!(reports.len(), 3);
    assert!(
        reports[0]["score"].as_u64().expect("score") >= 40,
        "{}",
        reports[0]
    );
    assert_eq!(reports[0]["passes"], true);
    assert_eq!(reports[1]["score"], 0);
    let failing: Vec<&str> = reports[1]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .filter(|m| m["failing"] == true)
        .filter_map(|m| m["measure"].as_str())
        .collect();
    assert!(failing.contains(&"mean-grey"), "{failing:?}");
    assert!(
        reports[2]["error"]
            .as_str()
            .expect("error")
            .contains("missing.png")
    );

    let out = pishkhan(dir.path())
        .args(["finger", "quality", "--threshold", "99"])
        .arg(&good)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.contains("FAILS 99"), "{line}");
}

fn portrait_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/portraits")
        .join(format!("{name}.png"))
}

#[test]
fn portrait_check_reports_faces_eyes_and_every_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = pishkhan(dir.path())
        .args(["portrait", "check", "--json"])
        .arg(portrait_fixture("mpl_grace_hopper"))
        .arg(portrait_fixture("skimage_coffee"))
        .arg(dir.path().join("missing.png"))
        .output()
        .expect("runs");
    // Not every image is compliant: exit 1, with a report for each.
    assert_eq!(out.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let hopper = &reports[0];
    assert_eq!(hopper["faces"].as_array().map(Vec::len), Some(1));
    let right_x = hopper["faces"][0]["right_eye"][0].as_f64().expect("eye");
    assert!((right_x - 221.0).abs() < 4.0, "{right_x}");
    let checks = hopper["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 16);
    let distance = checks
        .iter()
        .find(|c| c["check"] == "eye-distance")
        .expect("eye distance");
    assert_eq!(
        distance["passed"], false,
        "85 px is under the 90 px minimum"
    );
    assert_eq!(distance["off"], "low");
    assert_eq!(reports[1]["faces"].as_array().map(Vec::len), Some(0));
    assert!(
        reports[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing.png")),
        "{}",
        reports[2]
    );
}

#[test]
fn portrait_crop_writes_the_token_or_names_the_check_that_stops_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Too small: 85 px between the eyes.
    let out = pishkhan(dir.path())
        .args(["portrait", "crop"])
        .arg(portrait_fixture("mpl_grace_hopper"))
        .arg(dir.path().join("no.jpg"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("eye-distance"), "{stderr}");
    assert!(!dir.path().join("no.jpg").exists());

    // The same portrait as a closer camera sees it, with room around it.
    let hopper = image::open(portrait_fixture("mpl_grace_hopper"))
        .expect("fixture")
        .to_rgb8();
    let scaled =
        image::imageops::resize(&hopper, 666, 780, image::imageops::FilterType::CatmullRom);
    let mut frame = image::RgbImage::from_pixel(1280, 960, image::Rgb([232, 232, 228]));
    image::imageops::overlay(&mut frame, &scaled, 307, 90);
    let input = dir.path().join("frame.png");
    frame.save(&input).expect("write frame");
    let output = dir.path().join("crop.jpg");
    let out = pishkhan(dir.path())
        .args(["portrait", "crop"])
        .arg(&input)
        .arg(&output)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crop = image::open(&output).expect("a JPEG");
    assert_eq!((crop.width(), crop.height()), (480, 640));
}

#[test]
fn audit_verify_proves_the_chain_and_names_a_changed_entry() {
    let (dir, _) = self_tested(2);
    let out = pishkhan(dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("audit log intact: 2 chained entries"),
        "{stdout}"
    );

    // Someone edits the database behind the station's back.
    {
        let db = rusqlite::Connection::open(dir.path().join("pishkhan.db")).expect("db");
        db.execute_batch(
            "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE id = 1;",
        )
        .expect("tamper");
    }
    let out = pishkhan(dir.path())
        .args(["audit", "verify", "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(verdict["intact"], false);
    assert_eq!(verdict["broken_at"], 1);
    assert!(
        verdict["reason"]
            .as_str()
            .is_some_and(|r| r.contains("changed")),
        "{verdict}"
    );
}

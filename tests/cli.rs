//! The `pishkhan` binary as a technician uses it.

use std::process::Command;

fn pishkhan(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

#[test]
fn self_test_seals_test_packets_that_queue_list_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        "[devices]\ncamera = \"synthetic\"\nvirtual_scanner_delay_ms = 5\n",
    )
    .expect("config");
    let out = pishkhan(dir.path())
        .args(["self-test", "--count", "3"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

//! `pishkhan provision` as a technician uses it, and the registration it
//! exports taken in by `pishkhan intake register --from`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pishkhan(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pishkhan"));
    cmd.env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn");
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn recipient() -> String {
    age::x25519::Identity::generate().to_public().to_string()
}

/// A reference intake in `dir/intake`: its receipt key and its HTTPS
/// certificate (a PEM file), as the authority hands them out.
struct Intake {
    dir: PathBuf,
    key: String,
    certificate: PathBuf,
}

fn intake(root: &Path) -> Intake {
    let dir = root.join("intake");
    let run = |what: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_pishkhan"))
            .env("PISHKHAN_LOG", "warn")
            .arg("intake")
            .arg("--dir")
            .arg(&dir)
            .arg(what)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let key = run("key").trim().to_owned();
    let certificate = root.join("intake-cert.pem");
    std::fs::write(&certificate, run("certificate")).expect("write the certificate");
    Intake {
        dir,
        key,
        certificate,
    }
}

/// `pishkhan provision` for office `office` with two recipients and the
/// intake's certificate and key, plus `extra` arguments.
fn provision(station: &Path, intake: &Intake, office: &str, extra: &[&str]) -> Output {
    pishkhan(station)
        .args(["provision", "--office", office, "--name", "باجهٔ ۳"])
        .args(["--recipient", &recipient(), "--recipient", &recipient()])
        .args(["--intake-url", "https://intake.example"])
        .arg("--intake-certificate")
        .arg(&intake.certificate)
        .args(["--intake-key", &intake.key])
        .args(extra)
        .output()
        .expect("runs")
}

fn audit(station: &Path) -> Vec<serde_json::Value> {
    let out = pishkhan(station)
        .args(["audit", "list", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    list.as_array().expect("an array").clone()
}

fn audit_verifies(station: &Path) {
    let out = pishkhan(station)
        .args(["audit", "verify"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("audit log intact"),
        "{}",
        stdout(&out)
    );
}

const OPERATORS_FILE: &str = "\
# Counter 3 of the Tehran 17 office. Ask Reza before changing.
language = \"fa\"

[devices]
camera = \"synthetic\"   # the lab camera is broken
scanner = \"virtual\"

[fingerprints]
quality_threshold = 55   # agreed with the authority
";

#[test]
fn provision_sets_its_keys_keeps_the_rest_and_exports_the_registration() {
    let root = tempfile::tempdir().expect("tempdir");
    let intake = intake(root.path());
    let station = root.path().join("station");
    std::fs::create_dir_all(&station).expect("mkdir");
    std::fs::write(station.join("pishkhan.toml"), OPERATORS_FILE).expect("config");
    let png = root.path().join("registration.png");
    let out = provision(
        &station,
        &intake,
        "TEH-17",
        &["--number", "42", "--qr-png", png.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let printed = stdout(&out);

    // Only the provisioning keys changed; the operator's file is intact.
    let text = std::fs::read_to_string(station.join("pishkhan.toml")).expect("read");
    for kept in [
        "# Counter 3 of the Tehran 17 office. Ask Reza before changing.\n",
        "camera = \"synthetic\"   # the lab camera is broken\n",
        "quality_threshold = 55   # agreed with the authority\n",
        "scanner = \"virtual\"\n",
    ] {
        assert!(text.contains(kept), "{kept:?} lost from:\n{text}");
    }
    let (config, warnings) = pishkhan::config::Config::parse(&text).expect("valid");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.station.office, "TEH-17");
    assert_eq!(config.station.name.as_deref(), Some("باجهٔ ۳"));
    assert_eq!(config.station.number, Some(42));
    assert_eq!(config.authority.all_recipients().len(), 2);
    assert_eq!(
        config.upload.url.as_deref(),
        Some("https://intake.example/files/"),
        "a bare host means its tus endpoint"
    );
    assert_eq!(
        config.upload.intake_key.as_deref(),
        Some(intake.key.as_str())
    );
    assert_eq!(
        config.upload.server_certificate.as_deref(),
        Some("intake-certificate.pem")
    );
    assert_eq!(
        std::fs::read(station.join("intake-certificate.pem")).expect("copied"),
        std::fs::read(&intake.certificate).expect("original"),
        "the certificate is pinned from the data directory"
    );
    assert_eq!(config.fingerprints.quality_threshold, 55);

    // The key pair was made here; the registration carries its public half.
    assert!(station.join("station.key").exists());
    let file = station.join("station-registration.json");
    let (registration, key) =
        pishkhan::provision::Registration::read(&file).expect("a signed registration");
    let opened = pishkhan::station::Station::open(&station).expect("opens");
    assert_eq!(key, opened.verifying_key());
    assert_eq!(registration.station_id, opened.id.to_string());
    assert_eq!(
        (registration.number, registration.office.as_str()),
        (42, "TEH-17")
    );
    assert_eq!(registration.name, "باجهٔ ۳");
    assert!(!opened.demo, "packets go to the authority's keys now");
    drop(opened);
    assert!(printed.contains(&registration.public_key), "{printed}");
    assert!(printed.contains(&file.display().to_string()), "{printed}");
    assert!(
        printed.contains('█') || printed.contains('▀'),
        "the QR code is printed:\n{printed}"
    );
    let qr = image::open(&png).expect("a PNG").to_luma8();
    assert_eq!(qr.width(), qr.height());
    assert!(qr.width() >= 25 * 8, "{}", qr.width());

    // Audited, with the changed keys; the chain holds.
    let entries = audit(&station);
    let provisioned: Vec<_> = entries
        .iter()
        .filter(|e| e["action"] == "station-provisioned")
        .collect();
    assert_eq!(provisioned.len(), 1, "{entries:?}");
    let entry = provisioned[0];
    assert_eq!(entry["actor"], "provision");
    assert_eq!(entry["subject"], "TEH-17");
    let detail = entry["detail"].as_str().expect("detail");
    assert!(
        detail.contains("station.office: \"DEMO-OFFICE\" (default) → \"TEH-17\""),
        "{detail}"
    );
    assert!(detail.contains("station.number: (unset) → 42"), "{detail}");
    assert!(detail.contains("upload.intake_key"), "{detail}");
    audit_verifies(&station);
}

#[test]
fn provision_refuses_bad_values_each_with_its_own_message() {
    let root = tempfile::tempdir().expect("tempdir");
    let intake = intake(root.path());
    let not_pem = root.path().join("not-a-certificate.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").expect("write");
    let garbled = root.path().join("garbled.pem");
    std::fs::write(
        &garbled,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let good = recipient();
    let station = root.path().join("station");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--recipient".into(), "age1notakey".into()],
            "Key 1 is not an age public key",
        ),
        (
            vec![
                "--recipient".into(),
                good.clone(),
                "--recipient".into(),
                "AGE-SECRET-KEY-1XYZ".into(),
            ],
            "Key 2 is not an age public key",
        ),
        (
            vec!["--intake-url".into(), "http://intake.example/files/".into()],
            "must start with https://",
        ),
        (
            vec!["--intake-url".into(), "intake.example/files".into()],
            "is not a web address",
        ),
        (
            vec!["--intake-certificate".into(), not_pem.display().to_string()],
            "is not a PEM certificate",
        ),
        (
            vec!["--intake-certificate".into(), garbled.display().to_string()],
            "holds a certificate that cannot be read",
        ),
        (
            vec![
                "--intake-certificate".into(),
                root.path().join("missing.pem").display().to_string(),
            ],
            "cannot be read",
        ),
        (
            vec!["--office".into(), "TEH 17".into()],
            "The office code is 1–64 ASCII letters",
        ),
        (
            vec!["--office".into(), "DEMO-OFFICE".into()],
            "DEMO-OFFICE is the office of demo stations",
        ),
        (
            vec!["--intake-key".into(), "abcd".into()],
            "The intake's receipt key is 64 hexadecimal digits",
        ),
        (
            vec!["--number".into(), "12000".into()],
            "The station number is a whole number from 0 to 9999",
        ),
    ];
    for (changed, message) in cases {
        let mut args: Vec<String> = vec!["provision".into(), "--name".into(), "Counter 3".into()];
        let given = |flag: &str| changed.iter().any(|a| a == flag);
        if !given("--office") {
            args.extend(["--office".into(), "TEH-17".into()]);
        }
        if !given("--recipient") {
            args.extend(["--recipient".into(), good.clone()]);
        }
        if !given("--intake-url") {
            args.extend([
                "--intake-url".into(),
                "https://intake.example/files/".into(),
            ]);
        }
        if !given("--intake-key") {
            args.extend(["--intake-key".into(), intake.key.clone()]);
        }
        args.extend(changed.iter().cloned());
        let out = pishkhan(&station).args(&args).output().expect("runs");
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            stderr(&out).contains(message),
            "{args:?}: expected {message:?} in {}",
            stderr(&out)
        );
    }
    // Without the intake's key, when none is configured.
    let out = pishkhan(&station)
        .args(["provision", "--office", "TEH-17", "--name", "Counter 3"])
        .args([
            "--recipient",
            &good,
            "--intake-url",
            "https://intake.example/",
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Enter the intake's receipt key"),
        "{}",
        stderr(&out)
    );
    assert!(
        !station.join("station.key").exists(),
        "a refused request leaves no new station behind"
    );

    // Plain http is fine to this computer (a local intake, tests).
    let out = pishkhan(&station)
        .args(["provision", "--office", "TEH-17", "--name", "Counter 3"])
        .args(["--recipient", &good, "--intake-key", &intake.key])
        .args(["--intake-url", "http://127.0.0.1:8443/files/"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn provisioning_again_needs_force_and_is_audited() {
    let root = tempfile::tempdir().expect("tempdir");
    let intake = intake(root.path());
    let station = root.path().join("station");
    let out = provision(&station, &intake, "TEH-17", &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = provision(&station, &intake, "TEH-18", &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("provisioned for office TEH-17 already; give --force"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(station.join("pishkhan.toml")).expect("read");
    assert!(
        text.contains("office = \"TEH-17\""),
        "nothing changed:\n{text}"
    );

    let out = provision(&station, &intake, "TEH-18", &["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = audit(&station);
    let provisioned: Vec<_> = entries
        .iter()
        .filter(|e| e["action"] == "station-provisioned")
        .collect();
    assert_eq!(provisioned.len(), 2, "{entries:?}");
    let detail = provisioned[1]["detail"].as_str().expect("detail");
    assert!(
        detail.contains("station.office: \"TEH-17\" → \"TEH-18\""),
        "{detail}"
    );
    assert!(
        !detail.contains("station.name"),
        "only the keys that changed: {detail}"
    );
    assert!(detail.contains("authority.recipient"), "new keys: {detail}");
    audit_verifies(&station);
}

#[test]
fn the_intake_registers_a_station_from_its_registration_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let intake = intake(root.path());
    let station = root.path().join("station");
    let file = root.path().join("counter-3.json");
    let out = provision(
        &station,
        &intake,
        "TEH-17",
        &["--export", file.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!station.join("station-registration.json").exists());

    let register = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_pishkhan"))
            .env("PISHKHAN_LOG", "warn")
            .arg("intake")
            .arg("--dir")
            .arg(&intake.dir)
            .args(["register", "--from"])
            .arg(file)
            .output()
            .expect("runs")
    };
    let out = register(&file);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = pishkhan::station::Station::open(&station)
        .expect("opens")
        .id;
    assert!(
        stdout(&out).contains(&format!("station {id} registered for office TEH-17")),
        "{}",
        stdout(&out)
    );
    let registry = std::fs::read_to_string(intake.dir.join("stations.toml")).expect("register");
    let registry: toml::Table = toml::from_str(&registry).expect("TOML");
    let entry = registry["station"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"].as_str() == Some(&id.to_string())))
        .expect("the station is registered");
    assert_eq!(entry["office"].as_str(), Some("TEH-17"));
    assert_eq!(entry["name"].as_str(), Some("باجهٔ ۳"));
    let (registration, _) = pishkhan::provision::Registration::read(&file).expect("reads");
    assert_eq!(
        entry["key"].as_str(),
        Some(registration.public_key.as_str())
    );

    // A file changed on the way is refused.
    let forged = root.path().join("forged.json");
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("TEH-17", "TEH-99");
    std::fs::write(&forged, text).expect("write");
    let out = register(&forged);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the signature does not match"),
        "{}",
        stderr(&out)
    );
}

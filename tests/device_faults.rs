//! A scanner that goes away mid-enrolment: the operator gets a clear
//! message, presses "Try again", and carries on without restarting.

use std::time::Duration;

use pishkhan::devices::{ScannerWorker, sbi_scanner, zfm_scanner};
use pishkhan::enrolment::Session;
use pishkhan::enrolment::tenprint::{Plan, Policy, Status, TenPrint};
use pishkhan::i18n::{I18n, Lang};
use pishkhan_scanner::{Impression, ScanError};

/// Feeds worker events to the plan, accepting every assessed capture (or
/// retaking one below the quality threshold), until it completes, fails, or
/// `session` holds `fingers` fingers.
fn run(tp: &mut TenPrint, session: &mut Session, worker: &ScannerWorker, fingers: usize) {
    for _ in 0..10_000 {
        if session.fingers.len() >= fingers {
            return;
        }
        match &tp.status {
            Status::Complete | Status::Failed(..) => return,
            Status::Review(impression) => {
                let impression = *impression;
                if !tp.can_accept(session) && tp.can_retake() {
                    // A light touch: take it again, keeping the best.
                    tp.retake(session, worker).expect("retake allowed");
                    continue;
                }
                tp.accept(session, worker).unwrap_or_else(|r| {
                    panic!(
                        "{impression:?} refused: {r} {:?}",
                        tp.round().map(|r| &r.problems)
                    )
                });
            }
            _ => {
                let (stamp, event) = worker
                    .wait(Duration::from_secs(20))
                    .expect("the scanner worker reports");
                tp.handle(session, worker, stamp, event);
            }
        }
    }
    panic!("the capture never finished");
}

fn plan(worker: &ScannerWorker) -> TenPrint {
    TenPrint::new(
        Plan::for_scanner(worker.info()),
        Policy::default(),
        Duration::from_secs(10),
    )
}

fn operator_message(status: &Status) -> String {
    let Status::Failed(_, error) = status else {
        panic!("expected a failure, got {status:?}");
    };
    let text = pishkhan::ui::wizard::scan_error_text(error);
    I18n::new(Lang::Fa).text(&text)
}

#[test]
fn a_restarted_sbi_service_is_used_again_after_try_again() {
    let key = [7u8; 32];
    let knobs = pishkhan_sbi::Knobs {
        capture_delay_ms: 300,
        ..Default::default()
    };
    let first = (4501..=4600)
        .find_map(|port| pishkhan_sbi::VirtualSbi::start_with_key(port, knobs.clone(), &key).ok())
        .expect("a free SBI port");
    let (addr, trust) = (first.addr(), first.trust_store());
    let worker = ScannerWorker::start(sbi_scanner(addr, trust));
    let mut session = Session::new("op", true);
    let mut tp = plan(&worker);

    // The right slap is accepted; the plan moves on to the left slap at once.
    tp.start(&session, &worker);
    run(&mut tp, &mut session, &worker, 4);
    assert_eq!(session.fingers.len(), 4, "the right slap");
    assert_eq!(tp.current_impression(), Some(Impression::LeftSlap));

    // The vendor service dies mid-capture (unplugged scanner, crash).
    drop(first);
    run(&mut tp, &mut session, &worker, 10);
    assert!(
        matches!(
            tp.status,
            Status::Failed(Impression::LeftSlap, ScanError::Disconnected(_))
        ),
        "{:?}",
        tp.status
    );
    let message = operator_message(&tp.status);
    assert!(message.contains("قطع"), "Persian message: {message}");
    assert_eq!(session.fingers.len(), 4, "nothing captured is lost");

    // It comes back on the same port; "Try again" reconnects.
    let _second = pishkhan_sbi::VirtualSbi::start_with_key(addr.port(), knobs, &key)
        .expect("the port is free again");
    tp.retake_finger(pishkhan_scanner::Finger::LeftIndex, &session, &worker);
    run(&mut tp, &mut session, &worker, 10);
    assert_eq!(tp.status, Status::Complete, "{:?}", tp.status);
    assert!(session.missing_fingers().is_empty());
}

#[cfg(unix)]
#[test]
fn an_unplugged_zhiantec_module_is_explained_and_nothing_is_lost() {
    let module = pishkhan_zfm::VirtualModule::start(1, pishkhan_zfm::Knobs::default())
        .expect("virtual module");
    let worker = ScannerWorker::start(zfm_scanner(module.path(), 57_600));
    let mut session = Session::new("op", true);
    let mut tp = plan(&worker);

    tp.start(&session, &worker);
    // Let two fingers through, then pull the plug.
    run(&mut tp, &mut session, &worker, 2);
    module.handle().disconnect();
    run(&mut tp, &mut session, &worker, 10);
    assert!(
        matches!(tp.status, Status::Failed(_, ScanError::Disconnected(_))),
        "{:?}",
        tp.status
    );
    assert!(session.fingers.len() >= 2, "captured fingers are kept");
    let en = I18n::new(Lang::En).text(&pishkhan::ui::wizard::scan_error_text(
        &ScanError::Disconnected("gone".into()),
    ));
    assert_eq!(en, "The scanner was disconnected: gone");

    // Trying again without the module fails the same clear way, again and
    // again, without hanging or needing a restart.
    for _ in 0..2 {
        tp.retake_finger(pishkhan_scanner::Finger::RightMiddle, &session, &worker);
        run(&mut tp, &mut session, &worker, 10);
        assert!(matches!(
            tp.status,
            Status::Failed(_, ScanError::Disconnected(_))
        ));
    }
}

#[test]
fn an_rs256_device_is_trusted_through_the_configured_device_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pishkhan_sbi::VirtualPki::generate("Test device CA").expect("test PKI");
    let ca = dir.path().join("device-ca.pem");
    std::fs::write(&ca, pki.ca_pem()).expect("write CA");
    let service = (4501..=4600)
        .find_map(|port| {
            pishkhan_sbi::VirtualSbi::start_rs256(port, pishkhan_sbi::Knobs::default(), pki.clone())
                .ok()
        })
        .expect("a free SBI port");
    let toml = format!(
        "[devices]\nscanner = \"sbi\"\nsbi_service = \"discover\"\nsbi_trusted_cas = [{:?}]\n",
        ca.display().to_string()
    );
    let (config, warnings) = pishkhan::config::Config::parse(&toml).expect("valid config");
    assert!(warnings.is_empty(), "{warnings:?}");
    let devices = pishkhan::devices::Devices::from_config(&config);
    let worker = &devices.scanner;
    let mut session = Session::new("op", true);
    let mut tp = plan(worker);
    tp.start(&session, worker);
    // Other tests may run (Ed25519) virtual SBI services at the same time:
    // only ours is trusted by this CA, so it must be the one chosen.
    assert!(
        devices
            .scanner_origin
            .contains(&format!(":{}", service.port())),
        "{}",
        devices.scanner_origin
    );
    run(&mut tp, &mut session, worker, 10);
    assert_eq!(tp.status, Status::Complete, "{:?}", tp.status);
    assert!(session.missing_fingers().is_empty());
}

#[test]
fn a_device_ca_that_is_not_a_certificate_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("not-a-cert.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let toml = format!(
        "[devices]\nsbi_trusted_cas = [{:?}]\n",
        bad.display().to_string()
    );
    let error = pishkhan::config::Config::parse(&toml).expect_err("refused");
    assert!(error.contains("sbi_trusted_cas"), "{error}");
}

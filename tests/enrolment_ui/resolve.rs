//! Packets the intake refuses, for real, on loopback: the queue screen
//! shows each reason in the operator's language, and a supervisor
//! resolves them on the spot — sent again once the cause is fixed, or not
//! sent, with a note — both in the audit log.

use super::*;
use pishkhan::i18n::Lang;
use pishkhan::store::audit;
use pishkhan::text::Text;
use pishkhan::ui::queue;
use pishkhan::upload::{Sent, Uploader};

/// The queue screen's status line of a packet refused for `reason` (a
/// translation id), in the window's language.
fn refused(h: &Harness, reason: &str) -> String {
    h.app
        .i18n
        .text(&Text::new("status-rejected").arg("reason", h.tr(reason)))
}

fn row(h: &Harness, id: &str) -> outbox::Entry {
    h.outbox()
        .into_iter()
        .find(|e| e.id == id)
        .expect("the row is kept")
}

#[test]
fn tampered_unregistered_and_wrong_key_refusals_show_apart_and_a_supervisor_resolves_them() {
    let mut h = Harness::with_devices(
        "synthetic",
        "scanner = \"virtual\"\nvirtual_scanner_delay_ms = 0",
    );
    for _ in 0..3 {
        pishkhan::selftest::run_once(&h.station, &h.devices).expect("sealed");
    }
    h.sign_up_and_in();
    let ids: Vec<String> = h.outbox().into_iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 3);

    // An intake that can decrypt what this station seals, but does not
    // know the station yet.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let intake_dir = tempfile::tempdir().expect("intake dir");
    let intake = common::open_intake(
        intake_dir.path(),
        &common::decrypting_for(h.dir.path()),
        &[],
    );
    let (addr, _server) = runtime.block_on(common::serve(&intake));
    let config = pishkhan::config::UploadConfig {
        retry_base_ms: 50,
        retry_max_ms: 400,
        ..common::upload_to(addr, Some(&intake))
    };
    let uploader = Uploader::with_config(h.station.clone(), config).expect("uploader");
    let send = || {
        runtime
            .block_on(uploader.send_one())
            .expect("an attempt")
            .expect("one due")
    };
    let rejected = |id: &str, reason: &str| Sent::Rejected {
        id: id.to_owned(),
        reason: reason.to_owned(),
    };
    // The oldest packet goes first: from a station the intake does not know…
    assert_eq!(send(), rejected(&ids[0], "unregistered-station"));
    // …registered with another key than its own…
    let station_id = h.station.id.to_string();
    common::register_with_a_wrong_key(&intake, &station_id);
    assert_eq!(send(), rejected(&ids[1], "wrong-key"));
    // …and, registered right, a packet changed after sealing.
    intake
        .register(&station_id, &h.station.verifying_key(), "counter")
        .expect("register");
    h.station.with_db(|db| common::tamper(db, &ids[2]));
    assert_eq!(send(), rejected(&ids[2], "tampered"));

    // The queue screen tells the three apart, in Persian and in English.
    h.click(&h.tr("ui-queue"));
    assert!(h.app.showing_queue());
    let reasons = [
        "reason-unregistered-station",
        "reason-wrong-key",
        "reason-tampered",
    ];
    for lang in [Lang::Fa, Lang::En] {
        if h.app.i18n.lang() != lang {
            let _ = h.app.update(Message::ToggleLanguage);
        }
        let lines: std::collections::BTreeSet<String> =
            reasons.iter().map(|r| refused(&h, r)).collect();
        assert_eq!(lines.len(), 3, "{lang:?}: {lines:?}");
        for line in &lines {
            assert!(h.sees(line), "{lang:?}: the queue shows {line:?}");
        }
        for id in &ids {
            let label = queue::resolve_label(&h.app.i18n, &row(&h, id));
            assert!(
                h.sees(&label),
                "{lang:?}: each refused row offers {label:?}"
            );
        }
    }
    let _ = h.app.update(Message::ToggleLanguage);
    assert_eq!(h.app.i18n.lang(), Lang::Fa);

    // The station is now registered with its own key: a supervisor sends
    // the packet the intake did not know it for again.
    h.click(&queue::resolve_label(&h.app.i18n, &row(&h, &ids[0])));
    assert!(h.sees(&h.tr("ui-resolve-title")));
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-resolve-requeue"));
    let requeued = row(&h, &ids[0]);
    assert_eq!(
        (
            requeued.status.as_str(),
            requeued.attempts,
            requeued.reject_reason.as_deref(),
            requeued.last_error.as_deref()
        ),
        ("pending", 0, None, None)
    );
    let done = Text::new("ui-resolved-requeued").code("id", &ids[0][..8]);
    assert!(h.sees(&h.app.i18n.text(&done)));
    let sent = runtime.block_on(uploader.drain()).expect("drains");
    assert_eq!(
        sent,
        [Sent::Acknowledged { id: ids[0].clone() }],
        "only the re-queued packet is sent; the others wait for a supervisor"
    );
    let _ = h.app.update(Message::Refresh);
    assert!(
        h.sees(&h.tr("status-acknowledged")),
        "the row shows its new state"
    );
    assert!(!h.sees(&refused(&h, "reason-unregistered-station")));

    // The wrong-key packet will not be sent: a wrong password is refused
    // first, then the supervisor's decision is recorded with the note.
    let note = "the station's key was replaced; enrolled again";
    h.click(&queue::resolve_label(&h.app.i18n, &row(&h, &ids[1])));
    h.type_into("resolve-note", note);
    h.type_into("supervisor-username", "sara");
    h.type_into("supervisor-password", "not the password");
    h.click(&h.tr("ui-resolve-dismiss"));
    assert!(h.sees(&h.tr("err-wrong-credentials")));
    assert!(row(&h, &ids[1]).needs_resolving(), "nothing changed");
    h.type_into("supervisor-password", PASSWORD);
    h.click(&h.tr("ui-resolve-dismiss"));
    let dismissed = row(&h, &ids[1]);
    assert!(!dismissed.needs_resolving());
    assert_eq!(
        (
            dismissed.status.as_str(),
            dismissed.reject_reason.as_deref(),
            dismissed.dismissed_by.as_deref(),
            dismissed.dismiss_note.as_deref()
        ),
        ("rejected", Some("wrong-key"), Some("sara"), Some(note))
    );
    let at = dismissed.dismissed_at.clone().expect("when");
    let decided = Text::new("ui-queue-dismissed")
        .code("by", "sara")
        .arg("at", pishkhan::ui::widget::local_time(&h.app.i18n, &at))
        .code("note", note);
    assert!(
        h.sees(&h.app.i18n.text(&decided)),
        "the row shows the decision"
    );
    assert!(
        !h.sees(&queue::resolve_label(&h.app.i18n, &dismissed)),
        "and no longer asks for a supervisor"
    );
    assert!(
        h.sees(&queue::resolve_label(&h.app.i18n, &row(&h, &ids[2]))),
        "the tampered packet still does"
    );
    // Kept, ciphertext and all, and never sent.
    assert!(h.station.with_db(|db| outbox::stored(db, &ids[1])).is_ok());
    assert!(
        runtime
            .block_on(uploader.drain())
            .expect("drains")
            .is_empty()
    );

    // The audit log holds both decisions and the refused password, and
    // its chain verifies.
    let events = h.station.with_db(audit::list).expect("audit");
    audit::verify(&events, &h.station.verifying_key()).expect("the chain verifies");
    let find = |action: &str, subject: &str| {
        events
            .iter()
            .find(|e| e.action == action && e.subject.as_deref() == Some(subject))
            .unwrap_or_else(|| panic!("no {action} of {subject}: {events:#?}"))
    };
    let requeue = find("packet-requeued", &ids[0]);
    assert_eq!(requeue.actor, "sara");
    assert!(
        requeue
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("unregistered-station")),
        "{requeue:?}"
    );
    let dismiss = find("packet-dismissed", &ids[1]);
    assert_eq!(dismiss.actor, "sara");
    assert!(
        dismiss
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("wrong-key") && d.contains(note)),
        "{dismiss:?}"
    );
    assert!(
        events.iter().any(|e| e.actor == "sara"
            && e.action == "sign-in-refused"
            && e.detail.as_deref() == Some("approval")),
        "the wrong password is audited"
    );
}

#[test]
fn the_status_bar_names_the_upload_service_while_it_holds_the_uploads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
    std::fs::write(
        dir.path().join("pishkhan.toml"),
        format!(
            "[devices]\ncamera = \"synthetic\"\nscanner = \"virtual\"\n\
             [upload]\nurl = \"http://127.0.0.1:9/files/\"\nintake_key = \"{}\"\n",
            hex::encode(key.as_bytes())
        ),
    )
    .expect("config");
    // `pishkhan upload` holds the station's uploads…
    let service = Uploader::new(Arc::new(
        Station::open(dir.path()).expect("the service's station"),
    ))
    .expect("the service's uploader");
    // …when the window opens.
    let mut h = Harness::open(dir);
    assert!(h.sees(&h.tr("ui-link-elsewhere")));
    assert!(!h.sees(&h.tr("ui-link-off")));
    let queued = format!("{} {}", h.tr("ui-queue-length"), h.app.i18n.digits("0"));
    assert!(h.sees(&queued), "the queue length still shows");
    // The dashboard's link line says the same.
    h.sign_up_and_in();
    h.click(&h.tr("ui-dashboard"));
    let link_line = format!("{}:", h.tr("ui-dashboard-link"));
    assert!(h.sees(&link_line), "the dashboard is open");
    assert!(!h.sees(&h.tr("ui-link-off")), "nowhere 'not configured'");
    assert!(h.sees(&h.tr("ui-link-elsewhere")));
    drop(service);
    let _ = h.app.update(Message::Refresh);
    assert!(h.sees(&h.tr("ui-link-off")));
}

#[test]
fn a_packet_the_intake_refused_for_the_clock_shows_what_to_do_and_when_it_is_tried_again() {
    let mut h = Harness::with_devices(
        "synthetic",
        "scanner = \"virtual\"\nvirtual_scanner_delay_ms = 0",
    );
    pishkhan::selftest::run_once(&h.station, &h.devices).expect("sealed");
    // An intake that allows no difference between the clocks at all.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let intake_dir = tempfile::tempdir().expect("intake dir");
    let intake = common::open_intake(
        intake_dir.path(),
        &format!(
            "{}max_clock_skew_s = 0\n",
            common::decrypting_for(h.dir.path())
        ),
        &[(h.dir.path(), None)],
    );
    let (addr, _server) = runtime.block_on(common::serve(&intake));
    let uploader = Uploader::with_config(h.station.clone(), common::upload_to(addr, Some(&intake)))
        .expect("uploader");
    let sent = runtime
        .block_on(uploader.send_one())
        .expect("an attempt")
        .expect("one due");
    let Sent::Failed { error, next, .. } = sent else {
        panic!("retried, not rejected: {sent:?}");
    };
    let _ = h.app.update(Message::ShowQueue);
    for lang in [Lang::Fa, Lang::En] {
        if h.app.i18n.lang() != lang {
            let _ = h.app.update(Message::ToggleLanguage);
        }
        let problem = queue::shown(&h.app.i18n, &pishkhan::upload::error_text(&error));
        assert!(
            problem.contains(&h.app.i18n.digits("0")),
            "{lang:?}: the allowed difference, in the language's digits: {problem}"
        );
        assert!(h.sees(&problem), "{lang:?}: the queue shows {problem:?}");
        let when = pishkhan::ui::widget::local_time(&h.app.i18n, &next);
        assert!(
            h.sees(&when),
            "{lang:?}: and when it is tried again ({when})"
        );
        assert!(h.sees(&h.tr("status-failed")));
        assert!(!h.sees(&h.tr("ui-resolve-title")));
    }
}

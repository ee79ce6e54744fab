//! The settings screen: values checked with a message under the field,
//! only the changed keys written to pishkhan.toml, one audit entry each
//! under the supervisor's name, the language switched at once.

use super::*;
use pishkhan::i18n::Lang;
use pishkhan::store::audit;
use pishkhan::text::Text;

fn config_text(h: &Harness) -> String {
    std::fs::read_to_string(h.dir.path().join("pishkhan.toml")).expect("config")
}

#[test]
fn the_settings_screen_saves_the_threshold_and_the_language_and_audits_each_change() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    let before = config_text(&h);
    h.click(&h.tr("ui-settings"));
    assert!(h.app.showing_settings(), "the settings screen is open");
    assert!(h.sees(&h.tr("ui-settings-title")));
    let shown = |h: &Harness| {
        h.app
            .settings_screen()
            .expect("open")
            .value("fingerprints.quality_threshold")
            .to_owned()
    };
    assert_eq!(shown(&h), "40", "the threshold in use is shown");

    // Out of range: the message under the field, nothing written.
    h.retype("fingerprints.quality_threshold", "۱۵۰");
    h.click(&h.tr("ui-settings-save"));
    let range = h.app.i18n.text(
        &Text::new("err-settings-whole")
            .arg("min", "0")
            .arg("max", "100"),
    );
    assert!(h.sees(&range), "{range}");
    assert!(
        h.sees(
            &h.app
                .i18n
                .text(&Text::new("err-settings-fix").arg("count", "1"))
        )
    );
    assert_eq!(config_text(&h), before, "nothing saved");

    h.retype("fingerprints.quality_threshold", "۵۵");
    h.click(&h.tr("ui-settings-language-en"));
    h.click(&h.tr("ui-settings-save"));
    assert_eq!(
        h.app.i18n.lang(),
        Lang::En,
        "the window speaks English at once"
    );
    assert!(h.sees("Saved: 2 change(s), recorded in the audit log."));

    // Only those two keys changed in the file.
    let text = config_text(&h);
    let (config, warnings) = pishkhan::config::Config::parse(&text).expect("valid");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.fingerprints.quality_threshold, 55);
    assert_eq!(config.language, Lang::En);
    for line in before.lines() {
        assert!(text.contains(line), "{line:?} kept in:\n{text}");
    }
    // … and apply from the next enrolment without a restart.
    assert_eq!(h.station.live().fingerprints.quality_threshold, 55);

    let events = h.station.with_db(audit::list).expect("audit");
    let changed: Vec<_> = events
        .iter()
        .filter(|e| e.action == "settings-changed")
        .collect();
    assert_eq!(changed.len(), 2, "one entry a key: {changed:?}");
    let threshold = changed
        .iter()
        .find(|e| e.subject.as_deref() == Some("fingerprints.quality_threshold"))
        .expect("the threshold's entry");
    assert_eq!(threshold.actor, "sara", "the supervisor who saved");
    assert_eq!(threshold.detail.as_deref(), Some("40 (default) → 55"));
    let language = changed
        .iter()
        .find(|e| e.subject.as_deref() == Some("language"))
        .expect("the language's entry");
    assert_eq!(
        language.detail.as_deref(),
        Some("\"fa\" (default) → \"en\"")
    );
    audit::verify(&events, &h.station.verifying_key()).expect("the chain holds");

    // Saving again without changes writes and records nothing.
    h.click("Save");
    assert!(h.sees("Nothing was changed."));
    assert_eq!(
        h.station.with_db(audit::list).expect("audit").len(),
        events.len()
    );

    // The queue takes the place of the settings (one screen over the
    // enrolment at a time).
    h.click(&h.tr("ui-queue"));
    assert!(h.sees(&h.tr("ui-queue-title")));
    assert!(!h.app.showing_settings());
    h.click(&h.tr("ui-queue-close"));
    assert_eq!(
        h.wizard().step,
        Step::Applicant,
        "the enrolment underneath stays"
    );
}

#[test]
fn a_device_change_waits_for_a_restart_and_says_so() {
    let mut h = Harness::new();
    let _ = h.app.update(Message::ShowSettings);
    assert!(
        !h.app.showing_settings(),
        "settings are for a signed-in supervisor only"
    );
    h.sign_up_and_in();
    let _ = h.app.update(Message::ShowSettings);
    h.click(&h.tr("ui-settings-camera-synthetic-seated"));
    h.retype("devices.zfm_port", "");
    h.click(&h.tr("ui-settings-save"));
    assert!(
        h.sees(&h.tr("err-settings-port")),
        "an empty port is refused"
    );
    h.retype("devices.zfm_port", "/dev/ttyUSB0");
    h.click(&h.tr("ui-settings-save"));
    assert!(h.sees(&h.tr("ui-settings-restart")));
    let (config, _) = pishkhan::config::Config::parse(&config_text(&h)).expect("valid");
    assert_eq!(
        config.devices.camera,
        pishkhan::config::CameraChoice::SyntheticSeated
    );
    assert_eq!(config.devices.zfm_port, "/dev/ttyUSB0");
    let actors: Vec<String> = h
        .station
        .with_db(audit::list)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "settings-changed")
        .map(|e| e.actor)
        .collect();
    assert_eq!(actors.len(), 2);
    assert!(actors.iter().all(|a| a == "sara"), "{actors:?}");
}

#[test]
fn the_fee_schedule_and_the_sign_in_rules_are_set_on_the_screen_and_apply_at_once() {
    let mut h = Harness::new();
    h.sign_up_and_in();
    let _ = h.app.update(Message::ShowSettings);
    let before = config_text(&h);

    // Two classes but class 3: refused under the class, nothing written.
    h.retype("fees.completion_rials", "۳٬۰۰۰٬۰۰۰ ۲۵۰۰۰۰۰");
    h.retype("fees.city_class", "۳");
    h.click(&h.tr("ui-settings-save"));
    let class = h
        .app
        .i18n
        .text(&Text::new("err-settings-city-class").arg("count", "2"));
    assert!(h.sees(&class), "{class}");
    assert_eq!(config_text(&h), before, "nothing saved");
    // A word that is no amount is named as such.
    h.retype("fees.completion_rials", "3000000 rials");
    h.click(&h.tr("ui-settings-save"));
    let amounts = h
        .app
        .i18n
        .text(&Text::new("err-settings-amounts").arg("count", "9"));
    assert!(h.sees(&amounts), "{amounts}");

    h.retype("fees.completion_rials", "۳۰۰۰۰۰۰، ۲۵۰۰۰۰۰");
    h.retype("fees.city_class", "۲");
    h.retype("fees.delivery_rials", "۵۰۰٬۰۰۰");
    h.retype("accounts.lockout_seconds", "۳۰");
    h.retype("accounts.max_failed_sign_ins", "۳");
    h.click(&h.tr("ui-settings-save"));
    assert!(h.sees(&h.tr("ui-settings-next")));

    let (config, _) = pishkhan::config::Config::parse(&config_text(&h)).expect("valid");
    assert_eq!(config.fees.completion_rials, vec![3_000_000, 2_500_000]);
    assert_eq!(config.fees.city_class, 2);
    assert_eq!(config.fees.delivery_rials, 500_000);
    assert_eq!(
        config.accounts.lockout_seconds,
        30 * 60,
        "minutes on the screen"
    );
    // The next enrolment charges the new schedule; the next sign-in
    // counts against the new rules.
    let fees = pishkhan::enrolment::fees::schedule(&h.station.live().fees);
    let total: u64 = fees.iter().map(|f| f.amount_rials).sum();
    assert_eq!(total, 3_000_000, "class 2's fee and the delivery fee");
    let policy = h.station.account_policy();
    assert_eq!(policy.max_failures, 3);
    assert_eq!(policy.lockout, chrono::Duration::minutes(30));

    let subjects: Vec<String> = h
        .station
        .with_db(audit::list)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "settings-changed" && e.actor == "sara")
        .filter_map(|e| e.subject)
        .collect();
    for key in [
        "fees.completion_rials",
        "fees.city_class",
        "fees.delivery_rials",
        "accounts.lockout_seconds",
        "accounts.max_failed_sign_ins",
    ] {
        assert!(subjects.iter().any(|s| s == key), "{key}: {subjects:?}");
    }
    // The field shows what was saved, in Persian digits.
    let shown = h
        .app
        .settings_screen()
        .expect("open")
        .value("fees.completion_rials")
        .to_owned();
    assert_eq!(
        pishkhan::enrolment::digits::to_ascii_digits(&shown),
        "3000000 2500000"
    );
}

/// Writes docs/screens/{fa,en}-8-settings-tiny-skia.png (run with
/// `--ignored` after changing the settings screen).
#[test]
#[ignore = "writes documentation screenshots"]
fn write_settings_screens() {
    for lang in ["fa", "en"] {
        let mut h = Harness::new();
        if lang == "en" {
            h.click("English");
        }
        h.sign_up_and_in();
        let _ = h.app.update(Message::ShowSettings);
        h.retype(
            "portrait.max_roll",
            if lang == "fa" { "۰٫۲" } else { "0.2" },
        );
        h.retype(
            "fees.completion_rials",
            if lang == "fa" {
                "۳۰۰۰۰۰۰ ۲۵۰۰۰۰۰ ۲۰۰۰۰۰۰"
            } else {
                "3000000 2500000 2000000"
            },
        );
        h.click(&h.tr("ui-settings-save"));
        h.screen(&format!("{lang}-8-settings"), 2350.0);
    }
}

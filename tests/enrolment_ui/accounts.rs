//! Operators and supervisors through the real interface: a supervisor
//! creates an operator, who locks the account with wrong passwords, is
//! released by time, changes the temporary password, and enrols an
//! applicant with a forced capture the supervisor approves on the spot;
//! the signed audit log holds all of it and breaks when one byte changes.
//! And the idle sign-out with its warning.

use pishkhan::store::audit;
use pishkhan::text::Text;

use super::*;

const ZFM_QUICK: &str = "scanner = \"zfm\"\nzfm_port = \"virtual\"\nvirtual_scanner_delay_ms = 10";
const TEMPORARY: &str = "موقت-۱۲۳۴۵";

impl Harness {
    fn sign_in_as(&mut self, username: &str, password: &str) {
        self.type_into("sign-in-username", username);
        self.retry_password(password);
    }

    /// Another password for the username the sign-in screen keeps.
    fn retry_password(&mut self, password: &str) {
        self.type_into("sign-in-password", password);
        self.click(&self.tr("ui-sign-in"));
    }

    /// The sign-in screen's refusal, by id.
    fn sign_in_problem(&self) -> Option<&'static str> {
        match &self.app.screen {
            Screen::SignIn(s) => s.problem().map(|t| t.id),
            _ => None,
        }
    }

    fn audit_actions(&self) -> Vec<(String, String, Option<String>)> {
        self.station
            .with_db(audit::list)
            .expect("audit lists")
            .into_iter()
            .map(|e| (e.actor, e.action, e.subject))
            .collect()
    }
}

fn pishkhan_audit(dir: &Path) -> (bool, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pishkhan"))
        .env("PISHKHAN_DATA_DIR", dir)
        .env("PISHKHAN_LOG", "warn")
        .args(["audit", "verify", "--json"])
        .output()
        .expect("pishkhan runs");
    let verdict = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.success(), verdict)
}

#[test]
fn a_new_operator_is_locked_out_released_and_enrols_with_a_supervisors_forced_capture() {
    let mut h = Harness::with_devices(
        "synthetic",
        &format!("{ZFM_QUICK}\n[accounts]\nmax_failed_sign_ins = 3\nlockout_seconds = 2\n"),
    );
    h.sign_up_and_in();

    // The supervisor creates the operator in the accounts screen.
    h.click(&h.tr("ui-accounts"));
    assert!(h.sees(&h.tr("ui-accounts-title")));
    h.click(&h.tr("ui-account-create"));
    assert!(
        h.sees(&h.tr("err-full-name-required")),
        "an empty form explains"
    );
    h.type_into("account-full-name", "رضا رضایی");
    h.type_into("account-username", "reza");
    h.type_into("account-temporary", TEMPORARY);
    h.type_into("account-repeat", TEMPORARY);
    h.click(&h.tr("ui-account-create"));
    let created = h
        .app
        .i18n
        .text(&Text::new("ui-account-created").arg("username", "reza"));
    assert!(h.sees(&created), "{created}");
    assert!(h.sees(&h.tr("ui-account-state-must-change")));
    h.click(&h.tr("ui-close"));
    h.click(&h.tr("ui-sign-out"));
    assert!(matches!(h.app.screen, Screen::SignIn(_)));

    // Wrong passwords until the account locks; then even the right one waits.
    h.sign_in_as("reza", "wrong one");
    assert_eq!(h.sign_in_problem(), Some("err-wrong-credentials"));
    h.retry_password("wrong two");
    assert_eq!(h.sign_in_problem(), Some("err-wrong-credentials"));
    h.retry_password("wrong three");
    assert_eq!(h.sign_in_problem(), Some("err-account-locked-now"));
    h.retry_password(TEMPORARY);
    assert_eq!(h.sign_in_problem(), Some("err-account-locked"));

    // Released by time (lockout_seconds = 2).
    std::thread::sleep(Duration::from_millis(2100));
    h.retry_password(TEMPORARY);
    assert!(
        matches!(h.app.screen, Screen::ChangePassword(_)),
        "a temporary password must be changed first"
    );
    h.type_into("password-current", TEMPORARY);
    h.type_into("password-new", PASSWORD);
    h.type_into("password-repeat", "something else");
    h.click(&h.tr("ui-change-password"));
    assert!(h.sees(&h.tr("err-password-mismatch")));
    h.type_into("password-current", TEMPORARY);
    h.type_into("password-new", PASSWORD);
    h.type_into("password-repeat", PASSWORD);
    h.click(&h.tr("ui-change-password"));
    assert_eq!(h.wizard().step, Step::Applicant);
    assert_eq!(h.wizard().session.operator, "reza");
    assert!(
        !h.sees(&h.tr("ui-accounts")),
        "operators do not manage accounts"
    );

    // The enrolment: the right thumb stays poor, so it is force-accepted
    // with the supervisor's sign-in on the spot.
    h.fill_applicant();
    h.check_documents();
    let zfm = h
        .devices
        .virtual_zfm_control()
        .expect("the station runs the virtual module");
    zfm.update(|k| k.poor_captures = 3);
    h.take_portrait();
    assert_eq!(
        h.force_after_last_attempt("reza"),
        Impression::Finger(Finger::RightThumb)
    );
    h.accept_all();
    let opened = h.seal();
    let manifest = &opened.manifest;
    assert_eq!(manifest.operator, "reza");
    assert_eq!(manifest.supervisors, ["sara"]);
    assert_eq!(
        manifest.fingers[0].forced_by.as_deref(),
        Some("sara"),
        "{:?}",
        manifest.fingers[0]
    );
    // The packet carries its audit excerpt, signed entry by entry.
    let excerpt: Vec<(&str, &str, Option<&str>)> = manifest
        .audit
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        excerpt,
        [
            (
                "reza",
                "packet-sealed",
                Some(manifest.tracking_code.as_str())
            ),
            (
                "sara",
                "override-approved",
                Some("forced-capture right-thumb")
            ),
        ]
    );
    audit::verify_excerpt(&manifest.audit, &h.station.verifying_key()).expect("signed");

    // The station's log, in order.
    let actions = h.audit_actions();
    let position = |actor: &str, action: &str| {
        actions
            .iter()
            .position(|(a, b, _)| a == actor && b == action)
            .unwrap_or_else(|| panic!("no {actor} {action} in {actions:#?}"))
    };
    assert!(
        actions.contains(&("sara".into(), "account-created".into(), Some("reza".into()))),
        "{actions:#?}"
    );
    let refused = actions
        .iter()
        .filter(|(a, b, _)| a == "reza" && b == "sign-in-refused")
        .count();
    assert_eq!(refused, 3, "{actions:#?}");
    assert!(position("sara", "account-created") < position("reza", "account-locked"));
    assert!(position("reza", "account-locked") < position("reza", "refused-while-locked"));
    assert!(position("reza", "refused-while-locked") < position("reza", "signed-in"));
    assert!(position("reza", "signed-in") < position("reza", "password-changed"));
    assert!(position("reza", "password-changed") < position("reza", "packet-sealed"));
    assert!(position("sara", "signed-out") < position("reza", "signed-in"));

    // `pishkhan audit verify` proves the chain, then names the entry whose
    // byte was changed.
    let (ok, verdict) = pishkhan_audit(h.dir.path());
    assert!(ok, "{verdict}");
    assert_eq!(verdict["intact"], true);
    let created_id = h
        .station
        .with_db(audit::list)
        .expect("list")
        .into_iter()
        .find(|e| e.action == "account-created")
        .expect("the creation")
        .id;
    {
        let db = rusqlite::Connection::open(h.dir.path().join("pishkhan.db")).expect("db");
        // One byte of the entry's subject: "reza" becomes "rezb".
        db.execute_batch(&format!(
            "DROP TRIGGER audit_no_update;
             UPDATE audit SET subject = 'rezb' WHERE id = {created_id};"
        ))
        .expect("tamper");
    }
    let (ok, verdict) = pishkhan_audit(h.dir.path());
    assert!(!ok, "{verdict}");
    assert_eq!(verdict["intact"], false);
    assert_eq!(verdict["broken_at"], created_id);
}

#[test]
fn an_idle_operator_is_warned_then_signed_out() {
    let mut h = Harness::with_devices(
        "synthetic",
        "scanner = \"virtual\"\n[accounts]\nidle_logout_seconds = 2\nidle_warning_seconds = 1\n",
    );
    h.sign_up_and_in();
    assert_eq!(h.app.idle_warning(), None);
    std::thread::sleep(Duration::from_millis(1100));
    let _ = h.app.update(Message::IdleCheck);
    assert!(h.app.idle_warning().is_some(), "the warning is due");
    assert!(h.sees(&h.tr("ui-stay-signed-in")));
    // Staying resets the clock.
    h.click(&h.tr("ui-stay-signed-in"));
    assert_eq!(h.app.idle_warning(), None);
    assert!(matches!(h.app.screen, Screen::Wizard(_)));

    std::thread::sleep(Duration::from_millis(2100));
    let _ = h.app.update(Message::IdleCheck);
    let Screen::SignIn(sign_in) = &h.app.screen else {
        panic!("signed out after the idle time");
    };
    assert_eq!(sign_in.notice().map(|t| t.id), Some("ui-idle-signed-out"));
    assert!(h.app.signed_in.is_none());
    assert!(
        h.audit_actions()
            .contains(&("sara".into(), "idle-signed-out".into(), None))
    );
}

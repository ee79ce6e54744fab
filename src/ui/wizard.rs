//! The enrolment wizard: the step header, Back/Next, and routing to the
//! step modules. The enrolment data itself lives in the domain
//! [`Session`]; the steps keep only what the screen needs.

mod applicant;
mod documents;
mod done;
mod fingerprints;
mod portrait;
mod review;

use std::sync::Arc;
use std::time::Duration;

use iced::widget::{button, column, container, scrollable, text};
use iced::{Element, Length, Task};

use super::widget::{self, row};
use crate::devices::Devices;
use crate::enrolment::tenprint::Plan;
use crate::enrolment::{Accommodation, JalaliDate, Session, Step};
use crate::i18n::I18n;
use crate::station::{Receipt, Station};
use crate::text::Text;

#[derive(Debug, Clone)]
pub enum Message {
    Applicant(applicant::Message),
    Documents(documents::Message),
    Portrait(portrait::Message),
    Fingerprints(fingerprints::Message),
    Review(review::Message),
    Done(done::Message),
    Back,
    Next,
    GoTo(Step),
    /// One click on an accommodation's button: on or off.
    Accommodation(Accommodation),
    Tick,
}

pub use fingerprints::{
    DialogMessage as FingerprintsDialogMessage, Message as FingerprintsMessage, Shortcut,
    State as FingerprintsState, finger_text_id, problem_text, scan_error_text,
};

/// The applicant's details, one "label: value" line each, for the
/// documents and review steps.
fn applicant_details<'a, M: 'a>(session: &Session, i18n: &I18n) -> iced::widget::Column<'a, M> {
    let Some(a) = &session.applicant else {
        return column![];
    };
    let lines = [
        ("ui-request-type", i18n.tr(a.request_type.text_id())),
        ("ui-first-name", a.first_name.clone()),
        ("ui-last-name", a.last_name.clone()),
        ("ui-father-name", a.father_name.clone()),
        ("ui-birth-date", i18n.date(a.birth_date)),
        ("ui-place-of-birth", a.place_of_birth.clone()),
        ("ui-national-code", i18n.digits(a.national_code.as_str())),
        (
            "ui-birth-certificate",
            i18n.digits(&format!(
                "{} · {}",
                a.birth_certificate.number,
                a.birth_certificate.printed()
            )),
        ),
        ("ui-postal-code", i18n.digits(&a.postal_code)),
        ("ui-address", i18n.digits(&a.address)),
        (
            "ui-landline",
            a.landline
                .as_deref()
                .map_or_else(|| "—".to_owned(), |l| i18n.digits(l)),
        ),
        ("ui-mobile", i18n.digits(&a.mobile)),
        ("ui-priority-group", i18n.tr(a.priority_group.text_id())),
    ];
    iced::widget::Column::with_children(
        lines
            .into_iter()
            .map(|(label, value)| widget::detail(i18n, label, value)),
    )
    .spacing(6)
}

pub struct Wizard {
    station: Arc<Station>,
    devices: Devices,
    operator_name: String,
    pub session: Session,
    pub step: Step,
    applicant: applicant::State,
    documents: documents::State,
    portrait: portrait::State,
    pub fingerprints: fingerprints::State,
    review: review::State,
    receipt: Option<Receipt>,
    /// The last print or save of the receipt.
    receipt_outcome: Option<done::Outcome>,
    /// Why the last draft could not be saved.
    draft_problem: Option<Text>,
    /// The mobile team's visit this enrolment is for: recorded as
    /// enrolled when the packet is sealed.
    visit: Option<String>,
    /// The visit's record once sealed, or why it was not recorded.
    visit_recorded: Option<Result<(), Text>>,
}

impl Wizard {
    pub fn new(
        station: Arc<Station>,
        devices: Devices,
        username: String,
        full_name: String,
    ) -> Self {
        let timeout = Duration::from_secs(station.config.devices.capture_timeout_s);
        let fingerprints = fingerprints::State::new(
            Plan::for_scanner(devices.scanner.info()),
            station.live().fingerprints.policy(),
            timeout,
        );
        let mut applicant = applicant::State::default();
        applicant.refresh_list_age(&station);
        Self {
            station,
            devices,
            operator_name: full_name,
            session: Session::new(username, false),
            step: Step::Applicant,
            applicant,
            documents: documents::State::default(),
            portrait: portrait::State::default(),
            fingerprints,
            review: review::State::default(),
            receipt: None,
            receipt_outcome: None,
            draft_problem: None,
            visit: None,
            visit_recorded: None,
        }
    }

    /// A new enrolment for a visit of the team's list: what the list says
    /// of the applicant is filled in (the operator still checks it against
    /// the documents), and sealing records the visit as enrolled.
    pub fn for_visit(
        station: Arc<Station>,
        devices: Devices,
        username: String,
        full_name: String,
        visit: &crate::field::Visit,
    ) -> Self {
        let mut wizard = Self::new(station, devices, username, full_name);
        let form = &mut wizard.applicant.form;
        form.first_name = visit.first_name.clone();
        form.last_name = visit.last_name.clone();
        form.national_code = visit.national_code.clone();
        form.birth_date = visit.birth_date.clone();
        form.address = visit.address.clone();
        form.request_type = visit.request_type;
        wizard.applicant.walk_in = true;
        // The needs noted at request time start as the accommodations.
        wizard.session.accommodations = visit.needs.iter().copied().collect();
        wizard.portrait.accommodations_changed(&wizard.session);
        wizard.visit = Some(visit.id.clone());
        wizard
    }

    /// Nothing would be lost by replacing this wizard: sealed, or nothing
    /// typed yet.
    pub fn is_idle(&self) -> bool {
        self.receipt.is_some()
            || (self.step == Step::Applicant
                && self.session.applicant.is_none()
                && self.applicant.form == crate::enrolment::ApplicantForm::default())
    }

    /// A wizard at `step` with the built-in test applicant, for screenshots
    /// and demonstrations. What the step needs from earlier steps is filled
    /// in by the same code the self-test uses.
    pub fn demo(
        station: Arc<Station>,
        devices: Devices,
        step: Step,
        operator_name: String,
    ) -> Self {
        let mut wizard = Self::new(station, devices, "demo".into(), operator_name);
        wizard.session.test = true;
        wizard.applicant.form = crate::selftest::test_applicant();
        wizard.applicant.walk_in = true;
        if step > Step::Applicant {
            wizard.submit_applicant();
        }
        if step > Step::Documents {
            for check in crate::enrolment::DocumentCheck::ALL {
                wizard.session.documents.set(check, true);
            }
        }
        if step > Step::Portrait {
            wizard.portrait.demo_take(&mut wizard.session);
        }
        if step >= Step::Fingerprints {
            let keep = if step == Step::Fingerprints { 6 } else { 10 };
            wizard
                .fingerprints
                .demo_fill(&mut wizard.session, &wizard.devices.scanner, keep);
        }
        if step == Step::Done {
            match wizard.station.seal(&wizard.session) {
                Ok(receipt) => wizard.receipt = Some(receipt),
                Err(e) => tracing::error!("demo seal failed: {e}"),
            }
        }
        wizard.enter(step);
        wizard
    }

    /// A wizard that carries on with a restored draft, at the step after
    /// the last one completed.
    pub fn resume(
        station: Arc<Station>,
        devices: Devices,
        full_name: String,
        restored: crate::enrolment::draft::Restored,
    ) -> Self {
        let username = restored.session.operator.clone();
        let mut wizard = Self::new(station, devices, username, full_name);
        if let Some(applicant) = &restored.session.applicant {
            wizard.applicant.form = crate::enrolment::ApplicantForm::from_applicant(applicant);
        }
        wizard.applicant.walk_in = restored.session.check_in.is_none();
        wizard.session = restored.session;
        wizard.enter(crate::enrolment::draft::resume_step(restored.step));
        wizard
    }

    /// Takes in what background work changed (once a second while uploads
    /// run): the appointment list's age and sync state.
    pub fn refresh_background(&mut self) {
        if self.step == Step::Applicant {
            self.applicant.refresh_list_age(&self.station);
        }
    }

    /// The applicant form as it stands on screen.
    /// The newest live analysis of the portrait step, if any.
    pub fn portrait_analysis(&self) -> Option<&pishkhan_face::Analysis> {
        self.portrait.analysis()
    }

    pub fn applicant_form(&self) -> &crate::enrolment::ApplicantForm {
        &self.applicant.form
    }

    pub fn operator_name(&self) -> &str {
        &self.operator_name
    }

    /// Whether device output must be polled now.
    pub fn needs_ticks(&self) -> bool {
        match self.step {
            Step::Documents => self.documents.is_live(),
            Step::Portrait => self.portrait.is_live(),
            Step::Fingerprints => self.fingerprints.is_running(),
            _ => false,
        }
    }

    fn can_go_next(&self) -> bool {
        match self.step {
            Step::Applicant => true,
            Step::Review | Step::Done => false,
            step => step.next().is_some_and(|next| self.session.can_enter(next)),
        }
    }

    fn can_go_to(&self, step: Step) -> bool {
        self.receipt.is_none() && step != Step::Done && self.session.can_enter(step)
    }

    fn submit_applicant(&mut self) -> bool {
        // Next before choosing: the applicant is a walk-in, and the form
        // shows what is missing.
        if self.session.check_in.is_none() {
            self.applicant.walk_in = true;
        }
        let rules = self.station.config.enrolment.rules(JalaliDate::today());
        match self.applicant.submit(&rules) {
            Some(applicant) => {
                self.session.set_applicant(applicant);
                true
            }
            None => {
                // The typed data changed and no longer validates: later
                // steps must not use the old copy.
                self.session.applicant = None;
                false
            }
        }
    }

    /// Takes the pre-registered value for `field` into the form and checks
    /// the form again; if it no longer passes (the registered value breaks
    /// a rule), the applicant step shows why.
    fn correct(&mut self, field: &str) {
        let Some(check_in) = &mut self.session.check_in else {
            return;
        };
        let Some(difference) = check_in.differences.iter_mut().find(|d| d.field == field) else {
            return;
        };
        difference.resolution = Some(crate::prereg::Resolution::Corrected);
        let registered = difference.registered.clone();
        let request = check_in.appointment.request_type;
        match crate::enrolment::applicant::Field::from_key(field) {
            Some(crate::enrolment::applicant::Field::RequestType) => {
                self.applicant.form.request_type = Some(request);
            }
            Some(f) => {
                if let Some(slot) = self.applicant.form.slot(f) {
                    *slot = registered.clone();
                }
                // The repeated entries follow the corrected value.
                let repeat = match f {
                    crate::enrolment::applicant::Field::NationalCode => {
                        Some(crate::enrolment::applicant::Field::NationalCodeRepeat)
                    }
                    crate::enrolment::applicant::Field::Mobile => {
                        Some(crate::enrolment::applicant::Field::MobileRepeat)
                    }
                    _ => None,
                };
                if let Some(slot) = repeat.and_then(|r| self.applicant.form.slot(r)) {
                    *slot = registered;
                }
            }
            None => return,
        }
        tracing::info!(field, "corrected to the pre-registered value");
        if !self.submit_applicant() {
            self.go_to(Step::Applicant);
        }
    }

    pub fn leave(&mut self) {
        match self.step {
            Step::Documents => self.documents.leave(),
            Step::Portrait => self.portrait.leave(),
            Step::Fingerprints => self.fingerprints.leave(&self.devices.scanner),
            _ => {}
        }
    }

    fn enter(&mut self, step: Step) {
        self.step = step;
        match step {
            Step::Portrait => self.portrait.enter(
                &self.session,
                &self.devices.camera,
                &self.station.live().portrait,
            ),
            Step::Fingerprints => self
                .fingerprints
                .enter(&self.session, &self.devices.scanner),
            _ => {}
        }
    }

    fn go_to(&mut self, step: Step) {
        if step == self.step {
            return;
        }
        let forward = step > self.step && step != Step::Done;
        self.leave();
        self.enter(step);
        if forward {
            self.save_draft();
        }
    }

    /// Writes the enrolment so far as an encrypted draft: a crash or a
    /// flat battery loses at most the step in progress.
    fn save_draft(&mut self) {
        // The furthest step whose work is done (going back and forward
        // again must not make the draft look less complete).
        let Some(completed) = [
            Step::Fingerprints,
            Step::Portrait,
            Step::Documents,
            Step::Applicant,
        ]
        .into_iter()
        .find(|s| s.next().is_some_and(|next| self.session.can_enter(next))) else {
            return;
        };
        self.draft_problem = match self.station.save_draft(&self.session, completed) {
            Ok(_) => None,
            Err(e) => {
                tracing::error!("saving the draft failed: {e}");
                Some(Text::new("err-draft-save").arg("detail", e.to_string()))
            }
        };
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Applicant(message) => {
                self.applicant
                    .update(message, &mut self.session, &self.station);
            }
            Message::Documents(message) => {
                if let Some(field) = self.documents.update(
                    &mut self.session,
                    message,
                    &self.devices.camera,
                    &self.station,
                ) {
                    self.correct(&field);
                }
            }
            Message::Portrait(message) => {
                self.portrait
                    .update(message, &mut self.session, &self.station);
            }
            Message::Fingerprints(message) => {
                self.fingerprints.update(
                    message,
                    &mut self.session,
                    &self.devices.scanner,
                    &self.station,
                    &self.devices.camera,
                );
            }
            Message::Review(review::Message::PaymentReference(v)) => {
                self.review.payment_reference = v;
            }
            Message::Review(review::Message::Seal) => {
                if self.receipt.is_some() {
                    return Task::none();
                }
                match crate::enrolment::fees::record(
                    &self.station.live().fees,
                    &self.review.payment_reference,
                ) {
                    Ok(payment) => self.session.payment = payment,
                    Err(problem) => {
                        self.review.problem = Some(problem);
                        return Task::none();
                    }
                }
                match self.station.seal(&self.session) {
                    Ok(receipt) => {
                        if let Some(visit) = &self.visit {
                            let record = crate::field::VisitRecord {
                                visit_id: visit.clone(),
                                outcome: crate::field::Outcome::Enrolled,
                                note: None,
                                location: None,
                                packet_id: Some(receipt.packet_id.clone()),
                                tracking_code: None,
                                rescheduled_to: None,
                            };
                            self.visit_recorded = Some(
                                self.station
                                    .record_visit(&self.session.operator, record, self.session.test)
                                    .map(|_| ())
                                    .map_err(|e| e.text()),
                            );
                        }
                        self.receipt = Some(receipt);
                        self.review.problem = None;
                        self.go_to(Step::Done);
                    }
                    Err(e) => {
                        tracing::error!("sealing failed: {e}");
                        self.review.problem = Some(e.text());
                    }
                }
            }
            Message::Done(which @ (done::Message::PrintReceipt | done::Message::SaveReceipt)) => {
                let print = matches!(which, done::Message::PrintReceipt);
                if let Some(receipt) = &self.receipt {
                    self.receipt_outcome =
                        Some(done::print_or_save(&self.station.data_dir, receipt, print));
                }
            }
            Message::Done(done::Message::NextApplicant) => {
                let station = self.station.clone();
                let devices = self.devices.clone();
                let name = std::mem::take(&mut self.operator_name);
                let username = self.session.operator.clone();
                self.leave();
                *self = Self::new(station, devices, username, name);
            }
            Message::Accommodation(a) => {
                if self.receipt.is_none() {
                    self.session.accommodations.toggle(a);
                    self.portrait.accommodations_changed(&self.session);
                }
            }
            Message::Back => {
                if let Some(previous) = self.step.previous().filter(|_| self.receipt.is_none()) {
                    self.go_to(previous);
                }
            }
            Message::Next => {
                if self.step == Step::Applicant && !self.submit_applicant() {
                    return Task::none();
                }
                if let Some(next) = self.step.next().filter(|_| self.can_go_next()) {
                    self.go_to(next);
                }
            }
            Message::GoTo(step) => {
                if self.step == Step::Applicant
                    && step > Step::Applicant
                    && !self.submit_applicant()
                {
                    return Task::none();
                }
                if self.can_go_to(step) {
                    self.go_to(step);
                }
            }
            Message::Tick => match self.step {
                Step::Documents => self.documents.tick(),
                Step::Portrait => {
                    self.portrait
                        .update(portrait::Message::Tick, &mut self.session, &self.station);
                }
                Step::Fingerprints => {
                    self.fingerprints.tick();
                    for (stamp, event) in self.devices.scanner.drain() {
                        self.fingerprints.update(
                            fingerprints::Message::Device(stamp, event),
                            &mut self.session,
                            &self.devices.scanner,
                            &self.station,
                            &self.devices.camera,
                        );
                    }
                }
                _ => {}
            },
        }
        Task::none()
    }

    pub fn view<'a>(&'a self, i18n: &I18n) -> Element<'a, Message> {
        let body: Element<'a, Message> = match self.step {
            Step::Applicant => self
                .applicant
                .view(&self.session, i18n)
                .map(Message::Applicant),
            Step::Documents => self
                .documents
                .view(&self.session, i18n)
                .map(Message::Documents),
            Step::Portrait => self
                .portrait
                .view(&self.session, i18n)
                .map(Message::Portrait),
            Step::Fingerprints => self
                .fingerprints
                .view(&self.session, i18n)
                .map(Message::Fingerprints),
            Step::Review => self
                .review
                .view(
                    &self.session,
                    &self.portrait,
                    &self.fingerprints,
                    &self.station.live().fees,
                    i18n,
                )
                .map(Message::Review),
            Step::Done => {
                let done = done::view(self.receipt.as_ref(), self.receipt_outcome.as_ref(), i18n)
                    .map(Message::Done);
                match &self.visit_recorded {
                    None => done,
                    Some(Ok(())) => column![
                        widget::line(i18n, i18n.tr("ui-visit-recorded-enrolled")),
                        done
                    ]
                    .spacing(12)
                    .into(),
                    Some(Err(problem)) => column![widget::error(i18n, problem), done]
                        .spacing(12)
                        .into(),
                }
            }
        };
        let body: Element<'a, Message> = if self.shows_accommodations() {
            column![self.accommodations(i18n), body].spacing(16).into()
        } else {
            body
        };
        column![
            self.header(i18n),
            container(scrollable(container(body).padding([16, 24])).height(Length::Fill))
                .height(Length::Fill),
            self.footer(i18n),
        ]
        .into()
    }

    /// The accommodations strip shows from the documents check (the
    /// operator has the applicant in front of them, before the camera
    /// starts) through the fingerprints, the steps they change.
    fn shows_accommodations(&self) -> bool {
        self.receipt.is_none()
            && matches!(
                self.step,
                Step::Documents | Step::Portrait | Step::Fingerprints
            )
    }

    /// One large toggle per accommodation: the portrait's three on the
    /// first line, fingers and signature on the second.
    fn accommodations<'a>(&self, i18n: &I18n) -> Element<'a, Message> {
        let chosen = &self.session.accommodations;
        let toggles = |list: &[Accommodation]| {
            widget::aligned(
                i18n,
                row(
                    i18n,
                    list.iter()
                        .map(|&a| {
                            widget::toggle(
                                i18n,
                                i18n.tr(a.text_id()),
                                chosen.contains(a),
                                Message::Accommodation(a),
                            )
                        })
                        .collect(),
                )
                .spacing(10),
            )
        };
        container(
            column![
                widget::line(i18n, i18n.tr("accommodations-title")),
                toggles(&Accommodation::ALL[..3]),
                toggles(&Accommodation::ALL[3..]),
            ]
            .spacing(8),
        )
        .padding(12)
        .width(Length::Fill)
        .style(container::bordered_box)
        .into()
    }

    fn header<'a>(&self, i18n: &I18n) -> Element<'a, Message> {
        let steps = Step::ALL
            .iter()
            .map(|&step| {
                let number = i18n.digits(&(step.index() + 1).to_string());
                let label = text(format!("{number}. {}", i18n.tr(step.text_id()))).size(15);
                let style = if step == self.step {
                    button::primary
                } else if step < self.step
                    || self.session.can_enter(step.next().unwrap_or(step)) && step != Step::Done
                {
                    button::secondary
                } else {
                    button::text
                };
                button(label)
                    .padding([6, 12])
                    .style(style)
                    .on_press_maybe(self.can_go_to(step).then_some(Message::GoTo(step)))
                    .into()
            })
            .collect();
        container(row(i18n, steps).spacing(6))
            .padding([10, 16])
            .width(Length::Fill)
            .into()
    }

    fn footer<'a>(&self, i18n: &I18n) -> Element<'a, Message> {
        let back_allowed = self.step != Step::Applicant && self.receipt.is_none();
        let back = button(text(i18n.tr("ui-back")))
            .padding([8, 24])
            .style(button::secondary)
            .on_press_maybe(back_allowed.then_some(Message::Back));
        let mut items: Vec<Element<'a, Message>> = vec![back.into()];
        items.push(iced::widget::space().width(Length::Fill).into());
        if let Some(problem) = &self.draft_problem {
            items.push(text(i18n.text(problem)).size(14).style(text::danger).into());
        }
        if let Some(hint) = self.blocked_hint() {
            items.push(
                text(i18n.text(&hint))
                    .size(14)
                    .style(text::secondary)
                    .into(),
            );
        }
        if !matches!(self.step, Step::Review | Step::Done) {
            items.push(
                button(text(i18n.tr("ui-next")))
                    .padding([8, 24])
                    .style(button::primary)
                    .on_press_maybe(self.can_go_next().then_some(Message::Next))
                    .into(),
            );
        }
        container(widget::row(i18n, items))
            .padding([10, 24])
            .width(Length::Fill)
            .style(container::rounded_box)
            .into()
    }

    /// Why Next is not available yet.
    fn blocked_hint(&self) -> Option<Text> {
        if self.can_go_next() {
            return None;
        }
        match self.step {
            Step::Documents if self.session.unresolved_differences() > 0 => Some(
                Text::new("ui-hint-differences")
                    .arg("count", self.session.unresolved_differences().to_string()),
            ),
            Step::Documents => Some(Text::new("ui-hint-documents")),
            Step::Portrait => Some(Text::new("ui-hint-portrait")),
            Step::Fingerprints => Some(
                Text::new("ui-hint-fingerprints")
                    .arg("count", self.session.missing_fingers().len().to_string()),
            ),
            _ => None,
        }
    }
}

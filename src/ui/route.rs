//! A mobile team's route: today's visits from the cached visit list, each
//! with what the team needs to know at the door (address, contact, the
//! needs noted at request time) and how it ended. From here a visit starts
//! an enrolment or a card handover, or is recorded as not at home,
//! declined or rescheduled, with the location of the last fix or the one
//! typed. Fetching the list goes out off the interface thread (the app
//! runs [`Event::Fetch`] and [`Event::Locate`]).

use std::collections::BTreeMap;

use iced::widget::{button, column, container, scrollable, text};
use iced::{Element, Length};

use super::widget::{self, row};
use crate::enrolment::JalaliDate;
use crate::field::cache::Recorded;
use crate::field::{Location, LocationSource, Outcome, Visit, VisitKind, VisitList, VisitRecord};
use crate::i18n::I18n;
use crate::station::Station;
use crate::text::Text;

#[derive(Debug, Default)]
pub struct Route {
    list: Option<(VisitList, String)>,
    /// The last record of each visit, by visit id.
    recorded: BTreeMap<String, Recorded>,
    /// Show the visits of every day, not only today's.
    all_days: bool,
    pub fetching: bool,
    pub locating: bool,
    location_input: String,
    /// Where the team is: attached to the records made from here.
    pub location: Option<Location>,
    /// The visit whose new day is being typed, and the day typed.
    rescheduling: Option<(String, String)>,
    /// What the last action did, or why it failed.
    notice: Option<Result<Text, Text>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Fetch,
    Fetched(Result<usize, Text>),
    AllDays(bool),
    Enrol(String),
    Handover(String),
    Outcome(String, Outcome),
    Reschedule(String),
    RescheduleDay(String),
    ConfirmReschedule,
    CancelReschedule,
    LocationInput(String),
    UseTypedLocation,
    TakeGpsFix,
    Located(Result<Location, Text>),
    Close,
}

pub enum Event {
    /// Fetch the team's list from the intake; answer with
    /// [`Message::Fetched`].
    Fetch,
    /// Take a GPS fix; answer with [`Message::Located`].
    Locate,
    /// Start an enrolment for this visit.
    Enrol(Box<Visit>),
    /// Open the handover of this visit.
    Handover(String),
    Close,
}

impl Route {
    pub fn new(station: &Station) -> Self {
        let mut route = Route::default();
        route.reload(station);
        route
    }

    /// Reads the cached list and the records again.
    pub fn reload(&mut self, station: &Station) {
        match station.visit_list() {
            Ok(list) => self.list = list,
            Err(e) => self.notice = Some(Err(e.text())),
        }
        match station.recorded_visits() {
            Ok(records) => {
                self.recorded = records
                    .into_iter()
                    .map(|r| (r.visit_id.clone(), r))
                    .collect();
            }
            Err(e) => self.notice = Some(Err(e.text())),
        }
    }

    /// Shows what an action did, or why it failed.
    pub fn show(&mut self, notice: Result<Text, Text>) {
        self.notice = Some(notice);
    }

    /// The outcome recorded for `visit`, if any.
    pub fn outcome_of(&self, visit: &str) -> Option<Outcome> {
        self.recorded.get(visit).map(|r| r.outcome)
    }

    pub fn update(&mut self, message: Message, station: &Station, operator: &str) -> Option<Event> {
        match message {
            Message::Fetch if !self.fetching => {
                self.fetching = true;
                self.notice = None;
                return Some(Event::Fetch);
            }
            Message::Fetch => {}
            Message::Fetched(result) => {
                self.fetching = false;
                self.notice =
                    Some(result.map(|n| Text::new("ui-route-fetched").arg("count", n.to_string())));
                self.reload(station);
            }
            Message::AllDays(all) => self.all_days = all,
            Message::Enrol(id) => {
                let visit = self.visit(&id)?.clone();
                return Some(Event::Enrol(Box::new(visit)));
            }
            Message::Handover(id) => return Some(Event::Handover(id)),
            Message::Outcome(id, outcome) => self.record(station, operator, &id, outcome, None),
            Message::Reschedule(id) => self.rescheduling = Some((id, String::new())),
            Message::RescheduleDay(day) => {
                if let Some((_, typed)) = &mut self.rescheduling {
                    *typed = day;
                }
            }
            Message::ConfirmReschedule => {
                let (id, typed) = self.rescheduling.clone()?;
                match JalaliDate::parse(&typed) {
                    Ok(day) => {
                        self.record(station, operator, &id, Outcome::Rescheduled, Some(day));
                        if matches!(self.notice, Some(Ok(_))) {
                            self.rescheduling = None;
                        }
                    }
                    Err(e) => {
                        self.notice = Some(Err(
                            Text::new("ui-route-bad-day").arg("detail", e.to_string())
                        ));
                    }
                }
            }
            Message::CancelReschedule => self.rescheduling = None,
            Message::LocationInput(v) => self.location_input = v,
            Message::UseTypedLocation => match Location::parse_manual(&self.location_input) {
                Ok(location) => {
                    self.location = Some(location);
                    self.notice = None;
                }
                Err(detail) => {
                    self.notice =
                        Some(Err(Text::new("ui-route-bad-location").arg("detail", detail)));
                }
            },
            Message::TakeGpsFix if !self.locating => {
                self.locating = true;
                return Some(Event::Locate);
            }
            Message::TakeGpsFix => {}
            Message::Located(result) => {
                self.locating = false;
                match result {
                    Ok(location) => self.location = Some(location),
                    Err(problem) => self.notice = Some(Err(problem)),
                }
            }
            Message::Close => return Some(Event::Close),
        }
        None
    }

    fn visit(&self, id: &str) -> Option<&Visit> {
        self.list.as_ref()?.0.find(id)
    }

    fn record(
        &mut self,
        station: &Station,
        operator: &str,
        id: &str,
        outcome: Outcome,
        rescheduled_to: Option<JalaliDate>,
    ) {
        let record = VisitRecord {
            visit_id: id.to_owned(),
            outcome,
            note: None,
            location: self.location.clone(),
            packet_id: None,
            tracking_code: None,
            rescheduled_to: rescheduled_to.map(JalaliDate::to_ascii),
        };
        self.notice = Some(match station.record_visit(operator, record, false) {
            Ok(_) => Ok(Text::new("ui-route-recorded").code("visit", id.to_owned())),
            Err(e) => Err(e.text()),
        });
        self.reload(station);
    }

    pub fn view(&self, i18n: &I18n, team: &str) -> Element<'_, Message> {
        let mut items: Vec<Element<'_, Message>> = vec![widget::heading(
            i18n,
            i18n.text(&Text::new("ui-route-title").code("team", team.to_owned())),
        )];
        let fetch = button(text(i18n.tr(if self.fetching {
            "ui-route-fetching"
        } else {
            "ui-route-fetch"
        })))
        .padding([10, 20])
        .on_press_maybe((!self.fetching).then_some(Message::Fetch));
        let fetched = match &self.list {
            Some((list, at)) => i18n.text(
                &Text::new("ui-route-list-age")
                    .arg("at", widget::local_time(i18n, at))
                    .arg("count", i18n.digits(&list.visits.len().to_string())),
            ),
            None => i18n.tr("ui-route-no-list"),
        };
        items.push(widget::aligned(
            i18n,
            row(i18n, vec![fetch.into(), text(fetched).size(14).into()]),
        ));
        items.push(self.location_view(i18n));
        match &self.notice {
            Some(Ok(done)) => items.push(widget::aligned(
                i18n,
                text(i18n.text(done)).style(text::success),
            )),
            Some(Err(problem)) => items.push(widget::error(i18n, problem)),
            None => {}
        }
        let today = JalaliDate::today();
        if let Some((list, _)) = &self.list {
            let mut visits: Vec<&Visit> = if self.all_days {
                let mut all: Vec<&Visit> = list.visits.iter().collect();
                all.sort_by_key(|v| (v.day.clone(), v.order, v.id.clone()));
                all
            } else {
                list.route(today)
            };
            if visits.is_empty() {
                items.push(widget::line(i18n, i18n.tr("ui-route-none-today")));
            }
            items.push(widget::aligned(
                i18n,
                widget::choice(
                    i18n,
                    i18n.tr("ui-route-all-days"),
                    self.all_days,
                    Message::AllDays(!self.all_days),
                ),
            ));
            for visit in visits.drain(..) {
                items.push(self.visit_view(i18n, visit, today));
            }
        }
        items.push(widget::aligned(
            i18n,
            button(text(i18n.tr("ui-route-close")))
                .padding([8, 20])
                .style(button::secondary)
                .on_press(Message::Close),
        ));
        scrollable(
            container(column(items).spacing(14).max_width(900.0))
                .center_x(Length::Fill)
                .padding(24),
        )
        .height(Length::Fill)
        .into()
    }

    fn location_view(&self, i18n: &I18n) -> Element<'_, Message> {
        let current = match &self.location {
            None => i18n.tr("ui-route-no-location"),
            Some(l) => {
                let source = match &l.source {
                    LocationSource::Gps { .. } => i18n.tr("ui-route-location-gps"),
                    LocationSource::Manual => i18n.tr("ui-route-location-manual"),
                };
                i18n.digits(&format!("{:.5}, {:.5} ({source})", l.latitude, l.longitude))
            }
        };
        let gps = button(text(i18n.tr(if self.locating {
            "ui-route-locating"
        } else {
            "ui-route-gps"
        })))
        .padding([8, 16])
        .style(button::secondary)
        .on_press_maybe((!self.locating).then_some(Message::TakeGpsFix));
        let typed =
            iced::widget::text_input(&i18n.tr("ui-route-location-hint"), &self.location_input)
                .id("route-location")
                .on_input(Message::LocationInput)
                .on_submit(Message::UseTypedLocation)
                .padding(8)
                .width(Length::Fixed(260.0))
                .align_x(widget::start(i18n));
        let use_typed = button(text(i18n.tr("ui-route-use-location")))
            .padding([8, 16])
            .style(button::secondary)
            .on_press(Message::UseTypedLocation);
        column![
            widget::detail(i18n, "ui-route-location", current),
            widget::aligned(
                i18n,
                row(i18n, vec![gps.into(), typed.into(), use_typed.into()])
            ),
        ]
        .spacing(6)
        .into()
    }

    fn visit_view<'a>(
        &'a self,
        i18n: &I18n,
        visit: &'a Visit,
        today: JalaliDate,
    ) -> Element<'a, Message> {
        let kind = match visit.kind {
            VisitKind::Enrolment => "ui-route-kind-enrolment",
            VisitKind::Handover => "ui-route-kind-handover",
        };
        let mut title = vec![
            text(i18n.digits(&visit.order.to_string())).size(20).into(),
            text(visit.name()).size(20).into(),
            container(text(i18n.tr(kind)).size(14))
                .padding([2, 8])
                .style(container::secondary)
                .into(),
        ];
        if let Ok(day) = JalaliDate::parse(&visit.day)
            && day != today
        {
            title.push(text(i18n.date(day)).size(14).into());
        }
        let outcome = self.outcome_of(&visit.id);
        if let Some(outcome) = outcome {
            title.push(
                container(text(i18n.tr(outcome.text_id())).size(14))
                    .padding([2, 8])
                    .style(container::success)
                    .into(),
            );
        }
        let mut lines: Vec<Element<'a, Message>> = vec![
            widget::aligned(i18n, row(i18n, title)),
            widget::detail(i18n, "ui-route-address", visit.address.clone()),
        ];
        if let Some(phone) = &visit.phone {
            lines.push(widget::detail(i18n, "ui-route-phone", i18n.digits(phone)));
        }
        lines.push(widget::detail(
            i18n,
            "ui-national-code",
            i18n.digits(&visit.national_code),
        ));
        if !visit.needs.is_empty() {
            let needs: Vec<String> = visit.needs.iter().map(|n| i18n.tr(n.text_id())).collect();
            lines.push(widget::detail(i18n, "ui-route-needs", needs.join("، ")));
        }
        if let Some(note) = &visit.note {
            lines.push(widget::detail(i18n, "ui-route-note", note.clone()));
        }
        if visit.kind == VisitKind::Handover && visit.enrolled.is_none() {
            lines.push(widget::line(i18n, i18n.tr("ui-route-no-templates")));
        }
        let open = outcome.is_none_or(|o| !matches!(o, Outcome::Enrolled | Outcome::HandedOver));
        if open {
            let big = |id: &str, message: Message| -> Element<'a, Message> {
                button(text(i18n.tr(id)).size(18))
                    .padding([12, 22])
                    .on_press(message)
                    .into()
            };
            let small = |id: &str, message: Message| -> Element<'a, Message> {
                button(text(i18n.tr(id)))
                    .padding([12, 18])
                    .style(button::secondary)
                    .on_press(message)
                    .into()
            };
            let main = match visit.kind {
                VisitKind::Enrolment => big("ui-route-enrol", Message::Enrol(visit.id.clone())),
                VisitKind::Handover => {
                    big("ui-route-handover", Message::Handover(visit.id.clone()))
                }
            };
            lines.push(widget::aligned(
                i18n,
                row(
                    i18n,
                    vec![
                        main,
                        small(
                            "visit-not-home",
                            Message::Outcome(visit.id.clone(), Outcome::NotHome),
                        ),
                        small(
                            "visit-refused",
                            Message::Outcome(visit.id.clone(), Outcome::Refused),
                        ),
                        small("visit-rescheduled", Message::Reschedule(visit.id.clone())),
                    ],
                ),
            ));
            if let Some((_, typed)) = self.rescheduling.as_ref().filter(|(id, _)| *id == visit.id) {
                let day = iced::widget::text_input(&i18n.tr("ui-route-new-day"), typed)
                    .id("route-new-day")
                    .on_input(Message::RescheduleDay)
                    .on_submit(Message::ConfirmReschedule)
                    .padding(8)
                    .width(Length::Fixed(200.0))
                    .align_x(widget::start(i18n));
                lines.push(widget::aligned(
                    i18n,
                    row(
                        i18n,
                        vec![
                            text(i18n.tr("ui-route-new-day")).into(),
                            day.into(),
                            button(text(i18n.tr("ui-route-confirm")))
                                .padding([8, 16])
                                .on_press(Message::ConfirmReschedule)
                                .into(),
                            button(text(i18n.tr("ui-route-cancel")))
                                .padding([8, 16])
                                .style(button::secondary)
                                .on_press(Message::CancelReschedule)
                                .into(),
                        ],
                    ),
                ));
            }
        }
        container(column(lines).spacing(6))
            .padding(14)
            .width(Length::Fill)
            .style(container::bordered_box)
            .into()
    }
}

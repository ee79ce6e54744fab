//! The dashboard: today at a glance (sealed, waiting, acknowledged,
//! rejected, drafts) and the station's health (devices, link, disk, the
//! clock against the intake's). Numbers come from `crate::dashboard`.

use iced::widget::{button, column, container, scrollable, text};
use iced::{Element, Length};

use super::widget;
use crate::dashboard::{Counts, Disk, Skew};
use crate::devices::Devices;
use crate::i18n::I18n;
use crate::station::Station;
use crate::text::Text;
use crate::upload::{Link, Progress};

/// Where the clock comparison stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    /// No intake is configured: nothing to compare with.
    NoIntake,
    Checking,
    Known(Skew),
    Failed(Text),
}

pub struct Dashboard {
    pub counts: Result<Counts, Text>,
    disk: Result<Disk, Text>,
    pub clock: Clock,
}

/// The link as the status bar and the dashboard name it: `progress` of
/// this window's uploader, or none; `elsewhere`: the upload service sends
/// instead of this window.
pub fn link_id(progress: Option<&Progress>, elsewhere: bool) -> &'static str {
    match progress.map(|p| p.link) {
        None if elsewhere => "ui-link-elsewhere",
        None => "ui-link-off",
        Some(Link::Unknown) => "ui-link-unknown",
        Some(Link::Online) => "ui-link-online",
        Some(Link::Offline) => "ui-link-offline",
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Refresh,
    Close,
    /// The clock comparison finished.
    Clock(Result<Skew, Text>),
}

pub enum Event {
    Close,
    /// Compare the clock with the intake's (the app runs it off the
    /// interface thread).
    CheckClock,
}

impl Dashboard {
    /// `has_intake`: the station sends to an intake (its own, or the
    /// embedded demo intake), so there is a clock to compare with.
    pub fn new(station: &Station, has_intake: bool) -> Self {
        let mut dashboard = Self {
            counts: Err(Text::new("ui-dashboard-loading")),
            disk: Err(Text::new("ui-dashboard-loading")),
            clock: if has_intake {
                Clock::Checking
            } else {
                Clock::NoIntake
            },
        };
        dashboard.reload(station);
        dashboard
    }

    /// Counts again from the database and the disk.
    pub fn reload(&mut self, station: &Station) {
        self.counts = station
            .counts()
            .map_err(|e| Text::new("err-internal").arg("detail", e.to_string()));
        self.disk = station
            .disk()
            .map_err(|e| Text::new("err-internal").arg("detail", e.to_string()));
    }

    pub fn update(&mut self, message: Message, station: &Station) -> Option<Event> {
        match message {
            Message::Close => return Some(Event::Close),
            Message::Refresh => {
                self.reload(station);
                if self.clock != Clock::NoIntake {
                    self.clock = Clock::Checking;
                    return Some(Event::CheckClock);
                }
            }
            Message::Clock(result) => {
                self.clock = match result {
                    Ok(skew) => Clock::Known(skew),
                    Err(problem) => Clock::Failed(problem),
                };
            }
        }
        None
    }

    /// `uploads_elsewhere`: the upload service, not this window, sends
    /// the station's packets.
    pub fn view<'a>(
        &'a self,
        i18n: &I18n,
        devices: &Devices,
        progress: Option<&Progress>,
        uploads_elsewhere: bool,
    ) -> Element<'a, Message> {
        let today = i18n.date(crate::enrolment::JalaliDate::today());
        let mut items: Vec<Element<'a, Message>> = vec![widget::heading(
            i18n,
            i18n.text(&Text::new("ui-dashboard-title").arg("date", today)),
        )];
        match &self.counts {
            Ok(counts) => items.push(tiles(i18n, counts)),
            Err(problem) => items.push(widget::error(i18n, problem)),
        }
        items.push(widget::line(i18n, i18n.tr("ui-dashboard-health")));
        items.extend(self.health(i18n, devices, progress, uploads_elsewhere));
        items.push(widget::aligned(
            i18n,
            widget::row(
                i18n,
                vec![
                    button(text(i18n.tr("ui-dashboard-refresh")))
                        .on_press(Message::Refresh)
                        .into(),
                    button(text(i18n.tr("ui-close")))
                        .style(button::secondary)
                        .on_press(Message::Close)
                        .into(),
                ],
            )
            .spacing(8),
        ));
        scrollable(column(items).spacing(14).padding(24).max_width(1000))
            .height(Length::Fill)
            .into()
    }

    fn health<'a>(
        &'a self,
        i18n: &I18n,
        devices: &Devices,
        progress: Option<&Progress>,
        uploads_elsewhere: bool,
    ) -> Vec<Element<'a, Message>> {
        let camera = match devices.camera {
            pishkhan_camera::Source::Device(n) => {
                i18n.text(&Text::new("ui-dashboard-camera-device").arg("index", n.to_string()))
            }
            _ => i18n.tr("ui-dashboard-camera-synthetic"),
        };
        let scanner = devices.scanner.info().name.clone();
        let link = link_id(progress, uploads_elsewhere);
        let mut lines = vec![
            (widget::detail(i18n, "ui-dashboard-camera", camera), false),
            (widget::detail(i18n, "ui-dashboard-scanner", scanner), false),
            (
                widget::detail(i18n, "ui-dashboard-link", i18n.tr(link)),
                false,
            ),
        ];
        lines.push(match &self.disk {
            Ok(disk) => {
                let shown = Text::new("ui-dashboard-disk-free")
                    .arg("free", (disk.free_bytes >> 20).to_string())
                    .arg("reserve", (disk.reserve_bytes >> 20).to_string());
                (
                    widget::detail(i18n, "ui-dashboard-disk", i18n.text(&shown)),
                    disk.low(),
                )
            }
            Err(problem) => (widget::error(i18n, problem), true),
        });
        let (clock, worrying) = match &self.clock {
            Clock::NoIntake => (i18n.tr("ui-dashboard-clock-no-intake"), false),
            Clock::Checking => (i18n.tr("ui-dashboard-clock-checking"), false),
            Clock::Known(skew) => {
                let seconds = format!("{:+.1}", skew.millis as f64 / 1000.0);
                let id = if skew.worrying() {
                    "ui-dashboard-clock-off"
                } else {
                    "ui-dashboard-clock-ok"
                };
                (
                    i18n.text(&Text::new(id).arg("seconds", seconds)),
                    skew.worrying(),
                )
            }
            Clock::Failed(problem) => (i18n.text(problem), true),
        };
        lines.push((widget::detail(i18n, "ui-dashboard-clock", clock), worrying));
        lines
            .into_iter()
            .map(|(line, warn)| {
                let style = if warn { container::warning } else { plain };
                container(line).padding([2, 8]).style(style).into()
            })
            .collect()
    }
}

fn plain(_: &iced::Theme) -> container::Style {
    container::Style::default()
}

/// One figure with its label.
fn tile<'a, M: 'a>(i18n: &I18n, label_id: &str, value: u64, warn: bool) -> Element<'a, M> {
    let style = if warn && value > 0 {
        container::warning
    } else {
        container::bordered_box
    };
    container(
        column![
            text(i18n.digits(&value.to_string())).size(34),
            text(i18n.tr(label_id)).size(14),
        ]
        .spacing(4)
        .align_x(iced::Alignment::Center),
    )
    .padding(12)
    .width(Length::FillPortion(1))
    .style(style)
    .into()
}

fn tiles<'a, M: 'a>(i18n: &I18n, c: &Counts) -> Element<'a, M> {
    widget::row(
        i18n,
        vec![
            tile(i18n, "ui-dashboard-sealed-today", c.sealed_today, false),
            tile(i18n, "ui-dashboard-waiting", c.waiting + c.uploading, false),
            tile(
                i18n,
                "ui-dashboard-acknowledged-today",
                c.acknowledged_today,
                false,
            ),
            tile(i18n, "ui-dashboard-rejected", c.rejected, true),
            tile(i18n, "ui-dashboard-drafts", c.drafts, false),
        ],
    )
    .spacing(10)
    .into()
}

//! The iced user interface. The only module that imports iced.
//!
//! Halloy-style: every screen and wizard step is a module with its own
//! `Message`, state, `update` and `view`; [`app::App`] only routes.

pub mod accounts;
pub mod app;
mod approval;
pub mod card_status;
pub mod dashboard;
pub mod drafts;
pub mod handover;
mod password;
mod photo;
pub mod provision;
pub mod queue;
mod reprint;
pub mod route;
pub mod settings;
mod setup;
mod sign_in;
pub mod widget;
pub mod wizard;

pub use app::{App, Message, Screen};

use iced::Font;

/// Vazirmatn Regular, bundled (SIL OFL 1.1, see assets/fonts/OFL.txt).
pub const VAZIRMATN: &[u8] = include_bytes!("../../assets/fonts/Vazirmatn-Regular.ttf");
/// Vazirmatn Bold.
pub const VAZIRMATN_BOLD: &[u8] = include_bytes!("../../assets/fonts/Vazirmatn-Bold.ttf");
/// The interface font.
pub const FONT: Font = Font::with_name("Vazirmatn");

/// Fonts and default font for a window or a test simulator.
pub fn settings() -> iced::Settings {
    iced::Settings {
        fonts: vec![VAZIRMATN.into(), VAZIRMATN_BOLD.into()],
        default_font: FONT,
        ..iced::Settings::default()
    }
}

/// Opens the station window.
/// The window: its size, and on Linux the application id desktops match
/// with `pishkhan.desktop` (taskbar icon and name).
fn window_settings() -> iced::window::Settings {
    #[cfg(target_os = "linux")]
    let platform_specific = iced::window::settings::PlatformSpecific {
        application_id: "pishkhan".into(),
        ..Default::default()
    };
    #[cfg(not(target_os = "linux"))]
    let platform_specific = iced::window::settings::PlatformSpecific::default();
    iced::window::Settings {
        size: iced::Size::new(1280.0, 860.0),
        platform_specific,
        ..Default::default()
    }
}

pub fn run(start: app::Start) -> iced::Result {
    iced::application(move || App::new(start.clone()), App::update, App::view)
        .title(App::title)
        .subscription(App::subscription)
        .theme(App::theme)
        .scale_factor(App::scale_factor)
        .font(VAZIRMATN)
        .font(VAZIRMATN_BOLD)
        .default_font(FONT)
        .window(window_settings())
        .run()
}

//! Small layout helpers that make right-to-left screens out of iced's
//! left-to-right widgets.
//!
//! iced has no layout direction, so for Persian we reverse rows ourselves
//! and align to the right. Single-line right-to-left text must not be given
//! `Length::Fill` (iced 0.14 then draws it on the wrong side or not at all);
//! we keep text at its natural width and let a container align it.

use iced::theme::Palette;
use iced::widget::{Row, column, container, text, text_input};
use iced::{Alignment, Color, Element, Length, Theme, alignment};

use crate::i18n::I18n;
use crate::text::Text;

/// The high-contrast palette: white text on black, yellow actions, and
/// signal colours light enough for WCAG AA (4.5:1) on black — for small
/// laptop screens in poor light (`[display] high_contrast`).
pub const HIGH_CONTRAST: Palette = Palette {
    background: Color::BLACK,
    text: Color::WHITE,
    primary: Color::from_rgb8(0xFF, 0xD6, 0x00),
    success: Color::from_rgb8(0x4A, 0xDE, 0x80),
    warning: Color::from_rgb8(0xFF, 0xA7, 0x26),
    danger: Color::from_rgb8(0xFF, 0x6B, 0x6B),
};

/// How much larger everything (text, padding, touch targets) is drawn in
/// high contrast. Applied to the whole window as iced's scale factor, so
/// every screen grows alike without sizes of its own.
pub const HIGH_CONTRAST_SCALE: f32 = 1.25;

/// The window's theme.
pub fn theme(high_contrast: bool) -> Theme {
    if high_contrast {
        Theme::custom_with_fn("Pishkhan high contrast", HIGH_CONTRAST, |palette| {
            let mut extended = iced::theme::palette::Extended::generate(palette);
            // iced's generated secondary falls short of AA. Its base is
            // both the grey buttons' colour (white text on it) and the
            // colour of secondary text on black: #757575 meets 4.5:1 both
            // ways. Hover and pressed are darker (white text only).
            let grey = |v: u8| iced::theme::palette::Pair {
                color: Color::from_rgb8(v, v, v),
                text: Color::WHITE,
            };
            extended.secondary.base = grey(0x75);
            extended.secondary.weak = grey(0x60);
            extended.secondary.strong = grey(0x50);
            extended
        })
    } else {
        Theme::Light
    }
}

/// The window's scale factor.
pub fn scale_factor(high_contrast: bool) -> f32 {
    if high_contrast {
        HIGH_CONTRAST_SCALE
    } else {
        1.0
    }
}

/// A row whose children run right-to-left in Persian.
pub fn row<'a, M: 'a>(i18n: &I18n, mut children: Vec<Element<'a, M>>) -> Row<'a, M> {
    if i18n.lang().is_rtl() {
        children.reverse();
    }
    Row::with_children(children)
        .spacing(12)
        .align_y(Alignment::Center)
}

/// The horizontal alignment of the reading start (right in Persian).
pub fn start(i18n: &I18n) -> alignment::Horizontal {
    if i18n.lang().is_rtl() {
        alignment::Horizontal::Right
    } else {
        alignment::Horizontal::Left
    }
}

/// A line of text aligned to the reading start of a full-width box.
pub fn line<'a, M: 'a>(i18n: &I18n, content: impl Into<String>) -> Element<'a, M> {
    aligned(i18n, text(content.into()))
}

/// Any element placed at the reading start of a full-width box.
pub fn aligned<'a, M: 'a>(i18n: &I18n, content: impl Into<Element<'a, M>>) -> Element<'a, M> {
    container(content)
        .width(Length::Fill)
        .align_x(start(i18n))
        .into()
}

/// A heading at the reading start.
pub fn heading<'a, M: 'a>(i18n: &I18n, content: impl Into<String>) -> Element<'a, M> {
    aligned(i18n, text(content.into()).size(26))
}

/// An error line in the danger colour.
pub fn error<'a, M: 'a>(i18n: &I18n, message: &Text) -> Element<'a, M> {
    aligned(i18n, text(i18n.text(message)).style(text::danger).size(14))
}

/// A labelled text input with its error, if any.
pub fn field<'a, M: Clone + 'a>(
    i18n: &I18n,
    id: &'static str,
    label_id: &str,
    value: &str,
    on_input: impl Fn(String) -> M + 'a,
    problem: Option<&Text>,
) -> Element<'a, M> {
    let input = text_input(&i18n.tr(label_id), value)
        .id(id)
        .on_input(on_input)
        .padding(8)
        .align_x(start(i18n));
    let mut col = column![line(i18n, i18n.tr(label_id)), input].spacing(4);
    if let Some(problem) = problem {
        col = col.push(error(i18n, problem));
    }
    col.width(Length::Fill).into()
}

/// RGBA pixels from 8-bit grey, for showing a finger image.
pub fn grey_to_rgba(pixels: &[u8]) -> Vec<u8> {
    pixels.iter().flat_map(|&v| [v, v, v, 255]).collect()
}

/// RGBA pixels from RGB, for showing a camera frame.
pub fn rgb_to_rgba(pixels: &[u8]) -> Vec<u8> {
    pixels
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
}

/// One option of a single choice: a radio dot and its label, both
/// clickable, with the dot at the reading start.
pub fn choice<'a, M: Clone + 'a>(
    i18n: &I18n,
    label: String,
    selected: bool,
    on_select: M,
) -> Element<'a, M> {
    let dot = iced::widget::radio("", (), selected.then_some(()), {
        let on_select = on_select.clone();
        move |()| on_select
    })
    .spacing(0);
    iced::widget::button(row(i18n, vec![dot.into(), text(label).into()]).spacing(6))
        .style(iced::widget::button::text)
        .padding([2, 4])
        .on_press(on_select)
        .into()
}

/// A large on/off button (a touch target): a tick box and its label, the
/// whole button clickable, highlighted while on.
pub fn toggle<'a, M: Clone + 'a>(
    i18n: &I18n,
    label: String,
    on: bool,
    message: M,
) -> Element<'a, M> {
    let tick = iced::widget::checkbox(on)
        .on_toggle({
            let message = message.clone();
            move |_| message.clone()
        })
        .size(24);
    iced::widget::button(row(i18n, vec![tick.into(), text(label).size(18).into()]).spacing(10))
        .padding([12, 18])
        .style(if on {
            iced::widget::button::primary
        } else {
            iced::widget::button::secondary
        })
        .on_press(message)
        .into()
}

/// A "label: value" line at the reading start.
pub fn detail<'a, M: 'a>(i18n: &I18n, label_id: &str, value: String) -> Element<'a, M> {
    aligned(
        i18n,
        row(
            i18n,
            vec![
                text(format!("{}:", i18n.tr(label_id)))
                    .style(text::secondary)
                    .into(),
                text(value).into(),
            ],
        ),
    )
}

/// A labelled password input.
pub fn password<'a, M: Clone + 'a>(
    i18n: &I18n,
    id: &'static str,
    label_id: &str,
    value: &str,
    on_input: impl Fn(String) -> M + 'a,
    on_submit: Option<M>,
) -> Element<'a, M> {
    column![
        line(i18n, i18n.tr(label_id)),
        text_input(&i18n.tr(label_id), value)
            .id(id)
            .secure(true)
            .padding(8)
            .align_x(start(i18n))
            .on_input(on_input)
            .on_submit_maybe(on_submit),
    ]
    .spacing(4)
    .into()
}

/// A small centred form: fields, the problem if any, and the submit button.
pub fn form<'a, M: Clone + 'a>(
    i18n: &I18n,
    fields: Vec<Element<'a, M>>,
    problem: Option<&Text>,
    submit_label_id: &str,
    submit: M,
    max_width: f32,
) -> Element<'a, M> {
    let mut form = iced::widget::Column::with_children(fields).spacing(14);
    if let Some(problem) = problem {
        form = form.push(error(i18n, problem));
    }
    form = form.push(aligned(
        i18n,
        iced::widget::button(text(i18n.tr(submit_label_id)))
            .padding([8, 20])
            .style(iced::widget::button::primary)
            .on_press(submit),
    ));
    container(form.max_width(max_width))
        .center_x(Length::Fill)
        .padding(32)
        .into()
}

/// A screen of `items` one under another, centred at the usual form
/// width and scrolled when taller than the window.
pub fn page<'a, M: 'a>(items: Vec<Element<'a, M>>) -> Element<'a, M> {
    iced::widget::scrollable(
        container(
            iced::widget::Column::with_children(items)
                .spacing(14)
                .max_width(760.0),
        )
        .center_x(Length::Fill)
        .padding(32),
    )
    .height(Length::Fill)
    .into()
}

/// `1405/09/01 14:05`: an RFC 3339 time in the station's time zone (as
/// given when it does not parse).
pub fn local_time(i18n: &I18n, rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| date_and_hour(i18n, t.with_timezone(&chrono::Local).naive_local()),
    )
}

/// [`local_time`], but in the time zone the time was written with: an
/// appointment says the office's hour wherever it is read.
pub fn office_time(i18n: &I18n, rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| date_and_hour(i18n, t.naive_local()),
    )
}

fn date_and_hour(i18n: &I18n, local: chrono::NaiveDateTime) -> String {
    use chrono::Datelike;
    let date =
        crate::enrolment::JalaliDate::from_gregorian((local.year(), local.month(), local.day()));
    format!(
        "{} {}",
        i18n.date(date),
        i18n.digits(&local.format("%H:%M").to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG 2.1 AA for normal text.
    const AA: f32 = 4.5;

    #[test]
    fn the_high_contrast_theme_meets_wcag_aa() {
        let theme = theme(true);
        let palette = theme.extended_palette();
        assert!(palette.is_dark);
        let background = palette.background.base.color;
        assert_eq!(background, Color::BLACK);
        // Text and every signal colour used as text on the background.
        for (name, colour) in [
            ("text", palette.background.base.text),
            ("primary", HIGH_CONTRAST.primary),
            ("success", HIGH_CONTRAST.success),
            ("warning", HIGH_CONTRAST.warning),
            ("danger", HIGH_CONTRAST.danger),
            ("secondary", palette.secondary.base.color),
        ] {
            let ratio = colour.relative_contrast(background);
            assert!(ratio >= AA, "{name} on black: {ratio:.2}");
        }
        // Text on every button and badge colour.
        for (name, pair) in [
            ("primary", palette.primary.base),
            ("primary strong", palette.primary.strong),
            ("secondary", palette.secondary.base),
            ("secondary weak", palette.secondary.weak),
            ("secondary strong", palette.secondary.strong),
            ("success", palette.success.base),
            ("warning", palette.warning.base),
            ("danger", palette.danger.base),
            ("weak background", palette.background.weak),
        ] {
            let ratio = pair.text.relative_contrast(pair.color);
            assert!(ratio >= AA, "text on {name}: {ratio:.2}");
        }
    }

    #[test]
    fn high_contrast_is_larger_and_the_default_is_not() {
        assert_eq!(theme(false), Theme::Light);
        assert_eq!(scale_factor(false), 1.0);
        assert!(scale_factor(true) >= 1.25);
    }
}

//! The hand diagram: both hands as seen from above, palms down (left hand
//! on the left whatever the language), each finger coloured by its state:
//! expected now, captured (by quality), exception, or still to come.

use iced::widget::{Space, column, container, row, text};
use iced::{Alignment, Border, Element, Length, Theme};
use pishkhan_scanner::{Finger, Impression};

use super::quality_style;
use crate::enrolment::Session;
use crate::i18n::I18n;

/// Relative finger lengths, for a recognisable hand.
fn length(finger: Finger) -> f32 {
    use Finger::*;
    match finger {
        RightThumb | LeftThumb => 46.0,
        RightIndex | LeftIndex => 74.0,
        RightMiddle | LeftMiddle => 84.0,
        RightRing | LeftRing => 76.0,
        RightLittle | LeftLittle => 58.0,
    }
}

const WIDTH: f32 = 26.0;
const GAP: f32 = 4.0;

fn rounded(style: fn(&Theme) -> container::Style) -> impl Fn(&Theme) -> container::Style {
    move |theme| {
        let base = style(theme);
        container::Style {
            border: Border {
                radius: 12.0.into(),
                width: base.border.width.max(1.0),
                color: base.border.color,
            },
            ..base
        }
    }
}

fn pill<'a, M: 'a>(
    finger: Finger,
    session: &Session,
    now: &[Finger],
    threshold: u8,
    i18n: &I18n,
) -> Element<'a, M> {
    let (label, style): (String, fn(&Theme) -> container::Style) =
        if let Some(e) = session.exceptions.get(&finger) {
            (e.kind.code().into(), container::secondary)
        } else if let Some(c) = session.fingers.get(&finger) {
            (
                i18n.digits(&c.score().to_string()),
                quality_style(c.score(), threshold),
            )
        } else if now.contains(&finger) {
            (String::new(), container::primary)
        } else {
            (String::new(), container::bordered_box)
        };
    container(text(label).size(10))
        .width(WIDTH)
        .height(length(finger))
        .align_x(Alignment::Center)
        .align_y(Alignment::Start)
        .padding([6, 0])
        .style(rounded(style))
        .into()
}

fn hand<'a, M: 'a>(
    fingers: [Finger; 5],
    thumb_first: bool,
    session: &Session,
    now: &[Finger],
    threshold: u8,
    i18n: &I18n,
) -> Element<'a, M> {
    let [thumb, index, middle, ring, little] = fingers;
    let mut four = vec![little, ring, middle, index];
    if thumb_first {
        four.reverse();
    }
    let four_row = row(four
        .into_iter()
        .map(|f| pill(f, session, now, threshold, i18n)))
    .spacing(GAP)
    .align_y(Alignment::End);
    let palm = container(Space::new().width(4.0 * WIDTH + 3.0 * GAP).height(60.0))
        .style(rounded(container::bordered_box));
    let thumb_col = column![
        pill(thumb, session, now, threshold, i18n),
        Space::new().height(18.0)
    ];
    let main = column![four_row, palm].spacing(GAP);
    let parts: Vec<Element<'a, M>> = if thumb_first {
        vec![thumb_col.into(), main.into()]
    } else {
        vec![main.into(), thumb_col.into()]
    };
    row(parts).spacing(GAP).align_y(Alignment::End).into()
}

/// Both hands, with the fingers of `current` highlighted.
pub fn diagram<'a, M: 'a>(
    session: &Session,
    current: Option<Impression>,
    threshold: u8,
    i18n: &I18n,
) -> Element<'a, M> {
    use Finger::*;
    let now = current.map(Impression::fingers).unwrap_or_default();
    let left = hand(
        [LeftThumb, LeftIndex, LeftMiddle, LeftRing, LeftLittle],
        false,
        session,
        &now,
        threshold,
        i18n,
    );
    let right = hand(
        [RightThumb, RightIndex, RightMiddle, RightRing, RightLittle],
        true,
        session,
        &now,
        threshold,
        i18n,
    );
    let caption = |id: &str| text(i18n.tr(id)).size(12);
    column![
        row![
            column![left, caption("ui-left-hand")]
                .spacing(4)
                .align_x(Alignment::Center),
            column![right, caption("ui-right-hand")]
                .spacing(4)
                .align_x(Alignment::Center),
        ]
        .spacing(28),
        text(i18n.tr("ui-hand-legend")).size(11),
    ]
    .spacing(6)
    .width(Length::Shrink)
    .into()
}

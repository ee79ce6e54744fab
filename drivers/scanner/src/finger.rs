/// A finger, numbered as ANSI/NIST-ITL finger positions (FGP 1–10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finger {
    RightThumb = 1,
    RightIndex = 2,
    RightMiddle = 3,
    RightRing = 4,
    RightLittle = 5,
    LeftThumb = 6,
    LeftIndex = 7,
    LeftMiddle = 8,
    LeftRing = 9,
    LeftLittle = 10,
}

impl Finger {
    /// All ten fingers in finger-position order.
    pub const ALL: [Finger; 10] = [
        Finger::RightThumb,
        Finger::RightIndex,
        Finger::RightMiddle,
        Finger::RightRing,
        Finger::RightLittle,
        Finger::LeftThumb,
        Finger::LeftIndex,
        Finger::LeftMiddle,
        Finger::LeftRing,
        Finger::LeftLittle,
    ];

    /// The ANSI/NIST-ITL finger position code (1–10).
    pub fn position(self) -> u8 {
        self as u8
    }

    /// The finger with the given position code.
    pub fn from_position(code: u8) -> Option<Finger> {
        Finger::ALL.into_iter().find(|f| f.position() == code)
    }

    /// A stable ASCII key, used in file names and translation ids.
    pub fn key(self) -> &'static str {
        match self {
            Finger::RightThumb => "right-thumb",
            Finger::RightIndex => "right-index",
            Finger::RightMiddle => "right-middle",
            Finger::RightRing => "right-ring",
            Finger::RightLittle => "right-little",
            Finger::LeftThumb => "left-thumb",
            Finger::LeftIndex => "left-index",
            Finger::LeftMiddle => "left-middle",
            Finger::LeftRing => "left-ring",
            Finger::LeftLittle => "left-little",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        for f in Finger::ALL {
            assert_eq!(Finger::from_position(f.position()), Some(f));
        }
        assert_eq!(Finger::from_position(0), None);
        assert_eq!(Finger::from_position(11), None);
        assert_eq!(Finger::LeftLittle.position(), 10);
    }
}

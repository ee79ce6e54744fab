//! Where in a transaction something is: the record, the field, the subfield
//! and the item, as every error and problem reports it.

use std::fmt;

use crate::codes;

/// A place in a transaction. Record, subfield and item numbers are 1-based,
/// as in NBIS `an2k2txt` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The record's position in the transaction (1 = the Type-1), or 0 for
    /// a record on its own (a typed record being read).
    pub record: usize,
    /// The record's type.
    pub kind: u8,
    /// The field number, if the place is inside a field.
    pub field: Option<u16>,
    pub subfield: Option<usize>,
    pub item: Option<usize>,
}

impl Location {
    /// The record as a whole.
    pub fn record(record: usize, kind: u8) -> Self {
        Location {
            record,
            kind,
            field: None,
            subfield: None,
            item: None,
        }
    }

    /// Field `tag` of the record.
    pub fn field(record: usize, kind: u8, tag: u16) -> Self {
        Location {
            field: Some(tag),
            ..Location::record(record, kind)
        }
    }

    /// The same place narrowed to subfield `subfield` (1-based).
    pub fn subfield(mut self, subfield: usize) -> Self {
        self.subfield = Some(subfield);
        self
    }

    /// The same place narrowed to item `item` (1-based).
    pub fn item(mut self, item: usize) -> Self {
        self.item = Some(item);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.record == 0 {
            write!(f, "Type-{} record", self.kind)?;
        } else {
            write!(f, "record {} (Type-{})", self.record, self.kind)?;
        }
        if let Some(tag) = self.field {
            write!(f, ", field {}.{tag:03}", self.kind)?;
            if let Some(name) = codes::mnemonic(self.kind, tag) {
                write!(f, " {name}")?;
            }
        }
        if let Some(s) = self.subfield {
            write!(f, ", subfield {s}")?;
        }
        if let Some(i) = self.item {
            write!(f, ", item {i}")?;
        }
        Ok(())
    }
}

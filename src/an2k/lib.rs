//! ANSI/NIST-ITL 1-2011 (Update 2013 and 2015) transactions in the
//! **traditional encoding**, in pure Rust: [`encode`], [`decode`], the
//! semantic checks ([`check`], [`problems`]), a text [`dump`] and typed
//! builders for the records the station writes ([`records`]).
//!
//! Clause numbers such as "§1.2" refer to the implementer's digest in
//! `shared/reference/standards.md`, which cites NIST SP 500-290 and its
//! updates (the standard itself).
//!
//! # The model
//!
//! A [`Transaction`] is a list of [`Record`]s, the Type-1 first. A record is
//! its type and its fields in file order; a [`Field`] is a tag number and a
//! [`Value`]: text (subfields of information items) or, for field 999 only,
//! binary data.
//!
//! The framing is not part of the model: [`encode`] computes every `xx.001`
//! LEN and the `1.003` CNT itself, and [`decode`] checks them and leaves
//! them out. So `decode(&encode(&tx)?)? == tx` for every transaction
//! `encode` accepts that has no LEN or CNT fields of its own.
//!
//! The legacy binary records (Types 3 to 8, §1.2), which have a fixed binary
//! header instead of tagged fields, are kept whole: field 2 holds the IDC
//! (the header's fifth byte, as decimal text) and field 999 the bytes after
//! it. They are read and written, but not checked.
//!
//! # Byte grammar (§1.2, Annex B of the standard)
//!
//! - A text record is `T.001:LEN` GS `T.002:IDC` GS … FS. Fields are
//!   separated by GS (0x1D), subfields by RS (0x1E), items by US (0x1F); FS
//!   (0x1C) ends the record. Tags are written `type.fff` (three-digit field
//!   number); the reader also accepts the two-digit field numbers of old
//!   files (`1.01:`).
//! - LEN counts the bytes from the first character of `T.001:` up to and
//!   including the FS. Its own digits count, so the writer iterates to a
//!   fixed point.
//! - The Type-1 record is 7-bit ASCII and its fields are in ascending order.
//!   In the other records, IDC is the second field and field 999 (binary
//!   DATA) is the last one. The reader never looks for separators in DATA:
//!   it ends where LEN says.
//! - Text in records other than Type-1 is ASCII unless `1.015` DCS declares
//!   UTF-8 (character set index 3). Control characters (the separators,
//!   STX, ETX and the rest of 0x00–0x1F and 0x7F) never appear in text.
//! - `1.003` CNT lists `1` US *count*, then `type` US `IDC` for every other
//!   record in file order.
//!
//! # Semantics
//!
//! [`problems`] applies the rules of §1.3–§1.7 to Types 1, 10 and 14 (and
//! IDC rules to every record); [`problems`] lists them. Every
//! [`Problem`] and [`ReadError`] names the record (1-based, with its type),
//! the field (`14.005 FCD`), the subfield and item where relevant, and for
//! syntax errors the byte offset.

mod check;
mod codes;
mod date;
mod dump;
mod field;
mod image;
mod location;
pub mod records;
mod syntax;

pub use check::{Problem, check, problems};
pub use date::{Date, check_gmt};
pub use dump::dump;
pub use field::Fields;
pub use location::Location;
pub use syntax::decode::{ReadError, decode};
pub use syntax::encode::{EncodeError, encode};

/// A transaction: the Type-1 record followed by the records it counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transaction {
    /// The records in file order; `records[0]` is the Type-1.
    pub records: Vec<Record>,
}

/// One logical record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record type: 1, 2, 10, 14 and so on.
    pub kind: u8,
    /// The fields in file order, without the `xx.001` LEN (and, in the
    /// Type-1, without the `1.003` CNT): [`encode`] writes those.
    pub fields: Vec<Field>,
}

/// One tagged field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field number: 14 for `14.014`.
    pub tag: u16,
    pub value: Value,
}

/// A field's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Subfields, each a list of information items. A plain value is one
    /// subfield of one item. Neither list is ever empty.
    Text(Vec<Vec<String>>),
    /// Raw bytes: field 999 (DATA) only.
    Binary(Vec<u8>),
}

impl Value {
    /// A plain value: one subfield of one item.
    pub fn item(s: impl Into<String>) -> Value {
        Value::Text(vec![vec![s.into()]])
    }

    /// One subfield of several items (`a` US `b` US `c`).
    pub fn items<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::Text(vec![items.into_iter().map(Into::into).collect()])
    }

    /// Several subfields (RS between them) of items (US between them).
    pub fn subfields<S, I>(subfields: impl IntoIterator<Item = I>) -> Value
    where
        S: Into<String>,
        I: IntoIterator<Item = S>,
    {
        Value::Text(
            subfields
                .into_iter()
                .map(|items| items.into_iter().map(Into::into).collect())
                .collect(),
        )
    }

    /// The subfields of a text value.
    pub fn as_text(&self) -> Option<&[Vec<String>]> {
        match self {
            Value::Text(subfields) => Some(subfields),
            Value::Binary(_) => None,
        }
    }

    /// The bytes of a binary value.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Value::Binary(bytes) => Some(bytes),
            Value::Text(_) => None,
        }
    }

    /// The first item of the first subfield of a text value.
    pub fn first(&self) -> Option<&str> {
        self.as_text()?.first()?.first().map(String::as_str)
    }
}

impl Record {
    /// An empty record of type `kind`.
    pub fn new(kind: u8) -> Self {
        Record {
            kind,
            fields: Vec::new(),
        }
    }

    /// Appends field `tag`.
    pub fn push(&mut self, tag: u16, value: Value) -> &mut Self {
        self.fields.push(Field { tag, value });
        self
    }

    /// The value of the first field `tag`.
    pub fn get(&self, tag: u16) -> Option<&Value> {
        self.fields.iter().find(|f| f.tag == tag).map(|f| &f.value)
    }

    /// The first item of the first subfield of field `tag`.
    pub fn text(&self, tag: u16) -> Option<&str> {
        self.get(tag)?.first()
    }

    /// The IDC (field 2) as a number, for records other than Type-1.
    pub fn idc(&self) -> Option<u8> {
        if self.kind == 1 {
            return None;
        }
        field::digits(self.text(2)?)
    }
}

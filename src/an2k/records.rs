//! Typed records.

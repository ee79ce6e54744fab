//! Pishkhan: an enrolment station for smart national ID cards.
//!
//! The library holds everything the `pishkhan` binary does, so that tests
//! can drive the same code: the domain ([`enrolment`]), the packet and the
//! outbox ([`packet`], [`store`], [`station`]), the devices ([`devices`]),
//! and the iced user interface ([`ui`]), which is the only module that
//! imports iced.

pub mod archive;
pub mod config;
pub mod dashboard;
pub mod devices;
pub mod enrolment;
pub mod environment;
pub mod field;
pub mod i18n;
pub mod intake;
pub mod inventory;
pub mod packet;
pub mod portrait;
pub mod prereg;
pub mod provision;
pub mod queue;
pub mod receipts;
pub mod selftest;
pub mod settings;
pub mod station;
pub mod status;
pub mod store;
pub mod text;
pub mod tools;
pub mod ui;
pub mod upload;

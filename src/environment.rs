//! Where the station keeps its data, and what version it is.

use std::path::PathBuf;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The data directory when none is given: `$PISHKHAN_DATA_DIR` is handled
/// by the command line; this is the platform default after it.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("pishkhan");
    }
    if let Some(dir) = std::env::var_os("APPDATA").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("Pishkhan");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".local/share/pishkhan");
    }
    PathBuf::from("pishkhan-data")
}

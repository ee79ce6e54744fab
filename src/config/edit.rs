//! Changing single settings in `pishkhan.toml` without losing anything
//! else in it: the operator's comments, the order of the keys, keys this
//! code does not touch (even unknown ones), a comment at the end of a
//! changed line. `pishkhan provision` and the settings screen both write
//! through here (and through [`crate::station::Station::save_config`],
//! which audits the change in the same step).
//!
//! Keys are dotted: `language`, `fingerprints.quality_threshold`.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use super::{Config, FILE_NAME, TEMPLATE};

/// Why the file could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not valid TOML: {reason}")]
    Syntax { path: String, reason: String },
    #[error("the changed configuration would not be valid: {0}")]
    Invalid(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// One key whose value changes, in TOML notation (`40`, `"auto"`). A key
/// that was not in the file shows the default that applied, as `40
/// (default)`; `None`: unset and without a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    /// `old → new`, as the audit log records it.
    pub fn detail(&self) -> String {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".to_owned());
        format!("{} → {}", shown(&self.old), shown(&self.new))
    }
}

/// `pishkhan.toml` being edited.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    original: DocumentMut,
    doc: DocumentMut,
    touched: Vec<String>,
}

fn split(key: &str) -> (Option<&str>, &str) {
    match key.split_once('.') {
        Some((section, name)) => (Some(section), name),
        None => (None, key),
    }
}

fn lookup<'a>(doc: &'a DocumentMut, key: &str) -> Option<&'a Value> {
    let (section, name) = split(key);
    let table = match section {
        Some(section) => doc.get(section)?.as_table_like()?,
        None => doc.as_table() as &dyn toml_edit::TableLike,
    };
    table.get(name)?.as_value()
}

/// A value in TOML notation, without the spacing and comment around it.
fn notation(value: &Value) -> String {
    let mut value = value.clone();
    value.decor_mut().clear();
    value.to_string()
}

impl ConfigFile {
    /// Reads `dir/pishkhan.toml`; the commented default when there is none
    /// yet (it is written by [`save`](Self::save)).
    pub fn open(dir: &Path) -> Result<Self, EditError> {
        let path = dir.join(FILE_NAME);
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TEMPLATE.to_owned(),
            Err(e) => {
                return Err(EditError::Read {
                    path: shown,
                    reason: e.to_string(),
                });
            }
        };
        let doc: DocumentMut =
            text.parse()
                .map_err(|e: toml_edit::TomlError| EditError::Syntax {
                    path: shown,
                    reason: e.to_string(),
                })?;
        Ok(Self {
            path,
            original: doc.clone(),
            doc,
            touched: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key` in TOML notation, `None` when it is not in the
    /// file (the default applies).
    pub fn get(&self, key: &str) -> Option<String> {
        lookup(&self.doc, key).map(notation)
    }

    /// Sets `key`, keeping the spacing and a comment after the old value.
    /// A section that does not exist is added at the end.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        let mut value = value.into();
        let (section, name) = split(key);
        let table = match section {
            Some(section) => self.section(section),
            None => self.doc.as_table_mut(),
        };
        match table.get_mut(name) {
            Some(Item::Value(old)) => {
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            _ => {
                table.insert(name, Item::Value(value));
            }
        }
        self.touch(key);
    }

    /// Removes `key` (its default applies again).
    pub fn remove(&mut self, key: &str) {
        let (section, name) = split(key);
        match section {
            Some(section) => {
                if let Some(table) = self.doc.get_mut(section).and_then(Item::as_table_like_mut) {
                    table.remove(name);
                }
            }
            None => {
                self.doc.remove(name);
            }
        }
        self.touch(key);
    }

    fn section(&mut self, section: &str) -> &mut Table {
        let item = self
            .doc
            .entry(section)
            .or_insert_with(|| Item::Table(Table::new()));
        if !item.is_table() {
            // An inline table (`station = { … }`) or a stray value: make it a
            // table of its own, keeping what it held.
            let mut table = Table::new();
            if let Some(inline) = item.as_inline_table() {
                table = inline.clone().into_table();
            }
            *item = Item::Table(table);
        }
        item.as_table_mut().expect("made a table above")
    }

    fn touch(&mut self, key: &str) {
        if !self.touched.iter().any(|k| k == key) {
            self.touched.push(key.to_owned());
        }
    }

    /// The keys whose value differs from the file as it was read, in the
    /// order they were first set.
    pub fn changes(&self) -> Vec<Change> {
        // What applied before for keys the file did not name.
        let effective = Config::parse(&self.original.to_string())
            .ok()
            .and_then(|(config, _)| toml::Value::try_from(config).ok());
        let default = |key: &str| {
            let (section, name) = split(key);
            let table = match section {
                Some(section) => effective.as_ref()?.get(section)?,
                None => effective.as_ref()?,
            };
            Some(format!("{} (default)", table.get(name)?))
        };
        self.touched
            .iter()
            .filter_map(|key| {
                let old = lookup(&self.original, key).map(notation);
                let new = lookup(&self.doc, key).map(notation);
                (old != new).then(|| Change {
                    key: key.clone(),
                    old: old.or_else(|| default(key)),
                    new,
                })
            })
            .collect()
    }

    /// The file's text as it would be written.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The configuration the file would give (the same checks as at
    /// start-up; unknown keys are tolerated, as there).
    pub fn check(&self) -> Result<Config, EditError> {
        Config::parse(&self.text())
            .map(|(config, _)| config)
            .map_err(EditError::Invalid)
    }

    /// Checks the result and writes it: a temporary file beside it, flushed
    /// to disk, then renamed over the old one, so a crash leaves the old
    /// file or the new one, never half of one.
    pub fn save(&self) -> Result<Config, EditError> {
        let config = self.check()?;
        let failed = |e: std::io::Error| EditError::Write {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        };
        write_atomically(&self.path, self.text().as_bytes()).map_err(failed)?;
        Ok(config)
    }
}

/// Replaces `path` with `contents` through a temporary file and a rename
/// (keeping the old file's permissions).
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    let temporary = dir.join(name);
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(contents)?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATOR: &str = "\
# Office 17's station, set up by Reza.
language = \"fa\"

[station]
office = \"DEMO-OFFICE\"   # until provisioning

[fingerprints]
quality_threshold = 40 # agreed with the authority in 1404
max_attempts = 3

[custom]
kept = \"yes\"
";

    fn file(text: &str) -> (tempfile::TempDir, ConfigFile) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE_NAME), text).expect("write");
        let file = ConfigFile::open(dir.path()).expect("opens");
        (dir, file)
    }

    #[test]
    fn only_the_changed_values_change() {
        let (dir, mut file) = file(OPERATOR);
        file.set("fingerprints.quality_threshold", 55);
        file.set("station.office", "TEH-17");
        file.set("station.number", 42);
        file.set("language", "en");
        file.save().expect("saves");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        assert!(text.starts_with("# Office 17's station, set up by Reza.\nlanguage = \"en\"\n"));
        assert!(
            text.contains("quality_threshold = 55 # agreed with the authority in 1404\n"),
            "{text}"
        );
        assert!(text.contains("office = \"TEH-17\"   # until provisioning\n"));
        assert!(text.contains("number = 42\n"));
        assert!(
            text.contains("[custom]\nkept = \"yes\"\n"),
            "unknown keys stay"
        );
        assert!(text.contains("max_attempts = 3\n"));
    }

    #[test]
    fn changes_name_old_and_new_values() {
        let (_dir, mut file) = file(OPERATOR);
        file.set("fingerprints.quality_threshold", 55);
        file.set("fingerprints.max_attempts", 3);
        file.set("station.name", "باجهٔ ۳");
        file.set("upload.url", "https://intake.example/files/");
        file.remove("upload.url");
        let changes = file.changes();
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0].key, "fingerprints.quality_threshold");
        assert_eq!(changes[0].detail(), "40 → 55");
        assert_eq!(changes[1].detail(), "(unset) → \"باجهٔ ۳\"");
    }

    #[test]
    fn an_invalid_result_is_not_written() {
        let (dir, mut file) = file(OPERATOR);
        file.set("fingerprints.quality_threshold", 101);
        let e = file.save().expect_err("out of range");
        assert!(e.to_string().contains("quality_threshold"), "{e}");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        assert_eq!(text, OPERATOR);
    }

    #[test]
    fn a_missing_file_starts_from_the_commented_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut file = ConfigFile::open(dir.path()).expect("opens");
        assert_eq!(
            file.get("station.office").as_deref(),
            Some("\"DEMO-OFFICE\"")
        );
        file.remove("portrait.max_roll");
        file.save().expect("saves");
        let mut file = ConfigFile::open(dir.path()).expect("opens again");
        file.set("portrait.max_roll", 6.5);
        assert_eq!(
            file.changes()[0].detail(),
            "8.0 (default) → 6.5",
            "a key the file did not name shows the default that applied"
        );
        file.save().expect("saves");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        assert!(text.contains("max_roll = 6.5\n"), "{text}");
        assert!(text.contains("# Interface language at start-up"));
    }
}

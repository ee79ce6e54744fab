//! Translations (Fluent files in `assets/i18n/`), digits and dates in the
//! operator's language.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource};
use serde::{Deserialize, Serialize};

use crate::enrolment::JalaliDate;
use crate::enrolment::digits::to_persian_digits;
use crate::text::Text;

pub const FA_FTL: &str = include_str!("../assets/i18n/fa.ftl");
pub const EN_FTL: &str = include_str!("../assets/i18n/en.ftl");

/// An interface language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fa,
    En,
}

impl Lang {
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Fa)
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Fa => Lang::En,
            Lang::En => Lang::Fa,
        }
    }
}

/// Both bundles, and the language in use.
pub struct I18n {
    lang: Lang,
    fa: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n").field("lang", &self.lang).finish()
    }
}

fn bundle(lang: unic_langid::LanguageIdentifier, source: &str) -> FluentBundle<FluentResource> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(r) => r,
        Err((r, errors)) => {
            tracing::error!("translation file has errors: {errors:?}");
            r
        }
    };
    let mut bundle = FluentBundle::new(vec![lang]);
    // Bidi isolation marks would reach the screen as visible boxes in some
    // fonts; we isolate by layout instead.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!("duplicate translation ids: {errors:?}");
    }
    bundle
}

impl I18n {
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            fa: bundle(unic_langid::langid!("fa"), FA_FTL),
            en: bundle(unic_langid::langid!("en"), EN_FTL),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }

    fn bundle(&self) -> &FluentBundle<FluentResource> {
        match self.lang {
            Lang::Fa => &self.fa,
            Lang::En => &self.en,
        }
    }

    /// The message `id`, without arguments.
    pub fn tr(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// A domain [`Text`], with its arguments' digits localised.
    pub fn text(&self, text: &Text) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in &text.args {
            if text.verbatim.contains(name) {
                args.set(*name, value.clone());
            } else {
                args.set(*name, self.digits(value));
            }
        }
        self.format(text.id, Some(&args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::error!("missing translation {id:?} for {:?}", self.lang);
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::error!("translation {id:?}: {errors:?}");
        }
        out.into_owned()
    }

    /// Digits in the script of the language (Persian digits in Persian).
    pub fn digits(&self, s: &str) -> String {
        match self.lang {
            Lang::Fa => to_persian_digits(s),
            Lang::En => s.to_owned(),
        }
    }

    /// A Jalali date as `۱۴۰۵/۰۹/۰۱` (Persian) or `1405/09/01` (English).
    pub fn date(&self, date: JalaliDate) -> String {
        self.digits(&date.to_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let fa = ids(FA_FTL);
        let en = ids(EN_FTL);
        assert!(fa.len() > 50, "{} messages", fa.len());
        let only_fa: Vec<_> = fa.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&fa).collect();
        assert!(
            only_fa.is_empty() && only_en.is_empty(),
            "fa only: {only_fa:?}, en only: {only_en:?}"
        );
    }

    #[test]
    fn every_id_used_in_the_code_exists() {
        let known = ids(EN_FTL);
        let mut missing = BTreeSet::new();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).expect("src is readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let code = std::fs::read_to_string(&path).expect("source is text");
                for quoted in code.split('"').skip(1).step_by(2) {
                    let looks_like_id = quoted.len() > 3
                        && quoted.contains('-')
                        && !quoted.ends_with('-')
                        && quoted
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit());
                    let prefixed = [
                        "err-",
                        "step-",
                        "doc-",
                        "request-",
                        "ui-",
                        "finger-",
                        "impression-",
                        "err-sbi-",
                        "gender-",
                        "status-",
                        "exception-",
                        "measure-",
                        "warn-",
                        "priority-",
                        "operator-",
                        "province-",
                        "fee-",
                        "month-",
                        "portrait-",
                        "need-",
                        "visit-",
                        "handover-",
                    ]
                    .iter()
                    .any(|p| quoted.starts_with(p));
                    // Field keys that share a message prefix (`Field::key`).
                    let field_key = ["priority-group", "request-type"].contains(&quoted);
                    if looks_like_id && prefixed && !field_key && !known.contains(quoted) {
                        missing.insert(format!("{}: {quoted}", path.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "ids without a translation: {missing:#?}"
        );
    }

    #[test]
    fn codes_keep_their_digits() {
        let i18n = I18n::new(Lang::Fa);
        let text = Text::new("ui-route-title").code("team", "TEH-M1");
        let out = i18n.text(&text);
        assert!(out.contains("TEH-M1") && !out.contains('۱'), "{out}");
    }

    #[test]
    fn persian_digits_in_arguments() {
        let i18n = I18n::new(Lang::Fa);
        let text = Text::new("err-nc-check-digit")
            .arg("expected", "4")
            .arg("found", "5");
        let out = i18n.text(&text);
        assert!(out.contains('۴') && out.contains('۵'), "{out}");
        let en = I18n::new(Lang::En).text(&text);
        assert_eq!(en, "The check digit should be 4, not 5.");
    }
}

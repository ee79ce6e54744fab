//! The Type-1 transaction information record (§1.3).

use super::expect_kind;
use crate::codes::CHARSET_UTF8;
use crate::field::{Fields, digits};
use crate::{Date, Problem, Record, Value};

/// The Type-1 record. CNT (1.003) is not here: [`encode`](crate::encode)
/// writes it. NSR and NTR (1.011, 1.012) are always `00.00`, as there are no
/// Type-3 to 7 records; they are not read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type1 {
    /// 1.002 VER: `0502` for the Update 2015.
    pub version: String,
    /// 1.004 TOT: type of transaction, 1–16 letters.
    pub tot: String,
    /// 1.005 DAT.
    pub date: Date,
    /// 1.006 PRY: 1 (highest) to 9.
    pub priority: Option<u8>,
    /// 1.007 DAI: destination agency.
    pub dai: String,
    /// 1.008 ORI: originating agency.
    pub ori: String,
    /// 1.009 TCN: transaction control number.
    pub tcn: String,
    /// 1.010 TCR: the TCN this transaction answers.
    pub tcr: Option<String>,
    /// 1.013 DOM: domain name and version (version empty: not written).
    pub domain: Option<(String, String)>,
    /// 1.014 GMT: `YYYYMMDDhhmmssZ`.
    pub gmt: String,
    /// 1.015 DCS: text in the other records is UTF-8, written `3` US
    /// `UTF-8` US (empty version). Without it, text is ASCII.
    pub utf8: bool,
    /// 1.016 APS: application profiles (organisation, name, version).
    pub application_profile: Vec<(String, String, String)>,
}

impl Type1 {
    pub fn to_record(&self) -> Record {
        let mut r = Record::new(1);
        r.push(2, Value::item(&self.version))
            .push(4, Value::item(&self.tot))
            .push(5, Value::item(self.date.to_string()));
        if let Some(p) = self.priority {
            r.push(6, Value::item(p.to_string()));
        }
        r.push(7, Value::item(&self.dai))
            .push(8, Value::item(&self.ori))
            .push(9, Value::item(&self.tcn));
        if let Some(tcr) = &self.tcr {
            r.push(10, Value::item(tcr));
        }
        r.push(11, Value::item("00.00"))
            .push(12, Value::item("00.00"));
        if let Some((name, version)) = &self.domain {
            let items = if version.is_empty() {
                vec![name.clone()]
            } else {
                vec![name.clone(), version.clone()]
            };
            r.push(13, Value::items(items));
        }
        r.push(14, Value::item(&self.gmt));
        if self.utf8 {
            r.push(
                15,
                Value::items([CHARSET_UTF8.to_string(), "UTF-8".into(), String::new()]),
            );
        }
        if !self.application_profile.is_empty() {
            let rows = self
                .application_profile
                .iter()
                .map(|(o, n, v)| [o.clone(), n.clone(), v.clone()]);
            r.push(16, Value::subfields(rows));
        }
        r
    }

    pub fn from_record(record: &Record) -> Result<Self, Problem> {
        expect_kind(record, 1, "a Type1")?;
        let f = Fields::new(record, 0);
        let optional = |tag| f.single(tag).map(|v| v.map(str::to_owned));
        let domain = match f.subfields(13)? {
            None => None,
            Some([items]) if items.len() == 1 => Some((items[0].clone(), String::new())),
            Some([items]) if items.len() == 2 => Some((items[0].clone(), items[1].clone())),
            Some(_) => return Err(f.problem(f.at(13), "DOM is one subfield of 1 or 2 items")),
        };
        let utf8 = f
            .subfields(15)?
            .and_then(|s| s.first()?.first().and_then(|i| digits::<u16>(i)))
            == Some(CHARSET_UTF8);
        Ok(Type1 {
            version: f.required(2)?.to_owned(),
            tot: f.required(4)?.to_owned(),
            date: f.date(5)?,
            priority: f.optional_number(6, 1..=9)?.map(|p| p as u8),
            dai: f.required(7)?.to_owned(),
            ori: f.required(8)?.to_owned(),
            tcn: f.required(9)?.to_owned(),
            tcr: optional(10)?,
            domain,
            gmt: f.required(14)?.to_owned(),
            utf8,
            application_profile: f
                .table(16, 3)?
                .iter()
                .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
                .collect(),
        })
    }
}

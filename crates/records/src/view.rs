//! One person's record as every reader sees it — the CLI's `person show --json`, the server's
//! record page and its API: registry facts, the personal work account and every month.
//!
//! The resident ID is shown in full only to its owner; everyone else sees it masked.

use std::collections::BTreeMap;

use anxin_domain::{ResidentId, YearMonth};
use serde_json::{Value, json};

use crate::account::{Summary, summarize};
use crate::error::{Error, Result};
use crate::keys::PersonKey;
use crate::records::Records;
use crate::store::{ContributionRow, PersonRow, Store};

pub struct PersonView {
    pub key: PersonKey,
    pub id: ResidentId,
    pub name: String,
    pub row: PersonRow,
    pub children: usize,
    pub summaries: Vec<Summary>,
    pub months: Vec<ContributionRow>,
    /// The registered names of the person's platforms and of the payers of their months
    /// (credit code → name), so pages show names, not codes.
    pub org_names: BTreeMap<String, String>,
}

fn month_text(index: i32) -> String {
    YearMonth::from_index(index)
        .map(|m| m.to_string())
        .unwrap_or_default()
}

impl<S: Store> Records<S> {
    /// Where the person lives and every region they are insured in (sorted, no repeats), as
    /// [`PersonView::regions`] gives them, without opening the sealed ID or summarising
    /// months: what a permission check needs. `None` if the registry has no such person.
    pub fn person_regions(&mut self, key: &PersonKey) -> Result<Option<Vec<u32>>> {
        let Some(row) = self.store().person(&key.0)? else {
            return Ok(None);
        };
        let months = self.store().contributions_of(&key.0)?;
        Ok(Some(lived_and_insured(
            row.residence_region,
            months.iter().map(|c| c.region),
        )))
    }

    /// The record of the person with key `key`, or `None` if the registry has no such person.
    pub fn person_view(&mut self, key: &PersonKey) -> Result<Option<PersonView>> {
        let Some(row) = self.store().person(&key.0)? else {
            return Ok(None);
        };
        let (id, name) = self.unseal(key, &row)?;
        let months = self.store().contributions_of(&key.0)?;
        let children = self.store().children_of(&key.0)?.len();
        let mut codes: Vec<&str> = row
            .platforms
            .split(';')
            .filter(|s| !s.is_empty())
            .chain(
                months
                    .iter()
                    .map(|m| m.payer_code.as_str())
                    .filter(|c| !c.is_empty()),
            )
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let org_names = self.store().org_names(&codes)?.into_iter().collect();
        Ok(Some(PersonView {
            key: *key,
            id,
            name,
            row,
            children,
            summaries: summarize(&months),
            months,
            org_names,
        }))
    }
}

impl<S: Store> Records<S> {
    /// The resident ID and name sealed in a person's registry row.
    pub(crate) fn unseal(&self, key: &PersonKey, row: &PersonRow) -> Result<(ResidentId, String)> {
        let clear = self.data_key().open(key, &row.sealed)?;
        let clear: Value = serde_json::from_slice(&clear)
            .map_err(|_| Error::Corrupt("a sealed person record does not parse".into()))?;
        let id = clear["id"]
            .as_str()
            .and_then(|t| ResidentId::parse(t).ok())
            .ok_or_else(|| Error::Corrupt("a sealed person record has no valid ID".into()))?;
        let name = clear["name"].as_str().unwrap_or("").to_string();
        Ok((id, name))
    }
}

impl PersonView {
    /// The ID as this reader may see it.
    pub fn id_text(&self, owner: bool) -> String {
        if owner {
            self.id.expose().to_string()
        } else {
            self.id.masked()
        }
    }

    /// The record as JSON; `owner` decides whether the ID is shown in full.
    pub fn to_json(&self, owner: bool) -> Value {
        let row = &self.row;
        let months: Vec<Value> = self
            .months
            .iter()
            .map(|r| {
                json!({
                    "record_id": r.record_id, "month": month_text(r.month), "insurance": r.insurance,
                    "region": format!("{:06}", r.region), "payer": r.payer, "payer_code": r.payer_code,
                    "status": r.status, "reason": r.reason, "base_fen": r.base_fen,
                    "amount_fen": r.amount_fen, "account_fen": r.account_fen, "log_index": r.seq,
                })
            })
            .collect();
        json!({
            "person": {
                "name": self.name,
                "id": if owner { Some(self.id.expose()) } else { None },
                "id_masked": self.id.masked(),
                "key": self.key.hex(),
                "residence_region": format!("{:06}", row.residence_region),
                "hukou_region": row.hukou_region.map(|r| format!("{r:06}")),
                "employment_form": row.employment_form,
                "platforms": row.platforms.split(';').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "permit_region": row.permit_region.map(|r| format!("{r:06}")),
                "permit_since": row.permit_since,
                "household": row.household,
                "children": self.children,
            },
            "summaries": self.summaries,
            "months": months,
        })
    }

    /// Every region the person lives in or has a contribution in (what a clerk's region must
    /// cover for the clerk to read the record).
    pub fn regions(&self) -> Vec<u32> {
        lived_and_insured(
            self.row.residence_region,
            self.months.iter().map(|m| m.region),
        )
    }
}

/// The residence and the regions insured in, sorted, without repeats.
fn lived_and_insured(residence: u32, insured: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut all: Vec<u32> = std::iter::once(residence).chain(insured).collect();
    all.sort_unstable();
    all.dedup();
    all
}

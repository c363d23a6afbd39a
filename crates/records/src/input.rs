//! What the records service accepts: validated rows, whatever file or request they came from.
//! (`anxin-import` parses files into these; the server will build them from requests.)

use anxin_domain::{CreditCode, Fen, RegionCode, ResidentId, YearMonth};
use anxin_import::{EmploymentForm, GapReason, Insurance, OrgKind, Payer, Relation, Status};
use jiff::civil::Date;

#[derive(Debug, Clone)]
pub enum Input {
    Person(PersonInput),
    Org(OrgInput),
    Child(ChildInput),
    Contribution(ContributionInput),
}

#[derive(Debug, Clone)]
pub struct PersonInput {
    pub person_id: ResidentId,
    pub name: String,
    pub hukou_region: Option<RegionCode>,
    pub residence_region: RegionCode,
    pub employment_form: EmploymentForm,
    pub platforms: Vec<CreditCode>,
    pub permit_region: Option<RegionCode>,
    pub permit_since: Option<Date>,
    pub household: Option<String>,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OrgInput {
    pub credit_code: CreditCode,
    pub name: String,
    pub kind: OrgKind,
    pub region: RegionCode,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChildInput {
    pub child_id: ResidentId,
    pub name: String,
    pub guardian_id: ResidentId,
    pub relation: Relation,
    pub school_region: Option<RegionCode>,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ContributionInput {
    pub record_id: String,
    pub person_id: ResidentId,
    pub month: YearMonth,
    pub insurance: Insurance,
    pub region: RegionCode,
    pub payer: Payer,
    pub payer_code: Option<CreditCode>,
    pub base: Fen,
    pub amount: Fen,
    /// Credited to the personal account; `None`: the deployment's account rule decides.
    pub account: Option<Fen>,
    pub status: Status,
    pub reason: Option<GapReason>,
    pub paid_on: Option<Date>,
}

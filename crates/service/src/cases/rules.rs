//! A case kind as data: `policy/cases/<kind>.toml` (states, transitions and who may take
//! each, clocks and escalation), read strictly — an unknown state, party, role, unit or
//! parameter key is refused naming the file. The engine ([`super`]) knows no kind by name.

use anxin_policy::schema::{self, Kind as ParamKind};
use anxin_records::access::Role;
use serde::Deserialize;

use crate::access::Party;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kind: Head,
    state: Vec<State>,
    transition: Vec<Transition>,
    #[serde(default)]
    deadline: Vec<Deadline>,
    #[serde(default)]
    escalation: Vec<Escalation>,
    /// Words for the transitions' outcomes (every outcome named by a transition has one).
    #[serde(default)]
    outcome: Vec<Label>,
    /// Words for the kind's subjects (pages and messages say these, not the codes).
    #[serde(default)]
    subject: Vec<Label>,
}

/// Words for a code (an outcome): how the worker's inbox and the pages say it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub name: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    name: String,
    zh: String,
    en: String,
    source: String,
    initial: String,
    filer: String,
    handler: String,
    #[serde(default)]
    viewers: Vec<String>,
    subjects: Vec<String>,
    /// What a filing carries beyond its subject (default "party"): see [`Request`].
    #[serde(default)]
    request: Request,
    /// How the worker's messages name the case and the office (投诉 / 劳动保障监察机构).
    noun_zh: String,
    noun_en: String,
    office_zh: String,
    office_en: String,
}

/// What a filing of the kind carries besides its subject. Each is engine code shared by every
/// kind that names it (`super::effects`); a kind picks one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// The party the case is about: a platform's credit code from the registry, or a name.
    #[default]
    Party,
    /// Missed months to pay afterwards: the policy engine's back-payment rules of the
    /// worker's region decide each month and its cost; a month refused or already paid
    /// refuses the filing, each month named with its rule.
    Months,
    /// Nothing more: the subject says it all (evidence is attached after filing).
    Subject,
    /// The terms of an agreement between the filer's office (a union) and a registered
    /// platform named as the party (`super::agreement`): pay rates, contribution base, the
    /// platform's share, supplementary insurance, regions, worker categories, dates. The case
    /// is about no one person; while in a `binding` state its terms cover the workers they
    /// name and overlay their quotes.
    Agreement,
}

/// What a transition does besides moving the case (engine code in `super::effects`, named by
/// the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The ledger records the filing's months as back-paid (`backpaid` contributions whose
    /// keys name the case), in the same transaction as the step.
    RecordBackpay,
    /// The worker is enrolled in the cover the subject names: the step carries a first
    /// quote of the worker's region for that cover.
    Enrol,
}

/// A state of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub name: String,
    pub zh: String,
    pub en: String,
    #[serde(default, rename = "final")]
    pub terminal: bool,
    /// An agreement's terms bind while the case is in this state (in force).
    #[serde(default)]
    pub binding: bool,
}

/// A step a party may take from some states to another.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub name: String,
    pub zh: String,
    pub en: String,
    pub from: Vec<String>,
    pub to: String,
    pub by: Vec<String>,
    /// The outcomes a closing step must name one of (empty: it names none).
    #[serde(default)]
    pub outcomes: Vec<String>,
    /// What the step does besides moving the case.
    #[serde(default)]
    pub effect: Option<Effect>,
    /// The step needs at least one file of evidence attached (an enrolment's income).
    #[serde(default)]
    pub needs_evidence: bool,
}

/// How a clock's length is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// By the official calendar (`policy/calendar`); ends at the end of the day in China.
    WorkingDays,
    /// Calendar days; ends at the end of the day in China.
    Days,
    Hours,
}

/// A legal clock running while the case is in `state`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub name: String,
    pub zh: String,
    pub en: String,
    pub state: String,
    /// Counted from when the case entered this state (default: `state`).
    #[serde(default)]
    pub since: Option<String>,
    pub unit: Unit,
    /// Parameter keys whose values are summed.
    pub params: Vec<String>,
    /// Runs only where and when its parameters have values (a reform's clock).
    #[serde(default)]
    pub optional: bool,
    /// When the clock runs out, the clock takes this transition (one whose `by` is "clock")
    /// instead of escalating: e.g. an agreement the labour administration did not object to
    /// within its time takes effect.
    #[serde(default)]
    pub on_expiry: Option<String>,
}

/// Where an overdue case goes, one level per missed clock (the last level repeats).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// "parent": the office of the region above; "same": the same office.
    pub region: String,
    /// The role it goes to (a supervisor); default: the kind's handler.
    #[serde(default, deserialize_with = "opt_role")]
    pub role: Option<Role>,
    pub zh: String,
    pub en: String,
}

fn opt_role<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Role>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| {
        Role::parse(&t).map_err(|_| serde::de::Error::custom(format!("unknown role {t:?}")))
    })
    .transpose()
}

/// A case kind, checked.
#[derive(Debug, Clone)]
pub struct CaseKind {
    pub name: String,
    pub zh: String,
    pub en: String,
    pub source: String,
    pub initial: String,
    pub filer: Role,
    pub handler: Role,
    pub viewers: Vec<Role>,
    pub subjects: Vec<String>,
    pub request: Request,
    /// How messages name the case ("投诉", "complaint") and its office.
    pub noun_zh: String,
    pub noun_en: String,
    pub office_zh: String,
    pub office_en: String,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
    pub deadlines: Vec<Deadline>,
    pub escalations: Vec<Escalation>,
    pub outcomes: Vec<Label>,
    pub subject_words: Vec<Label>,
}

/// The words of `code` among `labels` (the code itself when they give none).
fn words(labels: &[Label], code: &str) -> (String, String) {
    labels
        .iter()
        .find(|o| o.name == code)
        .map(|o| (o.zh.clone(), o.en.clone()))
        .unwrap_or_else(|| (code.to_string(), code.to_string()))
}

impl CaseKind {
    /// The words for an outcome code (the code itself when the kind gives none).
    pub fn outcome(&self, code: &str) -> (String, String) {
        words(&self.outcomes, code)
    }

    /// The words for a subject (the code itself when the kind gives none).
    pub fn subject(&self, code: &str) -> (String, String) {
        words(&self.subject_words, code)
    }

    /// The transition `name` that may be taken from `state` (a name may recur with other
    /// `from` states: an agreement's signatures, each from whichever state the other left),
    /// else the first of that name.
    pub fn transition_at(&self, name: &str, state: &str) -> Option<&Transition> {
        self.transitions
            .iter()
            .find(|t| t.name == name && t.from.iter().any(|f| f == state))
            .or_else(|| self.transition(name))
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The parties a transition names, parsed (checked at load).
    pub fn parties(&self, t: &Transition) -> Vec<Party> {
        t.by.iter().filter_map(|p| Party::parse(p)).collect()
    }

    pub fn escalation(&self, level: u32) -> Option<&Escalation> {
        let i = (level as usize).saturating_sub(1);
        self.escalations.get(i).or(self.escalations.last())
    }
}

/// Every case kind of the deployment.
#[derive(Debug, Clone, Default)]
pub struct Kinds(pub Vec<CaseKind>);

impl Kinds {
    /// The kinds compiled in from `policy/cases/`.
    pub fn embedded() -> Result<Kinds, String> {
        let files: Vec<(&str, &str)> = anxin_policy::EMBEDDED
            .iter()
            .filter(|(n, _)| n.starts_with("cases/"))
            .copied()
            .collect();
        Kinds::from_files(&files)
    }

    /// Reads kinds from (name, text) pairs; every problem of every file is reported.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Kinds, String> {
        let mut kinds = Vec::new();
        let mut problems = Vec::new();
        for (name, text) in files {
            match parse(text) {
                Ok(k) => kinds.push(k),
                Err(e) => problems.push(format!("{name}: {e}")),
            }
        }
        if problems.is_empty() {
            Ok(Kinds(kinds))
        } else {
            Err(problems.join("\n"))
        }
    }

    pub fn get(&self, name: &str) -> Option<&CaseKind> {
        self.0.iter().find(|k| k.name == name)
    }
}

fn role(text: &str) -> Result<Role, String> {
    Role::parse(text).map_err(|_| format!("unknown role {text:?}"))
}

fn parse(text: &str) -> Result<CaseKind, String> {
    let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let has = |s: &str| f.state.iter().any(|x| x.name == s);
    if !has(&f.kind.initial) {
        problems.push(format!("initial state {:?} is not a state", f.kind.initial));
    }
    for t in &f.transition {
        for s in t.from.iter().chain([&t.to]) {
            if !has(s) {
                problems.push(format!("transition {}: unknown state {s:?}", t.name));
            }
        }
        for p in &t.by {
            if Party::parse(p).is_none() {
                problems.push(format!(
                    "transition {}: unknown party {p:?} (handler, filer, party, clock)",
                    t.name
                ));
            }
        }
        if t.by.is_empty() {
            problems.push(format!("transition {}: nobody may take it", t.name));
        }
        for o in &t.outcomes {
            if !f.outcome.iter().any(|l| &l.name == o) {
                problems.push(format!(
                    "transition {}: outcome {o:?} has no [[outcome]] words",
                    t.name
                ));
            }
        }
        match (t.effect, f.kind.request) {
            (Some(Effect::RecordBackpay), r) if r != Request::Months => problems.push(format!(
                "transition {}: effect record_backpay needs request = \"months\"",
                t.name
            )),
            (Some(Effect::Enrol), _) => {
                for subject in &f.kind.subjects {
                    if !super::effects::COVERS.contains(&subject.as_str()) {
                        problems.push(format!(
                            "transition {}: effect enrol needs covers as subjects ({}), not {subject:?}",
                            t.name,
                            super::effects::COVERS.join(", ")
                        ));
                    }
                }
            }
            _ => {}
        }
        if matches!(t.name.as_str(), "file" | "escalate") {
            problems.push(format!("transition {}: the name is the engine's", t.name));
        }
        // A name may recur only from other states (the step is found by name and state).
        for other in f
            .transition
            .iter()
            .filter(|o| !std::ptr::eq(*o, t) && o.name == t.name)
        {
            if other.from.iter().any(|s| t.from.contains(s)) {
                problems.push(format!(
                    "transition {}: the same name twice from one state",
                    t.name
                ));
                break;
            }
        }
        if t.by.iter().any(|b| b == "party") && f.kind.request != Request::Agreement {
            problems.push(format!(
                "transition {}: \"party\" signs only an agreement (request = \"agreement\")",
                t.name
            ));
        }
        if t.by.iter().any(|b| b == "clock")
            && !f
                .deadline
                .iter()
                .any(|d| d.on_expiry.as_deref() == Some(t.name.as_str()))
        {
            problems.push(format!(
                "transition {}: by \"clock\" but no deadline's on_expiry names it",
                t.name
            ));
        }
    }
    let is_worker = f.kind.filer == "worker";
    match (f.kind.request, is_worker) {
        (Request::Agreement, true) => problems
            .push("request \"agreement\": the filer is an office (a union), not a worker".into()),
        (Request::Agreement, false) | (_, true) => {}
        (_, false) => problems.push(format!(
            "filer {:?}: only an agreement is filed by an office; other kinds by a worker",
            f.kind.filer
        )),
    }
    if f.state.iter().any(|s| s.binding) && f.kind.request != Request::Agreement {
        problems.push("a binding state belongs to an agreement (request = \"agreement\")".into());
    }
    for d in &f.deadline {
        for s in std::iter::once(&d.state).chain(d.since.iter()) {
            if !has(s) {
                problems.push(format!("deadline {}: unknown state {s:?}", d.name));
            }
        }
        if d.params.is_empty() {
            problems.push(format!("deadline {}: no parameter", d.name));
        }
        if let Some(t) = &d.on_expiry {
            let ok = f.transition.iter().any(|x| {
                &x.name == t && x.from.contains(&d.state) && x.by.iter().any(|b| b == "clock")
            });
            if !ok {
                problems.push(format!(
                    "deadline {}: on_expiry {t:?} is no transition by \"clock\" from {:?}",
                    d.name, d.state
                ));
            }
        }
        for key in &d.params {
            match schema::spec(key) {
                Some(spec) if matches!(spec.kind, ParamKind::Int) => {}
                Some(_) => {
                    problems.push(format!("deadline {}: {key} is not a whole number", d.name))
                }
                None => problems.push(format!("deadline {}: unknown parameter {key}", d.name)),
            }
        }
    }
    for e in &f.escalation {
        if !matches!(e.region.as_str(), "parent" | "same") {
            problems.push(format!("escalation: region {:?} (parent, same)", e.region));
        }
    }
    let filer = role(&f.kind.filer);
    let handler = role(&f.kind.handler);
    let viewers: Result<Vec<Role>, String> = f.kind.viewers.iter().map(|v| role(v)).collect();
    for r in [&filer, &handler] {
        if let Err(e) = r {
            problems.push(e.clone());
        }
    }
    if let Err(e) = &viewers {
        problems.push(e.clone());
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(CaseKind {
        name: f.kind.name,
        zh: f.kind.zh,
        en: f.kind.en,
        source: f.kind.source,
        initial: f.kind.initial,
        filer: filer?,
        handler: handler?,
        viewers: viewers?,
        subjects: f.kind.subjects,
        request: f.kind.request,
        noun_zh: f.kind.noun_zh,
        noun_en: f.kind.noun_en,
        office_zh: f.kind.office_zh,
        office_en: f.kind.office_en,
        states: f.state,
        transitions: f.transition,
        deadlines: f.deadline,
        escalations: f.escalation,
        outcomes: f.outcome,
        subject_words: f.subject,
    })
}

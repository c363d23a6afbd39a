//! What each step of a transfer means to the worker it moves: where it stands, who holds it
//! and what, if anything, the worker must do — in words for the pages, and as an inbox message
//! at each step (kind `transfer_step`, from the templates in `templates/inbox.toml`). A message
//! is keyed by the transfer and the state reached (`transfer:{id}:{state}`), so a step told
//! once is never told again, whichever side commits it twice; it names no person and no
//! amount, only the transfer, its step, the peer and the deadline.

use std::collections::BTreeMap;

use anxin_records::PersonKey;
use anxin_records::inbox::NewMessage;

use super::machine::{Role, State, Transfer};

/// The inbox kinds of transfer steps and the placeholders each is given.
pub const KINDS: [(&str, &[&str]); 1] = [("transfer_step", PLACEHOLDERS)];

const PLACEHOLDERS: &[&str] = &[
    "transfer",
    "state_zh",
    "state_en",
    "holder_zh",
    "holder_en",
    "todo_zh",
    "todo_en",
    "due",
];

/// One state in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    pub state_zh: &'static str,
    pub state_en: &'static str,
    /// Who must act next (经办方): `peer` stands for the other instance's office.
    pub holder_zh: String,
    pub holder_en: String,
    /// What the worker must do now.
    pub todo_zh: &'static str,
    pub todo_en: &'static str,
}

/// The state of a transfer as its worker reads it, at this instance (`role`), the other
/// instance's place being `peer` (Chinese, English).
pub fn words(role: Role, state: State, peer: (&str, &str)) -> Words {
    let office = |(zh, en): (&str, &str)| (format!("{zh}社保经办机构"), format!("the {en} office"));
    let (holder_zh, holder_en) = match (role, state) {
        // The destination waits for the origin's package, then for its seal.
        (Role::Destination, State::Requested | State::Recorded) => office(peer),
        (Role::Origin, State::Frozen) => office(peer),
        _ => ("无（已结束）".to_string(), "nobody (over)".to_string()),
    };
    let (state_zh, state_en, todo_zh, todo_en) = match (role, state) {
        (_, State::Requested) => (
            "联系函已发往转出地，等待转出地核对记录、冻结账户并发出转移包",
            "the liaison request is with the origin, which checks the record, freezes the account and sends the package",
            "无需操作。转出地需要补充材料时会在这里和消息中告诉你。",
            "Nothing to do. If the origin needs anything from you, you will be told here and in your messages.",
        ),
        (_, State::Frozen) => (
            "原参保地账户已冻结，转移包（缴费记录、转移资金及其证明）已发往转入地",
            "the account at the origin is frozen; the package (months, money and their proofs) is on its way to the destination",
            "无需操作。转移期间原参保地的账户暂停缴费和支取。",
            "Nothing to do. While it moves, the account at the origin takes no payments and pays nothing out.",
        ),
        (_, State::Recorded) => (
            "转入地已核验转移包并记入缴费记录，等待转出地封存原账户",
            "the destination has verified the package and recorded the months; waiting for the origin to close the old account",
            "无需操作。可以在本地继续缴费。",
            "Nothing to do. You may keep paying here.",
        ),
        (Role::Destination, State::Done) => (
            "已办结：缴费记录和资金已转入，原账户已封存",
            "done: the months and the money have arrived and the old account is closed",
            "下载转移凭证并妥善保存；它不用联网也能核验。",
            "Download the transfer voucher and keep it: it can be checked without going online.",
        ),
        (_, State::Sealed | State::Done) => (
            "已转出：本地账户已封存，记录已转到转入地",
            "moved out: the account here is closed and the record is at the destination",
            "无需操作。",
            "Nothing to do.",
        ),
        (_, State::Refused) => (
            "未办成：转移被退回，什么都没有转移，原账户照常",
            "not done: the transfer was refused, nothing moved and the old account is as it was",
            "按退回原因处理后（例如补齐欠缴）可以重新申请。",
            "Deal with the reason given (for instance, pay what is owed), then ask again.",
        ),
    };
    Words {
        state_zh,
        state_en,
        holder_zh,
        holder_en,
        todo_zh,
        todo_en,
    }
}

/// The message a step gives the worker it moves; `peer` is the other instance's place
/// (Chinese, English).
pub fn message_of(t: &Transfer, person: &PersonKey, peer: (&str, &str)) -> NewMessage {
    let w = words(t.role, t.state, peer);
    let mut params: BTreeMap<&str, String> = BTreeMap::from([
        ("transfer", t.id.clone()),
        ("state_zh", w.state_zh.to_string()),
        ("state_en", w.state_en.to_string()),
        ("holder_zh", w.holder_zh),
        ("holder_en", w.holder_en),
        ("todo_zh", w.todo_zh.to_string()),
        ("todo_en", w.todo_en.to_string()),
    ]);
    if let Some(due) = t.due {
        params.insert("due", due.to_string());
    }
    NewMessage {
        key: format!("transfer:{}:{}", t.id, t.state.code()),
        person: person.0,
        kind: "transfer_step".to_string(),
        month: t.since.strftime("%Y-%m").to_string(),
        params: serde_json::to_string(&params).unwrap_or_else(|_| "{}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(role: Role, state: State, due: Option<&str>) -> Transfer {
        Transfer {
            id: "hangzhou:7".into(),
            role,
            peer: "fuyang".into(),
            state,
            since: "2026-10-12".parse().unwrap(),
            due: due.map(|d| d.parse().unwrap()),
            package: None,
            refusal: None,
            seal: None,
        }
    }

    #[test]
    fn each_step_is_told_once_in_both_languages_with_its_deadline() {
        let person = PersonKey([3; 32]);
        let asked = message_of(
            &transfer(Role::Destination, State::Requested, Some("2026-11-02")),
            &person,
            ("阜阳", "Fuyang"),
        );
        assert_eq!(asked.key, "transfer:hangzhou:7:requested");
        assert_eq!(asked.month, "2026-10");
        let r = crate::inbox::render(&asked.kind, &serde_json::from_str(&asked.params).unwrap())
            .expect("a template fits");
        assert!(r.body_zh.contains("2026-11-02"), "{}", r.body_zh);
        assert!(r.body_zh.contains("阜阳社保经办机构"), "{}", r.body_zh);
        assert!(r.body_en.contains("the Fuyang office"), "{}", r.body_en);
        // Done has no deadline: the other template fits, and it says what to do.
        let done = message_of(
            &transfer(Role::Destination, State::Done, None),
            &person,
            ("阜阳", "Fuyang"),
        );
        assert_ne!(done.key, asked.key);
        let r = crate::inbox::render(&done.kind, &serde_json::from_str(&done.params).unwrap())
            .expect("a template fits");
        assert!(r.body_zh.contains("转移凭证"), "{}", r.body_zh);
        assert!(!r.body_zh.contains('{'), "{}", r.body_zh);
        // No person in the words: the key is the transfer's, never the ID's.
        assert!(!done.params.contains("341202"));
    }

    #[test]
    fn the_holder_is_the_office_that_must_act() {
        let w = words(Role::Destination, State::Requested, ("阜阳", "Fuyang"));
        assert!(w.holder_zh.contains("阜阳"));
        let w = words(Role::Destination, State::Done, ("阜阳", "Fuyang"));
        assert!(w.holder_zh.contains("已结束"));
        let w = words(Role::Destination, State::Refused, ("阜阳", "Fuyang"));
        assert!(w.todo_zh.contains("重新申请"));
    }
}

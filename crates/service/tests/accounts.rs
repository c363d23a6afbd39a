//! A worker signs up, a clerk of the region confirms at the desk (or refuses, with a reason),
//! a clerk resets a forgotten password: on SQLite and on PostgreSQL (`ANXIN_TEST_POSTGRES`,
//! a schema of its own). Source of the expectations: issue 13 ("Accounts"), SPEC §X2.

use anxin_records::access::{NewAccount, Role, verify_password};
use anxin_records::conformance::{person, region, resident_id, secrets};
use anxin_records::signup::SignupState;
use anxin_records::{Records, Store, Suite};
use anxin_service::access::Actor;
use anxin_service::accounts::{self, AccountError, SignupForm, SignupStatus};

const NOW: i64 = 1_780_000_000;

fn refused_words(e: AccountError) -> (String, String) {
    match e {
        AccountError::Denied(d) => (d.zh, d.en),
        AccountError::Records(anxin_records::Error::Refused { zh, en })
        | AccountError::Records(anxin_records::Error::NotFound { zh, en }) => (zh, en),
        AccountError::Records(other) => panic!("not a refusal: {other}"),
    }
}

fn story(store: Box<dyn Store>) {
    let backend = store.backend();
    let policy = anxin_policy::Policy::embedded().unwrap();
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap();
    let id = resident_id("33010619900101123");
    let other = resident_id("44030519850202234");
    records.append(vec![person(&id)]).unwrap();
    for (name, reg) in [("clerk-hz", "330100"), ("clerk-sz", "440300")] {
        let a = NewAccount::new(
            name,
            Role::Clerk,
            "clerk password 1",
            Some(region(reg)),
            None,
            None,
        )
        .unwrap();
        records.store().create_account(&a, NOW).unwrap();
    }
    let hz = records.store().account_named("clerk-hz").unwrap().unwrap();
    let sz = records.store().account_named("clerk-sz").unwrap().unwrap();
    let hz = Actor::new(&hz, Role::Clerk);
    let sz = Actor::new(&sz, Role::Clerk);

    // Bad input is refused, naming what is wrong, and stores nothing.
    let good = SignupForm {
        resident_id: id.expose().to_string(),
        name: " 张三 ".into(),
        phone: "138 0013 8000".into(),
        username: "Zhangsan".into(),
        password: "my own password".into(),
        region: "330100".into(),
    };
    let mut wrong_digit = good.clone();
    wrong_digit.resident_id = format!("{}0", &id.expose()[..17]);
    if wrong_digit.resident_id == id.expose() {
        wrong_digit.resident_id = format!("{}1", &id.expose()[..17]);
    }
    for (form, word) in [
        (wrong_digit, "GB 11643"),
        (
            SignupForm {
                phone: "12345".into(),
                ..good.clone()
            },
            "11",
        ),
        (
            SignupForm {
                region: "000000".into(),
                ..good.clone()
            },
            "region",
        ),
        (
            SignupForm {
                region: "999900".into(),
                ..good.clone()
            },
            "region",
        ),
        (
            SignupForm {
                password: "short".into(),
                ..good.clone()
            },
            "password",
        ),
        (
            SignupForm {
                name: "".into(),
                ..good.clone()
            },
            "name",
        ),
        (
            SignupForm {
                username: "a b".into(),
                ..good.clone()
            },
            "username",
        ),
    ] {
        let e = form.check(&policy).err().unwrap_or_else(|| {
            panic!("{backend}: {word}: accepted");
        });
        let anxin_records::Error::Refused { zh, en } = e else {
            panic!("{backend}: {word}: not a refusal");
        };
        assert!(en.contains(word), "{backend}: {en}");
        assert!(!zh.is_empty());
    }

    // A good request is pending; nothing in clear is stored.
    let checked = good.check(&policy).unwrap();
    assert_eq!(checked.username, "zhangsan");
    let hash = checked.hash_password().unwrap();
    let n = accounts::add_signup(&mut records, &checked, hash.clone(), NOW).unwrap();
    let row = records.store().signup(n).unwrap().unwrap();
    assert_eq!(row.state, SignupState::Pending);
    let raw = format!("{:?}", row.sealed);
    for clear in [id.expose(), "张三", "13800138000"] {
        assert!(
            !String::from_utf8_lossy(&row.sealed).contains(clear) && !raw.contains(clear),
            "{backend}: {clear} in clear"
        );
    }
    // The same username again is taken; so is an account's.
    let again = accounts::add_signup(&mut records, &checked, hash.clone(), NOW);
    assert!(again.is_err(), "{backend}: a pending name is taken");
    let taken = SignupForm {
        username: "clerk-hz".into(),
        ..good.clone()
    }
    .check(&policy)
    .unwrap();
    assert!(accounts::add_signup(&mut records, &taken, hash.clone(), NOW).is_err());

    // Before it is confirmed, the worker (with the password) is told it waits; a stranger
    // with another password learns nothing.
    assert!(matches!(
        accounts::signup_status(&mut records, "zhangsan", "my own password").unwrap(),
        Some(SignupStatus::Pending { region: 330100, .. })
    ));
    assert!(
        accounts::signup_status(&mut records, "zhangsan", "a wrong password")
            .unwrap()
            .is_none()
    );

    // The 杭州 clerk sees it (masked ID, name, the phone's tail); the 深圳 clerk does not and
    // may not decide it.
    let seen = accounts::pending(&mut records, hz, 0, 50).unwrap();
    assert_eq!(seen.len(), 1, "{backend}");
    assert_eq!(seen[0].name, "张三");
    assert_eq!(seen[0].masked_id, id.masked());
    assert_eq!(seen[0].phone_tail, "8000");
    assert!(seen[0].registered);
    assert_eq!(seen[0].accounts, 0);
    assert!(
        accounts::pending(&mut records, sz, 0, 50)
            .unwrap()
            .is_empty()
    );
    let (_, en) =
        refused_words(accounts::confirm(&mut records, sz, n, id.expose(), NOW).unwrap_err());
    assert!(en.contains("outside your region"), "{en}");

    // Another person's card does not confirm it, and changes nothing.
    let (_, en) =
        refused_words(accounts::confirm(&mut records, hz, n, other.expose(), NOW).unwrap_err());
    assert!(en.contains("not the one the request was made with"), "{en}");
    assert!(records.store().account_named("zhangsan").unwrap().is_none());

    // The right card: the account exists, tied to the person and the region, with the
    // worker's own password; the worker's access log says who opened it.
    let name = accounts::confirm(&mut records, hz, n, id.expose(), NOW + 60).unwrap();
    assert_eq!(name, "zhangsan");
    let account = records.store().account_named("zhangsan").unwrap().unwrap();
    let key = records.person_key(&id);
    assert_eq!(account.person, Some(key.0));
    assert_eq!(account.region, Some(330100));
    assert_eq!(account.role, "worker");
    assert!(verify_password(&account.password_hash, "my own password"));
    let log = records.store().access_to(&key.0, None, 10).unwrap();
    assert!(
        log.iter()
            .any(|r| r.what == "account_opened" && r.username == "clerk-hz"),
        "{backend}: {log:?}"
    );
    // Decided once: a second confirmation or a refusal is refused.
    assert!(accounts::confirm(&mut records, hz, n, id.expose(), NOW).is_err());
    assert!(accounts::refuse(&mut records, hz, n, "重复申请", NOW).is_err());
    assert!(
        accounts::pending(&mut records, hz, 0, 50)
            .unwrap()
            .is_empty()
    );

    // A refusal needs a reason; the worker reads it.
    let second = SignupForm {
        resident_id: other.expose().to_string(),
        username: "lisi".into(),
        name: "李四".into(),
        ..good.clone()
    }
    .check(&policy)
    .unwrap();
    let m = accounts::add_signup(&mut records, &second, hash.clone(), NOW).unwrap();
    let (_, en) = refused_words(accounts::refuse(&mut records, hz, m, " ", NOW).unwrap_err());
    assert!(en.contains("reason"), "{en}");
    accounts::refuse(&mut records, hz, m, "本人未到场，证件不符", NOW).unwrap();
    match accounts::signup_status(&mut records, "lisi", "my own password").unwrap() {
        Some(SignupStatus::Refused { reason }) => assert_eq!(reason, "本人未到场，证件不符"),
        _ => panic!("{backend}: the refusal and its reason"),
    }
    assert!(records.store().account_named("lisi").unwrap().is_none());

    // A reset: the 深圳 clerk may not; the 杭州 clerk may, with the worker's card. The old
    // password stops working, the new one must be changed, the access log says so.
    let (temp, temp_hash) = accounts::temporary_password().unwrap();
    assert!(temp.len() >= anxin_records::access::MIN_PASSWORD);
    assert!(accounts::reset_password(&mut records, sz, id.expose(), &temp_hash, NOW).is_err());
    let (_, en) = refused_words(
        accounts::reset_password(&mut records, hz, other.expose(), &temp_hash, NOW).unwrap_err(),
    );
    assert!(en.contains("no worker account"), "{en}");
    let name =
        accounts::reset_password(&mut records, hz, id.expose(), &temp_hash, NOW + 120).unwrap();
    assert_eq!(name, "zhangsan");
    let account = records.store().account_named("zhangsan").unwrap().unwrap();
    assert!(verify_password(&account.password_hash, &temp));
    assert!(!verify_password(&account.password_hash, "my own password"));
    assert!(records.store().must_change_password(account.id).unwrap());
    let log = records.store().access_to(&key.0, None, 10).unwrap();
    assert!(log.iter().any(|r| r.what == "password_reset"), "{log:?}");
    let new = anxin_records::access::hash_password("a new password 2").unwrap();
    accounts::change_password(&mut records, account.id, &new).unwrap();
    assert!(!records.store().must_change_password(account.id).unwrap());

    // The worker changes the password at will: the new one must be typed twice alike, long
    // enough and not the current one; the change ends every session and is in the log.
    for (current, new, again, word) in [
        (
            "a new password 2",
            "another one 3",
            "another one 4",
            "differ",
        ),
        ("a new password 2", "short", "short", "too weak"),
        (
            "a new password 2",
            "a new password 2",
            "a new password 2",
            "must differ",
        ),
    ] {
        let e = accounts::check_new_password(current, new, again).unwrap_err();
        let (_, en) = refused_words(AccountError::Records(e));
        assert!(en.contains(word), "{new}: {en}");
    }
    accounts::check_new_password("a new password 2", "another one 3", "another one 3").unwrap();
    let (token, token_hash) = anxin_records::access::new_token().unwrap();
    records
        .store()
        .create_session(
            &token_hash,
            account.id,
            anxin_records::access::SessionKind::Page,
            NOW + 3600,
            NOW,
        )
        .unwrap();
    let newer = anxin_records::access::hash_password("another one 3").unwrap();
    let worker = Actor::new(&account, Role::Worker);
    accounts::change_own_password(&mut records, worker, &newer, NOW + 180).unwrap();
    let account = records.store().account_named("zhangsan").unwrap().unwrap();
    assert!(verify_password(&account.password_hash, "another one 3"));
    assert!(
        records
            .store()
            .session_account(
                &anxin_records::access::token_hash(&token),
                anxin_records::access::SessionKind::Page,
                NOW + 200
            )
            .unwrap()
            .is_none(),
        "{backend}: every session ended"
    );
    let log = records.store().access_to(&key.0, None, 10).unwrap();
    assert!(
        log.iter()
            .any(|r| r.what == "password_changed" && r.username == "zhangsan"),
        "{log:?}"
    );

    // The access log, with its new rows, still audits clean.
    let report = records
        .audit(None, anxin_records::AuditScope { projections: true })
        .unwrap();
    assert!(
        report.findings.is_empty(),
        "{backend}: {:?}",
        report.findings
    );
    assert!(report.access_rows >= 2, "{backend}");
}

#[test]
fn sqlite_sign_up_confirm_refuse_and_reset() {
    story(Box::new(
        anxin_store_sqlite::SqliteStore::in_memory().expect("open"),
    ));
}

#[test]
fn postgres_sign_up_confirm_refuse_and_reset() {
    let url = std::env::var("ANXIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("accounts_{}", std::process::id());
    let store = anxin_store_postgres::PgStore::connect_schema(&url, &schema).expect("connect");
    story(Box::new(store));
    anxin_store_postgres::PgStore::drop_schema(&url, &schema).expect("drop");
}

//! What the server's test files share.

use anxin_server::AppState;

/// A page (cookie) session for `username`, made in the store — no request, so no sign-in
/// limit — valid for an hour of the server's own clock.
pub fn page_session(state: &AppState, username: &str) -> String {
    let username = username.to_string();
    let now = state.clock.now().as_second();
    state
        .records
        .as_ref()
        .unwrap()
        .write(move |records| {
            let account = records.store().account_named(&username).unwrap().unwrap();
            let (token, hash) = anxin_records::access::new_token().unwrap();
            records
                .store()
                .create_session(
                    &hash,
                    account.id,
                    anxin_records::access::SessionKind::Page,
                    now + 3600,
                    now,
                )
                .unwrap();
            token
        })
        .unwrap()
}

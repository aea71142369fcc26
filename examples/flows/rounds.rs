//! The rounds app: the current user, a user by id, a profile update, rounds by role.

use userapi::env::EnvCredentials;
use userapi::rounds::{RoundRole, Rounds, User, UserUpdate};

use userapi_fake::rounds as fake;

use super::{FlowResult, Mode};

fn show(u: &User) -> String {
    format!(
        "{} {} ({})",
        u.first_name.as_deref().unwrap_or("-"),
        u.last_name.as_deref().unwrap_or("-"),
        u.phone.as_deref().unwrap_or("no phone")
    )
}

/// Runs `get_me`, `get_user`, `update_me` and `list_rounds` for both roles.
pub async fn run(mode: Mode) -> FlowResult {
    let vars = EnvCredentials::read("ROUNDS");
    let real = match (mode, vars.base_url(), vars.token()) {
        (Mode::EnvOrFake, Some(base), Some(token)) => Some((base, token)),
        _ => None,
    };
    let _fake;
    let (rounds, on_fake) = match real {
        Some((base, token)) => {
            println!("Rounds: {base}");
            (Rounds::with_token(base, token)?, false)
        }
        None => {
            let fake = fake::FakeRounds::start().await?;
            println!("Rounds: fake at {}", fake.base_url());
            let rounds = fake.api()?;
            _fake = fake;
            (rounds, true)
        }
    };
    if let Some(exp) = rounds.client().token_expires_at() {
        let left = exp
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        println!("  token: expires in {} min", left.as_secs() / 60);
    }

    let me = rounds.get_me().await?;
    println!("  get_me: {}", show(&me));
    let same = rounds.get_user(&me.id).await?;
    println!("  get_user({}): {}", me.id, show(&same));

    // On a real account the first name is written back unchanged.
    let first = if on_fake {
        Some("Dana".to_owned())
    } else {
        me.first_name.clone()
    };
    match first {
        Some(first) => {
            let after = rounds.update_me(&UserUpdate::new().first_name(first)).await?;
            println!("  update_me: {}", show(&after));
        }
        None => super::skip("update_me", "the profile has no first name to write back"),
    }

    for role in [RoundRole::Participant, RoundRole::Owner] {
        let list = rounds.list_rounds(role).await?;
        let summary: Vec<String> = list
            .iter()
            .map(|r| {
                format!(
                    "{} [{}] fee {}",
                    r.id,
                    r.status.as_ref().map_or("-", |s| s.as_str()),
                    r.entry_fee.as_deref().unwrap_or("-")
                )
            })
            .collect();
        println!("  list_rounds({role:?}): {} round(s) {summary:?}", list.len());
    }
    Ok(())
}

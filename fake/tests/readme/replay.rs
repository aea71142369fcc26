use userapi::Auth;
use userapi::auth::Password;
use userapi::metabase::Metabase;
use userapi_fake::{Cassette, Replay};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Recorded once from the real server, every credential scrubbed:
    //   userapi-fake record --upstream https://metabase.example.com/ \
    //       --cassette fake/tests/cassettes/metabase.json
    let cassette = Cassette::load("fake/tests/cassettes/metabase.json")?;
    // Strict: a request the recording lacks, or a recorded one never made, fails the test.
    let replay = Replay::builder(cassette).strict(true).start().await?;
    let metabase = Metabase::new(replay.client_with(Auth::none())?);
    // The recorded password was scrubbed, so any password matches; the session id the
    // login answers is a placeholder that the next calls send back.
    metabase.login("crowberto@metabase.com", &Password::new("any")).await?;
    let me = metabase.get_me().await?;
    assert_eq!(me.email.as_deref(), Some("crowberto@metabase.com"));
    Ok(())
}

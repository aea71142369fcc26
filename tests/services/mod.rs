//! Each service on the wire (wiremock) and against its fake.

mod diadoc;
mod metabase;
mod novaconnect;
mod rightech;
mod rounds;

//! The services this build has, in one table: what the `userapi-fake` binary iterates.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use url::Url;

use crate::error::Error;
use crate::server::{Banner, Fake, ReceivedRequest, Service};

/// A running fake of any service, as the binary sees it.
pub trait RunningFake: Send + Sync {
    /// The service's name as people write it (`"Metabase"`).
    fn title(&self) -> &'static str;
    /// See [`Fake::base_url`].
    fn base_url(&self) -> Url;
    /// See [`Service::banner`].
    fn banner(&self) -> Banner;
    /// See [`Fake::received_requests`].
    fn received_requests(&self) -> Vec<ReceivedRequest>;
    /// See [`Fake::request_count`].
    fn request_count(&self) -> u64;
    /// See [`Fake::set_log_capacity`].
    fn set_log_capacity(&self, capacity: usize);
}

impl<S: Service> RunningFake for Fake<S> {
    fn title(&self) -> &'static str {
        S::TITLE
    }

    fn base_url(&self) -> Url {
        Fake::base_url(self)
    }

    fn banner(&self) -> Banner {
        self.service().banner(&Fake::base_url(self))
    }

    fn received_requests(&self) -> Vec<ReceivedRequest> {
        Fake::received_requests(self)
    }

    fn request_count(&self) -> u64 {
        Fake::request_count(self)
    }

    fn set_log_capacity(&self, capacity: usize) {
        Fake::set_log_capacity(self, capacity);
    }
}

/// What [`ServiceEntry::start`] returns.
pub type Started = Pin<Box<dyn Future<Output = Result<Box<dyn RunningFake>, Error>> + Send>>;

/// One service of [`SERVICES`]: its name and how to start its fake.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ServiceEntry {
    /// The name on the command line (`"metabase"`).
    pub name: &'static str,
    /// What it serves, in a line.
    pub summary: &'static str,
    start: fn(SocketAddr) -> Started,
}

impl ServiceEntry {
    const fn of<S: Service>(summary: &'static str) -> Self {
        ServiceEntry {
            name: S::NAME,
            summary,
            start: start::<S>,
        }
    }

    /// Starts the service's fake on `addr`.
    ///
    /// # Errors
    /// [`ErrorKind::Bind`](crate::ErrorKind::Bind) when `addr` cannot be bound.
    pub fn start(&self, addr: SocketAddr) -> Started {
        (self.start)(addr)
    }

    /// The entry named `name`, if this build has it.
    pub fn find(name: &str) -> Option<&'static ServiceEntry> {
        SERVICES.iter().find(|s| s.name == name)
    }
}

fn start<S: Service>(addr: SocketAddr) -> Started {
    Box::pin(async move {
        let fake = Fake::<S>::builder().addr(addr).start().await?;
        Ok(Box::new(fake) as Box<dyn RunningFake>)
    })
}

/// Every service this build has a fake for (one per enabled feature), in a fixed order.
pub const SERVICES: &[ServiceEntry] = &[
    #[cfg(feature = "novaconnect")]
    ServiceEntry::of::<crate::novaconnect::NovaConnectService>(
        "NovaConnect (`user/get`, `user/edit`, `user/password` under /api/)",
    ),
    #[cfg(feature = "diadoc")]
    ServiceEntry::of::<crate::diadoc::DiadocService>(
        "Kontur Diadoc (GetMyUser, UpdateMyUser, GetMyOrganizations, GetMyEmployee, V3/Authenticate)",
    ),
    #[cfg(feature = "rounds")]
    ServiceEntry::of::<crate::rounds::RoundsService>(
        "the FastAPI rounds app (/users/me, /users/{id}, /users/rounds)",
    ),
    #[cfg(feature = "metabase")]
    ServiceEntry::of::<crate::metabase::MetabaseService>(
        "Metabase (/api/user, /api/session, /api/api-key, login history, key-value store)",
    ),
    #[cfg(feature = "rightech")]
    ServiceEntry::of::<crate::rightech::RightechService>(
        "Rightech IoT Cloud (/api/v1/users, /api/v1/users/tokens, /api/v1/roles)",
    ),
];

//! What every service handle has, written once: a service module declares its handle with
//! [`service_handle!`] and its [`Service`](crate::http::Service) description, and gets
//! `Client::<service>()`, `new`, `with_token`, `client` and `request`.

/// Declares a service's handle: the struct (with any extra fields and their initial values),
/// `Client::<accessor>()`, and the methods every handle has.
///
/// - `new(client)`: wraps a client whose base URL points at the service.
/// - `with_token(base_url, token)`: a client with the service's usual token scheme.
/// - `client()`: the underlying client.
/// - `request(method, segments)`: an endpoint the crate does not model, through the same
///   pipeline with the service's error shapes read.
#[cfg_attr(userapi_partial, allow(unused_macros))]
macro_rules! service_handle {
    (
        $(#[$meta:meta])*
        pub struct $handle:ident { $($field:ident : $ty:ty = $init:expr),* $(,)? }
        service: $service:path,
        name: $name:literal,
        accessor: $accessor:ident,
        token: $token:path,
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $handle {
            client: $crate::Client,
            $($field: $ty,)*
        }

        impl $crate::Client {
            #[doc = concat!("This client as a [`", stringify!($handle), "`] handle (a clone: cheap).")]
            pub fn $accessor(&self) -> $handle {
                $handle::new(self.clone())
            }
        }

        impl $handle {
            /// Wraps a client whose base URL points at the service.
            pub fn new(client: $crate::Client) -> Self {
                $handle { client, $($field: $init,)* }
            }

            #[doc = concat!("A client for `base_url` with `token` sent as [`", stringify!($token), "`] does.")]
            ///
            /// # Errors
            /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the URL is not usable or the
            /// token is empty or cannot go in a header.
            pub fn with_token(
                base_url: impl $crate::IntoBaseUrl,
                token: impl Into<$crate::Secret>,
            ) -> $crate::Result<Self> {
                let client = $crate::Client::builder().base_url(base_url).auth($token(token)).build()?;
                Ok(Self::new(client))
            }

            /// The underlying client.
            pub fn client(&self) -> &$crate::Client {
                &self.client
            }

            /// A request to an endpoint this crate does not model yet, through the same
            /// pipeline (credentials, encoding of each segment, timeouts, retries only when
            /// marked idempotent, limits) with this service's error shapes read; see
            /// [`RequestBuilder`](crate::RequestBuilder).
            pub fn request(&self, method: $crate::Method, segments: &[&str]) -> $crate::RequestBuilder<'_> {
                $crate::RequestBuilder::new(self.client.call_segments(
                    &$service,
                    concat!($name, "::request"),
                    method,
                    segments,
                ))
            }
        }
    };
}

pub(crate) use service_handle;

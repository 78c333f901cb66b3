//! A [`Service`]: async methods registered by name, each a handler of one [`Call`] that answers
//! once ([`Service::method`], [`Service::typed`]) or publishes a stream ([`Service::stream`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::push::Publisher;
use crate::status::{ErrorCode, RemoteError, from_payload, to_payload};

/// A boxed, sendable future: what handlers return once erased.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

type UnaryFn = dyn Fn(Call) -> BoxFuture<Result<Vec<u8>, RemoteError>> + Send + Sync;
type StreamFn = dyn Fn(Call, Publisher) -> BoxFuture<Result<(), RemoteError>> + Send + Sync;

/// One incoming call, as its handler sees it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method called.
    pub method: String,
    /// The request's payload.
    pub payload: Vec<u8>,
    /// Who called.
    pub peer: SocketAddr,
}

impl Call {
    /// The payload decoded as a `T`.
    ///
    /// # Errors
    ///
    /// [`ErrorCode::BadRequest`] when the payload is not a `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, RemoteError> {
        from_payload(&self.payload).map_err(|err| {
            RemoteError::new(ErrorCode::BadRequest, format!("{}: bad argument: {err}", self.method))
        })
    }
}

/// A registered method.
#[derive(Clone)]
pub(crate) enum Handler {
    /// Answers once.
    Unary(Arc<UnaryFn>),
    /// Publishes a stream.
    Stream(Arc<StreamFn>),
}

/// A set of methods, by name. Cloning is cheap: handlers are shared.
///
/// # Examples
///
/// ```
/// use rpc::{RemoteError, Service};
/// let mut service = Service::new();
/// service.typed("add", |(a, b): (u32, u32)| async move { Ok::<_, RemoteError>(a + b) });
/// assert_eq!(service.names(), ["add"]);
/// ```
#[derive(Clone, Default)]
pub struct Service {
    methods: HashMap<String, Handler>,
}

impl Service {
    /// A service with no methods.
    pub fn new() -> Service {
        Service::default()
    }

    /// Registers `name`, answered by `handler` with raw payload bytes (replacing any method of that
    /// name).
    pub fn method<F, Fut>(&mut self, name: &str, handler: F) -> &mut Service
    where
        F: Fn(Call) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<u8>, RemoteError>> + Send + 'static,
    {
        let handler: Arc<UnaryFn> = Arc::new(move |call| Box::pin(handler(call)));
        self.methods.insert(name.to_owned(), Handler::Unary(handler));
        self
    }

    /// Registers `name`, answered by `handler` from a decoded argument to a value encoded back.
    pub fn typed<Req, Resp, F, Fut>(&mut self, name: &str, handler: F) -> &mut Service
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, RemoteError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.method(name, move |call| {
            let handler = Arc::clone(&handler);
            async move {
                let request = call.decode::<Req>()?;
                let response = handler(request).await?;
                to_payload(&response)
                    .map_err(|err| RemoteError::internal(format!("cannot encode the answer: {err}")))
            }
        })
    }

    /// Registers `name` as a stream: `handler` sends messages through the [`Publisher`] until it
    /// returns (the stream ends, or fails with the error) or the subscriber goes away.
    pub fn stream<F, Fut>(&mut self, name: &str, handler: F) -> &mut Service
    where
        F: Fn(Call, Publisher) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RemoteError>> + Send + 'static,
    {
        let handler: Arc<StreamFn> = Arc::new(move |call, publisher| Box::pin(handler(call, publisher)));
        self.methods.insert(name.to_owned(), Handler::Stream(handler));
        self
    }

    /// The registered method names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.methods.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Handler> {
        self.methods.get(name)
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("methods", &self.names()).finish()
    }
}

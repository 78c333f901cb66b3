//! The built-in methods of `rpc serve`, for `rpc call`. Each takes a list of strings and answers
//! one: `echo` (the arguments back, as bytes: any payload works), `ping` (`["pong"]`), `time`
//! (the server's Unix time in milliseconds) and `sleep MS` (answers after MS milliseconds).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::service::Service;
use crate::status::{ErrorCode, RemoteError};

/// Registers the built-in methods on `service`.
pub fn register(service: &mut Service) {
    service.method("echo", |call| async move { Ok(call.payload) });
    service.typed("ping", |_: Vec<String>| async { Ok(vec!["pong".to_owned()]) });
    service.typed("time", |_: Vec<String>| async {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(vec![now.as_millis().to_string()])
    });
    service.typed("sleep", |args: Vec<String>| async move {
        let ms: u64 = args.first().and_then(|ms| ms.parse().ok()).ok_or_else(|| {
            RemoteError::new(ErrorCode::BadRequest, format!("sleep takes milliseconds, not {args:?}"))
        })?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(Vec::<String>::new())
    });
}

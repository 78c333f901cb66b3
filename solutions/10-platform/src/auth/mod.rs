//! Who may do what: passwords ([`password`]), sessions and their CSRF tokens ([`session`]), the
//! limit on wrong passwords ([`limiter`]), and what a role allows ([`policy`]). The API asks these
//! on every request; none of them trusts the browser.

pub mod limiter;
pub mod password;
pub mod policy;
pub mod session;

pub use limiter::LoginLimiter;
pub use policy::{Denial, Grant};
pub use session::{Session, Sessions};

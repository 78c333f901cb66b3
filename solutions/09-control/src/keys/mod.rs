//! Who is who: every agent, the master and every operator has an ed25519 key pair
//! ([`Identity`], its public half a [`PublicKey`]); the master keeps the agents' public keys in a
//! [`KeyStore`], where an operator accepts, rejects or deletes them, and only accepted agents are
//! let in.

pub mod identity;
pub mod store;

pub use identity::{Identity, PublicKey};
pub use store::{Admission, KeyEntry, KeyState, KeyStore, check_id};

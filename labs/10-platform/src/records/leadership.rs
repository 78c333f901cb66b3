//! Who leads, and the fence that keeps a deposed leader from writing.
//!
//! Two platform servers share these records; a lease (etcd's, or a lock file's on one machine)
//! says which of them leads, and gives each new leadership a fencing token greater than every
//! earlier one. A lease alone is not enough: a leader can be paused (a long garbage collection, a
//! stopped VM, a slow disk) past its lease, wake up, and write as if it still led, over what its
//! successor wrote. So the token goes to the records too. [`Records::lead`] raises the fence
//! (the one `leadership` row) to the new leader's token, never lowering it; every write of a
//! leader's records (`Records::write`) first reads the fence in the same transaction, under a
//! lock, and is refused with [`RecordError::Fenced`] when it holds another token. The lock orders
//! the two: a write that read the old token commits before the fence is raised, and every write
//! after it sees the new one.

use sqlx::Row;

use super::{Millis, RecordError, Records, Result, check, dialect};

/// The leadership the records know of: its token, the server that holds it and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// The fencing token: every new leadership's is greater.
    pub token: i64,
    /// The server that leads, as it names itself.
    pub holder: String,
    /// When it took over.
    pub since: Millis,
}

impl Records {
    /// Raises the fence to `token` for `holder`, who leads from `now`, and returns these records
    /// writing for that leadership: every write they make checks the fence first.
    ///
    /// Leading again with the token the fence holds is allowed (a leader whose records were
    /// opened again); any lower token is refused.
    ///
    /// # Errors
    ///
    /// [`RecordError::Fenced`] when the fence holds a higher token (a newer leader has taken
    /// over), [`RecordError::Invalid`] for a token below 1 or an empty holder,
    /// [`RecordError::Database`].
    pub async fn lead(&self, token: i64, holder: &str, now: Millis) -> Result<Records> {
        todo!(
            "stage 5: refuse a token below 1 and an empty holder; in one writing transaction, read the leadership row FOR UPDATE (dialect::lock_for_update): a greater token there is Fenced; otherwise update the row (or insert it, id 1) with this token, holder and time, commit, and return a clone of these records whose fence is the token"
        )
    }

    /// The newest leadership recorded, if any server has led.
    ///
    /// # Errors
    ///
    /// [`RecordError::Database`].
    pub async fn leader(&self) -> Result<Option<Leader>> {
        todo!("stage 5: the leadership row, if there is one")
    }

    /// The token these records write for, when they are a leader's.
    pub fn fence(&self) -> Option<i64> {
        self.fence
    }

    /// Refuses `tx` (a writing transaction just begun) unless the fence still holds this leader's
    /// token; records that are no leader's ([`Records::open`]'s) write freely.
    pub(crate) async fn check_fence(&self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
        todo!(
            "stage 5: records with no fence write freely; otherwise read the leadership row in tx under a shared lock (dialect::lock_for_share): any token but this fence's is Fenced"
        )
    }
}

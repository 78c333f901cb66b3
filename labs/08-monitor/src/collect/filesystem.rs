//! Filesystem space: which filesystems to watch (from `/proc/mounts`) and how full each is (from
//! `statvfs`).
//!
//! `/proc/mounts` lists every mount, most of them not disks at all: `proc`, `sysfs`, cgroups,
//! container layers. The ones skipped are node_exporter's defaults, so that the two report the same
//! filesystems: the types `autofs binfmt_misc bpf cgroup cgroup2 configfs debugfs devpts devtmpfs
//! fusectl hugetlbfs iso9660 mqueue nsfs overlay proc procfs pstore rpc_pipefs securityfs selinuxfs
//! squashfs erofs sysfs tracefs`, and whatever is mounted under `/dev`, `/proc`, `/sys`,
//! `/run/credentials/`, `/var/lib/docker/` and `/var/lib/containers/storage/`.
//!
//! The mount table writes a space in a path as `\040` (and a tab, a newline and a backslash as
//! `\011`, `\012`, `\134`); [`monitored_mounts`] decodes them.

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::ParseError;
use crate::Sample;

/// The filesystem types that hold no files of their own, skipped as node_exporter skips them.
pub const SKIPPED_TYPES: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "fusectl",
    "hugetlbfs",
    "iso9660",
    "mqueue",
    "nsfs",
    "overlay",
    "proc",
    "procfs",
    "pstore",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "erofs",
    "sysfs",
    "tracefs",
];

/// One line of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// What is mounted: `/dev/sda1`, `tmpfs`.
    pub device: String,
    /// Where, with the table's escapes decoded.
    pub mount_point: String,
    /// The filesystem type: `ext4`, `xfs`, `tmpfs`.
    pub fs_type: String,
}

/// The mounts of a `/proc/mounts` text worth watching: the pseudo-filesystems and system paths
/// skipped (see the module's documentation), each mount point once (the last line for it, the
/// mount on top).
///
/// # Errors
///
/// [`ParseError`] for a non-empty line with fewer than three fields.
pub fn monitored_mounts(text: &str) -> Result<Vec<Mount>, ParseError> {
    todo!(
        "stage 1: device, mount point (unescape), type per line; skip SKIPPED_TYPES and system paths; one mount per mount point, the last"
    )
}

/// Whether a mount point is one of the system paths node_exporter skips.
fn is_system_path(mount_point: &str) -> bool {
    todo!(
        "stage 1: /dev, /proc, /sys and below; anything inside /run/credentials/, /var/lib/docker/, /var/lib/containers/storage/"
    )
}

/// Decodes the mount table's `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    todo!("stage 1: \\ooo (three octal digits) becomes that byte")
}

/// What `statvfs` says about one filesystem, in its own units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStats {
    /// The unit of the block counts (`f_frsize`), in bytes.
    pub fragment_size: u64,
    /// Blocks in all (`f_blocks`).
    pub blocks: u64,
    /// Blocks free (`f_bfree`), the root-reserved ones included.
    pub blocks_free: u64,
    /// Blocks free to an unprivileged user (`f_bavail`).
    pub blocks_available: u64,
    /// Inodes in all (`f_files`).
    pub files: u64,
    /// Inodes free (`f_ffree`).
    pub files_free: u64,
}

/// Asks the kernel how full the filesystem holding `path` is.
///
/// # Errors
///
/// What `statvfs(3)` says: the path does not exist, is not reachable, the filesystem does not
/// answer.
pub fn statvfs(path: &Path) -> io::Result<FsStats> {
    todo!("stage 1: libc::statvfs on a CString of the path; f_frsize (or f_bsize when 0) and the counts")
}

/// `df.bytes.total`, `df.bytes.free`, `df.bytes.avail`, `df.bytes.used` (bytes),
/// `df.bytes.used.percent`, `df.inodes.total`, `df.inodes.free` and `df.inodes.used.percent`,
/// tagged `mount=PATH` and `fstype=TYPE`.
///
/// The block counts times the fragment size, as node_exporter computes `node_filesystem_size_bytes`
/// (blocks), `node_filesystem_free_bytes` (bfree) and `node_filesystem_avail_bytes` (bavail). Used
/// is `blocks − bfree`; its percentage is `100 × used / (used + avail)`, as `df` prints it, since
/// the blocks reserved for root are neither. The percentages are left out of an empty filesystem.
pub fn filesystem_samples(mount: &Mount, stats: &FsStats) -> Vec<Sample> {
    todo!("stage 1: the df.* samples, blocks × fragment size, tagged mount and fstype")
}

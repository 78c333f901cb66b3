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
    let mut mounts: Vec<Mount> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let (device, mount_point, fs_type) = match (fields.next(), fields.next(), fields.next()) {
            (None, _, _) => continue,
            (Some(device), Some(mount_point), Some(fs_type)) => (device, mount_point, fs_type),
            _ => return Err(ParseError::new(index + 1, "expected device, mount point and type")),
        };
        let mount = Mount {
            device: unescape(device),
            mount_point: unescape(mount_point),
            fs_type: fs_type.to_owned(),
        };
        if SKIPPED_TYPES.contains(&mount.fs_type.as_str()) || is_system_path(&mount.mount_point) {
            continue;
        }
        mounts.retain(|earlier| earlier.mount_point != mount.mount_point);
        mounts.push(mount);
    }
    Ok(mounts)
}

/// Whether a mount point is one of the system paths node_exporter skips.
fn is_system_path(mount_point: &str) -> bool {
    let under = |dir: &str| {
        mount_point.strip_prefix(dir).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    let inside = |dir: &str| mount_point.strip_prefix(dir).is_some_and(|rest| !rest.is_empty());
    under("/dev")
        || under("/proc")
        || under("/sys")
        || inside("/run/credentials/")
        || inside("/var/lib/docker/")
        || inside("/var/lib/containers/storage/")
}

/// Decodes the mount table's `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let octal = bytes.get(at + 1..at + 4).filter(|digits| {
            bytes[at] == b'\\'
                && digits.iter().all(|digit| (b'0'..=b'7').contains(digit))
                && digits[0] <= b'3'
        });
        match octal {
            Some(digits) => {
                out.push(digits.iter().fold(0u8, |value, digit| value * 8 + (digit - b'0')));
                at += 4;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
    let mut buf = MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: c_path is NUL-terminated and lives across the call; buf has room for one statvfs.
    if unsafe { libc::statvfs(c_path.as_ptr(), buf.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled buf.
    let buf = unsafe { buf.assume_init() };
    // POSIX counts blocks in f_frsize; a filesystem that leaves it 0 means f_bsize.
    let fragment_size = if buf.f_frsize != 0 { buf.f_frsize } else { buf.f_bsize };
    #[allow(clippy::unnecessary_cast)] // the field types are u32 on some targets
    Ok(FsStats {
        fragment_size: fragment_size as u64,
        blocks: buf.f_blocks as u64,
        blocks_free: buf.f_bfree as u64,
        blocks_available: buf.f_bavail as u64,
        files: buf.f_files as u64,
        files_free: buf.f_ffree as u64,
    })
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
    let bytes = |blocks: u64| blocks as f64 * stats.fragment_size as f64;
    let used = stats.blocks.saturating_sub(stats.blocks_free);
    let mut values = vec![
        ("df.bytes.total", bytes(stats.blocks)),
        ("df.bytes.free", bytes(stats.blocks_free)),
        ("df.bytes.avail", bytes(stats.blocks_available)),
        ("df.bytes.used", bytes(used)),
    ];
    let usable = used as f64 + stats.blocks_available as f64;
    if usable > 0.0 {
        values.push(("df.bytes.used.percent", 100.0 * used as f64 / usable));
    }
    values.push(("df.inodes.total", stats.files as f64));
    values.push(("df.inodes.free", stats.files_free as f64));
    if stats.files > 0 {
        let used = stats.files.saturating_sub(stats.files_free);
        values.push(("df.inodes.used.percent", 100.0 * used as f64 / stats.files as f64));
    }
    values
        .into_iter()
        .map(|(metric, value)| {
            Sample::gauge(metric, value)
                .tag("mount", mount.mount_point.as_str())
                .tag("fstype", mount.fs_type.as_str())
        })
        .collect()
}

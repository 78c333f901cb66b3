//! Stage 1: collectors as pure functions over the text of `/proc` files, `statvfs` and utmp; nginx's
//! `stub_status` and access log; plugins run without a shell under a timeout; and the scheduler that
//! runs each collector on its own thread at aligned ticks.
//!
//! The `/proc` texts in `fixtures/collect/` were read on a real machine (two readings apart where a
//! rate needs two), or written by hand for what a machine seldom shows: a counter that wrapped, a
//! core that went offline, a kernel without `MemAvailable`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use monitor::collect::accounts::{UTMP_RECORD_SIZE, parse_utmp, session_samples};
use monitor::collect::cpu::{cpu_samples, parse_cpu_stat};
use monitor::collect::disk::{disk_samples, parse_diskstats};
use monitor::collect::filesystem::{FsStats, Mount, filesystem_samples, monitored_mounts};
use monitor::collect::memory::{memory_samples, parse_meminfo};
use monitor::collect::net::{net_samples, parse_net_dev};
use monitor::collect::nginx::{MAX_RESPONSE, parse_stub_status, stub_status_samples};
use monitor::collect::procs::parse_pid_stat;
use monitor::collect::{
    AccessLogCollector, CollectError, Collector, NginxStatusCollector, PluginCollector, PluginSpec,
    Scheduler, next_tick, parse_plugin_output, system_collectors,
};
use monitor::{Kind, Millis, Point, Sample, Shutdown, Tags};
use proptest::prelude::*;
use testkit::test;

/// A fixture's text, by its name under `fixtures/collect/`.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("fixtures/collect/", $name))
    };
}

/// The value of the sample of `metric` whose tags are exactly `tags` (in any order), if there is one.
fn find(samples: &[Sample], metric: &str, tags: &[(&str, &str)]) -> Option<f64> {
    let wanted: Tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let matching: Vec<&Sample> = samples.iter().filter(|s| s.metric == metric && s.tags == wanted).collect();
    assert!(matching.len() <= 1, "{metric}{tags:?} is reported {} times: {matching:?}", matching.len());
    matching.first().map(|s| s.value)
}

/// Like [`find`], failing the test when there is no such sample.
#[track_caller]
fn value(samples: &[Sample], metric: &str, tags: &[(&str, &str)]) -> f64 {
    find(samples, metric, tags).unwrap_or_else(|| panic!("no {metric}{tags:?} in {samples:#?}"))
}

/// Asserts `actual` is `expected` to within a millionth (plus a little for values near 0).
#[track_caller]
fn assert_near(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-6 * expected.abs().max(1.0);
    assert!((actual - expected).abs() <= tolerance, "{what}: expected {expected}, got {actual}");
}

/// The distinct values of tag `tag` among the samples of `metric`.
fn tag_values(samples: &[Sample], metric: &str, tag: &str) -> BTreeSet<String> {
    samples.iter().filter(|s| s.metric == metric).filter_map(|s| s.tags.get(tag).cloned()).collect()
}

/// Runs `work` on a thread and returns what it returned, or fails the test if it has not
/// finished within `limit` (the thread is left behind: the test has failed anyway).
#[track_caller]
fn within<T: Send + 'static>(limit: Duration, what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(work());
    });
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => panic!("{what} did not finish within {limit:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

// ---------------------------------------------------------------------------------------------
// CPU

#[test]
fn cpu_percentages_come_from_the_difference_of_two_readings() {
    let prev = parse_cpu_stat(fixture!("stat.1")).expect("a real /proc/stat parses");
    let cur = parse_cpu_stat(fixture!("stat.2")).expect("a real /proc/stat parses");
    assert_eq!(prev.cores.keys().copied().collect::<Vec<_>>(), [0, 1], "the cores of the fixture");
    let samples = cpu_samples(&prev, &cur);
    // Between the two readings the machine spent 209 ticks in user, 9 in system, 179 idle and 2 in
    // iowait: 399 in all.
    assert_near(value(&samples, "cpu.busy", &[]), 100.0 * (1.0 - 179.0 / 399.0), "cpu.busy of the machine");
    assert_near(value(&samples, "cpu.user", &[]), 100.0 * 209.0 / 399.0, "cpu.user of the machine");
    assert_near(value(&samples, "cpu.idle", &[]), 100.0 * 179.0 / 399.0, "cpu.idle of the machine");
    assert_near(value(&samples, "cpu.iowait", &[]), 100.0 * 2.0 / 399.0, "cpu.iowait of the machine");
    // cpu0: 16 user, 6 system, 176 idle, 3 iowait; cpu1: 193 user, 2 system, 4 idle.
    assert_near(value(&samples, "cpu.busy", &[("cpu", "0")]), 100.0 * 25.0 / 201.0, "cpu.busy of cpu0");
    assert_near(value(&samples, "cpu.busy", &[("cpu", "1")]), 100.0 * 195.0 / 199.0, "cpu.busy of cpu1");
    assert_near(value(&samples, "cpu.system", &[("cpu", "1")]), 100.0 * 2.0 / 199.0, "cpu.system of cpu1");
    assert!(samples.iter().all(|s| s.kind == Kind::Gauge), "percentages are gauges: {samples:?}");
}

#[test]
fn cpu_time_counts_steal_and_iowait_but_not_guest_twice() {
    // user includes guest: 600 ticks of user of which 200 ran a guest. The total is 1800, not 2000.
    let prev = parse_cpu_stat("cpu  1000 100 500 8000 200 10 20 300 400 0\n").unwrap();
    let cur = parse_cpu_stat("cpu  1600 100 700 8600 400 10 20 500 600 0\n").unwrap();
    let samples = cpu_samples(&prev, &cur);
    assert_near(value(&samples, "cpu.busy", &[]), 100.0 * 1200.0 / 1800.0, "busy: iowait and steal count");
    assert_near(value(&samples, "cpu.steal", &[]), 100.0 * 200.0 / 1800.0, "steal");
    assert_near(value(&samples, "cpu.iowait", &[]), 100.0 * 200.0 / 1800.0, "iowait");
    assert_near(value(&samples, "cpu.user", &[]), 100.0 * 600.0 / 1800.0, "user, guest included");
    assert_near(value(&samples, "cpu.guest", &[]), 100.0 * 200.0 / 1800.0, "guest, a part of user");
    // An old kernel prints only user nice system idle: the other modes are 0.
    let old = cpu_samples(
        &parse_cpu_stat("cpu 10 0 10 80\n").unwrap(),
        &parse_cpu_stat("cpu 20 0 20 160\n").unwrap(),
    );
    assert_near(value(&old, "cpu.busy", &[]), 20.0, "busy from a four-column /proc/stat");
}

#[test]
fn a_cpu_counter_that_went_backwards_gives_no_value_for_that_core() {
    // cpu1's counters wrapped (or were reset when it came back online) between the readings.
    let prev = parse_cpu_stat(
        "cpu  4294967000 0 4294967100 9000 0 0 0 0 0 0\n\
         cpu0 100 0 100 4500 0 0 0 0 0 0\n\
         cpu1 4294966900 0 4294967000 4500 0 0 0 0 0 0\n",
    )
    .unwrap();
    let cur = parse_cpu_stat(
        "cpu  4294967300 0 4294967400 9400 0 0 0 0 0 0\n\
         cpu0 200 0 200 4700 0 0 0 0 0 0\n\
         cpu1 100 0 100 4700 0 0 0 0 0 0\n",
    )
    .unwrap();
    let samples = cpu_samples(&prev, &cur);
    assert_eq!(
        tag_values(&samples, "cpu.busy", "cpu"),
        BTreeSet::from(["0".to_string()]),
        "only cpu0 has a value"
    );
    assert_near(value(&samples, "cpu.busy", &[("cpu", "0")]), 50.0, "cpu0 is unaffected");
    assert_near(value(&samples, "cpu.busy", &[]), 60.0, "the machine's own line did not go backwards");
    for sample in &samples {
        assert!((0.0..=100.0).contains(&sample.value), "a percentage out of range: {sample:?}");
    }
}

#[test]
fn a_core_that_went_offline_or_came_online_gives_no_value_and_shifts_no_other() {
    let three = "cpu  3000 0 0 3000 0 0 0 0 0 0\n\
                 cpu0 1000 0 0 1000 0 0 0 0 0 0\n\
                 cpu1 500000 0 0 10 0 0 0 0 0 0\n\
                 cpu2 2000 0 0 2000 0 0 0 0 0 0\n";
    // cpu1 went offline; cpu0 is half busy, cpu2 a quarter.
    let two = "cpu  3400 0 0 3600 0 0 0 0 0 0\n\
               cpu0 1100 0 0 1100 0 0 0 0 0 0\n\
               cpu2 2100 0 0 2300 0 0 0 0 0 0\n";
    let offline = cpu_samples(&parse_cpu_stat(three).unwrap(), &parse_cpu_stat(two).unwrap());
    assert_eq!(
        tag_values(&offline, "cpu.busy", "cpu"),
        BTreeSet::from(["0".into(), "2".into()]),
        "cores in both"
    );
    assert_near(value(&offline, "cpu.busy", &[("cpu", "0")]), 50.0, "cpu0");
    assert_near(value(&offline, "cpu.busy", &[("cpu", "2")]), 25.0, "cpu2 compared with cpu2, not with cpu1");
    // cpu1 is back: it has no earlier reading to compare with.
    let online = cpu_samples(
        &parse_cpu_stat(two).unwrap(),
        &parse_cpu_stat(three.replace("cpu  3000", "cpu  9000").as_str()).unwrap(),
    );
    assert!(
        find(&online, "cpu.busy", &[("cpu", "1")]).is_none(),
        "a core seen once gives nothing: {online:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Memory, disks, network, filesystems

#[test]
fn memory_is_reported_in_bytes_with_mem_available() {
    let samples = memory_samples(&parse_meminfo(fixture!("meminfo")).expect("a real /proc/meminfo parses"));
    assert_eq!(value(&samples, "mem.total", &[]), 25_275_973_632.0, "MemTotal in bytes");
    assert_eq!(value(&samples, "mem.available", &[]), 24_521_662_464.0, "MemAvailable in bytes, not MemFree");
    assert_eq!(value(&samples, "mem.free", &[]), 22_159_724_544.0, "MemFree in bytes");
    assert_near(
        value(&samples, "mem.used.percent", &[]),
        2.984_301_135_070_910_3,
        "used is total − available",
    );
    assert_near(
        value(&samples, "mem.available.percent", &[]),
        100.0 * 24_521_662_464.0 / 25_275_973_632.0,
        "available of total",
    );
    assert!(find(&samples, "mem.swap.used.percent", &[]).is_none(), "no swap, no swap percentage");

    // Linux before 3.14 has no MemAvailable: free + buffers + cached stands in for it.
    let old = memory_samples(&parse_meminfo(fixture!("meminfo-3.10")).unwrap());
    assert_eq!(
        value(&old, "mem.available", &[]),
        (101_260.0 + 52_016.0 + 410_520.0) * 1024.0,
        "the estimate"
    );
    assert_near(value(&old, "mem.swap.used.percent", &[]), 25.0, "swap used");

    // A value without a unit is taken as it is; a total of 0 gives no percentage (no NaN).
    let empty = memory_samples(&parse_meminfo("MemTotal: 0\nMemFree: 0\nMemAvailable: 0\n").unwrap());
    assert_eq!(value(&empty, "mem.total", &[]), 0.0);
    assert!(find(&empty, "mem.used.percent", &[]).is_none(), "no percentage of nothing: {empty:?}");
    assert!(find(&empty, "mem.available.percent", &[]).is_none(), "no percentage of nothing");
    let unitless = parse_meminfo("MemTotal: 4096\nMemAvailable: 1024\n").unwrap();
    assert_eq!(value(&memory_samples(&unitless), "mem.total", &[]), 4096.0, "no unit: bytes as they are");
}

#[test]
fn proc_files_with_a_bad_line_are_rejected_naming_the_line() {
    let line = |result: Result<(), monitor::collect::ParseError>, what: &str| match result {
        Err(err) => err.line,
        Ok(()) => panic!("{what} is accepted"),
    };
    let cpu = "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpuX 1 2 3 4 5 6 7 8 9 10\n";
    assert_eq!(line(parse_cpu_stat(cpu).map(drop), "a core without a number"), 3);
    let cpu = "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 three 4\n";
    assert_eq!(line(parse_cpu_stat(cpu).map(drop), "a core with a word for a time"), 2);
    let disk = "   8 0 sda 1 2 3 4 5 6 7 8 0 9 10\n   8 16 sdb 1 2 3\n";
    assert_eq!(line(parse_diskstats(disk).map(drop), "a disk with 6 fields"), 2);
    let disk = "   8 0 sda 1 2 3 4 5 6 7 8 0 9 10\n\n   8 16 sdb 1 2 x 4 5 6 7 8 0 9 10\n";
    assert_eq!(line(parse_diskstats(disk).map(drop), "a disk with a word for a counter"), 3);
    let memory = "MemTotal: 100 kB\nMemFree: lots kB\n";
    assert_eq!(line(parse_meminfo(memory).map(drop), "a word for a size"), 2);
    let memory = "MemTotal: 100 kB\nMemFree: 10 kB\nCached: 5 MB\n";
    assert_eq!(line(parse_meminfo(memory).map(drop), "an unknown unit"), 3);
    let header: String = fixture!("net-dev.1").lines().take(2).map(|line| format!("{line}\n")).collect();
    let net = format!("{header}  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n");
    assert_eq!(line(parse_net_dev(&net).map(drop), "15 counters"), 3);
    let net = format!(
        "{header}    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
    );
    assert_eq!(line(parse_net_dev(&net).map(drop), "a word for a counter"), 4);
    let stub = "\nActive connections: many\n";
    assert_eq!(line(parse_stub_status(stub).map(drop), "a word for a count"), 2);
    let stub =
        "Active connections: 1\nserver accepts handled requests\n 1 2\nReading: 0 Writing: 1 Waiting: 0\n";
    assert_eq!(line(parse_stub_status(stub).map(drop), "two totals of three"), 3);
    let mounts = "/dev/vda / ext4 rw 0 0\n\n/dev/vdb1 /srv\n";
    assert_eq!(
        line(monitored_mounts(mounts).map(drop), "a mount without a type"),
        3,
        "an empty line is skipped"
    );
    for load in ["-0.50 0.10 0.05 1/100 4242\n", "inf 0.10 0.05 1/100 4242\n", "NaN 1 1 1/1 1\n"] {
        assert!(monitor::collect::load::parse_loadavg(load).is_err(), "{load:?} is no load average");
    }
}

#[test]
fn disk_io_is_bytes_per_second_of_512_byte_sectors_for_whole_disks() {
    let prev =
        parse_diskstats(fixture!("diskstats.1")).expect("diskstats parses, old and new kernels' lines");
    let cur = parse_diskstats(fixture!("diskstats.2")).unwrap();
    let samples = disk_samples(&prev, &cur, 10.0);
    // sda, in 10 s: 50 reads of 8000 sectors, 20 writes of 1600, 500 ms busy, 160 ms waited.
    let sda = [("device", "sda")];
    assert_near(value(&samples, "disk.io.read_bytes", &sda), 8000.0 * 512.0 / 10.0, "read bytes/s");
    assert_near(value(&samples, "disk.io.write_bytes", &sda), 1600.0 * 512.0 / 10.0, "written bytes/s");
    assert_near(value(&samples, "disk.io.reads", &sda), 5.0, "reads/s");
    assert_near(value(&samples, "disk.io.writes", &sda), 2.0, "writes/s");
    assert_near(value(&samples, "disk.io.util", &sda), 5.0, "% of the time busy");
    assert_near(value(&samples, "disk.io.await", &sda), 160.0 / 70.0, "ms per request");
    assert_near(
        value(&samples, "disk.io.write_bytes", &[("device", "vda")]),
        102_400.0 * 512.0 / 10.0,
        "vda",
    );
    for idle in ["md0", "sr0"] {
        assert_eq!(value(&samples, "disk.io.reads", &[("device", idle)]), 0.0, "{idle} is idle");
        assert_eq!(
            find(&samples, "disk.io.await", &[("device", idle)]),
            None,
            "no request, no await: {idle}"
        );
    }
    let devices = tag_values(&samples, "disk.io.read_bytes", "device");
    let expected = ["dm-0", "md0", "nvme0n1", "sda", "sr0", "vda"].map(String::from);
    assert_eq!(devices, BTreeSet::from(expected), "partitions, loop and RAM devices are skipped");
    let at_once = disk_samples(&prev, &cur, 0.0);
    assert_eq!(find(&at_once, "disk.io.reads", &sda), None, "two readings at one instant give no rate");
}

#[test]
fn network_rates_are_bytes_per_second_per_interface() {
    let prev = parse_net_dev(fixture!("net-dev.1")).expect("a real /proc/net/dev parses");
    let cur = parse_net_dev(fixture!("net-dev.2")).unwrap();
    let samples = net_samples(&prev, &cur, 10.0);
    let lo = [("iface", "lo")];
    assert_near(value(&samples, "net.if.in.bytes", &lo), 9_784_449.0 / 10.0, "lo received bytes/s");
    assert_near(value(&samples, "net.if.out.bytes", &lo), 9_784_449.0 / 10.0, "lo sent bytes/s");
    assert_near(value(&samples, "net.if.in.packets", &lo), 25.8, "lo received packets/s");
    assert_eq!(
        value(&samples, "net.if.in.bytes", &[("iface", "eth0")]),
        0.0,
        "an idle interface is 0, not absent"
    );
    assert_eq!(
        tag_values(&samples, "net.if.in.bytes", "iface"),
        BTreeSet::from(["eth0".into(), "lo".into()])
    );
    assert_eq!(net_samples(&prev, &cur, 0.0), [], "two readings at one instant give no rate");
}

#[test]
fn a_network_counter_that_wrapped_gives_no_value_while_the_others_do() {
    let header: String = fixture!("net-dev.1").lines().take(2).map(|line| format!("{line}\n")).collect();
    let prev = format!("{header}  eth0: 4294960000 100 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n");
    // Old kernels wrote the first counter right after the colon.
    let cur = format!("{header}  eth0:1000 150 0 0 0 0 0 0 21000 30 0 0 0 0 0 0\n");
    let samples = net_samples(&parse_net_dev(&prev).unwrap(), &parse_net_dev(&cur).unwrap(), 10.0);
    let eth0 = [("iface", "eth0")];
    assert_eq!(find(&samples, "net.if.in.bytes", &eth0), None, "a counter that went backwards gives nothing");
    assert_near(
        value(&samples, "net.if.out.bytes", &eth0),
        2000.0,
        "the counters that did not wrap still count",
    );
    assert_near(value(&samples, "net.if.in.packets", &eth0), 5.0, "received packets/s");
    assert!(samples.iter().all(|s| s.value >= 0.0), "no negative rate: {samples:?}");
}

#[test]
fn mounts_skip_pseudo_filesystems_and_decode_escaped_spaces() {
    let mounts = monitored_mounts(fixture!("mounts")).expect("the mount table parses");
    let found: BTreeSet<(String, String, String)> =
        mounts.into_iter().map(|m| (m.mount_point, m.fs_type, m.device)).collect();
    let expected = [
        ("/", "ext4", "/dev/vda"),
        ("/run", "tmpfs", "tmpfs"),
        ("/media/backup disk", "ext4", "/dev/sdc1"),
        // Docker's own directory is a disk; what it mounts inside it is not.
        ("/var/lib/docker", "ext4", "/dev/vdc1"),
        // Mounted twice: the later mount is the one on top.
        ("/srv/data", "ext4", "/dev/vdb2"),
    ]
    .map(|(point, kind, device)| (point.to_string(), kind.to_string(), device.to_string()));
    assert_eq!(found, BTreeSet::from(expected));
}

#[test]
fn filesystem_space_is_computed_as_node_exporter_and_df_do() {
    let mount = Mount { device: "/dev/vdb1".into(), mount_point: "/srv/data".into(), fs_type: "xfs".into() };
    let stats = FsStats {
        fragment_size: 4096,
        blocks: 1000,
        blocks_free: 300,
        blocks_available: 250,
        files: 100,
        files_free: 40,
    };
    let samples = filesystem_samples(&mount, &stats);
    let tags = [("fstype", "xfs"), ("mount", "/srv/data")];
    assert_eq!(value(&samples, "df.bytes.total", &tags), 4_096_000.0, "blocks × fragment size");
    assert_eq!(value(&samples, "df.bytes.free", &tags), 1_228_800.0, "bfree, node_filesystem_free_bytes");
    assert_eq!(value(&samples, "df.bytes.avail", &tags), 1_024_000.0, "bavail, node_filesystem_avail_bytes");
    assert_eq!(value(&samples, "df.bytes.used", &tags), 2_867_200.0, "blocks − bfree");
    assert_near(
        value(&samples, "df.bytes.used.percent", &tags),
        100.0 * 700.0 / 950.0,
        "used / (used + avail)",
    );
    assert_near(value(&samples, "df.inodes.used.percent", &tags), 60.0, "inodes used");
    let empty = FsStats {
        fragment_size: 4096,
        blocks: 0,
        blocks_free: 0,
        blocks_available: 0,
        files: 0,
        files_free: 0,
    };
    let samples = filesystem_samples(&mount, &empty);
    assert_eq!(value(&samples, "df.bytes.total", &tags), 0.0, "an empty filesystem has a size");
    assert_eq!(find(&samples, "df.bytes.used.percent", &tags), None, "no percentage of nothing");
    assert_eq!(find(&samples, "df.inodes.used.percent", &tags), None, "no percentage of no inodes");
}

// ---------------------------------------------------------------------------------------------
// Accounts and processes

/// One glibc x86_64 utmp record.
fn utmp_record(kind: i16, pid: i32, line: &str, user: &str, host: &str) -> Vec<u8> {
    let mut record = vec![0u8; UTMP_RECORD_SIZE];
    record[0..2].copy_from_slice(&kind.to_le_bytes());
    record[4..8].copy_from_slice(&pid.to_le_bytes());
    record[8..8 + line.len()].copy_from_slice(line.as_bytes());
    record[44..44 + user.len()].copy_from_slice(user.as_bytes());
    record[76..76 + host.len()].copy_from_slice(host.as_bytes());
    record
}

/// A utmp with a boot record, a getty, three sessions of two accounts, a dead one, and a record
/// cut short.
fn utmp_bytes() -> Vec<u8> {
    let mut bytes = utmp_record(2, 0, "~", "reboot", "6.1.0");
    bytes.extend(utmp_record(6, 612, "tty1", "LOGIN", ""));
    bytes.extend(utmp_record(7, 1201, "pts/0", "alice", "203.0.113.7"));
    bytes.extend(utmp_record(7, 1377, "pts/1", "alice", "203.0.113.7"));
    // A user name that fills its 32 bytes has no NUL.
    bytes.extend(utmp_record(7, 1502, "tty2", "a-very-long-account-name-32bytes", ""));
    bytes.extend(utmp_record(8, 1100, "pts/2", "", ""));
    bytes.extend(&utmp_record(7, 1600, "pts/3", "carol", "")[..100]);
    bytes
}

#[test]
fn sessions_are_the_user_process_records_of_utmp() {
    let sessions = parse_utmp(&utmp_bytes());
    let users: Vec<&str> = sessions.iter().map(|s| s.user.as_str()).collect();
    assert_eq!(users, ["alice", "alice", "a-very-long-account-name-32bytes"], "USER_PROCESS records only");
    assert_eq!(
        (sessions[0].line.as_str(), sessions[0].host.as_str(), sessions[0].pid),
        ("pts/0", "203.0.113.7", 1201)
    );
    let samples = session_samples(&sessions);
    assert_eq!(value(&samples, "users.sessions", &[]), 3.0);
    assert_eq!(value(&samples, "users.accounts", &[]), 2.0);

    // No utmp at all (a container): no sessions, not an error.
    let dir = testkit::scratch_dir();
    let mut collectors = system_collectors(dir.path(), &dir.path().join("no-utmp"), Duration::from_secs(10));
    let accounts = collectors.iter_mut().find(|c| c.name() == "accounts").expect("an accounts collector");
    let samples = accounts.collect(10_000).expect("a missing utmp is not an error");
    assert_eq!(value(&samples, "users.sessions", &[]), 0.0);
}

/// A `/proc/<pid>/stat` line with the given fields, the others as a real one has them.
fn pid_stat(pid: u32, comm: &str, state: char, threads: u64) -> String {
    format!(
        "{pid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560 1520 0 0 0 12 8 0 0 20 0 {threads} 0 301 \
         22097920 2816 18446744073709551615 1 1 0 0 0 0 671173123 4096 1260 0 0 0 17 0 0 0 0 0 0 \
         0 0 0 0 0 0 0"
    )
}

#[test]
fn processes_threads_and_states_are_counted_from_proc_pid_stat() {
    let real = parse_pid_stat(fixture!("pid-stat")).expect("a real /proc/<pid>/stat parses");
    assert_eq!((real.pid, real.comm.as_str(), real.state, real.threads), (9408, "cat", 'R', 1));
    let odd = parse_pid_stat(&pid_stat(43, "a) b (c", 'D', 4)).expect("a comm with parentheses and spaces");
    assert_eq!((odd.comm.as_str(), odd.state, odd.threads), ("a) b (c", 'D', 4));

    let root = testkit::scratch_dir();
    for (pid, comm, state, threads) in [
        (1, "systemd", 'S', 1),
        (42, "tmux: server", 'S', 1),
        (43, "a) b (c", 'R', 4),
        (44, "defunct", 'Z', 1),
        (45, "jbd2/vda-8", 'D', 2),
        (46, "kworker/0:1-events", 'I', 1),
    ] {
        std::fs::create_dir(root.path().join(pid.to_string())).unwrap();
        std::fs::write(root.path().join(format!("{pid}/stat")), pid_stat(pid, comm, state, threads)).unwrap();
    }
    // A process that exited between the listing and the read, and entries that are not processes.
    std::fs::create_dir(root.path().join("47")).unwrap();
    std::fs::create_dir_all(root.path().join("self")).unwrap();
    std::fs::write(root.path().join("self/stat"), pid_stat(99, "self", 'R', 50)).unwrap();
    std::fs::write(root.path().join("stat"), fixture!("stat.1")).unwrap();

    let mut collectors = system_collectors(root.path(), &root.path().join("utmp"), Duration::from_secs(10));
    let procs = collectors.iter_mut().find(|c| c.name() == "procs").expect("a procs collector");
    let samples = procs.collect(10_000).expect("the procs collector reads the fixture root");
    assert_eq!(value(&samples, "proc.count", &[]), 6.0, "processes");
    assert_eq!(value(&samples, "proc.threads", &[]), 10.0, "their threads");
    for (state, count) in [("running", 1.0), ("sleeping", 2.0), ("disk_sleep", 1.0), ("zombie", 1.0)] {
        assert_eq!(value(&samples, "proc.state", &[("state", state)]), count, "{state}");
    }
    assert_eq!(value(&samples, "proc.state", &[("state", "idle")]), 1.0, "idle kernel threads");
    assert_eq!(value(&samples, "proc.state", &[("state", "stopped")]), 0.0, "a state nobody is in is 0");
}

// ---------------------------------------------------------------------------------------------
// The system collectors together

/// A `/proc` root made of the first readings of the fixtures.
fn proc_root() -> testkit::TempDir {
    let root = testkit::scratch_dir();
    std::fs::create_dir(root.path().join("net")).unwrap();
    for (name, text) in [
        ("stat", fixture!("stat.1")),
        ("meminfo", fixture!("meminfo")),
        ("loadavg", fixture!("loadavg")),
        ("diskstats", fixture!("diskstats.1")),
        ("net/dev", fixture!("net-dev.1")),
        ("mounts", fixture!("mounts")),
    ] {
        std::fs::write(root.path().join(name), text).unwrap();
    }
    std::fs::create_dir(root.path().join("1")).unwrap();
    std::fs::write(root.path().join("1/stat"), pid_stat(1, "init", 'S', 1)).unwrap();
    root
}

#[test]
fn system_collectors_read_everything_under_the_given_proc_root() {
    let root = proc_root();
    let utmp = root.path().join("utmp");
    std::fs::write(&utmp, utmp_record(7, 1201, "pts/0", "alice", "")).unwrap();
    let mut collectors = system_collectors(root.path(), &utmp, Duration::from_secs(10));
    let names: BTreeSet<String> = collectors.iter().map(|c| c.name().to_owned()).collect();
    let expected =
        ["accounts", "cpu", "disk", "filesystem", "load", "memory", "net", "procs"].map(String::from);
    assert_eq!(names, BTreeSet::from(expected), "the collectors");
    assert!(collectors.iter().all(|c| c.interval() == Duration::from_secs(10)), "each runs every 10 s");

    let mut first = Vec::new();
    for collector in &mut collectors {
        let samples =
            collector.collect(1_000_000).unwrap_or_else(|err| panic!("{}: {err}", collector.name()));
        for two_readings in ["cpu", "disk", "net"] {
            assert!(
                collector.name() != two_readings || samples.is_empty(),
                "{two_readings} needs two readings"
            );
        }
        first.extend(samples);
    }
    assert_eq!(value(&first, "mem.available", &[]), 24_521_662_464.0);
    assert_eq!(value(&first, "load.1min", &[]), 0.16);
    assert_eq!(value(&first, "load.15min", &[]), 0.79);
    assert_eq!(value(&first, "users.sessions", &[]), 1.0);
    assert_eq!(value(&first, "proc.count", &[]), 1.0);
    let mounts = tag_values(&first, "df.bytes.total", "mount");
    assert!(mounts.contains("/"), "statvfs of / (which every machine has): {mounts:?}");
    assert!(!mounts.contains("/srv/data"), "a mount point that is not there is skipped: {mounts:?}");
    assert!(value(&first, "df.bytes.total", &[("fstype", "ext4"), ("mount", "/")]) > 0.0);

    // Ten seconds later.
    for (name, text) in [
        ("stat", fixture!("stat.2")),
        ("diskstats", fixture!("diskstats.2")),
        ("net/dev", fixture!("net-dev.2")),
    ] {
        std::fs::write(root.path().join(name), text).unwrap();
    }
    let mut second = Vec::new();
    for collector in &mut collectors {
        second
            .extend(collector.collect(1_010_000).unwrap_or_else(|err| panic!("{}: {err}", collector.name())));
    }
    assert_near(value(&second, "cpu.busy", &[]), 100.0 * (1.0 - 179.0 / 399.0), "cpu.busy");
    assert_near(
        value(&second, "disk.io.read_bytes", &[("device", "sda")]),
        409_600.0,
        "sda's reads over 10 s",
    );
    assert_near(value(&second, "net.if.in.bytes", &[("iface", "lo")]), 978_444.9, "lo's traffic over 10 s");

    std::fs::remove_file(root.path().join("meminfo")).unwrap();
    let memory = collectors.iter_mut().find(|c| c.name() == "memory").unwrap();
    let err = memory.collect(1_020_000).expect_err("meminfo is gone");
    assert!(err.to_string().contains("meminfo"), "the error names the file: {err}");

    // No utmp at all (a container) is nobody logged in; a utmp that cannot be read is an error.
    let accounts = collectors.iter_mut().find(|c| c.name() == "accounts").unwrap();
    std::fs::remove_file(&utmp).unwrap();
    assert_eq!(value(&accounts.collect(1_030_000).expect("no utmp"), "users.sessions", &[]), 0.0);
    std::fs::create_dir(&utmp).unwrap();
    let err = accounts.collect(1_040_000).expect_err("a utmp that is a directory");
    assert!(err.to_string().contains("utmp"), "the error names the file: {err}");
}

// ---------------------------------------------------------------------------------------------
// nginx

#[test]
fn stub_status_is_parsed_into_connections_and_requests() {
    let status = parse_stub_status(fixture!("stub_status")).expect("nginx's stub_status page parses");
    let samples = stub_status_samples(&status);
    for (metric, expected) in [
        ("nginx.connections.active", 291.0),
        ("nginx.connections.reading", 6.0),
        ("nginx.connections.writing", 179.0),
        ("nginx.connections.waiting", 106.0),
        ("nginx.connections.accepted", 16_630_948.0),
        ("nginx.connections.handled", 16_630_940.0),
        ("nginx.requests", 31_070_465.0),
    ] {
        assert_eq!(value(&samples, metric, &[]), expected, "{metric}");
    }
    let kind = |metric: &str| samples.iter().find(|s| s.metric == metric).map(|s| s.kind);
    assert_eq!(kind("nginx.requests"), Some(Kind::Counter), "a total since nginx started is a counter");
    assert_eq!(kind("nginx.connections.active"), Some(Kind::Gauge));
    assert!(parse_stub_status("<html>502 Bad Gateway</html>").is_err(), "a page that is not stub_status");
}

/// Serves one HTTP connection on a loopback port with `answer`, after reading the request; the
/// request is sent back on the returned channel.
fn serve_once(answer: impl Into<String>) -> (String, Receiver<String>) {
    let answer = answer.into();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            request.push(byte[0]);
        }
        let _ = stream.write_all(answer.as_bytes());
        let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
    });
    (format!("http://{address}/nginx_status"), rx)
}

#[test]
fn the_nginx_collector_fetches_stub_status_over_http() {
    let page = format!(
        "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n{}",
        fixture!("stub_status")
    );
    let (url, request) = serve_once(page);
    let mut collector =
        NginxStatusCollector::new(url.clone(), Duration::from_secs(10), Duration::from_secs(5));
    assert_eq!(collector.name(), "nginx");
    assert_eq!(collector.interval(), Duration::from_secs(10));
    let samples = within(Duration::from_secs(10), "a fetch", move || collector.collect(10_000))
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    assert_eq!(value(&samples, "nginx.connections.active", &[]), 291.0);
    assert_eq!(value(&samples, "nginx.requests", &[]), 31_070_465.0);
    let request = request.recv_timeout(testkit::DEFAULT_DEADLINE).expect("the server saw a request");
    assert!(request.starts_with("GET /nginx_status HTTP/1."), "a GET of the path: {request:?}");

    let (url, _) = serve_once("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let mut collector =
        NginxStatusCollector::new(url.clone(), Duration::from_secs(10), Duration::from_secs(5));
    let err = within(Duration::from_secs(10), "a fetch", move || collector.collect(10_000))
        .expect_err("a 404 is no status page");
    assert!(err.to_string().contains(&url), "the error names the URL: {err}");
    assert!(err.to_string().contains("404"), "the error says what nginx answered: {err}");
}

#[test]
fn an_answer_that_is_not_a_status_page_over_http_1_or_is_too_long_is_refused() {
    let fetch = |answer: String| {
        let (url, _) = serve_once(answer);
        let mut collector = NginxStatusCollector::new(url, Duration::from_secs(10), Duration::from_secs(5));
        within(Duration::from_secs(10), "a fetch", move || collector.collect(10_000))
    };
    let page = fixture!("stub_status");
    // A proxy's headers can be long; an answer is read up to MAX_RESPONSE bytes.
    let padding = format!("X-Padding: {}\r\n", "a".repeat(MAX_RESPONSE - 1024));
    let long = fetch(format!("HTTP/1.1 200 OK\r\n{padding}Connection: close\r\n\r\n{page}"))
        .expect("an answer within MAX_RESPONSE is read");
    assert_eq!(value(&long, "nginx.requests", &[]), 31_070_465.0);
    let flood = format!("X-Padding: {}\r\n", "a".repeat(2 * MAX_RESPONSE));
    let err =
        fetch(format!("HTTP/1.1 200 OK\r\n{flood}\r\n{page}")).expect_err("an answer past MAX_RESPONSE");
    assert!(err.to_string().contains("nginx_status"), "the error names the URL: {err}");
    // Shoutcast's ICY answers "200" too, but it is not HTTP.
    fetch(format!("ICY 200 OK\r\nicy-name: radio\r\n\r\n{page}"))
        .expect_err("an answer that is not HTTP/1.x");
}

#[test]
fn an_nginx_that_does_not_answer_is_reported_within_the_timeout() {
    // A server that accepts the connection and never says anything.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/nginx_status", listener.local_addr().unwrap());
    let (done, wait) = mpsc::channel::<()>();
    thread::spawn(move || {
        let connection = listener.accept();
        let _ = wait.recv();
        drop(connection);
    });
    let mut collector =
        NginxStatusCollector::new(url.clone(), Duration::from_secs(10), Duration::from_millis(300));
    let started = Instant::now();
    let err =
        within(Duration::from_secs(10), "a fetch from a silent server", move || collector.collect(10_000))
            .expect_err("no answer is an error");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up after {:?}, not the 300 ms timeout",
        started.elapsed()
    );
    assert!(err.to_string().contains(&url), "the error names the URL: {err}");
    drop(done);
}

// ---------------------------------------------------------------------------------------------
// The access log

/// A `combined` line with this status and body size.
fn log_line(status: u16, bytes: u64) -> String {
    format!(
        "203.0.113.9 - - [01/Mar/2026:08:00:00 +0800] \"GET /a HTTP/1.1\" {status} {bytes} \
         \"-\" \"curl/8.5.0\"\n"
    )
}

/// Appends `lines` to the file at `path`.
fn append(path: &Path, lines: &[String]) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    file.write_all(lines.concat().as_bytes()).unwrap();
}

#[test]
fn the_access_log_collector_reports_rates_of_requests_statuses_and_bytes() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, &[log_line(200, 100_000), log_line(200, 100_000)]);
    let mut collector = AccessLogCollector::new(path.clone(), Duration::from_secs(10));
    assert_eq!((collector.name(), collector.interval()), ("access_log", Duration::from_secs(10)));
    assert!(collector.collect(1_000_000).unwrap().is_empty(), "the first reading only marks where to start");
    append(
        &path,
        &[log_line(200, 1000), log_line(204, 0), log_line(301, 500), log_line(404, 300), log_line(503, 200)],
    );
    append(&path, &["this is not a combined line\n".to_string()]);
    let samples = collector.collect(1_010_000).unwrap();
    assert_near(value(&samples, "nginx.log.requests", &[]), 0.5, "5 requests in 10 s, none from before");
    assert_near(value(&samples, "nginx.log.bytes", &[]), 200.0, "2000 bytes in 10 s");
    assert_near(value(&samples, "nginx.log.unparsed", &[]), 0.1, "the line that is not combined");
    for (class, rate) in [("1xx", 0.0), ("2xx", 0.2), ("3xx", 0.1), ("4xx", 0.1), ("5xx", 0.1)] {
        assert_near(value(&samples, "nginx.log.status", &[("class", class)]), rate, class);
    }
    let quiet = collector.collect(1_020_000).unwrap();
    assert_eq!(value(&quiet, "nginx.log.requests", &[]), 0.0, "nothing new: a rate of 0");
    append(&path, &[log_line(200, 1000)]);
    assert_eq!(collector.collect(1_020_000).unwrap(), [], "a second reading at the same instant: no rate");
}

#[test]
fn the_access_log_collector_follows_the_log_across_rotation() {
    let dir = testkit::scratch_dir();
    let path = dir.path().join("access.log");
    append(&path, &[log_line(200, 10)]);
    let mut collector = AccessLogCollector::new(path.clone(), Duration::from_secs(10));
    collector.collect(2_000_000).unwrap();
    append(&path, &[log_line(200, 10), log_line(200, 10)]);
    // logrotate renames the log; nginx writes one more line to it before it reopens the new one.
    let rotated = dir.path().join("access.log.1");
    std::fs::rename(&path, &rotated).unwrap();
    append(&rotated, &[log_line(500, 10)]);
    append(&path, &[log_line(404, 10), log_line(200, 10)]);
    let samples = collector.collect(2_010_000).unwrap();
    assert_near(value(&samples, "nginx.log.requests", &[]), 0.5, "3 lines in the old file and 2 in the new");
    assert_near(value(&samples, "nginx.log.status", &[("class", "5xx")]), 0.1, "the old file's last line");

    // copytruncate: the same file, cut to nothing, then written again.
    std::fs::File::create(&path).unwrap();
    append(&path, &[log_line(200, 10)]);
    let samples = collector.collect(2_020_000).unwrap();
    assert_near(value(&samples, "nginx.log.requests", &[]), 0.1, "the line written after the truncation");
}

// ---------------------------------------------------------------------------------------------
// Plugin output

#[test]
fn plain_plugin_lines_become_gauges_with_tags() {
    let text =
        "disk.temperature 41.5 device=sda model=ST4000\n\n   queue.depth 12\n# a comment\nerrors -3e2\n";
    let samples = parse_plugin_output(text).expect("plain lines parse");
    assert_eq!(samples.len(), 3, "{samples:?}");
    assert_eq!(value(&samples, "disk.temperature", &[("device", "sda"), ("model", "ST4000")]), 41.5);
    assert_eq!(value(&samples, "queue.depth", &[]), 12.0);
    assert_eq!(value(&samples, "errors", &[]), -300.0);
    assert!(samples.iter().all(|s| s.kind == Kind::Gauge), "plain lines are gauges");

    // Prometheus's spellings of the special values, and names that begin with `_` or `:`.
    let special = parse_plugin_output("a NaN\nb +Inf\nc Inf\nd -Inf\n_private 1\n:ratio:sum 2\n").unwrap();
    assert!(value(&special, "a", &[]).is_nan());
    assert_eq!(value(&special, "b", &[]), f64::INFINITY);
    assert_eq!(value(&special, "c", &[]), f64::INFINITY);
    assert_eq!(value(&special, "d", &[]), f64::NEG_INFINITY);
    assert_eq!(value(&special, "_private", &[]), 1.0);
    assert_eq!(value(&special, ":ratio:sum", &[]), 2.0);
}

#[test]
fn prometheus_text_is_read_with_types_labels_and_timestamps() {
    let samples = parse_plugin_output(fixture!("metrics.prom")).expect("Prometheus's text format parses");
    assert_eq!(samples.len(), 12, "every sample line, no comment: {samples:#?}");
    let kind = |metric: &str| samples.iter().find(|s| s.metric == metric).map(|s| s.kind).unwrap();
    assert_eq!(value(&samples, "http_requests_total", &[("code", "200"), ("method", "post")]), 1027.0);
    assert_eq!(value(&samples, "http_requests_total", &[("code", "400"), ("method", "post")]), 3.0);
    assert_eq!(kind("http_requests_total"), Kind::Counter, "# TYPE counter");
    let escaped = [("error", "Cannot find file:\n\"FILE.TXT\", {x}"), ("path", "C:\\DIR\\FILE.TXT")];
    assert_eq!(
        value(&samples, "msdos_file_access_time_seconds", &escaped),
        1.458_255_915e9,
        "escapes decoded"
    );
    assert_eq!(kind("msdos_file_access_time_seconds"), Kind::Gauge);
    assert_eq!(value(&samples, "metric_without_timestamp_and_labels", &[]), 12.47);
    assert_eq!(value(&samples, "http_request_duration_seconds_bucket", &[("le", "+Inf")]), 144_320.0);
    assert_eq!(kind("http_request_duration_seconds_bucket"), Kind::Counter, "a histogram's buckets count");
    assert_eq!(kind("http_request_duration_seconds_sum"), Kind::Counter, "a histogram's sum");
    assert_eq!(value(&samples, "rpc_duration_seconds", &[("quantile", "0.99")]), 76_656.0);
    assert_eq!(kind("rpc_duration_seconds"), Kind::Gauge, "a summary's quantiles are gauges");
    assert_eq!(kind("rpc_duration_seconds_count"), Kind::Counter, "a summary's count");
    assert_eq!(value(&samples, "node_temperature_celsius", &[("sensor", "cpu")]), f64::NEG_INFINITY);
}

#[test]
fn plugin_output_with_a_bad_line_is_rejected_naming_the_line() {
    for (text, line) in [
        ("ok 1\nthis is not a metric\n", 2),
        ("ok 1\n\nok 2\nvalue_missing\n", 4),
        ("temperature hot\n", 1),
        ("ok 1 tag-without-value\n", 1),
        ("ok{a=\"b\" 1\n", 1),
        ("ok{a=b} 1\n", 1),
        ("ok{a=\"b\"} 1 extra=tag\n", 1),
        ("ok 0x10\n", 1),
        ("9lives 1\n", 1),
        ("ok 1 device=\n", 1),
        ("ok 1 9th=x\n", 1),
        ("ok nan\n", 1),
        ("ok 1\nok inf\n", 2),
        ("ok infinity\n", 1),
    ] {
        match parse_plugin_output(text) {
            Err(err) => assert_eq!(err.line, line, "{text:?}: {err}"),
            Ok(samples) => panic!("{text:?} is accepted as {samples:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running plugins

/// A plugin run by `/bin/sh` from a script in `dir`. The script is not executed itself: a file
/// just written can be "busy" for exec while another test's fork still holds it open.
fn sh_plugin(dir: &Path, name: &str, script: &str) -> PluginSpec {
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    let mut spec = PluginSpec::new("/bin/sh");
    spec.args = vec![path.display().to_string()];
    spec.timeout = Duration::from_secs(5);
    spec
}

/// Runs the plugin once, failing the test if it takes more than 10 s.
fn run_once(spec: PluginSpec) -> Result<Vec<Sample>, CollectError> {
    let mut collector = PluginCollector::new(spec);
    within(Duration::from_secs(10), "a plugin run", move || collector.collect(10_000))
}

/// Whether process `pid` is alive (a zombie is not).
fn is_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => parse_pid_stat(&stat).map_or(true, |stat| stat.state != 'Z' && stat.state != 'X'),
        Err(_) => false,
    }
}

#[test]
fn a_plugin_runs_without_a_shell_and_its_output_becomes_samples() {
    let dir = testkit::scratch_dir();
    let mut spec = sh_plugin(
        dir.path(),
        "args",
        "printf 'plugin.args %s\\n' \"$#\"\nprintf 'plugin.arg 1 first=%s second=%s\\n' \"$1\" \"$2\"\n",
    );
    spec.args.extend(["a;b".to_string(), "$HOME".to_string()]);
    let samples = run_once(spec).expect("the plugin runs");
    assert_eq!(value(&samples, "plugin.args", &[]), 2.0, "two arguments, neither split nor expanded");
    assert_eq!(value(&samples, "plugin.arg", &[("first", "a;b"), ("second", "$HOME")]), 1.0);
    assert_eq!(
        PluginCollector::new(PluginSpec::new("/usr/lib/monitor/mysql-status")).name(),
        "plugin:mysql-status"
    );
    let mut every_minute = PluginSpec::new("x");
    every_minute.interval = Duration::from_secs(60);
    assert_eq!(PluginCollector::new(every_minute).interval(), Duration::from_secs(60), "the spec's interval");
    let defaults = PluginSpec::new("x");
    assert!(
        defaults.timeout < defaults.interval && defaults.max_output > 0,
        "sensible defaults: {defaults:?}"
    );
}

#[test]
fn a_plugin_that_hangs_is_killed_with_its_whole_process_group() {
    let dir = testkit::scratch_dir();
    let pid_file = dir.path().join("grandchild.pid");
    // The plugin exits at once, but leaves a child that holds its output open: only killing the
    // process group ends the run.
    let mut spec = sh_plugin(dir.path(), "hangs", "sleep 300 &\necho \"$!\" > \"$1\"\necho started 1\n");
    spec.args.push(pid_file.display().to_string());
    spec.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let mut collector = PluginCollector::new(spec);
    thread::spawn(move || tx.send(collector.collect(10_000)));
    let result = rx.recv_timeout(Duration::from_secs(10));
    let took = started.elapsed();
    // Whatever happened, the sleep the plugin left behind must not outlive the test.
    let grandchild = std::fs::read_to_string(&pid_file).ok().and_then(|pid| pid.trim().parse::<i32>().ok());
    let killed = grandchild.map(|pid| testkit::wait_until(Duration::from_secs(5), || !is_alive(pid)));
    if let (Some(pid), Some(false)) = (grandchild, killed) {
        // SAFETY: kill has no memory effects; pid is the sleep this test's plugin started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    match result {
        Ok(Err(err @ CollectError::PluginTimeout { .. })) => assert!(err.to_string().contains("sh"), "{err}"),
        Ok(other) => panic!("expected a timeout, got {other:?}"),
        Err(_) => panic!("the run has not ended 10 s after its 500 ms timeout (or it panicked)"),
    }
    assert!(took < Duration::from_secs(5), "the 500 ms timeout took {took:?}");
    assert_eq!(killed, Some(true), "the plugin's background child {grandchild:?} was left running");
}

#[test]
fn a_plugin_that_crashes_prints_garbage_or_floods_is_reported() {
    let dir = testkit::scratch_dir();
    let crash = sh_plugin(dir.path(), "crash", "echo partial 1\necho 'segfault ahead' >&2\nkill -SEGV $$\n");
    match run_once(crash) {
        Err(err @ CollectError::PluginFailed { .. }) => {
            assert!(err.to_string().contains("segfault ahead"), "the report has its stderr: {err}")
        }
        other => panic!("a plugin killed by a signal must fail, got {other:?}"),
    }
    let status = sh_plugin(dir.path(), "status", "echo fine 1\nexit 3\n");
    assert!(matches!(run_once(status), Err(CollectError::PluginFailed { .. })), "exit 3 is a failure");
    let garbage = sh_plugin(dir.path(), "garbage", "echo ok 1\necho '<html>oops</html>'\n");
    match run_once(garbage) {
        Err(CollectError::PluginOutput { source, .. }) => assert_eq!(source.line, 2, "{source}"),
        other => panic!("garbage must be rejected, got {other:?}"),
    }
    let latin1 = sh_plugin(dir.path(), "latin1", "echo ok 1\nprintf 'caf\\351.value 1\\n'\n");
    match run_once(latin1) {
        Err(CollectError::PluginOutput { source, .. }) => assert_eq!(source.line, 2, "{source}"),
        other => panic!("output that is not UTF-8 must be rejected, got {other:?}"),
    }
    // Exactly as much output as allowed is not a flood.
    let mut full = sh_plugin(dir.path(), "full", "printf 'full.value 1\\n'\n");
    full.max_output = "full.value 1\n".len();
    assert_eq!(value(&run_once(full).expect("output of max_output bytes"), "full.value", &[]), 1.0);
    // A plugin that never stops printing: the cap ends it long before its 30 s timeout.
    let mut flood = sh_plugin(dir.path(), "flood", "while :; do echo flood.value 1; done\n");
    flood.timeout = Duration::from_secs(30);
    flood.max_output = 4096;
    let started = Instant::now();
    assert!(
        matches!(run_once(flood), Err(CollectError::PluginFlood { limit: 4096, .. })),
        "the flood is cut"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "cut after {:?}", started.elapsed());
    let missing = PluginSpec::new(dir.path().join("no-such-plugin"));
    assert!(matches!(run_once(missing), Err(CollectError::PluginStart { .. })), "a missing program");
    let after = sh_plugin(dir.path(), "after", "echo still.working 1\n");
    assert_eq!(value(&run_once(after).expect("a good plugin after the bad ones"), "still.working", &[]), 1.0);
}

#[test]
fn the_mysql_status_plugin_prints_server_status_through_a_fake_admin() {
    let dir = testkit::scratch_dir();
    let d = dir.path().display();
    std::fs::write(dir.path().join("mysql-status"), include_str!("../plugins/mysql-status")).unwrap();
    std::fs::write(dir.path().join("status.txt"), fixture!("mysqladmin-extended-status")).unwrap();
    // The fake admin checks that the options came through as they were given.
    std::fs::write(
        dir.path().join("fake-admin"),
        "[ \"$1\" = --user=monitor ] && [ \"$2\" = '--socket=/run/my sql.sock' ] \
         && [ \"$3\" = extended-status ] \
         || { echo \"unexpected arguments: $*\" >&2; exit 1; }\ncat \"$(dirname \"$0\")/status.txt\"\n",
    )
    .unwrap();
    let mut spec = sh_plugin(
        dir.path(),
        "wrapper",
        &format!("MYSQL_ADMIN='sh {d}/fake-admin' exec sh {d}/mysql-status \"$@\"\n"),
    );
    spec.args.extend(["--user=monitor".to_string(), "--socket=/run/my sql.sock".to_string()]);
    let samples = run_once(spec).expect("the plugin runs with the fake admin");
    for (metric, expected) in [
        ("mysql.threads_connected", 3.0),
        ("mysql.threads_running", 1.0),
        ("mysql.questions", 10_020.0),
        ("mysql.slow_queries", 3.0),
        ("mysql.uptime", 86_400.0),
        ("mysql.bytes_sent", 5_021_873.0),
    ] {
        assert_eq!(value(&samples, metric, &[]), expected, "{metric}");
    }
    assert!(samples.iter().all(|s| s.metric.starts_with("mysql.")), "only mysql.* lines: {samples:?}");
    assert!(
        find(&samples, "mysql.variable_name", &[]).is_none()
            && find(&samples, "mysql.ssl_version", &[]).is_none()
    );

    let failing = sh_plugin(dir.path(), "failing", &format!("MYSQL_ADMIN=false exec sh {d}/mysql-status\n"));
    assert!(
        matches!(run_once(failing), Err(CollectError::PluginFailed { .. })),
        "a failed admin command fails"
    );
}

// ---------------------------------------------------------------------------------------------
// The scheduler

#[test]
fn ticks_are_aligned_to_multiples_of_the_interval_since_the_epoch() {
    let ten = Duration::from_secs(10);
    assert_eq!(next_tick(0, ten), 10_000, "strictly after now");
    assert_eq!(next_tick(9_999, ten), 10_000);
    assert_eq!(next_tick(10_000, ten), 20_000, "a tick that is now is past");
    assert_eq!(next_tick(1_700_000_000_123, Duration::from_secs(60)), 1_700_000_040_000, "on the minute");
    assert_eq!(next_tick(1_000_100, Duration::from_millis(250)), 1_000_250, "sub-second intervals");
}

/// A collector made of a closure.
struct Scripted<F> {
    name: &'static str,
    interval: Duration,
    reading: F,
}

impl<F: FnMut(Millis) -> Result<Vec<Sample>, CollectError> + Send> Collector for Scripted<F> {
    fn name(&self) -> &str {
        self.name
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, now: Millis) -> Result<Vec<Sample>, CollectError> {
        (self.reading)(now)
    }
}

/// A boxed [`Scripted`] collector.
fn scripted(
    name: &'static str,
    interval: Duration,
    reading: impl FnMut(Millis) -> Result<Vec<Sample>, CollectError> + Send + 'static,
) -> Box<dyn Collector> {
    Box::new(Scripted { name, interval, reading })
}

/// The value of the point of `metric` tagged `collector=name` in a batch, if any.
fn self_metric(batch: &[Point], metric: &str, name: &str) -> Option<f64> {
    batch
        .iter()
        .find(|p| p.metric == metric && p.tags.get("collector").map(String::as_str) == Some(name))
        .map(|p| p.value)
}

/// Receives batches until `done` says enough, failing the test after the default deadline.
fn receive_until(batches: &Receiver<Vec<Point>>, what: &str, mut done: impl FnMut(&[Point]) -> bool) {
    let deadline = Instant::now() + testkit::DEFAULT_DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match batches.recv_timeout(left) {
            Ok(batch) if done(&batch) => return,
            Ok(_) => {}
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// Stops the scheduler and waits for its threads, failing the test if that takes 5 s.
fn stop(shutdown: &Shutdown, handle: monitor::collect::ScheduleHandle) {
    shutdown.stop();
    within(Duration::from_secs(5), "joining the scheduler after the stop", move || handle.join());
}

#[test]
fn the_scheduler_stamps_points_with_the_host_and_the_tick() {
    let interval = Duration::from_millis(100);
    let (seen_tx, seen) = mpsc::channel();
    let mut scheduler = Scheduler::new("web-1");
    scheduler.add(scripted("stamp", interval, move |now| {
        let _ = seen_tx.send(now);
        Ok(vec![Sample::gauge("test.value", 7.0).tag("k", "v")])
    }));
    let (sink, batches) = mpsc::sync_channel(16);
    let shutdown = Shutdown::new();
    let handle = scheduler.spawn(sink, shutdown.clone());
    let mut stamps = Vec::new();
    receive_until(&batches, "three batches", |batch| {
        let point = batch.iter().find(|p| p.metric == "test.value").expect("the collector's sample");
        assert_eq!(
            (point.host.as_str(), point.value, point.tags.get("k").map(String::as_str)),
            ("web-1", 7.0, Some("v"))
        );
        assert_eq!(point.timestamp % 100, 0, "stamped with a tick, a multiple of 100 ms: {point}");
        assert!(
            batch.iter().all(|p| p.timestamp == point.timestamp && p.host == "web-1"),
            "one stamp: {batch:?}"
        );
        assert!(
            self_metric(batch, "agent.collector.duration.seconds", "stamp").is_some(),
            "the duration: {batch:?}"
        );
        assert_eq!(self_metric(batch, "agent.collector.errors", "stamp"), Some(0.0), "no errors: {batch:?}");
        stamps.push(point.timestamp);
        stamps.len() == 3
    });
    stop(&shutdown, handle);
    let given: Vec<Millis> = seen.try_iter().take(3).collect();
    assert_eq!(given, stamps, "the collector is given the tick its points are stamped with");
    assert!(stamps.windows(2).all(|w| w[1] > w[0] && (w[1] - w[0]) % 100 == 0), "later ticks: {stamps:?}");
}

#[test]
fn a_slow_collector_does_not_delay_the_others() {
    let interval = Duration::from_millis(50);
    let (release, blocked) = mpsc::channel::<()>();
    let blocked = Mutex::new(blocked);
    let mut scheduler = Scheduler::new("web-1");
    // Blocks in its first reading until the test lets it go.
    scheduler.add(scripted("slow", interval, move |_| {
        let _ = blocked.lock().unwrap().recv();
        Ok(Vec::new())
    }));
    scheduler.add(scripted("fast", interval, |_| Ok(vec![Sample::gauge("fast.value", 1.0)])));
    let (sink, batches) = mpsc::sync_channel(16);
    let shutdown = Shutdown::new();
    let handle = scheduler.spawn(sink, shutdown.clone());
    let mut fast = 0;
    receive_until(&batches, "five readings of the fast collector while the slow one is stuck", |batch| {
        fast += usize::from(batch.iter().any(|p| p.metric == "fast.value"));
        fast == 5
    });
    drop(release);
    stop(&shutdown, handle);
}

#[test]
fn a_failing_or_panicking_collector_is_counted_and_the_others_go_on() {
    let interval = Duration::from_millis(50);
    let steady_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&steady_calls);
    let mut scheduler = Scheduler::new("web-1");
    scheduler.add(scripted("broken", interval, |_| {
        Err(CollectError::Http { url: "http://127.0.0.1:9/status".into(), reason: "refused".into() })
    }));
    scheduler
        .add(scripted("panics", interval, |_| panic!("a collector's bug (this panic is part of the test)")));
    scheduler.add(scripted("steady", interval, move |_| {
        calls.fetch_add(1, Ordering::Relaxed);
        Ok(vec![Sample::gauge("steady.value", 1.0)])
    }));
    let (sink, batches) = mpsc::sync_channel(64);
    let shutdown = Shutdown::new();
    let handle = scheduler.spawn(sink, shutdown.clone());
    let (mut broken, mut panics, mut steady) = (0.0, 0.0, 0);
    receive_until(&batches, "two errors of each failing collector and two good readings", |batch| {
        broken = self_metric(batch, "agent.collector.errors", "broken").unwrap_or(broken);
        panics = self_metric(batch, "agent.collector.errors", "panics").unwrap_or(panics);
        steady += usize::from(batch.iter().any(|p| p.metric == "steady.value"));
        broken >= 2.0 && panics >= 2.0 && steady >= 2
    });
    stop(&shutdown, handle);
    assert!(steady_calls.load(Ordering::Relaxed) >= 2);
}

#[test]
fn stopping_the_scheduler_is_immediate() {
    let mut scheduler = Scheduler::new("web-1");
    scheduler.add(scripted("hourly", Duration::from_secs(3600), |_| Ok(Vec::new())));
    // A reading under way when the stop comes is finished before `join` returns.
    let (started, reading) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (starts, finishes) = (Arc::clone(&started), Arc::clone(&reading));
    scheduler.add(scripted("busy", Duration::from_millis(20), move |_| {
        starts.fetch_add(1, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(200)); // the work of a slow reading
        finishes.fetch_add(1, Ordering::SeqCst);
        Ok(Vec::new())
    }));
    scheduler.add(scripted("daily", Duration::from_secs(86_400), |_| Ok(Vec::new())));
    let (sink, batches) = mpsc::sync_channel(16);
    let shutdown = Shutdown::new();
    let handle = scheduler.spawn(sink, shutdown.clone());
    testkit::eventually("a reading of the busy collector has begun", || started.load(Ordering::SeqCst) > 0);
    let stopping = Instant::now();
    stop(&shutdown, handle);
    assert!(stopping.elapsed() < Duration::from_secs(2), "the stop took {:?}", stopping.elapsed());
    assert_eq!(
        reading.load(Ordering::SeqCst),
        started.load(Ordering::SeqCst),
        "join returned with a reading unfinished"
    );
    drop(batches);
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Text shaped like the sources parsed here: their words, numbers (some beyond u64), blanks and
/// punctuation, in any order; or any text at all.
fn source_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("cpu".to_string()),
        Just("cpu0".to_string()),
        Just("cpu1".to_string()),
        "[0-9]{1,22}",
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just(":".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(" kB".to_string()),
        Just("|".to_string()),
        Just("\\040".to_string()),
        Just("MemTotal:".to_string()),
        Just("Active connections:".to_string()),
        Just("server accepts handled requests\n".to_string()),
        Just("Reading:".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("=".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just(",".to_string()),
        Just("# TYPE ".to_string()),
        Just("NaN".to_string()),
        Just("+Inf".to_string()),
        "[a-z_.]{1,8}",
    ];
    prop_oneof![prop::collection::vec(token, 0..80).prop_map(|tokens| tokens.concat()), any::<String>()]
}

/// One row of CPU counters.
fn cpu_row() -> impl Strategy<Value = [u64; 10]> {
    prop::array::uniform10(prop_oneof![0u64..1_000_000, any::<u64>()])
}

proptest! {
    #![proptest_config(testkit::proptest_config(64))]

    #[test]
    fn no_parser_panics_on_any_input(
        a in source_text(),
        b in source_text(),
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        if let (Ok(prev), Ok(cur)) = (parse_cpu_stat(&a), parse_cpu_stat(&b)) {
            for sample in cpu_samples(&prev, &cur) {
                prop_assert!((0.0..=100.0).contains(&sample.value), "{:?}", sample);
            }
        }
        if let (Ok(prev), Ok(cur)) = (parse_diskstats(&a), parse_diskstats(&b)) {
            prop_assert!(disk_samples(&prev, &cur, 10.0).iter().all(|s| s.value >= 0.0));
        }
        if let (Ok(prev), Ok(cur)) = (parse_net_dev(&a), parse_net_dev(&b)) {
            prop_assert!(net_samples(&prev, &cur, 10.0).iter().all(|s| s.value >= 0.0));
        }
        if let Ok(info) = parse_meminfo(&a) {
            memory_samples(&info);
        }
        let _ = monitor::collect::load::parse_loadavg(&a);
        let _ = monitor::collect::filesystem::monitored_mounts(&a);
        let _ = parse_pid_stat(&a);
        let _ = parse_stub_status(&a);
        let _ = parse_plugin_output(&a);
        let sessions = parse_utmp(&bytes);
        prop_assert!(sessions.len() <= bytes.len() / UTMP_RECORD_SIZE);
    }

    #[test]
    fn cpu_percentages_stay_between_0_and_100_and_add_up(
        prev in cpu_row(),
        cur in cpu_row(),
        grow in cpu_row(),
    ) {
        let line = |label: &str, row: &[u64; 10]| {
            format!("{label} {}\n", row.iter().map(u64::to_string).collect::<Vec<_>>().join(" "))
        };
        // cpu0 is anything; cpu1 only grows (by small steps), so it always has a value.
        let small: Vec<u64> = prev.iter().map(|v| v % (1 << 40)).collect();
        let grown: Vec<u64> = small.iter().zip(&grow).map(|(v, g)| v + g % 100_000 + 1).collect();
        let (small, grown): ([u64; 10], [u64; 10]) = (small.try_into().unwrap(), grown.try_into().unwrap());
        let text = |total: &[u64; 10], core1: &[u64; 10]| {
            format!("{}{}{}", line("cpu", total), line("cpu0", total), line("cpu1", core1))
        };
        let before = parse_cpu_stat(&text(&prev, &small)).unwrap();
        let after = parse_cpu_stat(&text(&cur, &grown)).unwrap();
        let samples = cpu_samples(&before, &after);
        for sample in &samples {
            prop_assert!(sample.value.is_finite() && (0.0..=100.0).contains(&sample.value), "{:?}", sample);
        }
        let cpu1 = [("cpu", "1")];
        let modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
        let sum: f64 = modes.iter().map(|mode| value(&samples, &format!("cpu.{mode}"), &cpu1)).sum();
        prop_assert!((sum - 100.0).abs() < 1e-6, "the modes of cpu1 add up to {}", sum);
        let busy = value(&samples, "cpu.busy", &cpu1) + value(&samples, "cpu.idle", &cpu1);
        prop_assert!((busy - 100.0).abs() < 1e-6, "busy + idle = {}", busy);
    }
}

//! Pinning the whole process to one CPU, and letting it go again.
//!
//! Waking a thread on the other vCPU costs tens of microseconds on small
//! VMs, which would drown the latencies being compared; pinned, every
//! thread shares one CPU and a round trip is a pair of context switches.
//! `sched_setaffinity` applies to one thread, so every thread of the
//! process (runtimes included, some of which, like async-std's, never
//! exit) is set, one by one, from `/proc/self/task`.

use std::fmt;
use std::fs;
use std::io;

/// The CPUs this process may run on, as it started.
#[derive(Clone, Debug)]
pub(crate) struct Affinity {
    original: Vec<usize>,
}

/// How the process is scheduled during a measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    /// Every thread on one CPU: what latency figures are judged on.
    Pinned,
    /// Default scheduling: what throughput figures are judged on.
    Unpinned,
}

impl Mode {
    pub(crate) const ALL: [Mode; 2] = [Mode::Pinned, Mode::Unpinned];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Pinned => "pinned",
            Mode::Unpinned => "unpinned",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Affinity {
    /// Reads the CPUs the process is allowed on now.
    pub(crate) fn current() -> io::Result<Affinity> {
        let status = fs::read_to_string("/proc/self/status")?;
        let list = status
            .lines()
            .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
            .ok_or_else(|| io::Error::other("no Cpus_allowed_list in /proc/self/status"))?;
        let original = parse_cpu_list(list.trim())
            .ok_or_else(|| io::Error::other(format!("unreadable CPU list {list:?}")))?;
        if original.is_empty() {
            return Err(io::Error::other("the process may run on no CPU"));
        }
        Ok(Affinity { original })
    }

    /// The CPU that pinned mode uses: CPU 0 when allowed, else the first
    /// allowed one.
    pub(crate) fn pinned_cpu(&self) -> usize {
        self.original[0]
    }

    /// Every CPU the process started with.
    pub(crate) fn all_cpus(&self) -> &[usize] {
        &self.original
    }

    /// The CPUs that `mode` runs on.
    pub(crate) fn cpus(&self, mode: Mode) -> Vec<usize> {
        match mode {
            Mode::Pinned => vec![self.pinned_cpu()],
            Mode::Unpinned => self.original.clone(),
        }
    }

    /// Moves every thread of the process onto the CPUs of `mode`; threads
    /// started later inherit it from their creator.
    pub(crate) fn apply(&self, mode: Mode) -> io::Result<()> {
        let cpus = self.cpus(mode);
        // Two passes: a thread created during the first by a thread not yet
        // moved inherited the old mask.
        for _ in 0..2 {
            for entry in fs::read_dir("/proc/self/task")? {
                let Some(tid) = entry?
                    .file_name()
                    .to_str()
                    .and_then(|name| name.parse::<libc::pid_t>().ok())
                else {
                    continue;
                };
                match set_thread_affinity(tid, &cpus) {
                    Ok(()) => {}
                    // The thread exited since the directory was read.
                    Err(error) if error.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(())
    }
}

/// `0-1,4,6-7` → `[0, 1, 4, 6, 7]`.
fn parse_cpu_list(list: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|part| !part.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => cpus.extend(first.parse::<usize>().ok()?..=last.parse().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

/// A CPU mask as glibc's `cpu_set_t` lays it out: 1024 bits.
const MASK_WORDS: usize = 16;

fn set_thread_affinity(tid: libc::pid_t, cpus: &[usize]) -> io::Result<()> {
    let mut mask = [0_u64; MASK_WORDS];
    for &cpu in cpus {
        let word = mask
            .get_mut(cpu / 64)
            .ok_or_else(|| io::Error::other(format!("CPU {cpu} is beyond a 1024-bit mask")))?;
        *word |= 1 << (cpu % 64);
    }
    // The one unsafe call of the benchmark: std has no API for CPU
    // affinity, and `taskset` could only pin the whole run, not switch
    // between pinned and unpinned phases of one process.
    #[allow(unsafe_code)]
    // SAFETY: `mask` is an initialised buffer of exactly the length passed,
    // laid out as `cpu_set_t` (an array of 64-bit words on Linux), and the
    // kernel only reads it during the call.
    let status =
        unsafe { libc::sched_setaffinity(tid, std::mem::size_of_val(&mask), mask.as_ptr().cast()) };
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-1,4,6-7"), Some(vec![0, 1, 4, 6, 7]));
        assert_eq!(parse_cpu_list("x"), None);
    }
}

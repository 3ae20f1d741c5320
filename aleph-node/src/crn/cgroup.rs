//! Memory and CPU limits through cgroups, where the host lets this process create groups: the
//! unified hierarchy (v2: `memory.max`, `cpu.max`) when its controllers are delegated, else the
//! v1 `memory` and `cpu` hierarchies. What the host lets us apply (memory, swap, CPU) is found
//! at start ([`LimitSupport`]), logged and reported in `/status/config`; a program is refused when
//! a limit it needs cannot be applied, unless the operator allows it (`crn.allow_unlimited`).

use std::path::{Path, PathBuf};

/// Which hierarchy limits programs.
#[derive(Debug, Clone)]
pub(crate) enum Cgroups {
    /// cgroup v2: a parent group of ours with `memory` and `cpu` enabled for its children.
    V2 { parent: PathBuf },
    /// cgroup v1: parent groups of ours in the `memory` and `cpu` hierarchies.
    V1 { memory: PathBuf, cpu: Option<PathBuf> },
}

/// Which limits the host lets programs be held to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct LimitSupport {
    /// `memory.max` (v2) or `memory.limit_in_bytes` (v1).
    pub(crate) memory: bool,
    /// `memory.swap.max` (v2) or `memory.memsw.limit_in_bytes` (v1): no swapping past the limit.
    pub(crate) swap: bool,
    /// `cpu.max` (v2) or the CFS quota files (v1).
    pub(crate) cpu: bool,
}

impl LimitSupport {
    /// The limits that cannot be applied, by name.
    pub(crate) fn missing(&self) -> Vec<&'static str> {
        [("memory", self.memory), ("swap", self.swap), ("cpu", self.cpu)]
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name)
            .collect()
    }
}

/// One program's groups; removed on drop.
#[derive(Debug)]
pub(crate) struct Group {
    dirs: Vec<PathBuf>,
}

impl Group {
    /// The `cgroup.procs` files the sandbox joins.
    pub(crate) fn procs(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for dir in &self.dirs {
            // Fails while processes remain; the group is empty once the sandbox has exited.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn mounts() -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, path, kind, opts) = (f.next()?, f.next()?, f.next()?, f.next()?);
            Some((format!("{kind} {opts}"), PathBuf::from(path)))
        })
        .collect()
}

fn make_parent(base: &Path) -> Option<PathBuf> {
    let parent = base.join(format!("aleph-crn-{}", std::process::id()));
    std::fs::create_dir_all(&parent).ok()?;
    Some(parent)
}

impl Cgroups {
    /// Finds a hierarchy we may use, creating our parent group in it.
    pub(crate) fn detect() -> Option<Cgroups> {
        let mounts = mounts();
        for (kind, path) in &mounts {
            if kind.starts_with("cgroup2 ") {
                let controllers =
                    std::fs::read_to_string(path.join("cgroup.controllers")).unwrap_or_default();
                if controllers.split_whitespace().any(|c| c == "memory") {
                    if let Some(parent) = make_parent(path) {
                        let enabled = std::fs::write(parent.join("cgroup.subtree_control"), "+memory +cpu")
                            .or_else(|_| std::fs::write(parent.join("cgroup.subtree_control"), "+memory"));
                        if enabled.is_ok() {
                            return Some(Cgroups::V2 { parent });
                        }
                        let _ = std::fs::remove_dir(&parent);
                    }
                }
            }
        }
        let v1 = |controller: &str| {
            mounts.iter().find(|(kind, _)| {
                kind.starts_with("cgroup ") && kind.split([' ', ',']).any(|o| o == controller)
            })
        };
        let memory = v1("memory").and_then(|(_, p)| make_parent(p))?;
        let cpu = v1("cpu").and_then(|(_, p)| make_parent(p));
        Some(Cgroups::V1 { memory, cpu })
    }

    /// Which limits a group of ours can take, read from the files our parent groups offer.
    pub(crate) fn support(&self) -> LimitSupport {
        match self {
            Cgroups::V2 { parent } => {
                let enabled =
                    std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
                let has = |c: &str| enabled.split_whitespace().any(|e| e == c);
                LimitSupport {
                    memory: has("memory"),
                    // Offered by every non-root group of the memory controller when swap is
                    // accounted.
                    swap: has("memory") && parent.join("memory.swap.max").is_file(),
                    cpu: has("cpu"),
                }
            }
            Cgroups::V1 { memory, cpu } => LimitSupport {
                memory: memory.join("memory.limit_in_bytes").is_file(),
                swap: memory.join("memory.memsw.limit_in_bytes").is_file(),
                cpu: cpu.as_ref().is_some_and(|c| c.join("cpu.cfs_quota_us").is_file()),
            },
        }
    }

    /// A group for one program, limited to `memory_mib` and `vcpus` cores. Every limit in
    /// `support` (what [`Cgroups::support`] found at start) is applied or the group is not made.
    pub(crate) fn group(
        &self,
        name: &str,
        memory_mib: u64,
        vcpus: u32,
        support: LimitSupport,
    ) -> std::io::Result<Group> {
        let bytes = (memory_mib << 20).to_string();
        let period = 100_000u64;
        let quota = period * u64::from(vcpus.max(1));
        match self {
            Cgroups::V2 { parent } => {
                let dir = parent.join(name);
                std::fs::create_dir_all(&dir)?;
                let group = Group { dirs: vec![dir.clone()] };
                std::fs::write(dir.join("memory.max"), &bytes)?;
                if support.swap {
                    std::fs::write(dir.join("memory.swap.max"), "0")?;
                }
                if support.cpu {
                    std::fs::write(dir.join("cpu.max"), format!("{quota} {period}"))?;
                }
                Ok(group)
            }
            Cgroups::V1 { memory, cpu } => {
                let mem_dir = memory.join(name);
                std::fs::create_dir_all(&mem_dir)?;
                let mut group = Group { dirs: vec![mem_dir.clone()] };
                std::fs::write(mem_dir.join("memory.limit_in_bytes"), &bytes)?;
                if support.swap {
                    // Memory plus swap at the same bound: no swapping past the limit.
                    std::fs::write(mem_dir.join("memory.memsw.limit_in_bytes"), &bytes)?;
                }
                if let Some(cpu) = cpu.as_ref().filter(|_| support.cpu) {
                    let cpu_dir = cpu.join(name);
                    std::fs::create_dir_all(&cpu_dir)?;
                    group.dirs.push(cpu_dir.clone());
                    std::fs::write(cpu_dir.join("cpu.cfs_period_us"), period.to_string())?;
                    std::fs::write(cpu_dir.join("cpu.cfs_quota_us"), quota.to_string())?;
                }
                Ok(group)
            }
        }
    }

    /// Removes our parent groups (at shutdown, once programs are stopped).
    pub(crate) fn remove(&self) {
        let dirs: Vec<&PathBuf> = match self {
            Cgroups::V2 { parent } => vec![parent],
            Cgroups::V1 { memory, cpu } => std::iter::once(memory).chain(cpu.as_ref()).collect(),
        };
        for dir in dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }

    /// A one-line description for the log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Cgroups::V2 { parent } => format!("cgroup v2 under {}", parent.display()),
            Cgroups::V1 { memory, cpu } => format!(
                "cgroup v1 memory under {}{}",
                memory.display(),
                cpu.as_ref().map(|c| format!(", cpu under {}", c.display())).unwrap_or_default()
            ),
        }
    }
}
